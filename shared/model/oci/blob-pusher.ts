import { createHash } from 'node:crypto';
import { pushBlob, uploadBlob, type BlobOutcome, type BlobSource } from '../../registry/blob-upload.js';
import type { RegistryClient } from '../../registry/client.js';
import type { TargetLog } from '../target.js';

export interface PusherOptions {
  /** Bytes per PATCH, and the size up to which a blob goes in a single PUT. */
  chunkSize: number;
  /** Blobs uploaded at once; memory is about chunkSize × this. */
  concurrency: number;
  signal: AbortSignal;
  log: TargetLog;
}

/** Counts of what happened to the blobs, for the log and the tests. */
export interface PushCounts {
  present: number;
  mounted: number;
  uploaded: number;
}

/**
 * Pushes blobs to one repository with a fixed set of reused buffers (one per concurrent upload),
 * reporting progress over the bytes of everything it was asked to push.
 */
export class BlobPusher {
  readonly counts: PushCounts = { present: 0, mounted: 0, uploaded: 0 };
  private readonly free: Buffer[] = [];
  private total = 0;
  private done = 0;
  private lastReport = { percent: -1, at: 0 };

  constructor(readonly client: RegistryClient, readonly repository: string, readonly options: PusherOptions) {}

  /** Adds bytes to the total the progress is measured against. */
  expect(bytes: number): void {
    this.total += bytes;
  }

  /** A blob whose digest is known: skipped, mounted or uploaded. */
  async push(source: BlobSource & { digest: string }, mountFrom: readonly string[] = []): Promise<BlobOutcome> {
    const outcome = await this.withBuffer((buffer) =>
      pushBlob(this.client, this.repository, source, mountFrom, { buffer, signal: this.options.signal, onBytes: (bytes) => this.advance(bytes) }),
    );
    this.counts[outcome]++;
    if (outcome !== 'uploaded') this.advance(source.size);
    return outcome;
  }

  /** A blob whose digest is computed while it is uploaded (a streamed tar). */
  async upload(source: BlobSource): Promise<string> {
    const digest = await this.withBuffer((buffer) =>
      uploadBlob(this.client, this.repository, source, { buffer, signal: this.options.signal, onBytes: (bytes) => this.advance(bytes) }),
    );
    this.counts.uploaded++;
    return digest;
  }

  /** A small document (a config): pushed unless present. */
  async pushJson(document: unknown): Promise<{ digest: string; size: number }> {
    const data = Buffer.from(JSON.stringify(document), 'utf8');
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    const source: BlobSource & { digest: string } = {
      name: 'a config document',
      size: data.length,
      digest,
      read: async (buffer, length, position) => data.copy(buffer, 0, position, position + length),
    };
    await this.push(source);
    return { digest, size: data.length };
  }

  private async withBuffer<T>(work: (buffer: Buffer) => Promise<T>): Promise<T> {
    const buffer = this.free.pop() ?? Buffer.allocUnsafe(this.options.chunkSize);
    try {
      return await work(buffer);
    } finally {
      this.free.push(buffer);
    }
  }

  private advance(bytes: number): void {
    this.done += bytes;
    if (this.total === 0) return;
    const percent = Math.min(100, Math.floor((this.done / this.total) * 100));
    const now = Date.now();
    // Every 5 percent or every 10 s, whichever comes first: a log line per chunk would drown the log.
    const due = percent >= this.lastReport.percent + 5 || (percent === 100 && this.lastReport.percent < 100) || now - this.lastReport.at >= 10_000;
    if (percent > this.lastReport.percent && due) {
      this.lastReport = { percent, at: now };
      this.options.log.progress(percent, `pushed ${formatBytes(this.done)} of ${formatBytes(this.total)} to ${this.client.registry}/${this.repository}`);
    }
  }
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}
