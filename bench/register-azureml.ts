// Upload throughput and memory of the azureml target's upload path (uploadModelFiles: skip check,
// files and blocks in parallel, streamed from disk) against a plain @azure/storage-blob baseline
// (BlockBlobClient.uploadFile per file, one after another, SDK defaults), both into the real
// Azurite blob service, on the same ~2 GiB folder (4 large files and 256 small ones), in the same
// run. Each upload runs in its own child process, so the peak RSS is the uploader's own; the child
// is this file bundled with esbuild and run by plain node, as a task's bundle runs (tsx alone adds
// about 40 MiB). Then a second run of our path over the same blobs (the reuse case: nothing to send).
// Run: npx tsx bench/register-azureml.ts (needs about 6 GiB free in TMPDIR; deletes it all after).
import { spawnSync } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { closeSync, createReadStream, mkdirSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelFile } from '../shared/model/target.js';

const MiB = 1024 ** 2;
const LARGE_FILES = 4;
const LARGE_FILE_MIB = 480;
const SMALL_FILES = 256;
const SMALL_FILE_KIB = 512;
const TARGET_RSS_MIB = 150;
const TARGET_REUSE_SECONDS = 2;

const thisFile = fileURLToPath(import.meta.url);
const root = resolve(dirname(thisFile), '..');

interface Job {
  mode: 'ours' | 'baseline';
  serviceUrl: string;
  accountName: string;
  accountKey: string;
  containerName: string;
  folder: string;
  files: ModelFile[];
}

interface ChildResult {
  seconds: number;
  bytes: number;
  uploadedFiles: number;
  startRssMiB: number;
  peakRssMiB: number;
}

/** Child: one upload, result as JSON on stdout. */
async function runChild(job: Job): Promise<void> {
  const storage = await import('@azure/storage-blob');
  const { uploadModelFiles } = await import('../shared/model/azureml/upload.js');
  const { Redactor } = await import('../shared/util/redact.js');
  const startRssMiB = process.resourceUsage().maxRSS / 1024;
  const started = performance.now();
  let uploadedFiles = job.files.length;
  let bytes = job.files.reduce((sum, file) => sum + file.size, 0);
  if (job.mode === 'ours') {
    const result = await uploadModelFiles({
      destination: { datastore: 'bench', accountName: job.accountName, containerName: job.containerName, containerUrl: `${job.serviceUrl}/${job.containerName}`, auth: { kind: 'account-key', accountName: job.accountName, accountKey: job.accountKey } },
      folder: job.folder,
      files: job.files,
      storageCredential: () => {
        throw new Error('not used with an account key');
      },
      redactor: new Redactor(),
      log: { info: () => undefined, progress: () => undefined },
      signal: new AbortController().signal,
    });
    uploadedFiles = result.uploadedFiles;
    bytes = result.uploadedBytes;
  } else {
    const container = new storage.ContainerClient(`${job.serviceUrl}/${job.containerName}`, new storage.StorageSharedKeyCredential(job.accountName, job.accountKey));
    for (const file of job.files) await container.getBlockBlobClient(`${job.folder}/${file.path}`).uploadFile(file.absolutePath);
  }
  const result: ChildResult = { seconds: (performance.now() - started) / 1000, bytes, uploadedFiles, startRssMiB, peakRssMiB: process.resourceUsage().maxRSS / 1024 };
  process.stdout.write(JSON.stringify(result));
}

