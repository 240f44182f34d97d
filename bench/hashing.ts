// Throughput and memory of computeContentDigest on two contexts made in a temporary folder:
// 1 GiB in 10 000 files, and one 2 GiB file. Each measurement runs in its own child process, so
// the peak RSS is the hasher's own. Baseline in the same run: coreutils sha256sum over the same
// files. The data was just written, so both read from the page cache: this measures hashing and
// file handling, not the disk. Run: npx tsx bench/hashing.ts (needs about 3.5 GiB free in TMPDIR).
import { execFileSync, spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statfsSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const TARGET_MB_PER_S = 300;
const TARGET_RSS_MIB = 150;

const thisFile = fileURLToPath(import.meta.url);
const root = resolve(dirname(thisFile), '..');

interface ChildResult {
  seconds: number;
  bytes: number;
  fileCount: number;
  /** Peak RSS before hashing: Node, tsx and the module loaded. */
  startRssMiB: number;
  peakRssMiB: number;
}

/** Child: hash one context, print the result as JSON. */
async function runChild(context: string, dockerfile: string): Promise<void> {
  const { computeContentDigest } = await import('../shared/context/content-digest.js');
  const startRssMiB = process.resourceUsage().maxRSS / 1024;
  const started = performance.now();
  const result = await computeContentDigest({ context, dockerfile, buildArgs: new Map(), target: '', platform: '' });
  const seconds = (performance.now() - started) / 1000;
  const output: ChildResult = {
    seconds,
    bytes: result.bytes,
    fileCount: result.fileCount,
    startRssMiB,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(JSON.stringify(output));
}

async function main(): Promise<void> {
  const base = tmpdir();
  const { bavail, bsize } = statfsSync(base);
  const free = bavail * bsize;
  if (free < 4 * GiB) {
    console.error(`Only ${(free / GiB).toFixed(1)} GiB free in ${base}: the bench needs about 3.5 GiB.`);
    process.exit(1);
  }
  const work = mkdtempSync(join(base, 'bench-hashing-'));
  const cleanUp = () => rmSync(work, { recursive: true, force: true });
  process.once('SIGINT', () => {
    cleanUp();
    process.exit(130);
  });
  try {
    const dockerfile = join(work, 'Dockerfile');
    writeFileSync(dockerfile, 'FROM scratch\nCOPY . /\n');
    const cases = [
      { name: '10 000 files, 1 GiB', context: join(work, 'many'), make: makeManyFiles },
      { name: '1 file, 2 GiB', context: join(work, 'one'), make: makeOneFile },
    ];
    const rows: string[][] = [];
    for (const c of cases) {
      let t = performance.now();
      c.make(c.context);
      execFileSync('sync');
      console.error(`${c.name}: written in ${((performance.now() - t) / 1000).toFixed(1)} s`);

      const ours = measureHasher(c.context, dockerfile);
      t = performance.now();
      execFileSync('bash', ['-c', 'find "$1" -type f -print0 | xargs -0 sha256sum > /dev/null', 'bash', c.context]);
      const baselineSeconds = (performance.now() - t) / 1000;

      const mbps = ours.bytes / 1e6 / ours.seconds;
      const baselineMbps = ours.bytes / 1e6 / baselineSeconds;
      rows.push([
        c.name,
        String(ours.bytes),
        String(ours.fileCount),
        ours.seconds.toFixed(2),
        mbps.toFixed(0),
        `${ours.peakRssMiB.toFixed(0)} (${ours.startRssMiB.toFixed(0)} at start)`,
        baselineMbps.toFixed(0),
        (mbps / baselineMbps).toFixed(2),
        mbps >= TARGET_MB_PER_S && ours.peakRssMiB < TARGET_RSS_MIB ? 'yes' : 'NO',
      ]);
      rmSync(c.context, { recursive: true, force: true });
    }
    printTable(
      ['case', 'bytes', 'files', 'seconds', 'MB/s', 'peak RSS MiB', 'sha256sum MB/s', 'ratio', `>= ${TARGET_MB_PER_S} MB/s, < ${TARGET_RSS_MIB} MiB`],
      rows,
    );
    console.log(`Node ${process.versions.node}, ${process.platform}/${process.arch}; MB = 10^6 bytes; warm page cache.`);
  } finally {
    cleanUp();
  }
}

function measureHasher(context: string, dockerfile: string): ChildResult {
  const child = spawnSync(process.execPath, ['--import', 'tsx', thisFile, '--child', context, dockerfile], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: MiB,
  });
  if (child.status !== 0) throw new Error(`hasher child failed (${child.status}): ${child.stderr}`);
  return JSON.parse(child.stdout) as ChildResult;
}

/**
 * Fast pseudo-random content: one random MiB, each file a different window of it with its
 * number written at the front, so no two files are equal.
 */
const pool = randomFillSync(Buffer.allocUnsafe(MiB));

function makeManyFiles(context: string): void {
  const files = 10_000;
  const size = Math.floor(GiB / files);
  const extra = GiB - size * files; // the first `extra` files get one more byte: exactly 1 GiB
  for (let i = 0; i < files; i++) {
    const dir = join(context, `dir-${String(Math.floor(i / 100)).padStart(3, '0')}`);
    if (i % 100 === 0) mkdirSync(dir, { recursive: true });
    const length = size + (i < extra ? 1 : 0);
    const offset = (i * 7919) % (MiB - length);
    pool.writeUInt32LE(i, offset);
    writeFileSync(join(dir, `file-${i}.bin`), pool.subarray(offset, offset + length));
  }
}

function makeOneFile(context: string): void {
  mkdirSync(context, { recursive: true });
  const fd = openSync(join(context, 'weights.bin'), 'w');
  try {
    for (let i = 0; i < (2 * GiB) / MiB; i++) {
      pool.writeUInt32LE(i, 0);
      writeSync(fd, pool);
    }
  } finally {
    closeSync(fd);
  }
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const row of rows) console.log(line(row));
}

// Last, so every constant above is initialized before it runs.
if (process.argv[2] === '--child') {
  await runChild(process.argv[3]!, process.argv[4]!);
} else {
  await main();
}
