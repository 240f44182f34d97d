import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { readProblem } from '../../context/read-error.js';
import type { StreamedBody } from '../../http/request.js';
import { InputError } from '../../util/errors.js';
import { runPool } from '../../util/pool.js';
import type { ModelFile, TargetLog } from '../target.js';
import type { MlflowClient } from './client.js';

/**
 * Files are streamed from disk, so memory is a few read buffers per upload whatever the file sizes:
 * READ_CHUNK × CONCURRENCY plus the socket buffers.
 */
const CONCURRENCY = 4;
const READ_CHUNK = 1024 * 1024;

/** Where a model's files go in the artifact store: derived from name and content, so a re-run lands in the same place. */
export function artifactFolder(modelName: string, contentDigest: string): string {
  const safeName = modelName.replace(/[^A-Za-z0-9._-]/g, '_');
  return `mlops-tasks/models/${safeName}/${contentDigest.replace(/^sha256:/, '')}`;
}

/**
 * Hashes what passes through and holds back the last chunk until the digest is checked: a file
 * changed since it was hashed fails the stream before its final bytes go out, so the server never
 * receives a complete body that contradicts the digest tag.
 */
export class DigestCheck extends Transform {
  private readonly hash = createHash('sha256');
  private held: Buffer | undefined;

  constructor(private readonly file: Pick<ModelFile, 'path' | 'digest'>) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    const previous = this.held;
    this.held = chunk;
    callback(null, previous);
  }

  override _flush(callback: TransformCallback): void {
    const digest = `sha256:${this.hash.digest('hex')}`;
    if (digest !== this.file.digest) {
      callback(new InputError('modelPath', `'${this.file.path}' changed while it was being uploaded: run the step again`));
      return;
    }
    callback(null, this.held);
  }
}

/** A model file as a request body: a fresh read of exactly the hashed length for every attempt. */
export function fileBody(file: ModelFile): StreamedBody {
  return {
    length: file.size,
    open: () => {
      const check = new DigestCheck(file);
      // `end` is inclusive: exactly the hashed length is read even if the file has grown since.
      const read = file.size > 0 ? createReadStream(file.absolutePath, { highWaterMark: READ_CHUNK, end: file.size - 1 }) : Readable.from([]);
      read.on('error', (error: Error) => check.destroy(new InputError('modelPath', readProblem(error, file.path))));
      // Closing the body early (the server answered before reading it all) closes the file too.
      check.on('close', () => read.destroy());
      return read.pipe(check);
    },
  };
}

/** Uploads every file through the artifact proxy, reporting progress by bytes. */
export async function uploadFiles(client: MlflowClient, folder: string, files: readonly ModelFile[], log: TargetLog): Promise<void> {
  const total = files.reduce((sum, file) => sum + file.size, 0) || 1;
  let sent = 0;
  await runPool(files, CONCURRENCY, async (file) => {
    await client.putArtifact(`${folder}/${file.path}`, fileBody(file));
    sent += file.size;
    log.progress((sent / total) * 100, `uploaded ${file.path}`);
  });
}