async function bundleChild(outfile: string): Promise<void> {
  const esbuild = await import('esbuild');
  await esbuild.build({ entryPoints: [thisFile], outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'error',
    // The bundled CommonJS parts of the SDK call require(); give the ESM bundle one.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" } });
}

function measure(bundle: string, job: Job): ChildResult {
  const child = spawnSync(process.execPath, [bundle, 'child'], { input: JSON.stringify(job), encoding: 'utf8', maxBuffer: 16 * MiB, cwd: root });
  if (child.status !== 0) throw new Error(`${job.mode} upload failed: ${child.stderr}`);
  return JSON.parse(child.stdout) as ChildResult;
}

function writeFile(path: string, bytes: number, chunk: Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'w');
  for (let written = 0; written < bytes; written += chunk.length) {
    randomFillSync(chunk, 0, 64); // each chunk differs a little, so nothing can be deduplicated
    writeSync(fd, chunk, 0, Math.min(chunk.length, bytes - written));
  }
  closeSync(fd);
}

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

async function main(): Promise<void> {
  const { startAzurite } = await import('../test/helpers/azurite.js');
  const storage = await import('@azure/storage-blob');
  const work = mkdtempSync(join(tmpdir(), 'mlops-bench-azureml-'));
  const modelDir = join(work, 'model');
  let azurite: Awaited<ReturnType<typeof startAzurite>> | undefined;
  try {
    const chunk = randomFillSync(Buffer.alloc(MiB));
    const relativePaths: string[] = [];
    for (let i = 0; i < LARGE_FILES; i++) {
      relativePaths.push(`weights/shard-${i}.safetensors`);
      writeFile(join(modelDir, relativePaths.at(-1)!), LARGE_FILE_MIB * MiB, chunk);
    }
    for (let i = 0; i < SMALL_FILES; i++) {
      relativePaths.push(`assets/${i % 16}/part-${i}.bin`);
      writeFile(join(modelDir, relativePaths.at(-1)!), SMALL_FILE_KIB * 1024, chunk.subarray(0, SMALL_FILE_KIB * 1024));
    }
    const files: ModelFile[] = [];
    for (const path of relativePaths) {
      const absolutePath = join(modelDir, path);
      files.push({ path, absolutePath, size: statSync(absolutePath).size, digest: await sha256(absolutePath) });
    }
    const totalMiB = files.reduce((sum, file) => sum + file.size, 0) / MiB;
    console.log(`model: ${files.length} files, ${totalMiB.toFixed(0)} MiB; node ${process.versions.node}; Azurite blobs on disk in ${work}`);

    const bundle = join(work, 'child.mjs');
    await bundleChild(bundle);
    azurite = await startAzurite({ location: join(work, 'azurite') });
    const service = new storage.BlobServiceClient(azurite.serviceUrl, new storage.StorageSharedKeyCredential(azurite.accountName, azurite.accountKey));
    const base = { serviceUrl: azurite.serviceUrl, accountName: azurite.accountName, accountKey: azurite.accountKey, folder: 'mlops-tasks/models/bench/0', files };
    const rows: [string, ChildResult][] = [];
    // Baseline first and ours second, each into a fresh container, deleted before the next run.
    for (const mode of ['baseline', 'ours'] as const) {
      const containerName = `bench-${mode}`;
      await service.getContainerClient(containerName).create();
      rows.push([mode === 'ours' ? 'ours (uploadModelFiles)' : 'baseline (uploadFile per file)', measure(bundle, { ...base, mode, containerName })]);
      if (mode === 'ours') rows.push(['ours, re-run (reuse)', measure(bundle, { ...base, mode, containerName })]);
      await service.getContainerClient(containerName).delete();
    }
    const throughput = (row: ChildResult) => (row.bytes ? row.bytes / MiB / row.seconds : 0);
    console.log('');
    console.log('run                               seconds   MiB/s   files sent   peak RSS MiB (at start)');
    for (const [label, row] of rows) {
      console.log(`${label.padEnd(32)} ${row.seconds.toFixed(2).padStart(8)} ${throughput(row).toFixed(1).padStart(7)} ${String(row.uploadedFiles).padStart(12)}   ${row.peakRssMiB.toFixed(0).padStart(6)} (${row.startRssMiB.toFixed(0)})`);
    }
    const baseline = rows[0]![1];
    const ours = rows[1]![1];
    const reuse = rows[2]![1];
    console.log('');
    console.log(`throughput ratio ours/baseline: ${(throughput(ours) / throughput(baseline)).toFixed(2)}x`);
    console.log(`peak RSS ours: ${ours.peakRssMiB.toFixed(0)} MiB (target <= ${TARGET_RSS_MIB}): ${ours.peakRssMiB <= TARGET_RSS_MIB ? 'met' : 'MISSED'}; baseline ${baseline.peakRssMiB.toFixed(0)} MiB`);
    console.log(`re-run with everything in place: ${reuse.seconds.toFixed(2)} s, ${reuse.uploadedFiles} files sent (target < ${TARGET_REUSE_SECONDS} s): ${reuse.seconds < TARGET_REUSE_SECONDS ? 'met' : 'MISSED'}`);
  } finally {
    await azurite?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'child') {
  // In the bundle: the job comes on stdin.
  const chunks: Buffer[] = [];
  for await (const part of process.stdin) chunks.push(part as Buffer);
  await runChild(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Job);
} else {
  await main();
}
