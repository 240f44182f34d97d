import { UserError } from '../util/errors.js';
import { exec } from '../util/exec.js';
import { BuildahBuilder } from './buildah.js';
import { DockerBuilder } from './docker.js';
import type { Builder } from './builder.js';

export type BuilderChoice = 'auto' | 'buildah' | 'docker';

const DAEMON_PROBE_MS = 5_000;

/** True when a Docker daemon answers (not just when the docker client is installed). */
export async function dockerDaemonAnswers(env?: NodeJS.ProcessEnv): Promise<boolean> {
  const probe = AbortSignal.timeout(DAEMON_PROBE_MS);
  try {
    const result = await exec('docker', ['version', '--format', '{{.Server.Version}}'], { env, signal: probe });
    return result.code === 0 && result.stdout.trim() !== '';
  } catch {
    return false;
  }
}

async function hasBuildah(env?: NodeJS.ProcessEnv): Promise<boolean> {
  try {
    return (await exec('buildah', ['--version'], { env })).code === 0;
  } catch {
    return false;
  }
}

/** `auto`: docker where a daemon answers, buildah everywhere else. */
export async function selectBuilder(choice: BuilderChoice, env?: NodeJS.ProcessEnv): Promise<Builder> {
  if (choice === 'buildah') return new BuildahBuilder();
  if (choice === 'docker') {
    if (!(await dockerDaemonAnswers(env))) throw new UserError("input 'builder': docker was chosen but no Docker daemon answers on this agent");
    return new DockerBuilder();
  }
  if (await dockerDaemonAnswers(env)) return new DockerBuilder();
  if (await hasBuildah(env)) return new BuildahBuilder();
  throw new UserError("input 'builder': no Docker daemon answers and buildah is not installed: install buildah (apt-get install buildah) or start Docker");
}
