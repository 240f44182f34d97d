import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { authDocument, type RegistryCredentials } from '../registry/credentials.js';
import type { RegistryAccess } from './builder.js';

export interface RegistrySettings {
  registry: string;
  credentials?: RegistryCredentials;
  insecure: boolean;
  caPem?: string;
}

/** The registries.conf the tools would read, so ours extends it rather than replacing it. */
function currentRegistriesConf(env: NodeJS.ProcessEnv): string {
  const candidates = [env.CONTAINERS_REGISTRIES_CONF, join(homedir(), '.config/containers/registries.conf'), '/etc/containers/registries.conf'];
  const found = candidates.find((file): file is string => !!file && existsSync(file));
  return found ? readFileSync(found, 'utf8') : '';
}

/**
 * Writes the tools' registry settings into one private temporary folder: credentials (never on
 * a command line), the CA, and an insecure flag that covers the target registry only.
 */
export function prepareRegistryAccess(settings: RegistrySettings, env: NodeJS.ProcessEnv): RegistryAccess & { dispose(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-registry-'));
  const access: RegistryAccess = {};
  if (settings.credentials) {
    const document = authDocument(settings.registry, settings.credentials);
    access.authFile = join(dir, 'auth.json');
    writeFileSync(access.authFile, document, { mode: 0o600 });
    writeFileSync(join(dir, 'config.json'), document, { mode: 0o600 });
    access.dockerConfigDir = dir;
  }
  if (settings.caPem) {
    access.certDir = join(dir, 'certs');
    mkdirSync(access.certDir);
    writeFileSync(join(access.certDir, 'ca.crt'), settings.caPem);
  }
  if (settings.insecure) {
    access.registriesConf = join(dir, 'registries.conf');
    const entry = `\n[[registry]]\nlocation = ${JSON.stringify(settings.registry)}\ninsecure = true\n`;
    writeFileSync(access.registriesConf, currentRegistriesConf(env) + entry);
  }
  return { ...access, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
