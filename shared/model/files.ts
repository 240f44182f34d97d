import { createHash } from 'node:crypto';
import { lstat, realpath, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { DockerIgnore } from '../context/dockerignore.js';
import { FileHasher } from '../context/file-hasher.js';
import { readProblem } from '../context/read-error.js';
import { walkContext } from '../context/walk.js';
import { CancelledError, InputError, UserError } from '../util/errors.js';
import { runPool } from '../util/pool.js';
import type { ModelFile } from './target.js';

export interface ModelFiles {
  files: ModelFile[];
  /** 'sha256:<hex>' over the sorted (path, size, digest) lines of all files. */
  contentDigest: string;
  singleFile: boolean;
  bytes: number;
}

const INPUT = 'modelPath';
/** Files hashed at once: keeps the disk queue and both cores busy with few buffers. */
const CONCURRENCY = 4;
/** Changing how the digest is made must change every digest: bump this with it. */
const FORMAT = 'mlops-tasks model digest v1';

function isWithin(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

function byPath(a: { path: string }, b: { path: string }): number {
  // Code-unit order: the same on every machine, unlike a locale-aware sort.
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

/** The digest every target records: equal files under equal paths give equal digests. */
export function modelContentDigest(files: readonly Pick<ModelFile, 'path' | 'size' | 'digest'>[]): string {
  const hash = createHash('sha256').update(`${FORMAT}\n`);
  // NUL cannot occur in a path, so no two different lists give the same text.
  for (const file of [...files].sort(byPath)) hash.update(`${file.path}\0${file.size}\0${file.digest}\n`);
  return `sha256:${hash.digest('hex')}`;
}

/**
 * Where a listed entry's content lives: the entry itself for a file; the target for a symlink
 * that resolves to a file inside the model folder. Anything else is refused, so what is hashed
 * is what is uploaded, and nothing outside modelPath is ever read.
 */
async function contentPath(root: string, path: string, kind: string): Promise<string> {
  const absolute = join(root, path);
  if (kind === 'file') return absolute;
  if (kind !== 'symlink') throw new InputError(INPUT, `'${path}' is a ${kind}, not a regular file: remove it from the model folder`);
  let target: string;
  try {
    target = await realpath(absolute);
  } catch {
    throw new InputError(INPUT, `symlink '${path}' points to nothing: remove it or copy the file in`);
  }
  if (!isWithin(root, target)) throw new InputError(INPUT, `symlink '${path}' points outside the model folder: copy the file in instead`);
  if (!(await stat(target)).isFile()) throw new InputError(INPUT, `symlink '${path}' points to a folder: copy its files in instead`);
  return target;
}

async function hashAll(entries: { path: string; source: string }[], signal?: AbortSignal): Promise<ModelFile[]> {
  return runPool(
    entries,
    CONCURRENCY,
    async ({ path, source }, _index, hasher) => {
      if (signal?.aborted) throw new CancelledError('hashing the model files');
      try {
        const hashed = await hasher.hash(source, { noFollow: true });
        return { path, absolutePath: source, size: hashed.size, digest: `sha256:${hashed.sha256}` };
      } catch (error) {
        if (error instanceof UserError) throw error;
        throw new InputError(INPUT, readProblem(error, path));
      }
    },
    () => new FileHasher(signal),
  );
}

/** Lists and hashes (streamed) the model at modelPath: one file, or every file under a folder. */
export async function readModelFiles(modelPath: string, signal?: AbortSignal): Promise<ModelFiles> {
  if (!modelPath) throw new InputError(INPUT, 'is required but empty');
  let root: string;
  try {
    root = await realpath(resolve(modelPath));
  } catch (error) {
    throw new InputError(INPUT, (error as NodeJS.ErrnoException).code === 'ENOENT' ? `'${modelPath}' does not exist` : readProblem(error, modelPath));
  }
  const rootStat = await lstat(root);
  let entries: { path: string; source: string }[];
  const singleFile = rootStat.isFile();
  if (singleFile) {
    entries = [{ path: basename(resolve(modelPath)), source: root }];
  } else if (rootStat.isDirectory()) {
    let listed;
    try {
      listed = await walkContext(root, DockerIgnore.none, signal);
    } catch (error) {
      if (error instanceof CancelledError) throw error;
      // walkContext speaks of the build context; here it is the model folder.
      if (error instanceof InputError) throw new InputError(INPUT, error.message.replace(/^input 'context': /, '').replace('the context', 'the model folder'));
      throw new InputError(INPUT, readProblem(error, modelPath));
    }
    const wanted = listed.filter((entry) => entry.kind !== 'dir');
    entries = await Promise.all(wanted.map(async (entry) => ({ path: entry.path, source: await contentPath(root, entry.path, entry.kind) })));
    if (entries.length === 0) throw new InputError(INPUT, `folder '${modelPath}' holds no files: did the training output land somewhere else?`);
  } else {
    throw new InputError(INPUT, `'${modelPath}' is neither a file nor a folder`);
  }
  entries.sort(byPath);
  const files = await hashAll(entries, signal);
  return { files, contentDigest: modelContentDigest(files), singleFile, bytes: files.reduce((sum, file) => sum + file.size, 0) };
}
