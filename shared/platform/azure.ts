import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BasePlatform } from './base.js';
import type { CiContext, ServiceConnection } from './platform.js';

// ##vso logging commands are written directly; azure-pipelines-task-lib would add its start-up
// cost and needs its message files beside the bundle. The escaping follows its taskcommand.ts.

function escapeData(text: string): string {
  return text.replace(/%/g, '%AZP25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function escapeProperty(text: string): string {
  return escapeData(text).replace(/]/g, '%5D').replace(/;/g, '%3B');
}

function command(name: string, properties: Record<string, string>, message: string): string {
  const props = Object.entries(properties)
    .map(([key, value]) => `${key}=${escapeProperty(value)};`)
    .join('');
  return `##vso[${name}${props ? ` ${props}` : ''}]${escapeData(message)}`;
}

/** Azure Pipelines agent variable names: dots and spaces become underscores, upper case. */
function variableName(name: string): string {
  return name.replace(/[. ]/g, '_').toUpperCase();
}

/** Azure DevOps: ##vso logging commands on stdout; inputs and endpoints from the agent's variables. */
export class AzurePlatform extends BasePlatform {
  readonly name = 'azure' as const;
  readonly isDebug: boolean;
  readonly ci: CiContext;

  constructor(env: NodeJS.ProcessEnv = process.env, write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)) {
    // The agent passes inputs, service endpoints and secret variables in the environment.
    super(env, write, ['INPUT_', 'ENDPOINT_', 'SECRET_']);
    this.isDebug = (env.SYSTEM_DEBUG ?? '').toLowerCase() === 'true';
    const collection = env.SYSTEM_COLLECTIONURI ?? env.SYSTEM_TEAMFOUNDATIONCOLLECTIONURI ?? '';
    const project = env.SYSTEM_TEAMPROJECT ?? '';
    const buildId = env.BUILD_BUILDID ?? '';
    this.ci = {
      sha: env.BUILD_SOURCEVERSION ?? '',
      runId: buildId,
      runNumber: env.BUILD_BUILDNUMBER ?? '',
      runUrl:
        collection && buildId
          ? `${collection.replace(/\/?$/, '/')}${encodeURIComponent(project)}/_build/results?buildId=${buildId}`
          : '',
      repositoryUrl: env.BUILD_REPOSITORY_URI ?? '',
      workspace: env.BUILD_SOURCESDIRECTORY ?? process.cwd(),
    };
  }

  getInput(name: string): string | undefined {
    return this.vault.get(`INPUT_${variableName(name)}`);
  }

  override getEndpoint(id: string): ServiceConnection | undefined {
    const key = variableName(id);
    const url = this.vault.get(`ENDPOINT_URL_${key}`);
    const authJson = this.vault.get(`ENDPOINT_AUTH_${key}`);
    if (url === undefined && authJson === undefined) return undefined;
    let scheme = this.vault.get(`ENDPOINT_AUTH_SCHEME_${key}`) ?? '';
    const parameters: Record<string, string> = {};
    if (authJson) {
      const auth = JSON.parse(authJson) as { scheme?: string; parameters?: Record<string, string> };
      scheme = auth.scheme ?? scheme;
      // Parameter names differ in case between connection types and agents: keys are lower-cased.
      for (const [name, value] of Object.entries(auth.parameters ?? {})) parameters[name.toLowerCase()] = value;
    }
    const data: Record<string, string> = {};
    for (const [name, value] of this.vault) {
      const parameterPrefix = `ENDPOINT_AUTH_PARAMETER_${key}_`;
      const dataPrefix = `ENDPOINT_DATA_${key}_`;
      if (name.startsWith(parameterPrefix)) parameters[name.slice(parameterPrefix.length).toLowerCase()] ??= value;
      if (name.startsWith(dataPrefix)) data[name.slice(dataPrefix.length).toLowerCase()] = value;
    }
    for (const [name, value] of Object.entries(parameters)) {
      if (/password|secret|key|token|certificate/i.test(name)) this.setSecret(value);
    }
    return { id, url: url ?? '', scheme, parameters, data };
  }

  setOutput(name: string, value: string): void {
    this.write(command('task.setvariable', { variable: name, isOutput: 'true', issecret: 'false' }, value));
  }

  progress(percent: number, message: string): void {
    this.write(command('task.setprogress', { value: String(Math.round(percent)) }, message));
  }

  async summary(markdown: string): Promise<void> {
    // The agent uploads the file after the step ends, so it must outlive the process.
    const dir = mkdtempSync(join(this.env.AGENT_TEMPDIRECTORY ?? tmpdir(), 'mlops-summary-'));
    const file = join(dir, 'summary.md');
    writeFileSync(file, this.redact(markdown), 'utf8');
    this.write(command('task.uploadsummary', {}, file));
  }

  override fail(message: string): void {
    super.fail(message);
    this.write(command('task.complete', { result: 'Failed' }, this.redact(message).split(/\r?\n/)[0] ?? ''));
  }

  protected writeMask(value: string): void {
    this.write(command('task.setsecret', {}, value));
  }

  protected formatIssue(kind: 'warning' | 'error', message: string): string {
    return command('task.logissue', { type: kind }, message);
  }

  protected formatDebug(message: string): string {
    return command('task.debug', {}, message);
  }

  protected formatGroupStart(title: string): string {
    return `##[group]${title}`;
  }

  protected formatGroupEnd(): string {
    return '##[endgroup]';
  }
}
