import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** How skopeo, an independent client, reaches a test registry. */
export interface SkopeoAccess {
  tlsVerify: boolean;
  certDir?: string;
  creds?: string;
}

function accessArgs(access: SkopeoAccess): string[] {
  return [
    `--tls-verify=${access.tlsVerify}`,
    ...(access.certDir ? ['--cert-dir', access.certDir] : []),
    ...(access.creds ? ['--creds', access.creds] : []),
  ];
}

export interface Inspection {
  Digest: string;
  Labels: Record<string, string> | null;
  Layers: string[];
  RepoTags: string[];
}

export async function skopeoInspect(reference: string, access: SkopeoAccess): Promise<Inspection> {
  const { stdout } = await run('skopeo', ['inspect', ...accessArgs(access), `docker://${reference}`]);
  return JSON.parse(stdout) as Inspection;
}

export async function skopeoListTags(repository: string, access: SkopeoAccess): Promise<string[]> {
  try {
    const { stdout } = await run('skopeo', ['list-tags', ...accessArgs(access), `docker://${repository}`]);
    return (JSON.parse(stdout) as { Tags: string[] }).Tags;
  } catch (error) {
    // A repository that was never pushed to is reported as unknown.
    if (/NAME_UNKNOWN|repository name not known|404/i.test(String((error as { stderr?: string }).stderr ?? error))) return [];
    throw error;
  }
}

/** Copies an image into a local directory (one file per blob), to look inside its layers. */
export async function skopeoCopyToDir(reference: string, dir: string, access: SkopeoAccess): Promise<void> {
  await run('skopeo', ['copy', `--src-tls-verify=${access.tlsVerify}`, ...(access.certDir ? ['--src-cert-dir', access.certDir] : []),
    ...(access.creds ? ['--src-creds', access.creds] : []), `docker://${reference}`, `dir:${dir}`]);
}
