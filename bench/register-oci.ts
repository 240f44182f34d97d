// Pushes a 2 GiB model folder (3 files of 600 MiB and 200 of 1 MiB) with the oci target to a local
// docker-registry, and in the same run the same files with `skopeo copy` from an OCI layout
// directory to a second registry (separate, so neither can mount the other's blobs). Only the
// copy is timed for skopeo; our push is timed without hashing (the task hashes before it pushes).
// Our push runs in a child process, so its peak RSS is its own; an idle child gives the baseline.
// Then a second run of the same model (reuse) is timed. Targets: >= 1.0x skopeo's throughput,
// peak RSS <= 150 MB, reuse < 2 s. Run: npx tsx bench/register-oci.ts (needs ~4.5 GiB in TMPDIR).
// BENCH_BIG_MIB and BENCH_SMALL_FILES shrink the model while debugging (defaults 600 and 200).
//
// Children run asynchronously: this process holds the registries' stdout/stderr pipes (they log a
// line per request), and a synchronous spawn stops it draining them, so a registry blocks on a full
// pipe and stops answering mid-push.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, linkSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statfsSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomFillSync } from 'node:crypto';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const thisFile = fileURLToPath(import.meta.url);

interface BenchModel {
  host: string;
  files: { path: string; absolutePath: string; size: number; digest: string }[];
  contentDigest: string;
}

interface ChildResult {
  pushSeconds: number;
  reuseSeconds: number;
  reused: boolean;
  startRssMiB: number;
  peakRssMiB: number;
}

/** Child: push the model, then push it again; print timings and peak RSS as JSON. */
async function runChild(modelFile: string): Promise<void> {
  const startRssMiB = process.resourceUsage().maxRSS / 1024;
  if (modelFile === '--idle') {
    process.stdout.write(JSON.stringify({ startRssMiB, peakRssMiB: startRssMiB }));
    return;
  }
  const { createOciTarget } = await import('../shared/model/oci/target.js');
  const { RegistryClient } = await import('../shared/registry/client.js');
  const { parseImageName } = await import('../shared/registry/reference.js');
  const bench = JSON.parse(readFileSync(modelFile, 'utf8')) as BenchModel;
  const repository = parseImageName(`${bench.host}/bench/model`);
  if (typeof repository === 'string') throw new Error(repository);
  const model = {
    name: 'bench', requestedVersion: '', description: '', tags: new Map<string, string>(), modelType: '', singleFile: false,
    files: bench.files, contentDigest: bench.contentDigest,
  };
  const log = { info: () => undefined, progress: () => undefined };
  const push = async () => {
    const target = createOciTarget({ client: new RegistryClient({ registry: bench.host, insecure: true }), repository, defaultVersion: 'v1' });
    const started = performance.now();
    const result = await target.register(model, log, new AbortController().signal);
    return { seconds: (performance.now() - started) / 1000, reused: result.reused };
  };
  const first = await push();
  const second = await push();
  const output: ChildResult = { pushSeconds: first.seconds, reuseSeconds: second.seconds, reused: second.reused, startRssMiB, peakRssMiB: process.resourceUsage().maxRSS / 1024 };
  process.stdout.write(JSON.stringify(output));
}

function child(args: string[]): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', thisFile, '--child', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    proc.on('error', reject);
    proc.on('close', (code) => (code === 0 ? resolve(JSON.parse(stdout) as ChildResult) : reject(new Error(`child failed: ${stderr}`))));
  });
}

function skopeo(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => execFile('skopeo', args, { maxBuffer: 16 * MiB }, (error) => (error ? reject(error) : resolve())));
}

/** Writes a file of pseudo-random bytes (no two chunks alike, so nothing compresses or dedupes). */
function writeFile(path: string, size: number, seed: Buffer): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(Math.min(size, 8 * MiB));
  randomFillSync(block);
  for (let written = 0, n = 0; written < size; n++) {
    const length = Math.min(block.length, size - written);
    block.writeUInt32LE(n, 0);
    seed.copy(block, 4);
    writeSync(fd, block, 0, length);
    hash.update(block.subarray(0, length));
    written += length;
  }
  closeSync(fd);
  return `sha256:${hash.digest('hex')}`;
}

