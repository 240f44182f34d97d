import { closeSync, ftruncateSync, mkdtempSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeServers } from '../helpers/fake-servers.js';
import { nodeBinaries, specsDir } from '../helpers/paths.js';
import { errorLines, FAKE_SHA, runBundle, type BundleRun, type RunnerKind } from '../helpers/run-bundle.js';
import { archiveFile, packageFile, v1Pipeline, v2Pipeline } from '../helpers/fake-kfp/packages.js';
import { FakeKfp, type FakeKfpOptions } from '../helpers/fake-kfp/server.js';
import { standardPlan } from '../helpers/fake-kfp/store.js';

// The built bundles, run the way each runner runs them, against the fake KFP server (which checks
// every call against the upstream swagger).

const TASK = { taskName: 'TriggerKubeflow', actionName: 'trigger-kubeflow' };
const KINDS: RunnerKind[] = ['github', 'azure'];
const SECRET = 'E2e-Secret-Token-55';
const specs = specsDir();
if (!specs) console.warn('SKIPPED TriggerKubeflow end-to-end tests: no KFP specs found (set MLOPS_SPECS_DIR or provide ../shared/specs)');
const describeWithSpecs = specs ? describe : describe.skip;

const servers = new FakeServers();
afterEach(() => servers.close());

function start(options: Partial<FakeKfpOptions> = {}): Promise<FakeKfp> {
  return FakeKfp.start(servers, { specsDir: specs ?? '', plan: standardPlan({ durationMs: 1_500 }), tokens: [SECRET], ...options });
}

/** The log as a person sees it: the runner swallows mask commands. */
function visible(run: BundleRun): string {
  return run.stdout.split('\n').filter((line) => !/^(::add-mask::|##vso\[task\.setsecret\])/.test(line)).join('\n') + run.stderr;
}

describeWithSpecs.each(nodeBinaries())('TriggerKubeflow bundles on $label', ({ path: node }) => {
  test.each(KINDS)('%s bundle publishes, runs, waits and sets its outputs as the runner reads them', async (kind) => {
    const fake = await start();
    const run = await runBundle({
      ...TASK,
      kind,
      node,
      inputs: {
        host: fake.url,
        token: SECRET,
        pipelineFile: packageFile(v2Pipeline()),
        parameters: 'training_image: myacr.azurecr.io/kubeflow/training@sha256:0123\nepochs: "5"',
      },
    });
    expect(errorLines(run, kind)).toEqual([]);
    expect(run.code).toBe(0);
    const [stored] = [...fake.store.runs.values()];
    const [version] = [...fake.store.versions.values()];
    expect(version!.name).toBe(FAKE_SHA);
    expect(stored!.parameters).toEqual({ training_image: 'myacr.azurecr.io/kubeflow/training@sha256:0123', epochs: 5 });
    expect(run.outputs).toEqual({
      runId: stored!.id,
      runUrl: `${fake.url}/#/runs/details/${stored!.id}`,
      pipelineId: version!.pipelineId,
      pipelineVersionId: version!.id,
      experimentId: stored!.experimentId,
      runState: 'SUCCEEDED',
    });
    expect(run.summary).toContain(`(${fake.url}/#/runs/details/${stored!.id})`);
    expect(run.summary).toMatch(/\| train \| SUCCEEDED \|/);
    expect(visible(run)).not.toContain(SECRET);
    expect(fake.violations).toEqual([]);
  });
});

describeWithSpecs('TriggerKubeflow bundle against KFP 1.x', () => {
  test('the azure bundle runs a v1 package through v1beta1', async () => {
    const fake = await start({ apis: ['v1beta1'] });
    const run = await runBundle({
      ...TASK,
      kind: 'azure',
      node: nodeBinaries().at(-1)!.path,
      inputs: { host: fake.url, token: SECRET, pipelineFile: archiveFile('zip', { 'pipeline.yaml': v1Pipeline() }), parameters: 'image_tag: 3f2c9a1' },
    });
    expect(errorLines(run, 'azure')).toEqual([]);
    expect(run.outputs.runState).toBe('SUCCEEDED');
    expect([...fake.store.runs.values()][0]!.parameters).toEqual({ 'image-tag': '3f2c9a1' });
    expect(fake.violations).toEqual([]);
  });
});

describeWithSpecs('cancel', () => {
  test('SIGTERM during the wait terminates the run on the server and the step exits within 10 s with the run link', async () => {
    const fake = await start({ plan: standardPlan({ durationMs: 10 * 60_000 }) });
    let signalledAt = 0;
    const run = await runBundle({
      ...TASK,
      kind: 'github',
      node: nodeBinaries().at(-1)!.path,
      inputs: { host: fake.url, token: SECRET, pipelineFile: packageFile(v2Pipeline()), parameters: 'training_image: x\nepochs: 1' },
      onSpawn: (child) => {
        child.stdout?.on('data', (chunk: Buffer) => {
          if (!signalledAt && chunk.toString().includes('waiting for run')) {
            signalledAt = Date.now();
            child.kill('SIGTERM');
          }
        });
      },
    });
    const exitedAfter = Date.now() - signalledAt;
    const [stored] = [...fake.store.runs.values()];
    expect(signalledAt).toBeGreaterThan(0);
    expect(exitedAfter).toBeLessThan(10_000);
    expect(run.code).not.toBe(0);
    expect(stored!.terminatedAt).toBeDefined();
    expect(errorLines(run, 'github')).toEqual([
      `TriggerKubeflow: cancelled while waiting for run 'tacos-vs-burritos 17'; terminated it: ${fake.url}/#/runs/details/${stored!.id}`,
    ]);
    expect(fake.violations).toEqual([]);
  });
});

function bigPackage(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'mlops-kfp-big-')), 'pipeline.yaml');
  const fd = openSync(file, 'w');
  ftruncateSync(fd, 33 * 1024 * 1024);
  closeSync(fd);
  return file;
}

