import { createHash } from 'node:crypto';
import { readFile, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { CancelledError, InputError, UserError } from '../util/errors.js';
import { DockerIgnore } from './dockerignore.js';
import { describeEntry, type ContextRoots } from './entry-record.js';
import { FileHasher } from './file-hasher.js';
import { HashCache } from './hash-cache.js';
import { runPool } from '../util/pool.js';
import { readProblem } from './read-error.js';
import { walkContext } from './walk.js';

export interface ContentDigestInput {
  /** The build context folder. */
  context: string;
  /** The Dockerfile, as passed to `--file` (relative to the working directory). */
  dockerfile: string;
  buildArgs: ReadonlyMap<string, string>;
  target: string;
  platform: string;
  signal?: AbortSignal;
  /**
   * The ignore file the builder reads, if not docker's choice (`<dockerfile>.dockerignore`,
   * else `<context>/.dockerignore`): buildah prefers `<context>/.containerignore`, say.
   * null: no ignore file at all.
   */
  ignoreFile?: string | null;
  /** Remember file hashes between runs on this machine (see HashCache); on by default. */
  hashCache?: boolean;
  /** Where the cache lives: XDG_CACHE_HOME or HOME are read from it. */
  env?: NodeJS.ProcessEnv;
}

/** Each value is 'sha256:<hex>'. */
export interface ContentDigestParts {
  files: string;
  dockerfile: string;
  buildArgs: string;
  target: string;
  platform: string;
}

export interface ContentDigest {
  /** Digest of the parts in a fixed order: equal digests, equal builds. */
  digest: string;
  /** So a caller can say which input changed. */
  parts: ContentDigestParts;
  /** Regular files in the context that the builder sees. */
  fileCount: number;
  /** Their total size. */
  bytes: number;
}

/** Files hashed at once: enough to keep the disk queue and both cores busy, few enough buffers. */
const CONCURRENCY = 8;
/** Changing how anything is hashed must change every digest: bump this with it. */
const FORMAT = 'mlops-tasks content digest v1';
const PART_ORDER: ReadonlyArray<keyof ContentDigestParts> = ['files', 'dockerfile', 'buildArgs', 'target', 'platform'];

/**
 * A digest of exactly what `docker build` sees: the context as filtered by the ignore file, the
 * Dockerfile (always, even when the ignore file leaves it out of the context: the builder still
 * reads it), the build arguments, the target stage and the platform.
 */
export async function computeContentDigest(input: ContentDigestInput): Promise<ContentDigest> {
  const { signal } = input;
  const cancelled = () => new CancelledError('hashing the build context');
  if (signal?.aborted) throw cancelled();

  const roots = await contextRoots(input.context);
  const dockerfile = resolve(input.dockerfile);
  const dockerfileDigest = await hashDockerfile(dockerfile, input.dockerfile, signal);
  const ignore = await loadIgnore(roots, dockerfile, input.ignoreFile);

  const entries = await walkContext(roots.real, ignore, signal);
  // Code-unit order: the same on every machine, unlike a locale-aware sort.
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

  const cache = input.hashCache === false ? undefined : await HashCache.load(roots.real, input.env);
  const lines: string[] = new Array<string>(entries.length);
  let fileCount = 0;
  let bytes = 0;
  await runPool(
    entries,
    CONCURRENCY,
    async (entry, index, hasher) => {
      if (signal?.aborted) throw cancelled();
      const record = await describeEntry(entry, roots, hasher, cache);
      lines[index] = record.line;
      if (entry.kind === 'file') {
        fileCount++;
        bytes += record.bytes;
      }
    },
    () => new FileHasher(signal),
  );
  const files = createHash('sha256');
  for (const line of lines) files.update(line);
  await cache?.save();

  const parts: ContentDigestParts = {
    files: `sha256:${files.digest('hex')}`,
    dockerfile: dockerfileDigest,
    buildArgs: sha256(
      JSON.stringify([...input.buildArgs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    ),
    target: sha256(input.target),
    platform: sha256(input.platform),
  };
  const top = createHash('sha256').update(`${FORMAT}\n`);
  for (const name of PART_ORDER) top.update(`${name} ${parts[name]}\n`);
  return { digest: `sha256:${top.digest('hex')}`, parts, fileCount, bytes };
}

async function contextRoots(context: string): Promise<ContextRoots> {
  try {
    const real = await realpath(context);
    if (!(await stat(real)).isDirectory()) throw new InputError('context', `'${context}' is not a folder`);
    return { real, given: resolve(context) };
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new InputError('context', readProblem(error, context));
  }
}

async function hashDockerfile(path: string, shown: string, signal?: AbortSignal): Promise<string> {
  try {
    return `sha256:${(await new FileHasher(signal).hash(path)).sha256}`;
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new InputError('dockerfile', readProblem(error, shown));
  }
}

/**
 * Docker (BuildKit) reads `<dockerfile>.dockerignore` when there is one, else the context's
 * `.dockerignore`. The ignore file itself is an ordinary file of the context: it is sent, and
 * counts, unless it excludes itself.
 */
async function loadIgnore(roots: ContextRoots, dockerfile: string, chosen: string | null | undefined): Promise<DockerIgnore> {
  if (chosen === null) return DockerIgnore.none;
  const candidates = chosen !== undefined ? [resolve(chosen)] : [`${dockerfile}.dockerignore`, join(roots.real, '.dockerignore')];
  for (const path of candidates) {
    const rel = relative(roots.real, path);
    const inside = rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
    const shown = inside ? rel : path;
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && chosen === undefined) continue;
      throw new InputError('context', readProblem(error, shown));
    }
    try {
      return DockerIgnore.parse(text, shown);
    } catch (error) {
      throw new InputError('context', (error as Error).message);
    }
  }
  return DockerIgnore.none;
}

function sha256(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}
