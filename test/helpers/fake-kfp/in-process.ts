import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GitHubPlatform } from '../../../shared/platform/github.js';
import { runTask } from '../../../shared/tasks/run-task.js';
import { triggerKubeflow } from '../../../shared/tasks/trigger-kubeflow/index.js';
import { FAKE_SHA, parseGithubOutputs } from '../run-bundle.js';

export interface InProcessRun {
  /** Every line the step wrote, workflow commands included. */
  lines: string[];
  /** What a person sees: without the ::add-mask:: lines the runner swallows. */
  shown: string;
  errors: string[];
  failed: boolean;
  outputs: Record<string, string>;
  summary: string;
}

/**
 * Runs TriggerKubeflow in this process on the GitHub adapter, as runTask does in the bundle, with
 * INPUT_* variables from `inputs`. The process's exit code is restored afterwards.
 */
export async function runTriggerInProcess(inputs: Record<string, string>, options: { env?: Record<string, string>; signal?: (abort: () => void) => void } = {}): Promise<InProcessRun> {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-kfp-run-'));
  const outputFile = join(dir, 'output');
  const summaryFile = join(dir, 'summary');
  writeFileSync(outputFile, '');
  writeFileSync(summaryFile, '');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_SHA: FAKE_SHA,
    GITHUB_RUN_NUMBER: '17',
    GITHUB_RUN_ID: '4242',
    GITHUB_REPOSITORY: 'contoso/tacos-vs-burritos',
    GITHUB_SERVER_URL: 'https://github.com',
    ...options.env,
  };
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value;
  const lines: string[] = [];
  const platform = new GitHubPlatform(env, (line) => lines.push(line));
  // The abort controller behind platform.signal is private: cancel is simulated as the adapter does it.
  options.signal?.(() => (platform as unknown as { controller: AbortController }).controller.abort());
  const exitCode = process.exitCode;
  await runTask(triggerKubeflow, platform);
  const failed = process.exitCode === 1;
  process.exitCode = exitCode;
  return {
    lines,
    shown: lines.filter((line) => !line.startsWith('::add-mask::')).join('\n'),
    errors: lines.filter((line) => line.startsWith('::error::')).map((line) => line.slice('::error::'.length)),
    failed,
    outputs: parseGithubOutputs(readFileSync(outputFile, 'utf8')),
    summary: readFileSync(summaryFile, 'utf8'),
  };
}
