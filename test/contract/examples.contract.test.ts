import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { root } from '../helpers/paths.js';

// The full-flow examples a user copies must use only inputs the generated manifests declare, give
// every required one, and read only outputs the earlier steps really have.

interface TaskJson {
  inputs: { name: string; required?: boolean; defaultValue?: string }[];
  outputVariables: { name: string }[];
}
interface ActionYml {
  inputs: Record<string, { required?: boolean; default?: string }>;
  outputs: Record<string, unknown>;
}

const taskJson = (name: string): TaskJson => JSON.parse(readFileSync(join(root, 'tasks', name, 'task.json'), 'utf8'));
const actionYml = (name: string): ActionYml => parse(readFileSync(join(root, 'actions', name, 'action.yml'), 'utf8'));
const example = (file: string) => parse(readFileSync(join(root, 'examples', file), 'utf8'));

describe('examples/azure-pipelines.yml (contract test against the generated task.json files)', () => {
  const steps: { task?: string; name?: string; inputs?: Record<string, unknown> }[] = example('azure-pipelines.yml').steps;
  const ours = steps.filter((step) => step.task);

  test('runs the whole flow, in order', () => {
    expect(ours.map((step) => step.task)).toEqual(['BuildMLImage@1', 'TriggerKubeflow@1', 'RegisterModel@1', 'DeployModel@1']);
  });

  test.each(ours.map((step) => [step.task!, step] as const))('%s: declared inputs only, required ones given, outputs read from earlier steps', (task, step) => {
    const manifest = taskJson(task.split('@')[0]!);
    const declared = new Set(manifest.inputs.map((input) => input.name));
    expect(Object.keys(step.inputs ?? {}).filter((name) => !declared.has(name))).toEqual([]);
    const missing = manifest.inputs.filter((input) => input.required && !input.defaultValue && !(input.name in (step.inputs ?? {})));
    expect(missing.map((input) => input.name)).toEqual([]);
    const earlier = steps.slice(0, steps.indexOf(step));
    for (const [, stepName, output] of JSON.stringify(step.inputs).matchAll(/\$\((\w+)\.(\w+)\)/g)) {
      const producer = earlier.find((candidate) => candidate.name === stepName);
      expect(producer?.task).toBeDefined();
      expect(taskJson(producer!.task!.split('@')[0]!).outputVariables.map((variable) => variable.name)).toContain(output);
    }
  });
});

describe('examples/github-workflow.yml (contract test against the generated action.yml files)', () => {
  const steps: { id?: string; uses?: string; with?: Record<string, unknown> }[] = example('github-workflow.yml').jobs.ml.steps;
  const ours = steps.filter((step) => step.uses?.startsWith('mlops-tasks/'));
  const actionOf = (uses: string) => /actions\/([a-z-]+)@/.exec(uses)![1]!;

  test('runs the whole flow, in order', () => {
    expect(ours.map((step) => actionOf(step.uses!))).toEqual(['build-ml-image', 'trigger-kubeflow', 'register-model', 'deploy-model']);
  });

  test.each(ours.map((step) => [actionOf(step.uses!), step] as const))('%s: declared inputs only, required ones given, outputs read from earlier steps', (action, step) => {
    const manifest = actionYml(action);
    expect(Object.keys(step.with ?? {}).filter((name) => !(name in manifest.inputs))).toEqual([]);
    const missing = Object.entries(manifest.inputs).filter(([name, input]) => input.required && input.default === undefined && !(name in (step.with ?? {})));
    expect(missing.map(([name]) => name)).toEqual([]);
    const earlier = steps.slice(0, steps.indexOf(step));
    for (const [, id, output] of JSON.stringify(step.with).matchAll(/steps\.([\w-]+)\.outputs\.(\w+)/g)) {
      const producer = earlier.find((candidate) => candidate.id === id);
      expect(producer?.uses).toBeDefined();
      expect(Object.keys(actionYml(actionOf(producer!.uses!)).outputs)).toContain(output);
    }
  });
});