/** An OCI layout holding an image whose layers are the model files (hard links, no copies). */
function ociLayout(dir: string, files: BenchModel['files']): void {
  const blobs = join(dir, 'blobs/sha256');
  mkdirSync(blobs, { recursive: true });
  const seen = new Set<string>();
  for (const file of files) {
    const hex = file.digest.slice(7);
    if (!seen.has(hex)) linkSync(file.absolutePath, join(blobs, hex));
    seen.add(hex);
  }
  const blob = (data: string) => {
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    writeFileSync(join(blobs, digest.slice(7)), data);
    return { digest, size: Buffer.byteLength(data) };
  };
  const config = blob(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: files.map((file) => file.digest) } }));
  const manifest = blob(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: files.map((file) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: file.digest, size: file.size })),
  }));
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }],
  }));
}

async function main(): Promise<void> {
  const { bavail, bsize } = statfsSync(tmpdir());
  if (bavail * bsize < 5 * GiB) throw new Error(`only ${((bavail * bsize) / GiB).toFixed(1)} GiB free in ${tmpdir()}: the bench needs about 4.5 GiB`);
  const { startRegistry } = await import('../test/helpers/registry.js');
  const work = mkdtempSync(join(tmpdir(), 'bench-register-oci-'));
  const ours = await startRegistry();
  const theirs = await startRegistry();
  try {
    const modelDir = join(work, 'model');
    mkdirSync(join(modelDir, 'shards'), { recursive: true });
    const files: BenchModel['files'] = [];
    const add = (path: string, size: number) => {
      const absolutePath = join(modelDir, path);
      files.push({ path, absolutePath, size, digest: writeFile(absolutePath, size, Buffer.from(path)) });
    };
    const bigMiB = Number(process.env.BENCH_BIG_MIB ?? 600);
    const smallFiles = Number(process.env.BENCH_SMALL_FILES ?? 200);
    for (let i = 0; i < 3; i++) add(`model-0000${i}.safetensors`, bigMiB * MiB);
    for (let i = 0; i < smallFiles; i++) add(`shards/part-${String(i).padStart(3, '0')}.bin`, 1 * MiB + i);
    files.sort((a, b) => (a.path < b.path ? -1 : 1));
    const bytes = files.reduce((sum, file) => sum + file.size, 0);
    const contentDigest = `sha256:${createHash('sha256').update(files.map((f) => `${f.path} ${f.size} ${f.digest}\n`).join('')).digest('hex')}`;
    const modelFile = join(work, 'model.json');
    writeFileSync(modelFile, JSON.stringify({ host: ours.host, files, contentDigest } satisfies BenchModel));
    const layout = join(work, 'layout');
    ociLayout(layout, files);

    const idle = await child(['--idle']);
    const result = await child([modelFile]);
    const started = performance.now();
    await skopeo(['copy', '--preserve-digests', '--dest-tls-verify=false', `oci:${layout}:v1`, `docker://${theirs.host}/bench/model:v1`]);
    const skopeoSeconds = (performance.now() - started) / 1000;

    const mbps = (seconds: number) => bytes / MiB / seconds;
    console.log(`model: ${files.length} files, ${(bytes / GiB).toFixed(2)} GiB (page cache warm for both)`);
    console.log(`                       ours          skopeo copy (baseline)`);
    console.log(`push time            ${result.pushSeconds.toFixed(2).padStart(8)} s    ${skopeoSeconds.toFixed(2).padStart(8)} s`);
    console.log(`throughput           ${mbps(result.pushSeconds).toFixed(0).padStart(8)} MiB/s ${mbps(skopeoSeconds).toFixed(0).padStart(8)} MiB/s`);
    console.log(`ratio (ours/skopeo)  ${(skopeoSeconds / result.pushSeconds).toFixed(2)}x   (target >= 1.0x)`);
    console.log(`peak RSS             ${result.peakRssMiB.toFixed(0).padStart(8)} MiB  (idle child with tsx: ${idle.peakRssMiB.toFixed(0)} MiB; target <= 150 MB)`);
    console.log(`second run (reuse)   ${result.reuseSeconds.toFixed(2).padStart(8)} s    reused=${result.reused}  (target < 2 s)`);
  } finally {
    await ours.stop();
    await theirs.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') {
  await runChild(process.argv[3]!);
} else {
  await main();
}
