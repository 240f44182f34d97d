import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { root } from './paths.js';

export type RunnerKind = 'github' | 'azure';

export interface BundleRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Outputs as the runner would read them: GITHUB_OUTPUT file, or ##vso setvariable lines. */
  outputs: Record<string, string>;
  summary: string;
}

export interface BundleOptions {
  kind: RunnerKind;
  taskName: string;
  actionName: string;
  node: string;
  inputs: Record<string, string>;
  env?: Record<string, string>;
  cwd?: string;
  timeoutMs?: number;
  onSpawn?: (child: ChildProcess) => void;
}

export const FAKE_SHA = '3f2c9a1b7d4e5f60718293a4b5c6d7e8f9a0b1c2';

function unescapeAzure(text: string): string {
  return text.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%5D/g, ']').replace(/%3B/g, ';').replace(/%AZP25/g, '%');
}

/** Defaults the runner fills in from the committed manifest, as the real runners do. */
function manifestDefaults(options: BundleOptions): Record<string, string> {
  if (options.kind === 'github') {
    const action = parse(readFileSync(join(root, 'actions', options.actionName, 'action.yml'), 'utf8')) as {
      inputs: Record<string, { default?: string }>;
    };
    return Object.fromEntries(Object.entries(action.inputs).flatMap(([name, input]) => (input.default !== undefined ? [[name, input.default]] : [])));
  }
  const task = JSON.parse(readFileSync(join(root, 'tasks', options.taskName, 'task.json'), 'utf8')) as {
    inputs: { name: string; defaultValue?: string }[];
  };
  return Object.fromEntries(task.inputs.map((input) => [input.name, input.defaultValue ?? '']));
}

function runnerEnv(kind: RunnerKind, dir: string): Record<string, string> {
  if (kind === 'github') {
    writeFileSync(join(dir, 'output'), '');
    writeFileSync(join(dir, 'summary'), '');
    return {
      GITHUB_ACTIONS: 'true',
      GITHUB_OUTPUT: join(dir, 'output'),
      GITHUB_STEP_SUMMARY: join(dir, 'summary'),
      GITHUB_SHA: FAKE_SHA,
      GITHUB_RUN_ID: '4242',
      GITHUB_RUN_NUMBER: '17',
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_REPOSITORY: 'contoso/tacos-vs-burritos',
    };
  }
  return {
    TF_BUILD: 'True',
    AGENT_TEMPDIRECTORY: dir,
    BUILD_SOURCEVERSION: FAKE_SHA,
    BUILD_BUILDID: '4242',
    BUILD_BUILDNUMBER: '20261127.1',
    BUILD_REPOSITORY_URI: 'https://dev.azure.com/contoso/ml/_git/tacos-vs-burritos',
    SYSTEM_COLLECTIONURI: 'https://dev.azure.com/contoso/',
    SYSTEM_TEAMPROJECT: 'ml',
  };
}

/** Reads a GITHUB_OUTPUT file as the runner does: `name<<delimiter` blocks. */
export function parseGithubOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  for (const match of text.matchAll(/^(\w+)<<(ghadelimiter_[\w-]+)\n([\s\S]*?)\n\2$/gm)) outputs[match[1]!] = match[3]!;
  return outputs;
}

function readOutputs(kind: RunnerKind, dir: string, stdout: string): { outputs: Record<string, string>; summary: string } {
  if (kind === 'github') {
    return { outputs: parseGithubOutputs(readFileSync(join(dir, 'output'), 'utf8')), summary: readFileSync(join(dir, 'summary'), 'utf8') };
  }
  const outputs: Record<string, string> = {};
  for (const match of stdout.matchAll(/^##vso\[task\.setvariable variable=(\w+);isOutput=true;[^\]]*\](.*)$/gm)) {
    outputs[match[1]!] = unescapeAzure(match[2]!);
  }
  const summaryFile = /^##vso\[task\.uploadsummary\](.*)$/m.exec(stdout)?.[1];
  return { outputs, summary: summaryFile && existsSync(summaryFile) ? readFileSync(summaryFile, 'utf8') : '' };
}

/** Runs a built bundle the way its runner does: INPUT_* variables in, outputs read back. */
export function runBundle(options: BundleOptions): Promise<BundleRun> {
  const dir = mkdtempSync(join(tmpdir(), `mlops-${options.kind}-`));
  const bundle =
    options.kind === 'github'
      ? join(root, 'actions', options.actionName, 'dist/index.js')
      : join(root, 'tasks', options.taskName, 'dist/index.js');
  const inputs = { ...manifestDefaults(options), ...options.inputs };
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !/^(INPUT_|GITHUB_|RUNNER_|ENDPOINT_|SECRET_|SYSTEM_|BUILD_|AGENT_|TF_BUILD)/.test(key)) env[key] = value;
  }
  Object.assign(env, runnerEnv(options.kind, dir), options.env);
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value;

  return new Promise((resolve, reject) => {
    const child = spawn(options.node, [bundle], { cwd: options.cwd ?? dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    options.onSpawn?.(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ...readOutputs(options.kind, dir, stdout) });
    });
  });
}

/** The lines a runner shows as errors. */
export function errorLines(run: BundleRun, kind: RunnerKind): string[] {
  const pattern = kind === 'github' ? /^::error::(.*)$/gm : /^##vso\[task\.logissue type=error;\](.*)$/gm;
  return [...run.stdout.matchAll(pattern)].map((match) => match[1]!);
}
