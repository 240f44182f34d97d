import { execFileSync } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allTasks } from '../../shared/tasks/all.js';
import { root } from '../helpers/paths.js';

const MARKETPLACE_LIMIT = 25 * 1024 * 1024;

test('npm run package writes a vsix with every task folder, its task.json and its bundle', () => {
  const out = mkdtempSync(join(tmpdir(), 'mlops-vsix-'));
  const log = execFileSync('bash', [join(root, 'scripts/package.sh')], { cwd: root, env: { ...process.env, OUT_DIR: out, SKIP_BUILD: '1' }, encoding: 'utf8' });
  const vsix = /wrote (\S+\.vsix)/.exec(log)?.[1];
  expect(vsix).toBeDefined();
  expect(statSync(vsix!).size).toBeLessThan(MARKETPLACE_LIMIT);
  const listing = execFileSync('unzip', ['-Z1', vsix!], { encoding: 'utf8' }).split('\n');
  for (const { declaration } of allTasks) {
    expect(listing).toEqual(expect.arrayContaining([`tasks/${declaration.taskName}/task.json`, `tasks/${declaration.taskName}/dist/index.js`, `tasks/${declaration.taskName}/dist/package.json`]));
  }
  expect(listing).toContain('extension.vsixmanifest');
});
