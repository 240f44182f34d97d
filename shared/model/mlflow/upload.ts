import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { InputError } from '../../util/errors.js';
import { runPool } from '../../util/pool.js';
import type { ModelFile, TargetLog } from '../target.js';
import type { MlflowClient } from './client.js';

/**
 * The HTTP layer sends bodies from memory, so a file is read whole before its PUT: small files go
 * four at a time, large ones one at a time, which bounds memory at about one large file.
 */
const SMALL_FILE_BYTES = 16 * 1024 * 1024;
const SMALL_FILE_CONCURRENCY = 4;

/** Where a model's files go in the artifact store: derived from name and content, so a re-run lands in the same place. */
export function artifactFolder(modelName: string, contentDigest: string): string {
  const safeName = modelName.replace(/[^A-Za-z0-9._-]/g, '_');
  return `mlops-tasks/models/${safeName}/${contentDigest.replace(/^sha256:/, '')}`;
}

async function uploadOne(client: MlflowClient, folder: string, file: ModelFile): Promise<void> {
  const body = await readFile(file.absolutePath);
  // What is sent must be what was hashed: the digest tag would lie otherwise.
  const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
  if (digest !== file.digest) throw new InputError('modelPath', `'${file.path}' changed while it was being uploaded: run the step again`);
  await client.putArtifact(`${folder}/${file.path}`, body);
}

/** Uploads every file through the artifact proxy, reporting progress by bytes. */
export async function uploadFiles(client: MlflowClient, folder: string, files: readonly ModelFile[], log: TargetLog): Promise<void> {
  const total = files.reduce((sum, file) => sum + file.size, 0) || 1;
  let sent = 0;
  const send = async (file: ModelFile) => {
    await uploadOne(client, folder, file);
    sent += file.size;
    log.progress((sent / total) * 100, `uploaded ${file.path}`);
  };
  await runPool(files.filter((file) => file.size < SMALL_FILE_BYTES), SMALL_FILE_CONCURRENCY, send);
  await runPool(files.filter((file) => file.size >= SMALL_FILE_BYTES), 1, send);
}
