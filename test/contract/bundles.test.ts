import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allTasks } from '../../shared/tasks/all.js';
import { root } from '../helpers/paths.js';

const MAX_BUNDLE_BYTES = 1024 * 1024;

// Markers of each runner's library and of each adapter: a bundle must hold only its own.
const AZURE_MARKERS = ['azure-pipelines-task-lib', 'vsts-task-lib', '##vso[', 'ENDPOINT_AUTH_'];
const GITHUB_MARKERS = ['@actions/core', 'ACTIONS_ID_TOKEN_REQUEST_URL', 'ghadelimiter_', '::add-mask::', 'GITHUB_STEP_SUMMARY'];

const bundles = allTasks.flatMap(({ declaration }) => [
  { kind: 'github', file: join(root, 'actions', declaration.actionName, 'dist/index.js'), foreign: AZURE_MARKERS, own: GITHUB_MARKERS.slice(2) },
  { kind: 'azure', file: join(root, 'tasks', declaration.taskName, 'dist/index.js'), foreign: GITHUB_MARKERS, own: AZURE_MARKERS.slice(2) },
]);

describe.each(bundles)('$kind bundle $file', ({ file, foreign, own }) => {
  const code = readFileSync(file, 'utf8');

  test('holds its own runner adapter and nothing of the other runner', () => {
    for (const marker of own) expect({ marker, found: code.includes(marker) }).toEqual({ marker, found: true });
    for (const marker of foreign) expect({ marker, found: code.includes(marker) }).toEqual({ marker, found: false });
  });

  test('its entry file, all that loads at start, is at most 1 MB (lazily loaded SDK chunks are reported by bench/cold-start.mjs)', () => {
    expect(statSync(file).size).toBeLessThanOrEqual(MAX_BUNDLE_BYTES);
  });
});

test('the committed action bundles are what the sources build to (GitHub runs them as committed)', () => {
  const out = mkdtempSync(join(tmpdir(), 'mlops-fresh-build-'));
  execFileSync(process.execPath, [join(root, 'scripts/build.mjs'), '--only', 'actions', '--out', out], { cwd: root });
  for (const { declaration } of allTasks) {
    const dist = join('actions', declaration.actionName, 'dist');
    const freshFiles = readdirSync(join(out, dist)).sort();
    expect({ dist, files: readdirSync(join(root, dist)).sort() }).toEqual({ dist, files: freshFiles });
    for (const file of freshFiles) {
      const stale = readFileSync(join(out, dist, file), 'utf8') !== readFileSync(join(root, dist, file), 'utf8');
      expect({ file: join(dist, file), stale }).toEqual({ file: join(dist, file), stale: false });
    }
  }
});
