import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { ModelFile, PreparedModel } from '../../../shared/model/target.js';

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)]));
}

/**
 * A PreparedModel for a folder, hashed here the way target.ts describes it (sorted path, size,
 * digest): the targets only need the fields to be consistent, the task's own preparation is tested
 * with the task.
 */
export async function prepareFolder(folder: string, fields: Partial<Omit<PreparedModel, 'files' | 'contentDigest'>> & { name: string }): Promise<PreparedModel> {
  const files: ModelFile[] = [];
  for (const absolutePath of walk(folder).sort()) {
    files.push({ path: relative(folder, absolutePath).split(sep).join('/'), absolutePath, size: statSync(absolutePath).size, digest: await sha256(absolutePath) });
  }
  const listing = files.map((file) => `${file.path}\0${file.size}\0${file.digest}\n`).join('');
  return {
    requestedVersion: '',
    description: '',
    tags: new Map(),
    modelType: '',
    singleFile: false,
    ...fields,
    files,
    contentDigest: `sha256:${createHash('sha256').update(listing).digest('hex')}`,
  };
}
