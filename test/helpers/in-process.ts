import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GitHubPlatform } from '../../shared/platform/github.js';
import type { Platform } from '../../shared/platform/platform.js';
import { FAKE_SHA, parseGithubOutputs } from './run-bundle.js';
import { buildEnv } from './tools.js';

export interface InProcessRun {
  lines: string[];
  outputs: Record<string, string>;
  summary: string;
}

/**
 * Runs a task's core in-process on the GitHub adapter, with inputs as INPUT_* variables.
 * On failure the thrown error carries the log lines as `lines`.
 */
export async function runInProcess(
  run: (platform: Platform) => Promise<void>,
  inputs: Record<string, string>,
  extraEnv: Record<string, string> = {},
): Promise<InProcessRun> {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-run-'));
  const outputFile = join(dir, 'output');
  const summaryFile = join(dir, 'summary');
  writeFileSync(outputFile, '');
  writeFileSync(summaryFile, '');
  const env: NodeJS.ProcessEnv = buildEnv({
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_SHA: FAKE_SHA,
    GITHUB_REPOSITORY: 'contoso/tacos-vs-burritos',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_RUN_ID: '7',
    ...extraEnv,
  });
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value;
  const lines: string[] = [];
  try {
    await run(new GitHubPlatform(env, (line) => lines.push(line)));
    return { lines, outputs: parseGithubOutputs(readFileSync(outputFile, 'utf8')), summary: readFileSync(summaryFile, 'utf8') };
  } catch (error) {
    throw Object.assign(error as Error, { lines });
  }
}

/** What a person sees in the log: the runner consumes ::add-mask:: lines. */
export function shown(lines: string[]): string {
  return lines.filter((line) => !line.startsWith('::add-mask::')).join('\n');
}