describeWithSpecs('bad input: one line naming the input or the call, non-zero exit, no secret, nothing created', () => {
  const good = { pipelineFile: () => packageFile(v2Pipeline()), parameters: 'training_image: x\nepochs: 1' };
  const cases: [string, (fake: FakeKfp, closedPort: number) => Record<string, string>, RegExp][] = [
    ['a pipeline file that is not YAML', () => ({ pipelineFile: packageFile('{{{ not: yaml: [') }), /^TriggerKubeflow: input 'pipelineFile': '.*pipeline\.yaml' is not YAML or JSON: /],
    [
      'a v2 package with schemaVersion 2.0.0',
      () => ({ pipelineFile: packageFile(v2Pipeline({ schemaVersion: '2.0.0' })) }),
      /^TriggerKubeflow: input 'pipelineFile': '.*' has schemaVersion 2\.0\.0; KFP 2\.x runs 2\.1\.0: compile it with the kfp 2\.x SDK$/,
    ],
    ['a package over 32 MB', () => ({ pipelineFile: bigPackage() }), /^TriggerKubeflow: input 'pipelineFile': '.*' is 33\.0 MB; Kubeflow accepts packages of at most 32 MB$/],
    [
      'an archive without pipeline.yaml',
      () => ({ pipelineFile: archiveFile('tar.gz', { 'train.yaml': v2Pipeline() }) }),
      /^TriggerKubeflow: input 'pipelineFile': '.*package\.tar\.gz' holds no pipeline\.yaml at its top level \(it holds train\.yaml\)$/,
    ],
    ['parameters that are not a map', () => ({ parameters: '- epochs\n- 5' }), /^TriggerKubeflow: input 'parameters': must be a map of parameter names to values \(YAML or JSON\), got a list$/],
    ['an unknown parameter name', () => ({ parameters: 'training_image: x\nepochs: 1\nepoch: 2' }), /^TriggerKubeflow: input 'parameters': unknown parameter 'epoch': the pipeline declares training_image, epochs, /],
    ['"abc" for an integer parameter', () => ({ parameters: 'training_image: x\nepochs: abc' }), /^TriggerKubeflow: input 'parameters': parameter 'epochs' is an integer; 'abc' is not one$/],
    ['a missing required parameter', () => ({ parameters: 'epochs: 3' }), /^TriggerKubeflow: input 'parameters': the pipeline requires 'training_image' and declares no default$/],
    [
      'an unreachable host',
      (_fake, port) => ({ host: `http://127.0.0.1:${port}` }),
      /^TriggerKubeflow: input 'host': cannot reach the KFP API at http:\/\/127\.0\.0\.1:\d+: GET http:\/\/127\.0\.0\.1:\d+\/apis\/v2beta1\/healthz failed: connect ECONNREFUSED/,
    ],
    ['a host that is no URL', () => ({ host: 'kf.example.com/pipeline' }), /^TriggerKubeflow: input 'host': 'kf\.example\.com\/pipeline' is not a URL; write it like https:\/\/kf\.example\.com\/pipeline$/],
    [
      'a token the server refuses (401)',
      () => ({ token: `${SECRET}-old` }),
      /^TriggerKubeflow: KFP GET \/apis\/v2beta1\/healthz answered HTTP 401: the server refused the credentials from input 'token': check it$/,
    ],
    [
      'a token without rights (403)',
      () => ({ token: `${SECRET}-readonly` }),
      /^TriggerKubeflow: KFP GET \/apis\/v2beta1\/healthz answered HTTP 403: the credentials from input 'token' lack the rights for this call/,
    ],
    [
      'a namespace the token may not use',
      () => ({ namespace: 'team-secret' }),
      /^TriggerKubeflow: KFP GET \/apis\/v2beta1\/pipelines answered HTTP 403: the credentials from input 'token' may not use namespace 'team-secret'/,
    ],
    ['a timeout that is no number', () => ({ timeoutMinutes: 'soon' }), /^TriggerKubeflow: input 'timeoutMinutes': must be a number of minutes above 0 and at most 43200, got 'soon'$/],
    ['a portForward value that does not parse', () => ({ host: '', kubeconfig: 'apiVersion: v1\nkind: Config\n', portForward: 'ml-pipeline' }), /^TriggerKubeflow: input 'portForward': /],
    ['a kubeconfig that does not parse', () => ({ host: '', kubeconfig: `users: [{ token: ${SECRET}` }), /^TriggerKubeflow: input 'kubeconfig': /],
  ];

  test.each(KINDS)('%s bundle', async (kind) => {
    const fake = await start({ forbiddenTokens: [`${SECRET}-readonly`], forbiddenNamespaces: ['team-secret'] });
    const closedPort = await servers.closedPort();
    for (const [what, inputs, expected] of cases) {
      const run = await runBundle({
        ...TASK,
        kind,
        node: nodeBinaries().at(-1)!.path,
        inputs: { host: fake.url, token: SECRET, pipelineFile: good.pipelineFile(), parameters: good.parameters, ...inputs(fake, closedPort) },
      });
      const errors = errorLines(run, kind);
      expect({ what, code: run.code }).toEqual({ what, code: 1 });
      expect({ what, errors }).toEqual({ what, errors: [expect.stringMatching(expected)] });
      expect({ what, leaked: visible(run).includes(SECRET) }).toEqual({ what, leaked: false });
      expect({ what, stack: /\n\s+at /.test(run.stdout + run.stderr) }).toEqual({ what, stack: false });
      if (kind === 'azure') expect({ what, failed: /^##vso\[task\.complete result=Failed;\]TriggerKubeflow: /m.test(run.stdout) }).toEqual({ what, failed: true });
    }
    expect(fake.mutations()).toEqual([]);
    expect(fake.store.counts()).toEqual({ pipelines: 0, versions: 0, experiments: 0, runs: 0 });
    expect(fake.violations).toEqual([]);
  });
});
