// Generates task.json, action.yml, vss-extension.json and README.md's input tables from the task
// declarations. `--check` writes nothing and fails when a committed file differs.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allTasks } from '../shared/tasks/all.js';
import { taskJson } from './manifests/task-json.js';
import { actionYml } from './manifests/action-yml.js';
import { vssExtension } from './manifests/vss-extension.js';
import { docsTables, replaceGeneratedBlock } from './manifests/docs.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string; description: string };
const json = (value: object) => `${JSON.stringify(value, null, 2)}\n`;

const files = new Map<string, string>();
for (const { declaration } of allTasks) {
  files.set(`tasks/${declaration.taskName}/task.json`, json(taskJson(declaration, pkg.version)));
  files.set(`actions/${declaration.actionName}/action.yml`, actionYml(declaration));
}
files.set('vss-extension.json', json(vssExtension(allTasks.map((task) => task.declaration), pkg.version, pkg.description)));
let readme = readFileSync(join(root, 'README.md'), 'utf8');
for (const { declaration } of allTasks) {
  readme = replaceGeneratedBlock(readme, declaration.taskName, docsTables(declaration));
}
files.set('README.md', readme);

const drifted: string[] = [];
for (const [path, content] of files) {
  const full = join(root, path);
  const current = existsSync(full) ? readFileSync(full, 'utf8') : undefined;
  if (current === content) continue;
  if (check) drifted.push(path);
  else {
    writeFileSync(full, content);
    console.log(`wrote ${path}`);
  }
}
if (drifted.length) {
  console.error(`generated files differ from the declarations: ${drifted.join(', ')}; run npm run manifests and commit`);
  process.exit(1);
}
if (check) console.log(`manifests up to date (${files.size} files)`);
