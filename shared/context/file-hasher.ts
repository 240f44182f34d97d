import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { CancelledError } from '../util/errors.js';

/**
 * 256 KiB reads. Measured here on a 2 GiB file from the page cache (best of 3): 256 KiB hashed at
 * 820 MB/s, 128 KiB at 660, 1 MiB at 500 and 2 MiB at 510; small chunks stay in the caches
 * between the read and the hash. Per-call overhead only shows below 128 KiB.
 */
const CHUNK = 256 * 1024;

export interface HashedFile {
  /** Hex SHA-256 of the content. */
  sha256: string;
  /** Bytes actually read, so size and hash always describe the same content. */
  size: number;
  mode: number;
}

/**
 * Hashes files by streaming them through two reused buffers: while one chunk is hashed on the
 * main thread, the next is read on the thread pool. Memory stays at two chunks per hasher
 * whatever the file size. One hasher reads one file at a time; run several for concurrency.
 */
export class FileHasher {
  private readonly buffers: [Buffer, Buffer] = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)];

  constructor(private readonly signal?: AbortSignal) {}

  /**
   * Opens without following a final symlink (`noFollow`) and without blocking on a FIFO, then
   * refuses anything but a regular file: a path that changed type since it was listed must not
   * be hashed as something else.
   */
  async hash(path: string, options: { noFollow?: boolean } = {}): Promise<HashedFile> {
    const flags = constants.O_RDONLY | constants.O_NONBLOCK | (options.noFollow ? constants.O_NOFOLLOW : 0);
    const handle = await open(path, flags);
    let pending: Promise<{ bytesRead: number }> | undefined;
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTFILE' });
      const hash = createHash('sha256');
      let [current, next] = this.buffers;
      let size = 0;
      pending = handle.read(current, 0, CHUNK, 0);
      for (;;) {
        const { bytesRead } = await pending;
        pending = undefined;
        if (bytesRead === 0) break;
        size += bytesRead;
        if (this.signal?.aborted) throw new CancelledError('hashing the build context');
        // A short read that reaches the size fstat gave is the end: asking again just to be told
        // so costs one more system call per file, which is most of the cost of a small file.
        // A short read before that size (a network file system, say) goes on reading.
        if (bytesRead < CHUNK && size >= stat.size) {
          hash.update(current.subarray(0, bytesRead));
          break;
        }
        // Start the next read before hashing this chunk, so disk and CPU work side by side.
        pending = handle.read(next, 0, CHUNK, size);
        hash.update(current.subarray(0, bytesRead));
        [current, next] = [next, current];
      }
      return { sha256: hash.digest('hex'), size, mode: stat.mode };
    } finally {
      // A read still in flight writes into our buffer: let it land before the handle closes.
      await pending?.catch(() => undefined);
      await handle.close();
    }
  }
}
