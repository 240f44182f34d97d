import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { makeTestCa } from '../helpers/ca.js';
import { FakeServers } from '../helpers/fake-servers.js';
import { specsDir } from '../helpers/paths.js';
import { FAKE_SHA } from '../helpers/run-bundle.js';
import { runTriggerInProcess } from '../helpers/fake-kfp/in-process.js';
import { packageFile, v1Pipeline, v2Pipeline } from '../helpers/fake-kfp/packages.js';
import { FakeKfp, type FakeKfpOptions } from '../helpers/fake-kfp/server.js';
import { standardPlan } from '../helpers/fake-kfp/store.js';
import { SwaggerContract } from '../helpers/fake-kfp/swagger.js';

// The step in this process against a fake KFP server that checks every request and answer
// against the upstream swagger of its API version (../shared/specs/kfp). Runs last 1.5 s, so the
// first poll (after 2 s) sees them end.

const specs = specsDir();
if (!specs) console.warn('SKIPPED KFP contract tests: no specs found (set MLOPS_SPECS_DIR or provide ../shared/specs)');
const describeWithSpecs = specs ? describe : describe.skip;

const servers = new FakeServers();
afterEach(() => servers.close());

const TOKEN = 'Kfp-Contract-Token-42';
const SHORT_RUN = standardPlan({ durationMs: 1_500 });

function start(options: Partial<FakeKfpOptions> = {}): Promise<FakeKfp> {
  return FakeKfp.start(servers, { specsDir: specs ?? '', plan: SHORT_RUN, tokens: [TOKEN], ...options });
}

interface Flavour {
  label: string;
  apis: FakeKfpOptions['apis'];
  apiVersion: string;
  pipeline: (options?: { image?: string }) => string;
  parameters: string;
  sent: Record<string, unknown>;
  /** The name the new pipeline's only version has: v1 names it after the pipeline. */
  firstVersion: string;
}

const FLAVOURS: Flavour[] = [
  {
    label: 'v2beta1 (KFP 2.x)',
    apis: ['v2beta1', 'v1beta1'],
    apiVersion: 'auto',
    pipeline: (options) => v2Pipeline(options),
    parameters: 'training_image: acr.io/train@sha256:1234e5\nepochs: "5"\nuse_gpu: "true"\nlayers: "[8, 4]"',
    sent: { training_image: 'acr.io/train@sha256:1234e5', epochs: 5, use_gpu: true, layers: [8, 4] },
    firstVersion: FAKE_SHA,
  },
  {
    label: 'v1beta1 (KFP 1.x)',
    apis: ['v1beta1'],
    apiVersion: 'auto',
    pipeline: (options) => v1Pipeline(options),
    parameters: '{"image_tag": "1234e5", "epochs": 7}',
    sent: { 'image-tag': '1234e5', epochs: '7' },
    firstVersion: 'tacos-vs-burritos',
  },
  {
    label: 'v1beta1 chosen on KFP 2.x',
    apis: ['v2beta1', 'v1beta1'],
    apiVersion: 'v1beta1',
    pipeline: (options) => v1Pipeline(options),
    parameters: 'image-tag: v7',
    sent: { 'image-tag': 'v7' },
    firstVersion: 'tacos-vs-burritos',
  },
];

