import { gunzipSync, inflateRawSync } from 'node:zlib';

// Just enough tar and zip to take one file out of a pipeline package, as the KFP server does;
// a dependency for this would weigh more than the code.

const BLOCK = 512;

function field(header: Buffer, start: number, length: number): string {
  const raw = header.subarray(start, start + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end < 0 ? raw.length : end).toString('utf8');
}

function octal(header: Buffer, start: number, length: number): number {
  const text = field(header, start, length).trim();
  return text ? parseInt(text, 8) : 0;
}

/** pax extended header records: "<length> <key>=<value>\n". */
function paxPath(data: Buffer): string | undefined {
  for (const record of data.toString('utf8').split('\n')) {
    const match = /^\d+ path=(.*)$/.exec(record);
    if (match) return match[1];
  }
  return undefined;
}

const normalize = (path: string) => path.replace(/^(\.\/)+/, '').replace(/^\/+/, '');

/** The regular files of an uncompressed tar, by path (ustar, GNU long names and pax paths). */
export function tarEntries(tar: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  let longName: string | undefined;
  for (let offset = 0; offset + BLOCK <= tar.length; ) {
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((byte) => byte === 0)) break;
    if (field(header, 257, 6) !== 'ustar' && !/^[0-7 ]+\0?$/.test(header.subarray(124, 136).toString('latin1'))) {
      throw new Error('not a tar archive');
    }
    const size = octal(header, 124, 12);
    const type = String.fromCharCode(header[156] ?? 0);
    const data = tar.subarray(offset + BLOCK, offset + BLOCK + size);
    offset += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'L') {
      longName = field(data, 0, data.length);
      continue;
    }
    if (type === 'x') {
      longName = paxPath(data) ?? longName;
      continue;
    }
    const prefix = field(header, 345, 155);
    const name = longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
    longName = undefined;
    if (type === '0' || type === '\0') files.set(normalize(name), data);
  }
  return files;
}

/** Gunzips a .tar.gz with a ceiling on the output, so a small bomb cannot fill the memory. */
export function gunzipTar(archive: Buffer, maxBytes: number): Map<string, Buffer> {
  let tar: Buffer;
  try {
    tar = gunzipSync(archive, { maxOutputLength: maxBytes });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(code === 'ERR_BUFFER_TOO_LARGE' ? `unpacks to more than ${maxBytes / 1024 / 1024} MB` : 'not a gzip-compressed file');
  }
  return tarEntries(tar);
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/** The files of a zip archive by path: stored or deflated entries, found through the central directory. */
export function zipEntries(zip: Buffer, maxBytes: number): Map<string, Buffer> {
  let eocd = -1;
  // The end record sits in the last 22 bytes plus a comment of up to 64 KiB.
  for (let at = zip.length - 22; at >= Math.max(0, zip.length - 22 - 0xffff); at--) {
    if (zip.readUInt32LE(at) === EOCD) {
      eocd = at;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip archive');
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const files = new Map<string, Buffer>();
  for (let index = 0; index < count; index++) {
    if (at + 46 > zip.length || zip.readUInt32LE(at) !== CENTRAL) throw new Error('the zip central directory is damaged');
    const method = zip.readUInt16LE(at + 10);
    const compressedSize = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const localOffset = zip.readUInt32LE(at + 42);
    const name = zip.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    at += 46 + nameLength + extraLength + commentLength;
    if (name.endsWith('/')) continue;
    if (localOffset + 30 > zip.length || zip.readUInt32LE(localOffset) !== LOCAL) throw new Error(`the zip entry '${name}' is damaged`);
    const dataStart = localOffset + 30 + zip.readUInt16LE(localOffset + 26) + zip.readUInt16LE(localOffset + 28);
    const data = zip.subarray(dataStart, dataStart + compressedSize);
    if (method === 0) files.set(normalize(name), data);
    else if (method === 8) {
      try {
        files.set(normalize(name), inflateRawSync(data, { maxOutputLength: maxBytes }));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new Error(code === 'ERR_BUFFER_TOO_LARGE' ? `'${name}' unpacks to more than ${maxBytes / 1024 / 1024} MB` : `'${name}' is damaged`);
      }
    } else throw new Error(`'${name}' uses zip compression method ${method}: pack with deflate or store`);
  }
  return files;
}
