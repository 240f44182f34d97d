import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { exec } from '../util/exec.js';
import type { RegistryCredentials } from './credentials.js';

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

interface DockerConfig {
  auths?: Record<string, AuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/** The user name registries expect with an identity (refresh) token, as docker login stores it. */
const TOKEN_USER = '00000000-0000-0000-0000-000000000000';

/** The keys docker uses for a registry in config.json; Docker Hub has its historical one. */
function keysFor(registry: string): string[] {
  const keys = [registry, `https://${registry}`, `http://${registry}`, `https://${registry}/v1/`];
  if (registry === 'docker.io') keys.push('https://index.docker.io/v1/', 'index.docker.io');
  return keys;
}

function fromEntry(entry: AuthEntry): RegistryCredentials | undefined {
  if (entry.identitytoken) return { username: TOKEN_USER, password: entry.identitytoken };
  if (entry.username && entry.password) return { username: entry.username, password: entry.password };
  if (!entry.auth) return undefined;
  const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon > 0 ? { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) } : undefined;
}

/** Asks a docker credential helper (docker-credential-<name> get), as the docker CLI does. */
async function fromHelper(helper: string, registry: string, env: NodeJS.ProcessEnv): Promise<RegistryCredentials | undefined> {
  for (const key of keysFor(registry)) {
    const result = await exec(`docker-credential-${helper}`, ['get'], { env, stdin: key }).catch(() => undefined);
    if (!result || result.code !== 0) continue;
    const answer = JSON.parse(result.stdout) as { Username?: string; Secret?: string };
    if (answer.Secret) return { username: answer.Username === '<token>' ? TOKEN_USER : answer.Username ?? '', password: answer.Secret };
  }
  return undefined;
}

/**
 * Credentials for a registry from the Docker config (DOCKER_CONFIG or ~/.docker/config.json):
 * a credential helper for that registry, a stored auth, or the global credential store.
 */
export async function dockerConfigCredentials(registry: string, env: NodeJS.ProcessEnv): Promise<RegistryCredentials | undefined> {
  const file = join(env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), '.docker'), 'config.json');
  if (!existsSync(file)) return undefined;
  let config: DockerConfig;
  try {
    config = JSON.parse(readFileSync(file, 'utf8')) as DockerConfig;
  } catch {
    return undefined;
  }
  const helper = keysFor(registry).map((key) => config.credHelpers?.[key]).find(Boolean);
  if (helper) return fromHelper(helper, registry, env);
  for (const key of keysFor(registry)) {
    const entry = config.auths?.[key];
    const credentials = entry && fromEntry(entry);
    if (credentials) return credentials;
  }
  return config.credsStore ? fromHelper(config.credsStore, registry, env) : undefined;
}
