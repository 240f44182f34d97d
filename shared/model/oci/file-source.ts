import { open, type FileHandle } from 'node:fs/promises';
import type { BlobSource } from '../../registry/blob-upload.js';
import type { ModelFile } from '../target.js';

/**
 * A model file as an upload source: opened on first read, read by position, closed by close().
 * Opened once per upload so a large file costs one open, not one per chunk.
 */
export class FileSource implements BlobSource {
  readonly name: string;
  readonly size: number;
  readonly digest: string;
  private handle: Promise<FileHandle> | undefined;

  constructor(private readonly file: ModelFile) {
    this.name = `model file '${file.path}'`;
    this.size = file.size;
    this.digest = file.digest;
  }

  async read(buffer: Buffer, length: number, position: number): Promise<number> {
    this.handle ??= open(this.file.absolutePath, 'r');
    const { bytesRead } = await (await this.handle).read(buffer, 0, length, position);
    return bytesRead;
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await (await handle?.catch(() => undefined))?.close();
  }
}
