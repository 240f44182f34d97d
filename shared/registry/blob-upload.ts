import { createHash } from 'node:crypto';
import { CancelledError, UserError } from '../util/errors.js';
import type { RegistryClient } from './client.js';

/**
 * Bytes to upload, read by position so a chunk can be read again; `size` is known in advance.
 * Reads fill `buffer` from 0 and return how many bytes they put there.
 */
export interface BlobSource {
  /** For messages: a file path, "the modelcar layer". */
  name: string;
  size: number;
  /** 'sha256:<hex>' when known in advance; otherwise computed while uploading. */
  digest?: string;
  read(buffer: Buffer, length: number, position: number): Promise<number>;
}

export interface UploadOptions {
  /** A buffer of at least the chunk size, reused across uploads (one per concurrent upload). */
  buffer: Buffer;
  /** Called with the bytes the registry has just accepted. */
  onBytes?: (bytes: number) => void;
  signal?: AbortSignal;
  /** Attempts per chunk after the first; a chunk is resumed from where the registry stopped. */
  chunkRetries?: number;
}

export type BlobOutcome = 'present' | 'mounted' | 'uploaded';

/** Statuses of a PATCH that are worth resuming after (the HTTP layer retries no PATCH itself). */
const RESUMABLE = [408, 429, 500, 502, 503, 504];
const DEFAULT_CHUNK_RETRIES = 3;

/**
 * A blob the repository holds afterwards: skipped when present, mounted from one of `mountFrom`
 * (same registry) when one has it, else uploaded.
 */
export async function pushBlob(
  client: RegistryClient,
  repository: string,
  source: BlobSource & { digest: string },
  mountFrom: readonly string[],
  options: UploadOptions,
): Promise<BlobOutcome> {
  if (await client.hasBlob(repository, source.digest)) return 'present';
  for (const from of mountFrom) {
    if (from !== repository && (await client.mountBlob(repository, source.digest, from))) return 'mounted';
  }
  await uploadBlob(client, repository, source, options);
  return 'uploaded';
}

/**
 * Uploads a blob and returns its digest: in one PUT when it fits the buffer (POST then PUT), else
 * in chunks (POST, PATCH per chunk with Content-Range, closing PUT). Memory is the one buffer
 * whatever the size. A failed upload is cancelled, so the registry keeps nothing half-written.
 */
export async function uploadBlob(client: RegistryClient, repository: string, source: BlobSource, options: UploadOptions): Promise<string> {
  const opened = await client.uploadRequest(repository, 'POST', `/v2/${repository}/blobs/uploads/`, { headers: { 'content-length': '0' } });
  let location = locationOf(opened.headers.location, source, client);
  try {
    const hash = source.digest ? undefined : createHash('sha256');
    const chunkSize = options.buffer.length;
    if (source.size <= chunkSize) {
      const chunk = await readChunk(source, options.buffer, 0, source.size);
      hash?.update(chunk);
      const digest = source.digest ?? `sha256:${hash!.digest('hex')}`;
      await close(client, repository, location, digest, source, chunk);
      options.onBytes?.(chunk.length);
      return digest;
    }
    for (let position = 0; position < source.size; ) {
      if (options.signal?.aborted) throw new CancelledError(`uploading ${source.name}`);
      const chunk = await readChunk(source, options.buffer, position, Math.min(chunkSize, source.size - position));
      location = await sendChunk(client, repository, location, chunk, position, source, options);
      hash?.update(chunk);
      options.onBytes?.(chunk.length);
      position += chunk.length;
    }
    const digest = source.digest ?? `sha256:${hash!.digest('hex')}`;
    await close(client, repository, location, digest, source);
    return digest;
  } catch (error) {
    await client.uploadRequest(repository, 'DELETE', location, { allow: [400, 404, 405] }).catch(() => undefined);
    throw error;
  }
}

async function readChunk(source: BlobSource, buffer: Buffer, position: number, length: number): Promise<Buffer> {
  let filled = 0;
  while (filled < length) {
    const bytesRead = await source.read(buffer.subarray(filled), length - filled, position + filled);
    if (bytesRead === 0) throw new UserError(`${source.name} is shorter than when it was hashed (${position + filled} of ${source.size} bytes): was it changed during the upload?`);
    filled += bytesRead;
  }
  return buffer.subarray(0, length);
}

