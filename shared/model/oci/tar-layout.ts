import { open } from 'node:fs/promises';
import type { BlobSource } from '../../registry/blob-upload.js';

/** A file to place in the archive. */
export interface TarFile {
  /** Path inside the archive, forward slashes, no leading slash. */
  path: string;
  absolutePath: string;
  size: number;
}

type Segment = { kind: 'bytes'; data: Buffer } | { kind: 'file'; file: TarFile } | { kind: 'zeros'; length: number };

const BLOCK = 512;
/** ustar's 11 octal digits hold sizes below 8 GiB; bigger files get their size in a PAX header. */
const MAX_OCTAL_SIZE = 0o77777777777;

/**
 * An uncompressed tar of files, laid out in advance: headers are built up front, file contents are
 * read from disk when asked for. Its size is known before a byte is read, and any range can be read
 * again (a resent chunk). Reproducible: entries in the order given, owner 0:0, mtime 0, modes
 * 0755 for folders and 0644 for files, parent folders listed before their files.
 */
export class TarLayout implements BlobSource {
  readonly size: number;
  private readonly segments: { start: number; segment: Segment }[] = [];

  constructor(readonly name: string, files: readonly TarFile[]) {
    let offset = 0;
    const push = (segment: Segment, length: number) => {
      this.segments.push({ start: offset, segment });
      offset += length;
    };
    const folders = new Set<string>();
    for (const file of files) {
      const parts = file.path.split('/');
      for (let depth = 1; depth < parts.length; depth++) {
        const folder = `${parts.slice(0, depth).join('/')}/`;
        if (folders.has(folder)) continue;
        folders.add(folder);
        const header = entryHeader(folder, 0, '5', 0o755);
        push({ kind: 'bytes', data: header }, header.length);
      }
      const header = entryHeader(file.path, file.size, '0', 0o644);
      push({ kind: 'bytes', data: header }, header.length);
      push({ kind: 'file', file }, file.size);
      const padding = (BLOCK - (file.size % BLOCK)) % BLOCK;
      if (padding) push({ kind: 'zeros', length: padding }, padding);
    }
    // The end of an archive is two zero blocks.
    push({ kind: 'zeros', length: 2 * BLOCK }, 2 * BLOCK);
    this.size = offset;
  }

  async read(buffer: Buffer, length: number, position: number): Promise<number> {
    let filled = 0;
    let index = this.segmentAt(position);
    while (filled < length && index < this.segments.length) {
      const { start, segment } = this.segments[index]!;
      const within = position + filled - start;
      const segmentLength = segment.kind === 'bytes' ? segment.data.length : segment.kind === 'file' ? segment.file.size : segment.length;
      const take = Math.min(length - filled, segmentLength - within);
      if (segment.kind === 'bytes') segment.data.copy(buffer, filled, within, within + take);
      else if (segment.kind === 'zeros') buffer.fill(0, filled, filled + take);
      else await readExactly(segment.file, buffer.subarray(filled, filled + take), within);
      filled += take;
      index++;
    }
    return filled;
  }

  /** Binary search: the segment holding byte `position`. */
  private segmentAt(position: number): number {
    let low = 0;
    let high = this.segments.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.segments[middle]!.start <= position) low = middle;
      else high = middle - 1;
    }
    return low;
  }
}

async function readExactly(file: TarFile, target: Buffer, position: number): Promise<void> {
  const handle = await open(file.absolutePath, 'r');
  try {
    let filled = 0;
    while (filled < target.length) {
      const { bytesRead } = await handle.read(target, filled, target.length - filled, position + filled);
      if (bytesRead === 0) throw new Error(`'${file.path}' is shorter than when it was listed: was it changed during the upload?`);
      filled += bytesRead;
    }
  } finally {
    await handle.close();
  }
}

/** A ustar header, preceded by a PAX header when the path or size does not fit ustar. */
function entryHeader(path: string, size: number, type: '0' | '5', mode: number): Buffer {
  const pax: Record<string, string> = {};
  const split = splitUstarPath(path);
  if (!split) pax.path = path;
  if (size > MAX_OCTAL_SIZE) pax.size = String(size);
  const header = ustarHeader(split ?? { prefix: '', name: path.slice(0, 99) }, pax.size ? 0 : size, type, mode);
  if (Object.keys(pax).length === 0) return header;
  const records = Buffer.from(Object.entries(pax).map(([key, value]) => paxRecord(key, value)).join(''), 'utf8');
  const paxHeader = ustarHeader({ prefix: '', name: 'PaxHeader' }, records.length, 'x', 0o644);
  const padding = Buffer.alloc((BLOCK - (records.length % BLOCK)) % BLOCK);
  return Buffer.concat([paxHeader, records, padding, header]);
}

/** "<length> <key>=<value>\n", where length counts the whole record, its own digits included. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body) + 1;
  while (String(length).length + Buffer.byteLength(body) !== length) length = String(length).length + Buffer.byteLength(body);
  return `${length}${body}`;
}

/** ustar holds a path as prefix (155 bytes) + '/' + name (100 bytes); undefined when it cannot. */
function splitUstarPath(path: string): { prefix: string; name: string } | undefined {
  if (/[^\x20-\x7e]/.test(path)) return undefined;
  if (path.length <= 100) return { prefix: '', name: path };
  for (let cut = path.lastIndexOf('/', path.length - 2); cut > 0; cut = path.lastIndexOf('/', cut - 1)) {
    const prefix = path.slice(0, cut);
    const name = path.slice(cut + 1);
    if (name.length > 100) return undefined;
    if (prefix.length <= 155) return { prefix, name };
  }
  return undefined;
}

function ustarHeader(path: { prefix: string; name: string }, size: number, type: string, mode: number): Buffer {
  const header = Buffer.alloc(BLOCK);
  const text = (value: string, offset: number, length: number) => header.write(value, offset, length, 'utf8');
  const octal = (value: number, offset: number, length: number) => text(value.toString(8).padStart(length - 1, '0'), offset, length - 1);
  text(path.name, 0, 100);
  octal(mode, 100, 8);
  octal(0, 108, 8); // uid
  octal(0, 116, 8); // gid
  octal(size, 124, 12);
  octal(0, 136, 12); // mtime
  header.fill(' ', 148, 156); // the checksum counts its own field as spaces
  text(type, 156, 1);
  text('ustar\u000000', 257, 8);
  text(path.prefix, 345, 155);
  let checksum = 0;
  for (const byte of header) checksum += byte;
  text(`${checksum.toString(8).padStart(6, '0')}\u0000 `, 148, 8);
  return header;
}
