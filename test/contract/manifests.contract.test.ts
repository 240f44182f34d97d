import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type { Ajv as AjvClass } from 'ajv';
import { parse } from 'yaml';
import { allTasks } from '../../shared/tasks/all.js';
import { root, specsDir } from '../helpers/paths.js';

// Both are CommonJS packages whose class is their `default` export.
const require = createRequire(import.meta.url);
const Ajv04: typeof AjvClass = require('ajv-draft-04').default;
const Ajv: typeof AjvClass = require('ajv').default;
const addFormats: (ajv: AjvClass) => AjvClass = require('ajv-formats').default;
// The schemas use escapes such as \: that unicode-mode regular expressions reject.
const AJV_OPTIONS = { allErrors: true, strict: false, unicodeRegExp: false };

const specs = specsDir();
if (!specs) console.warn('SKIPPED manifest contract tests: no specs found (set MLOPS_SPECS_DIR or provide ../shared/specs)');
const describeWithSpecs = specs ? describe : describe.skip;

const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, any>;
const version = (readJson(join(root, 'package.json')) as { version: string }).version;

/** The checks tfx-cli adds to the schema (microsoft/tfs-cli jsonvalidate.ts), plus the handlers we promise. */
function tfxProblems(task: Record<string, any>, taskDir: string): string[] {
  const problems: string[] = [];
  if (!/^[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$/.test(task.id ?? '')) problems.push('id is not a GUID');
  if (!/^[A-Za-z0-9\-]+$/.test(task.name ?? '')) problems.push('name has characters other than letters, digits and -');
  if (!task.friendlyName || task.friendlyName.length > 40) problems.push('friendlyName is missing or longer than 40 characters');
  if (!task.instanceNameFormat) problems.push('instanceNameFormat is missing');
  if (!task.description) problems.push('description is missing');
  for (const [handler, execution] of Object.entries<{ target: string }>(task.execution ?? {})) {
    if (!existsSync(join(taskDir, execution.target))) problems.push(`execution ${handler} target ${execution.target} does not exist`);
  }
  if (!task.execution?.Node24 || !task.execution?.Node20_1) problems.push('execution must declare Node24 and Node20_1');
  const groups = new Set((task.groups ?? []).map((group: { name: string }) => group.name));
  for (const input of task.inputs ?? []) {
    if (input.groupName && !groups.has(input.groupName)) problems.push(`input ${input.name} is in undeclared group ${input.groupName}`);
    if (input.type === 'pickList' && !input.options) problems.push(`pickList ${input.name} has no options`);
  }
  return problems;
}

describeWithSpecs('task.json contract (Azure DevOps tasks.schema.json and tfx rules)', () => {
  const validate = new Ajv04(AJV_OPTIONS).compile(readJson(join(specs ?? '', 'ado/tasks.schema.json')));

  test.each(allTasks.map((task) => task.declaration.taskName))('%s/task.json is valid', (taskName) => {
    const dir = join(root, 'tasks', taskName);
    const task = readJson(join(dir, 'task.json'));
    expect(validate(task) ? [] : validate.errors).toEqual([]);
    expect(tfxProblems(task, dir)).toEqual([]);
    expect(`${task.version.Major}.${task.version.Minor}.${task.version.Patch}`).toBe(version);
  });

  test('the checks reject a broken task.json (the validator is really applied)', () => {
    const dir = join(root, 'tasks', allTasks[0]!.declaration.taskName);
    const task = readJson(join(dir, 'task.json'));
    const broken = { ...task, name: 'Build ML Image', friendlyName: 'x'.repeat(41), inputs: [{ ...task.inputs[0], name: 'image-name' }] };
    expect(validate(broken)).toBe(false);
    expect(tfxProblems(broken, dir)).toEqual(
      expect.arrayContaining(['name has characters other than letters, digits and -', 'friendlyName is missing or longer than 40 characters']),
    );
  });
});

describeWithSpecs('action.yml contract (github-action.schema.json)', () => {
  const validate = addFormats(new Ajv(AJV_OPTIONS)).compile(readJson(join(specs ?? '', 'gha/github-action.schema.json')));

  test.each(allTasks.map((task) => task.declaration.actionName))('%s/action.yml is valid and runs on node24', (actionName) => {
    const dir = join(root, 'actions', actionName);
    const action = parse(readFileSync(join(dir, 'action.yml'), 'utf8')) as Record<string, any>;
    expect(validate(action) ? [] : validate.errors).toEqual([]);
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/index.js' });
    expect(existsSync(join(dir, action.runs.main))).toBe(true);
  });

  test('the schema rejects a broken action.yml', () => {
    expect(validate({ name: 'x', description: 'y', runs: { using: 'node18', main: 'dist/index.js' } })).toBe(false);
  });
});

describeWithSpecs('vss-extension.json contract', () => {
  const validate = addFormats(new Ajv(AJV_OPTIONS)).compile(readJson(join(specs ?? '', 'ado/vss-extension.schema.json')));

  test('is valid, carries the package version and contributes every task folder', () => {
    const extension = readJson(join(root, 'vss-extension.json'));
    expect(validate(extension) ? [] : validate.errors).toEqual([]);
    expect(extension.version).toBe(version);
    const contributed = extension.contributions.map((contribution: { properties: { name: string } }) => contribution.properties.name);
    expect(contributed).toEqual(allTasks.map((task) => `tasks/${task.declaration.taskName}`));
    for (const folder of contributed) expect(existsSync(join(root, folder, 'task.json'))).toBe(true);
  });
});

describe('generated files', () => {
  test('npm run manifests -- --check finds task.json, action.yml, vss-extension.json and README in step with the declarations', () => {
    const output = execFileSync(join(root, 'node_modules/.bin/tsx'), [join(root, 'scripts/manifests.ts'), '--check'], { cwd: root, encoding: 'utf8' });
    expect(output).toMatch(/manifests up to date/);
  });

  test('input names are camelCase letters and digits, so INPUT_<NAME> is one variable on both runners', () => {
    for (const { declaration } of allTasks) {
      for (const input of declaration.inputs) expect(input.name).toMatch(/^[a-z][A-Za-z0-9]*$/);
      for (const output of declaration.outputs) expect(output.name).toMatch(/^[a-z][A-Za-z0-9]*$/);
    }
  });
});
