import { appendFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { BasePlatform } from './base.js';
import { UserError } from '../util/errors.js';
import type { CiContext } from './platform.js';

// Workflow commands are written directly: @actions/core loads its HTTP client at import, which
// alone would double the step's cold start (see bench/cold-start.mjs).

function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** GitHub Actions: workflow commands on stdout, outputs and summary through their files. */
export class GitHubPlatform extends BasePlatform {
  readonly name = 'github' as const;
  readonly isDebug: boolean;
  readonly ci: CiContext;

  constructor(env: NodeJS.ProcessEnv = process.env, write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)) {
    // The OIDC request token is vaulted too: no child process needs it.
    super(env, write, ['INPUT_', 'ACTIONS_ID_TOKEN_REQUEST_']);
    this.isDebug = env.RUNNER_DEBUG === '1';
    const server = env.GITHUB_SERVER_URL ?? 'https://github.com';
    const repository = env.GITHUB_REPOSITORY ?? '';
    const runId = env.GITHUB_RUN_ID ?? '';
    this.ci = {
      sha: env.GITHUB_SHA ?? '',
      runId,
      runNumber: env.GITHUB_RUN_NUMBER ?? '',
      runUrl: repository && runId ? `${server}/${repository}/actions/runs/${runId}` : '',
      repositoryUrl: repository ? `${server}/${repository}` : '',
      workspace: env.GITHUB_WORKSPACE ?? process.cwd(),
    };
  }

  getInput(name: string): string | undefined {
    return this.vault.get(`INPUT_${name.replace(/ /g, '_').toUpperCase()}`);
  }

  override async requestIdToken(audience: string): Promise<string> {
    const url = this.vault.get('ACTIONS_ID_TOKEN_REQUEST_URL');
    const token = this.vault.get('ACTIONS_ID_TOKEN_REQUEST_TOKEN');
    if (!url || !token) {
      throw new UserError("workload identity federation needs the job's OIDC token and this job has none: add 'permissions: id-token: write' to the job");
    }
    const tokenUrl = new URL(url);
    tokenUrl.searchParams.set('audience', audience);
    // Loaded here: most steps never ask for a token, and start-up stays lean without the HTTP layer.
    const { request } = await import('../http/request.js');
    const response = await request(tokenUrl.href, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      signal: this.signal,
      env: this.env,
    });
    const value = response.status === 200 ? (JSON.parse(response.body.toString('utf8')) as { value?: string }).value : undefined;
    if (!value) throw new UserError(`the runner's OIDC token endpoint answered HTTP ${response.status} without a token`);
    this.setSecret(value);
    return value;
  }

  setOutput(name: string, value: string): void {
    const file = this.env.GITHUB_OUTPUT;
    if (!file) {
      this.write(`::set-output name=${name}::${escapeData(value)}`);
      return;
    }
    const delimiter = `ghadelimiter_${randomUUID()}`;
    appendFileSync(file, `${name}<<${delimiter}\n${value}\n${delimiter}\n`, 'utf8');
  }

  progress(percent: number, message: string): void {
    this.info(`[${Math.round(percent)}%] ${message}`);
  }

  async summary(markdown: string): Promise<void> {
    const file = this.env.GITHUB_STEP_SUMMARY;
    if (file) appendFileSync(file, `${this.redact(markdown)}\n`, 'utf8');
  }

  protected writeMask(value: string): void {
    this.write(`::add-mask::${escapeData(value)}`);
  }

  protected formatIssue(kind: 'warning' | 'error', message: string): string {
    return `::${kind}::${escapeData(message)}`;
  }

  protected formatDebug(message: string): string {
    return `::debug::${escapeData(message)}`;
  }

  protected formatGroupStart(title: string): string {
    return `::group::${escapeData(title)}`;
  }

  protected formatGroupEnd(): string {
    return '::endgroup::';
  }
}
