// How the TriggerKubeflow wait spends API calls and how late it notices a run's end: a run of 60 s
// on the fake KFP server (test/helpers/fake-kfp), followed at the same time by the step's poll
// schedule and by two baselines. `npx tsx bench/kfp-wait.ts`; BENCH_RUN_SECONDS shortens the run.
// Targets: the end noticed at most 10 s late, at most 10 API calls per minute of waiting.
import { parse } from 'yaml';
import { KfpAuth } from '../shared/kfp/auth.js';
import { KfpClient } from '../shared/kfp/client.js';
import { KfpV2 } from '../shared/kfp/v2.js';
import { pollDelayMs, waitForRun } from '../shared/kfp/wait.js';
import { FakeServers } from '../test/helpers/fake-servers.js';
import { specsDir } from '../test/helpers/paths.js';
import { v2Pipeline } from '../test/helpers/fake-kfp/packages.js';
import { FakeKfp } from '../test/helpers/fake-kfp/server.js';
import { standardPlan } from '../test/helpers/fake-kfp/store.js';

const RUN_MS = Number(process.env.BENCH_RUN_SECONDS ?? 60) * 1000;
const TARGET_DELAY_MS = 10_000;
const TARGET_CALLS_PER_MINUTE = 10;

const strategies: { name: string; delayMs: (poll: number) => number }[] = [
  { name: 'step schedule (2, 3, 5 s, then 8 s)', delayMs: pollDelayMs },
  { name: 'baseline: naive 1 s poll', delayMs: () => 1_000 },
  { name: 'baseline: doubling backoff from 1 s', delayMs: (poll) => 1_000 * 2 ** poll },
];

const specs = specsDir();
if (!specs) {
  console.error('no KFP specs: set MLOPS_SPECS_DIR or provide ../shared/specs');
  process.exit(1);
}
const servers = new FakeServers();
const fake = await FakeKfp.start(servers, { specsDir: specs, plan: standardPlan({ durationMs: RUN_MS }) });
const api = new KfpV2(new KfpClient({ host: fake.url, auth: new KfpAuth({}) }));
const pipeline = fake.store.addPipeline('bench');
const version = fake.store.addVersion(pipeline.id, 'v1', v2Pipeline(), [parse(v2Pipeline())]);
const experiment = fake.store.addExperiment('bench');

console.log(`a run of ${RUN_MS / 1000} s on the fake KFP server, followed by each poll schedule at once...`);
const runs = await Promise.all(
  strategies.map(async (strategy) => {
    const run = await api.createRun(
      { name: strategy.name, experimentId: experiment.id, pipelineId: pipeline.id, versionId: version.id, parameters: { training_image: 'x', epochs: 1 } },
      '',
    );
    const result = await waitForRun({ api, run, deadline: Date.now() + RUN_MS * 10, signal: new AbortController().signal, delayMs: strategy.delayMs });
    return { strategy, id: run.id, outcome: result.outcome };
  }),
);
await servers.close();

const rows = runs.map(({ strategy, id, outcome }) => {
  const stored = fake.store.runs.get(id)!;
  const end = fake.store.plannedEnd(stored)!;
  const seen = stored.endSeenAt ?? Number.NaN;
  const minutes = (seen - stored.createdAt) / 60_000;
  const delay = seen - end;
  const rate = stored.polls.length / minutes;
  return { name: strategy.name, outcome, delay, calls: stored.polls.length, rate, ok: delay <= TARGET_DELAY_MS && rate <= TARGET_CALLS_PER_MINUTE };
});

/**
 * The same schedule over any run length up to 30 min, from its poll times alone: the longest gap
 * between two polls is how late an end can be noticed; the most polls in a minute, the peak rate.
 */
function worstCase(delayMs: (poll: number) => number): { gap: number; perMinute: number } {
  const times: number[] = [];
  for (let at = 0, poll = 0; at < 30 * 60_000; poll++) times.push((at += delayMs(poll)));
  const gap = Math.max(...times.map((time, index) => time - (times[index - 1] ?? 0)));
  let perMinute = 0;
  for (let start = 0; start < 29 * 60_000; start += 500) perMinute = Math.max(perMinute, times.filter((time) => time > start && time <= start + 60_000).length);
  return { gap, perMinute };
}

const pad = (text: string, width: number) => text.padEnd(width);
console.log('');
console.log(
  `${pad('schedule', 40)} ${pad('end noticed after', 18)} ${pad('GET calls', 10)} ${pad('calls/min', 10)} ${pad(`${RUN_MS / 1000} s run`, 9)} worst over runs of 0-30 min`,
);
for (const [index, row] of rows.entries()) {
  const worst = worstCase(strategies[index]!.delayMs);
  const worstOk = worst.gap <= TARGET_DELAY_MS && worst.perMinute <= TARGET_CALLS_PER_MINUTE;
  console.log(
    `${pad(row.name, 40)} ${pad(`${(row.delay / 1000).toFixed(1)} s`, 18)} ${pad(String(row.calls), 10)} ${pad(row.rate.toFixed(1), 10)} ${pad(row.ok ? 'met' : 'missed', 9)} ` +
      `noticed <= ${(worst.gap / 1000).toFixed(1)} s late, <= ${worst.perMinute} calls/min: ${worstOk ? 'met' : 'missed'}`,
  );
}
console.log(`targets: end noticed at most ${TARGET_DELAY_MS / 1000} s late, at most ${TARGET_CALLS_PER_MINUTE} API calls per minute of waiting`);
if (fake.violations.length) console.log(`\nswagger violations: ${fake.violations.join('; ')}`);
process.exitCode = rows[0]!.ok && fake.violations.length === 0 ? 0 : 1;
