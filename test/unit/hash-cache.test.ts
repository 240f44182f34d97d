import { mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeContentDigest } from '../../shared/context/content-digest.js';

const HOUR_AGO = new Date(Date.now() - 3_600_000);

function setup() {
  const cacheHome = mkdtempSync(join(tmpdir(), 'mlops-cache-home-'));
  const context = mkdtempSync(join(tmpdir(), 'mlops-cache-ctx-'));
  writeFileSync(join(context, 'Dockerfile'), 'FROM scratch\nCOPY . /\n');
  writeFileSync(join(context, 'weights.bin'), 'a'.repeat(4096));
  utimesSync(join(context, 'weights.bin'), HOUR_AGO, HOUR_AGO);
  const digest = (hashCache = true) =>
    computeContentDigest({ context, dockerfile: join(context, 'Dockerfile'), buildArgs: new Map(), target: '', platform: '', hashCache, env: { XDG_CACHE_HOME: cacheHome } });
  const cacheFile = () => {
    const dir = join(cacheHome, 'mlops-tasks', 'content-hashes');
    return join(dir, readdirSync(dir)[0]!);
  };
  return { context, digest, cacheFile };
}

describe('hash cache between runs', () => {
  test('a re-run takes unchanged files from the cache (shown by a planted hash) and hashCache: false reads them all', async () => {
    const { digest, cacheFile } = setup();
    const first = await digest();
    const cache = JSON.parse(readFileSync(cacheFile(), 'utf8')) as { entries: Record<string, string[]> };
    expect(Object.keys(cache.entries)).toContain('weights.bin');
    cache.entries['weights.bin']![6] = 'f'.repeat(64);
    writeFileSync(cacheFile(), JSON.stringify(cache));
    expect((await digest()).digest).not.toBe(first.digest);
    expect((await digest(false)).digest).toBe(first.digest);
  });

  test('a change that keeps the size and the mtime is still seen (ctime changes)', async () => {
    const { context, digest } = setup();
    const first = await digest();
    await digest();
    writeFileSync(join(context, 'weights.bin'), 'b'.repeat(4096));
    utimesSync(join(context, 'weights.bin'), HOUR_AGO, HOUR_AGO);
    expect((await digest()).digest).not.toBe(first.digest);
  });

  test('files modified just before the cache was saved are hashed again (racy entries)', async () => {
    const { context, digest, cacheFile } = setup();
    writeFileSync(join(context, 'fresh.csv'), 'x,y\n1,2\n');
    await digest();
    const cache = JSON.parse(readFileSync(cacheFile(), 'utf8')) as { entries: Record<string, string[]> };
    cache.entries['fresh.csv']![6] = 'f'.repeat(64);
    writeFileSync(cacheFile(), JSON.stringify(cache));
    const again = await digest();
    expect(again.digest).toBe((await digest(false)).digest);
  });
});