/**
 * PATCHes one chunk. On a dropped connection or a 5xx, asks the registry how far it got (GET on
 * the session) and sends the rest of the chunk from there: the bytes are still in the buffer.
 */
async function sendChunk(
  client: RegistryClient,
  repository: string,
  location: string,
  chunk: Buffer,
  position: number,
  source: BlobSource,
  options: UploadOptions,
): Promise<string> {
  const end = position + chunk.length;
  let offset = position;
  const retries = options.chunkRetries ?? DEFAULT_CHUNK_RETRIES;
  for (let attempt = 0; ; attempt++) {
    let failure: string;
    try {
      const body = chunk.subarray(offset - position);
      const response = await client.uploadRequest(repository, 'PATCH', location, {
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${end - 1}` },
        body,
        allow: [416, ...RESUMABLE],
      });
      if (response.status === 202) {
        location = locationOf(response.headers.location, source, client, location);
        const accepted = rangeEnd(response.headers.range);
        if (accepted === undefined || accepted >= end) return location;
        failure = `the registry took bytes up to ${accepted} only`;
      } else {
        failure = `HTTP ${response.status}`;
      }
    } catch (error) {
      if (error instanceof CancelledError || !(error instanceof UserError) || /denied|credentials/.test(error.message)) throw error;
      failure = error.message;
    }
    if (attempt >= retries) throw new UserError(`registry ${client.registry}: uploading ${source.name} to ${repository} failed at byte ${offset}: ${failure}`);
    const status = await client.uploadRequest(repository, 'GET', location);
    location = locationOf(status.headers.location, source, client, location);
    const received = rangeEnd(status.headers.range);
    const next = received === undefined ? 0 : received;
    if (next < position || next > end) {
      throw new UserError(`registry ${client.registry}: the upload of ${source.name} lost its place (registry at byte ${next}, chunk at ${position}); run again`);
    }
    offset = next;
    if (offset === end) return location;
  }
}

const CLOSE_TIMEOUT_MIN_MS = 60_000;
/** A slow disk verifying at 5 MB/s still answers within the timeout. */
const CLOSE_VERIFY_BYTES_PER_MS = 5_000;

async function close(client: RegistryClient, repository: string, location: string, digest: string, source: BlobSource, body?: Buffer): Promise<void> {
  const url = `${location}${location.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`;
  const headers: Record<string, string> = body ? { 'content-type': 'application/octet-stream' } : { 'content-length': '0' };
  // The registry checks the whole blob against its digest before answering: big blobs take a while.
  const timeoutMs = Math.max(CLOSE_TIMEOUT_MIN_MS, (source.size / CLOSE_VERIFY_BYTES_PER_MS) | 0);
  const response = await client.uploadRequest(repository, 'PUT', url, { headers, body, allow: [400], timeoutMs });
  if (response.status === 400) {
    throw new UserError(`registry ${client.registry} refused ${source.name} for ${repository}: its content does not match ${digest} (was it changed after it was hashed?)`);
  }
}

/**
 * One past the last byte the registry holds, from `Range: 0-<last>`; undefined when absent.
 * The distribution registry says `0-0` for an empty session too: read as nothing received, since
 * resending one byte costs nothing while skipping one would corrupt the blob.
 */
function rangeEnd(header: string | string[] | undefined): number | undefined {
  const match = /^(?:bytes=)?0-(\d+)$/.exec(String(header ?? '').trim());
  if (!match) return undefined;
  const last = Number(match[1]);
  return last === 0 ? 0 : last + 1;
}

function locationOf(header: string | string[] | undefined, source: BlobSource, client: RegistryClient, previous?: string): string {
  const value = Array.isArray(header) ? header[0] : header;
  if (value) return value;
  if (previous) return previous;
  throw new UserError(`registry ${client.registry} opened no upload session for ${source.name} (no Location header)`);
}
