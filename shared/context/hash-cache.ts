import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { BigIntStats } from 'node:fs';

/** [dev, ino, size, mtime ns, ctime ns, mode, sha256] as strings: bigints do not go through JSON. */
type Entry = [string, string, string, string, string, string, string];

interface CacheFile {
  format: string;
  /** When the entries were saved (ns): files changed in the same instant are not trusted. */
  savedAtNs: string;
  entries: Record<string, Entry>;
}

const FORMAT = 'mlops-tasks hash cache v1';
/** Files modified this close to a save may change again within the same timestamp (git's "racy" files). */
const RACY_NS = 2_000_000_000n;

/**
 * Remembers the content hash of each context file by its identity and change times, as git's
 * index does, so a re-run on the same agent reads only the files that changed. Any difference
 * in device, inode, size, mtime, ctime or mode means the file is read again.
 */
export class HashCache {
  private readonly fresh: Record<string, Entry> = {};

  private constructor(private readonly file: string, private readonly saved: CacheFile | undefined) {}

  /** The cache of one context folder (by its real path), under XDG_CACHE_HOME or ~/.cache. */
  static async load(contextRealPath: string, env: NodeJS.ProcessEnv = process.env): Promise<HashCache> {
    const dir = join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'), 'mlops-tasks', 'content-hashes');
    const file = join(dir, `${createHash('sha256').update(contextRealPath).digest('hex')}.json`);
    let saved: CacheFile | undefined;
    try {
      const parsed = JSON.parse(await readFile(file, 'utf8')) as CacheFile;
      if (parsed.format === FORMAT) saved = parsed;
    } catch {
      // No cache yet, or an unreadable one: everything is hashed.
    }
    return new HashCache(file, saved);
  }

  lookup(path: string, stat: BigIntStats): { sha256: string; size: number } | undefined {
    const entry = this.saved?.entries[path];
    if (!entry || BigInt(this.saved!.savedAtNs) - stat.mtimeNs < RACY_NS) return undefined;
    const [dev, ino, size, mtime, ctime, mode, sha256] = entry;
    const same =
      dev === String(stat.dev) && ino === String(stat.ino) && size === String(stat.size) &&
      mtime === String(stat.mtimeNs) && ctime === String(stat.ctimeNs) && mode === String(stat.mode);
    if (!same) return undefined;
    this.fresh[path] = entry;
    return { sha256, size: Number(stat.size) };
  }

  /** Records a hash taken after `stat` was read: a change during the read shows in the times next run. */
  record(path: string, stat: BigIntStats, sha256: string): void {
    this.fresh[path] = [stat.dev, stat.ino, stat.size, stat.mtimeNs, stat.ctimeNs, stat.mode, sha256].map(String) as Entry;
  }

  /** Writes the entries seen in this run (deleted files drop out) atomically; failures are harmless. */
  async save(): Promise<void> {
    const content: CacheFile = { format: FORMAT, savedAtNs: String(BigInt(Date.now()) * 1_000_000n), entries: this.fresh };
    const temporary = `${this.file}.${randomUUID()}`;
    try {
      await mkdir(join(this.file, '..'), { recursive: true });
      await writeFile(temporary, JSON.stringify(content));
      await rename(temporary, this.file);
    } catch {
      // A read-only home or a full disk only costs the next run its shortcut.
      await unlink(temporary).catch(() => undefined);
    }
  }
}