describeWithSpecs.each(FLAVOURS)('KFP $label contract', (flavour) => {
  const inputs = (fake: FakeKfp, extra: Record<string, string> = {}) => ({
    host: fake.url,
    token: TOKEN,
    apiVersion: flavour.apiVersion,
    pipelineFile: packageFile(flavour.pipeline()),
    parameters: flavour.parameters,
    ...extra,
  });

  test('publishes a new pipeline with exactly one version, runs it with typed parameters and waits for it', async () => {
    const fake = await start({ apis: flavour.apis });
    const run = await runTriggerInProcess(inputs(fake));
    expect(run.errors).toEqual([]);
    expect(fake.violations).toEqual([]);
    const [pipeline] = [...fake.store.pipelines.values()];
    const [version] = [...fake.store.versions.values()];
    const [experiment] = [...fake.store.experiments.values()];
    const [stored] = [...fake.store.runs.values()];
    expect(fake.store.counts()).toEqual({ pipelines: 1, versions: 1, experiments: 1, runs: 1 });
    expect(pipeline!.name).toBe('tacos-vs-burritos');
    expect(version!.name).toBe(flavour.firstVersion);
    expect(experiment!.name).toBe('Default');
    expect(stored).toMatchObject({ name: 'tacos-vs-burritos 17', parameters: flavour.sent, experimentId: experiment!.id, versionId: version!.id });
    expect(stored!.terminatedAt).toBeUndefined();
    expect(run.outputs).toEqual({
      runId: stored!.id,
      runUrl: `${fake.url}/#/runs/details/${stored!.id}`,
      pipelineId: pipeline!.id,
      pipelineVersionId: version!.id,
      experimentId: experiment!.id,
      runState: 'SUCCEEDED',
    });
    expect(run.shown).toMatch(/^run state: RUNNING|^run state: SUCCEEDED/m);
    expect(run.shown).toMatch(/^task preprocess: SUCCEEDED$/m);
    expect(run.summary).toContain(`[tacos-vs-burritos 17](${fake.url}/#/runs/details/${stored!.id})`);
    expect(run.summary).toMatch(/\| State \| SUCCEEDED \|/);
    expect(run.summary).toMatch(/#### Tasks[\s\S]*\| preprocess \| SUCCEEDED \|/);
  });

  test('a re-run of the same version reuses it; a new version name adds exactly one version', async () => {
    const fake = await start({ apis: flavour.apis });
    const first = await runTriggerInProcess(inputs(fake));
    const again = await runTriggerInProcess(inputs(fake));
    expect([first.errors, again.errors]).toEqual([[], []]);
    expect(again.outputs.pipelineVersionId).toBe(first.outputs.pipelineVersionId);
    expect(again.shown).toMatch(/: reused( \(|$)/m);
    expect(fake.store.counts()).toEqual({ pipelines: 1, versions: 1, experiments: 1, runs: 2 });
    const next = await runTriggerInProcess(inputs(fake, { pipelineVersion: 'v2', pipelineFile: packageFile(flavour.pipeline({ image: 'preprocess:v2' })) }));
    expect(next.errors).toEqual([]);
    expect(next.outputs.pipelineVersionId).not.toBe(first.outputs.pipelineVersionId);
    expect(fake.store.counts()).toEqual({ pipelines: 1, versions: 2, experiments: 1, runs: 3 });
    expect(fake.violations).toEqual([]);
  });

  test('pipelineName alone runs the newest version; pipelineId with pipelineVersionId runs that one', async () => {
    const fake = await start({ apis: flavour.apis });
    const first = await runTriggerInProcess(inputs(fake));
    const second = await runTriggerInProcess(inputs(fake, { pipelineVersion: 'second', pipelineFile: packageFile(flavour.pipeline({ image: 'preprocess:v2' })) }));
    const byName = await runTriggerInProcess({ host: fake.url, token: TOKEN, apiVersion: flavour.apiVersion, pipelineName: 'tacos-vs-burritos', parameters: flavour.parameters });
    expect(byName.errors).toEqual([]);
    expect(byName.outputs.pipelineVersionId).toBe(second.outputs.pipelineVersionId);
    const byId = await runTriggerInProcess({
      host: fake.url,
      token: TOKEN,
      apiVersion: flavour.apiVersion,
      pipelineId: first.outputs.pipelineId!,
      pipelineVersionId: first.outputs.pipelineVersionId!,
      parameters: flavour.parameters,
    });
    expect(byId.errors).toEqual([]);
    expect(byId.outputs.pipelineVersionId).toBe(first.outputs.pipelineVersionId);
    expect(fake.store.counts()).toMatchObject({ versions: 2, runs: 4 });
    expect(fake.violations).toEqual([]);
  });

  test('the same version name with different content fails, saying so, and creates nothing', async () => {
    const fake = await start({ apis: flavour.apis });
    await runTriggerInProcess(inputs(fake, { pipelineVersion: flavour.firstVersion }));
    const before = fake.store.counts();
    const changed = await runTriggerInProcess(inputs(fake, { pipelineVersion: flavour.firstVersion, pipelineFile: packageFile(flavour.pipeline({ image: 'other:tag' })) }));
    expect(changed.failed).toBe(true);
    expect(changed.errors).toEqual([
      `TriggerKubeflow: version '${flavour.firstVersion}' of pipeline 'tacos-vs-burritos' exists on the server with different content: versions never change, so give the changed package a new 'pipelineVersion' (default: the commit SHA)`,
    ]);
    expect(fake.store.counts()).toEqual(before);
    expect(fake.violations).toEqual([]);
  });

  test('a run that fails fails the step with its state and link, after setting outputs and the summary', async () => {
    const fake = await start({ apis: flavour.apis, plan: standardPlan({ durationMs: 1_500, end: 'FAILED', error: 'train exited with code 1' }) });
    const run = await runTriggerInProcess(inputs(fake));
    const [stored] = [...fake.store.runs.values()];
    expect(run.failed).toBe(true);
    expect(run.errors).toEqual([`TriggerKubeflow: run 'tacos-vs-burritos 17' ended FAILED (train exited with code 1): ${fake.url}/#/runs/details/${stored!.id}`]);
    expect(run.outputs.runState).toBe('FAILED');
    expect(run.summary).toMatch(/\| State \| FAILED \|/);
    expect(fake.violations).toEqual([]);
  });

  test('multi-user: experiment and run go to the namespace', async () => {
    const fake = await start({ apis: flavour.apis, multiUser: true });
    const run = await runTriggerInProcess(inputs(fake, { namespace: 'team-vision', experiment: 'nightly' }));
    expect(run.errors).toEqual([]);
    expect([...fake.store.experiments.values()]).toEqual([expect.objectContaining({ name: 'nightly', namespace: 'team-vision' })]);
    expect([...fake.store.runs.values()][0]!.namespace).toBe('team-vision');
    expect(fake.violations).toEqual([]);
  });
});

describeWithSpecs('KFP contract: reaching the server and who may do what', () => {
  const v2 = (fake: FakeKfp, extra: Record<string, string> = {}) => ({
    host: fake.url,
    token: TOKEN,
    pipelineFile: packageFile(v2Pipeline()),
    parameters: 'training_image: x\nepochs: 3',
    ...extra,
  });

  test('a host with a path prefix, as behind the Kubeflow gateway', async () => {
    const fake = await start({ prefix: '/pipeline' });
    const run = await runTriggerInProcess(v2(fake, { host: `${fake.url}/` }));
    expect(run.errors).toEqual([]);
    expect(run.outputs.runUrl).toMatch(new RegExp(`^${fake.url}/#/runs/details/`));
    expect(fake.calls.every((call) => call.status !== 404)).toBe(true);
    expect(fake.violations).toEqual([]);
  });

  test('uiUrl replaces the base of the run link', async () => {
    const fake = await start();
    const run = await runTriggerInProcess(v2(fake, { uiUrl: 'https://kf.example.com/_/pipeline/' }));
    expect(run.outputs.runUrl).toBe(`https://kf.example.com/_/pipeline/#/runs/details/${run.outputs.runId}`);
  });

  test('HTTPS with caCertFile, and a session cookie instead of a token', async () => {
    const ca = makeTestCa();
    const fake = await start({ tls: ca, tokens: [], cookies: ['authservice_session=s3cr3t-session'] });
    const run = await runTriggerInProcess(v2(fake, { token: '', cookie: 'authservice_session=s3cr3t-session', caCertFile: ca.caCertFile }));
    expect(run.errors).toEqual([]);
    expect(run.shown).not.toContain('s3cr3t-session');
    expect(fake.violations).toEqual([]);
  });

  test('HTTP_PROXY from the environment carries every call', async () => {
    const proxy = await servers.proxy();
    const fake = await start();
    const run = await runTriggerInProcess(v2(fake), { env: { HTTP_PROXY: proxy.url } });
    expect(run.errors).toEqual([]);
    expect(proxy.seen.length).toBe(fake.calls.length);
    expect(proxy.seen[0]!.target).toBe(`${fake.url}/apis/v2beta1/healthz`);
  });

  test('a token file is re-read when the server answers 401 (a projected token rotated)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'mlops-kfp-token-')), 'token');
    writeFileSync(file, 'expired-token');
    const fake = await start({ tokens: ['rotated-token'] });
    fake.before = () => writeFileSync(file, 'rotated-token');
    const run = await runTriggerInProcess(v2(fake, { token: '', tokenFile: file }));
    expect(run.errors).toEqual([]);
    expect(fake.calls.filter((call) => call.status === 401)).toHaveLength(1);
  });

  test('a wrong token: one line naming the input, never its value, and nothing created', async () => {
    const fake = await start();
    const run = await runTriggerInProcess(v2(fake, { token: 'Wrong-Token-Value-99' }));
    expect(run.errors).toEqual(["TriggerKubeflow: KFP GET /apis/v2beta1/healthz answered HTTP 401: the server refused the credentials from input 'token': check it"]);
    expect(run.shown).not.toContain('Wrong-Token-Value-99');
    expect(fake.mutations()).toEqual([]);
  });

  test('a token without rights (403), and a namespace the token may not use', async () => {
    const fake = await start({ forbiddenTokens: ['No-Rights-Token-7'], forbiddenNamespaces: ['team-other'] });
    const noRights = await runTriggerInProcess(v2(fake, { token: 'No-Rights-Token-7' }));
    expect(noRights.errors).toEqual([
      "TriggerKubeflow: KFP GET /apis/v2beta1/healthz answered HTTP 403: the credentials from input 'token' lack the rights for this call: PermissionDenied: the service account may not access Kubeflow Pipelines",
    ]);
    const otherNamespace = await runTriggerInProcess(v2(fake, { namespace: 'team-other' }));
    expect(otherNamespace.errors).toEqual([
      "TriggerKubeflow: KFP GET /apis/v2beta1/pipelines answered HTTP 403: the credentials from input 'token' may not use namespace 'team-other': User is not authorized to access namespace 'team-other'",
    ]);
    expect(fake.mutations()).toEqual([]);
    expect(fake.store.counts()).toEqual({ pipelines: 0, versions: 0, experiments: 0, runs: 0 });
  });

  test('multi-user Kubeflow without a namespace is an input error before anything is created', async () => {
    const fake = await start({ multiUser: true });
    const run = await runTriggerInProcess(v2(fake));
    expect(run.errors).toEqual(["TriggerKubeflow: input 'namespace': is empty, and this Kubeflow is multi-user: give the profile namespace to run in"]);
    expect(fake.mutations()).toEqual([]);
  });

  test('a KFP v2 package against a KFP 1.x server is refused before anything is created', async () => {
    const fake = await start({ apis: ['v1beta1'] });
    const run = await runTriggerInProcess(v2(fake));
    expect(run.errors).toEqual(["TriggerKubeflow: the server speaks only the v1beta1 API (KFP 1.x), which cannot run the KFP v2 package in 'pipelineFile'"]);
    expect(fake.mutations()).toEqual([]);
  });
});

describeWithSpecs('KFP contract: races, parameters of stored pipelines, secrets', () => {
  test('an experiment created by a parallel job between lookup and create (409) is looked up again', async () => {
    const fake = await start();
    fake.before = (operation) => {
      if (operation === 'POST /apis/v2beta1/experiments') fake.store.addExperiment('Default');
    };
    const run = await runTriggerInProcess({ host: fake.url, token: TOKEN, pipelineFile: packageFile(v2Pipeline()), parameters: 'training_image: x\nepochs: 1' });
    expect(run.errors).toEqual([]);
    expect(fake.calls.some((call) => call.method === 'POST' && call.path === '/apis/v2beta1/experiments' && call.status === 409)).toBe(true);
    expect(fake.store.counts().experiments).toBe(1);
    expect(run.outputs.experimentId).toBe([...fake.store.experiments.values()][0]!.id);
  });

  test('a pipeline created by a parallel job between lookup and create (409) gets the version uploaded to it', async () => {
    const fake = await start();
    fake.before = (operation) => {
      if (operation === 'POST /apis/v2beta1/pipelines') fake.store.addPipeline('tacos-vs-burritos');
    };
    const run = await runTriggerInProcess({ host: fake.url, token: TOKEN, pipelineFile: packageFile(v2Pipeline()), parameters: 'training_image: x\nepochs: 1' });
    expect(run.errors).toEqual([]);
    expect(fake.store.counts()).toMatchObject({ pipelines: 1, versions: 1 });
    expect(fake.violations).toEqual([]);
  });

  test("parameters of a pipeline on the server are typed by its stored spec before the run is created", async () => {
    const fake = await start();
    await runTriggerInProcess({ host: fake.url, token: TOKEN, pipelineFile: packageFile(v2Pipeline()), parameters: 'training_image: x\nepochs: 1' });
    const before = fake.store.counts();
    const bad = await runTriggerInProcess({ host: fake.url, token: TOKEN, pipelineName: 'tacos-vs-burritos', parameters: 'training_image: x\nepochs: abc' });
    expect(bad.errors).toEqual(["TriggerKubeflow: input 'parameters': parameter 'epochs' is an integer; 'abc' is not one"]);
    const good = await runTriggerInProcess({ host: fake.url, token: TOKEN, pipelineName: 'tacos-vs-burritos', parameters: 'training_image: x\nepochs: "12"' });
    expect(good.errors).toEqual([]);
    expect([...fake.store.runs.values()].at(-1)!.parameters).toEqual({ training_image: 'x', epochs: 12 });
    expect(fake.store.counts()).toEqual({ ...before, runs: before.runs + 1 });
    expect(fake.violations).toEqual([]);
  });

  test('a parameter holding a secret value draws a warning and is masked in the summary', async () => {
    const fake = await start();
    const run = await runTriggerInProcess({ host: fake.url, token: TOKEN, pipelineFile: packageFile(v2Pipeline()), parameters: `training_image: x\nepochs: 1\nnotify: ${TOKEN}` });
    expect(run.errors).toEqual([]);
    expect(run.lines).toContain("::warning::parameter 'notify' holds a secret value: it will be visible in the Kubeflow UI; pass secrets as Kubernetes secrets instead");
    expect(run.summary).toMatch(/\| `notify` \| `\*\*\*` \|/);
    expect(run.summary).not.toContain(TOKEN);
  });

  test('a pipeline with a platform spec is published whole and reused on a re-run', async () => {
    const fake = await start();
    const file = packageFile(v2Pipeline({ platformSpec: true }));
    const inputs = { host: fake.url, token: TOKEN, pipelineFile: file, parameters: 'training_image: x\nepochs: 1' };
    const first = await runTriggerInProcess(inputs);
    const again = await runTriggerInProcess(inputs);
    expect([first.errors, again.errors]).toEqual([[], []]);
    expect([...fake.store.versions.values()][0]!.documents[1]).toEqual(parse(v2Pipeline({ platformSpec: true }).split('---\n')[1]!));
    expect(fake.store.counts().versions).toBe(1);
    expect(fake.violations).toEqual([]);
  });
});

describeWithSpecs('KFP contract: waiting, timing out, cancelling', () => {
  const LONG_RUN = standardPlan({ durationMs: 10 * 60_000 });
  const inputs = (fake: FakeKfp, extra: Record<string, string> = {}) => ({
    host: fake.url,
    token: TOKEN,
    pipelineFile: packageFile(v2Pipeline()),
    parameters: 'training_image: x\nepochs: 1',
    ...extra,
  });

  test('wait: false starts the run and ends at once with its first state', async () => {
    const fake = await start({ plan: LONG_RUN });
    const started = Date.now();
    const run = await runTriggerInProcess(inputs(fake, { wait: 'false' }));
    expect(run.errors).toEqual([]);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(run.outputs.runState).toBe('PENDING');
    expect(run.summary).toMatch(/PENDING \(not waited for\)/);
  });

  test('a timeout terminates the run on the server and fails the step with its link', async () => {
    const fake = await start({ plan: LONG_RUN });
    const run = await runTriggerInProcess(inputs(fake, { timeoutMinutes: '0.05' }));
    const [stored] = [...fake.store.runs.values()];
    expect(stored!.terminatedAt).toBeDefined();
    expect(run.errors).toEqual([`TriggerKubeflow: run 'tacos-vs-burritos 17' did not end within 0.05 min; terminated it: ${fake.url}/#/runs/details/${stored!.id}`]);
    expect(fake.violations).toEqual([]);
  });

  test('terminateOnCancel: false leaves the run running', async () => {
    const fake = await start({ plan: LONG_RUN });
    const run = await runTriggerInProcess(inputs(fake, { timeoutMinutes: '0.05', terminateOnCancel: 'false' }));
    expect([...fake.store.runs.values()][0]!.terminatedAt).toBeUndefined();
    expect(run.errors[0]).toMatch(/did not end within 0\.05 min; left it running: /);
  });

  test('a cancel during the wait terminates the run and ends the step at once with the run link', async () => {
    const fake = await start({ plan: LONG_RUN });
    let abort = () => undefined as void;
    fake.before = (operation) => {
      if (operation === 'GET /apis/v2beta1/runs/{run_id}') setTimeout(() => abort(), 100);
    };
    const started = Date.now();
    const run = await runTriggerInProcess(inputs(fake), { signal: (fire) => (abort = fire) });
    const [stored] = [...fake.store.runs.values()];
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(stored!.terminatedAt).toBeDefined();
    expect(run.errors).toEqual([`TriggerKubeflow: cancelled while waiting for run 'tacos-vs-burritos 17'; terminated it: ${fake.url}/#/runs/details/${stored!.id}`]);
    expect(fake.violations).toEqual([]);
  });
});

describeWithSpecs('KFP contract: the swagger validator is really applied', () => {
  const v2 = () => new SwaggerContract(specs ?? '', 'v2beta1');
  const v1 = () => new SwaggerContract(specs ?? '', 'v1beta1');
  const request = (method: string, path: string, body: unknown, query = '') => ({
    method,
    path,
    query: new URLSearchParams(query),
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(body === undefined ? '' : JSON.stringify(body)),
  });

  test('an unknown body field, a wrong enum and a v1 filter on v2 are violations', () => {
    const contract = v2();
    const runs = contract.route('POST', '/apis/v2beta1/runs')!;
    expect(contract.checkRequest(runs, request('POST', '/apis/v2beta1/runs', { display_name: 'x', pipeline_version: 'y' }))).toEqual([
      "body (root) must NOT have additional properties 'pipeline_version'",
    ]);
    const experiments = contract.route('GET', '/apis/v2beta1/experiments')!;
    const v1Filter = JSON.stringify({ predicates: [{ key: 'display_name', op: 'EQUALS', string_value: 'x' }] });
    expect(contract.checkRequest(experiments, request('GET', '/apis/v2beta1/experiments', undefined, `filter=${encodeURIComponent(v1Filter)}&pagesize=2`))).toEqual([
      "filter /predicates/0 must NOT have additional properties 'op'",
      "query parameter 'pagesize' is not defined",
    ]);
  });

  test('answers are checked too: an unknown field or a wrong type in a run', () => {
    const contract = v1();
    const getRun = contract.route('GET', '/apis/v1beta1/runs/abc')!;
    expect(getRun.params).toEqual({ run_id: 'abc' });
    const body = Buffer.from(JSON.stringify({ run: { id: 'abc', status: 3, state: 'RUNNING' } }));
    expect(contract.checkResponse(getRun, 200, body, 'application/json')).toEqual([
      "response 200 /run must NOT have additional properties 'state'",
      'response 200 /run/status must be string',
    ]);
  });

  test('routes: literal paths win, custom verbs after a colon are told apart, uploads must be multipart', () => {
    const contract = v2();
    expect(contract.route('POST', '/apis/v2beta1/pipelines/upload_version')!.template).toBe('/apis/v2beta1/pipelines/upload_version');
    expect(contract.route('POST', '/apis/v2beta1/runs/r1:terminate')!.template).toBe('/apis/v2beta1/runs/{run_id}:terminate');
    expect(contract.route('GET', '/apis/v2beta1/runs/r1')!.template).toBe('/apis/v2beta1/runs/{run_id}');
    const upload = contract.route('POST', '/apis/v2beta1/pipelines/upload')!;
    expect(contract.checkRequest(upload, request('POST', '/apis/v2beta1/pipelines/upload', { a: 1 }))).toEqual([
      "body must be multipart/form-data, got 'application/json'",
    ]);
  });
});
