// Unchanged re-run: BuildMLImage with skipUnchanged (the GitHub bundle, run as the runner runs it)
// against what a cached build-and-push does: `buildah bud --layers` with a warm layer cache plus
// `buildah push` of the same context to the same registry. Both are timed in the same run.
// Run: npx tsx bench/unchanged-rerun.ts   (BENCH_RUNS, BENCH_DATA_MB to change the defaults)
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry } from '../test/helpers/registry.js';
import { runBundle } from '../test/helpers/run-bundle.js';
import { buildEnv, sampleContext } from '../test/helpers/tools.js';

const runs = Number(process.env.BENCH_RUNS ?? 5);
const dataMb = Number(process.env.BENCH_DATA_MB ?? 1000);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const env = buildEnv();

/** A step context with a few files of data beside the code, as a training step has. */
function benchContext(): string {
  const context = sampleContext();
  const data = join(context, 'data');
  mkdirSync(data);
  const chunk = Buffer.alloc(1024 * 1024);
  for (let file = 0; file < dataMb / 10; file++) {
    const parts: Buffer[] = [];
    for (let mb = 0; mb < 10; mb++) parts.push(Buffer.from(randomFillSync(chunk)));
    writeFileSync(join(data, `shard-${file}.bin`), Buffer.concat(parts));
  }
  writeFileSync(join(context, 'Dockerfile'), 'FROM scratch\nADD rootfs.tar /\nCOPY data /data\nCOPY preprocess.sh /app/\nRUN echo built > /app/build-info\n');
  return context;
}

function seconds(run: () => void): number {
  const started = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - started) / 1e9;
}

const registry = await startRegistry();
const context = benchContext();
const image = `${registry.host}/bench/training`;
const baselineImage = `${registry.host}/bench/training-baseline`;
const registriesConf = join(mkdtempSync(join(tmpdir(), 'mlops-bench-')), 'registries.conf');
writeFileSync(registriesConf, `[[registry]]\nlocation = "${registry.host}"\ninsecure = true\n`);
const toolEnv = { ...env, CONTAINERS_REGISTRIES_CONF: registriesConf };

try {
  const buildAndPush = () => {
    execFileSync('buildah', ['bud', '--layers', '-t', `${baselineImage}:warm`, context], { env: toolEnv, stdio: 'ignore' });
    execFileSync('buildah', ['push', `${baselineImage}:warm`, `docker://${baselineImage}:warm`], { env: toolEnv, stdio: 'ignore' });
  };
  const ours = async (tag: string) => {
    const started = process.hrtime.bigint();
    const run = await runBundle({
      kind: 'github',
      taskName: 'BuildMLImage',
      actionName: 'build-ml-image',
      node: process.execPath,
      env,
      inputs: { image, context, tags: tag, insecureRegistry: 'true', builder: 'buildah' },
    });
    if (run.code !== 0) throw new Error(`BuildMLImage failed: ${run.stdout.slice(-500)}`);
    return { seconds: Number(process.hrtime.bigint() - started) / 1e9, skipped: run.outputs.skipped };
  };

  // Warm-up: the first build of each fills the registry (and buildah's layer cache).
  const cold = seconds(buildAndPush);
  const first = await ours('warmup');
  const baseline: number[] = [];
  const skipped: number[] = [];
  for (let run = 0; run < runs; run++) {
    baseline.push(seconds(buildAndPush));
    const result = await ours(`rerun-${run}`);
    if (result.skipped !== 'true') throw new Error('the re-run was not skipped');
    skipped.push(result.seconds);
  }
  const base = median(baseline);
  const fast = median(skipped);
  console.log(`unchanged re-run of a ${dataMb} MB step context, median of ${runs} runs (storage driver ${env.STORAGE_DRIVER})`);
  console.log(`  first build and push (cold)                          ${cold.toFixed(2)} s  (BuildMLImage first run ${first.seconds.toFixed(2)} s)`);
  console.log(`  baseline: buildah bud --layers (warm) + buildah push  ${base.toFixed(2)} s`);
  console.log(`  BuildMLImage, skipUnchanged                           ${fast.toFixed(2)} s`);
  console.log(`  speed-up                                              ${(base / fast).toFixed(1)}x  (target >= 20x)`);
} finally {
  await registry.stop();
  rmSync(context, { recursive: true, force: true });
}
