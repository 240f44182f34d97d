import { chmodSync, mkdtempSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root } from './paths.js';

/**
 * Environment for builds in tests. Inside containers buildah needs vfs storage and chroot
 * isolation; these are buildah's own variables, so the tasks themselves set neither.
 */
export function buildEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !key.startsWith('INPUT_')) env[key] = value;
  env.STORAGE_DRIVER ??= 'vfs';
  env.BUILDAH_ISOLATION ??= 'chroot';
  return { ...env, ...extra };
}

/**
 * A PATH entry holding a `buildah` that records its arguments and environment keys before running
 * the real one, so tests can prove what reached the command line.
 */
export function recordingBuildah(): { pathDir: string; calls(): string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-shim-'));
  const log = join(dir, 'calls.log');
  const real = execFileSync('sh', ['-c', 'command -v buildah'], { encoding: 'utf8' }).trim();
  writeFileSync(join(dir, 'buildah'), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexec '${real}' "$@"\n`);
  chmodSync(join(dir, 'buildah'), 0o755);
  return { pathDir: dir, calls: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []) };
}

export function sampleContext(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-context-'));
  execFileSync('bash', [join(root, 'scripts/sample-context.sh'), dir]);
  return dir;
}
