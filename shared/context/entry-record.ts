import { createHash } from 'node:crypto';
import { lstat, readlink } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { InputError, UserError } from '../util/errors.js';
import type { FileHasher } from './file-hasher.js';
import type { HashCache } from './hash-cache.js';
import { contextReadError } from './read-error.js';
import type { ContextEntry } from './walk.js';

export interface EntryRecord {
  /** One line for the files digest: kind, path, permission bits, size, content hash. */
  line: string;
  /** Content bytes of a regular file, 0 for anything else. */
  bytes: number;
}

/** The context root as resolved (realpath) and as given, for telling where a symlink points. */
export interface ContextRoots {
  real: string;
  given: string;
}

/**
 * Describes one entry by what a COPY of it would carry: kind, path, permission bits, size and
 * content (the target, for a symlink). Owner and times are left out: COPY does not put them in
 * the cache key, and they differ from one agent to the next.
 */
export async function describeEntry(entry: ContextEntry, roots: ContextRoots, hasher: FileHasher, cache?: HashCache): Promise<EntryRecord> {
  const absolute = join(roots.real, entry.path);
  try {
    if (entry.kind === 'file') {
      const before = cache ? await lstat(absolute, { bigint: true }) : undefined;
      const known = before && cache?.lookup(entry.path, before);
      if (known) return { line: recordLine(entry, Number(before.mode), known.size, known.sha256), bytes: known.size };
      const file = await hasher.hash(absolute, { noFollow: true });
      if (before && file.size === Number(before.size)) cache?.record(entry.path, before, file.sha256);
      return { line: recordLine(entry, file.mode, file.size, file.sha256), bytes: file.size };
    }
    const stat = await lstat(absolute);
    if (entry.kind === 'symlink') {
      const target = await readlink(absolute);
      if (pointsOutside(roots, entry.path, target)) {
        throw new InputError('context', `symlink '${entry.path}' points outside the build context`);
      }
      const sha = createHash('sha256').update(target).digest('hex');
      return { line: recordLine(entry, stat.mode, Buffer.byteLength(target), sha), bytes: 0 };
    }
    // Directories and special files carry only their mode; a directory's size depends on the file system.
    return { line: recordLine(entry, stat.mode, 0, ''), bytes: 0 };
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw contextReadError(error, entry.path);
  }
}

/**
 * NUL separates fields (no path can contain one) and a newline ends the record, so no two
 * different entries, or lists of entries, can give the same text.
 */
function recordLine(entry: ContextEntry, mode: number, size: number, sha256: string): string {
  return `${entry.kind}\0${entry.path}\0${(mode & 0o777).toString(8)}\0${size}\0${sha256}\n`;
}

/** Resolved against the link's own folder, as the kernel would; absolute targets count too. */
function pointsOutside(roots: ContextRoots, linkPath: string, target: string): boolean {
  const linkFolder = dirname(linkPath);
  return [roots.real, roots.given].every((root) => !isWithin(root, resolve(root, linkFolder, target)));
}

function isWithin(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}
