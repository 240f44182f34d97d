import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CancelledError } from '../util/errors.js';
import type { DockerIgnore, IgnoreMatch } from './dockerignore.js';
import { contextReadError } from './read-error.js';

export type EntryKind = 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'char-device' | 'block-device';

export interface ContextEntry {
  /** Relative to the context root, forward slashes. */
  readonly path: string;
  readonly kind: EntryKind;
}

/**
 * Lists what the builder would send from a context: everything not excluded by the ignore
 * file, plus the directories above a file that an exception re-included (BuildKit sends those
 * parents even when the directory itself is excluded). Symlinks are listed, never followed.
 * Unordered; the caller sorts.
 */
export async function walkContext(root: string, ignore: DockerIgnore, signal?: AbortSignal): Promise<ContextEntry[]> {
  const entries: ContextEntry[] = [];

  // Depth first, one directory at a time: listing is cheap next to hashing, and this keeps the
  // number of open directory handles at one whatever the tree looks like.
  const visit = async (relativeDir: string, dirMatch: IgnoreMatch | undefined): Promise<boolean> => {
    if (signal?.aborted) throw new CancelledError('hashing the build context');
    let dirents: Dirent[];
    try {
      dirents = await readdir(join(root, relativeDir), { withFileTypes: true });
    } catch (error) {
      throw contextReadError(error, relativeDir || '.');
    }
    let anyIncluded = false;
    for (const dirent of dirents) {
      const path = relativeDir ? `${relativeDir}/${dirent.name}` : dirent.name;
      const match = ignore.match(path, dirMatch);
      if (dirent.isDirectory()) {
        if (match.excluded && ignore.canSkipDirectory(path, match)) continue;
        const inside = await visit(path, match);
        if (!match.excluded || inside) {
          entries.push({ path, kind: 'dir' });
          anyIncluded = true;
        }
      } else if (!match.excluded) {
        entries.push({ path, kind: kindOf(dirent) });
        anyIncluded = true;
      }
    }
    return anyIncluded;
  };

  await visit('', undefined);
  return entries;
}

function kindOf(dirent: Dirent): EntryKind {
  if (dirent.isSymbolicLink()) return 'symlink';
  if (dirent.isFIFO()) return 'fifo';
  if (dirent.isSocket()) return 'socket';
  if (dirent.isCharacterDevice()) return 'char-device';
  if (dirent.isBlockDevice()) return 'block-device';
  // Node resolves unknown types with lstat, so this is a regular file in all but name.
  return 'file';
}
