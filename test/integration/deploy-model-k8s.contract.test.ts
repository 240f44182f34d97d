import { makeTestCa, type TestCa } from '../helpers/ca.js';
import { DeploymentController, InferenceServiceController } from '../helpers/fake-k8s/controllers.js';
import { namespace } from '../helpers/fake-k8s/objects.js';
import { K8sSchemas } from '../helpers/fake-k8s/schemas.js';
import { FakeKubernetes } from '../helpers/fake-k8s/server.js';
import { k8sRequest } from '../helpers/fake-k8s/test-client.js';
import { runInProcess, shown } from '../helpers/in-process.js';
import { ModelServer } from '../helpers/model-server.js';
import { specsDir } from '../helpers/paths.js';
import { runDeployModel } from '../../shared/tasks/deploy-model/run.js';

// DeployModel's kserve and kubernetes targets against the fake Kubernetes API server, which checks
// every object and body against the Kubernetes OpenAPI v3 documents and the KServe CRD, with
// controllers that move status as KServe and the Deployment controller do, and a real V2 model
// server behind the port-forward.

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.ZGVwbG95LWJvdA.c2lnbmVkLWJ5LWNsdXN0ZXI';
const NS = 'models';
const specs = specsDir();
if (!specs) console.warn('SKIPPED DeployModel Kubernetes contract tests: no specs found (set MLOPS_SPECS_DIR or provide ../shared/specs)');
const describeWithSpecs = specs ? describe : describe.skip;
const MODEL_URI = `oci://registry.example.com/models/iris@sha256:${'b'.repeat(64)}`;
const V2_REQUEST = JSON.stringify({ inputs: [{ name: 'input-0', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] });
// 0.5*1 - 2 + 2*3 + 0.25*4 + 0.1 = 5.6: the test model server's real answer.
const V2_EXPECT = '200\n$.model_name == "iris"\n$.outputs[0].data[0] > 5.5\n$.outputs[0].data[0] < 5.7';

describeWithSpecs('DeployModel on Kubernetes (contract tests against the Kubernetes OpenAPI and the KServe CRD)', () => {
  let ca: TestCa;
  let schemas: K8sSchemas;
  let k8s: FakeKubernetes;
  let model: ModelServer;
  let controllers: { stop(): void }[] = [];

  beforeAll(() => {
    ca = makeTestCa();
    schemas = K8sSchemas.load(specs!);
  });

  async function cluster(can?: (attributes: { verb: string; namespace?: string }) => boolean): Promise<void> {
    model = await ModelServer.start({ name: 'iris', specs: specs!, protocol: 'both' });
    k8s = await FakeKubernetes.start({ ca, schemas, deploy: true });
    k8s.addToken(TOKEN, can ? { name: 'deploy-bot', can } : 'deploy-bot');
    k8s.put(namespace(NS));
  }

  function kserve(options: ConstructorParameters<typeof InferenceServiceController>[1] = {}): InferenceServiceController {
    const controller = new InferenceServiceController(k8s, { backend: { port: model.port }, ...options });
    controller.start();
    controllers.push(controller);
    return controller;
  }

  function deployments(options: ConstructorParameters<typeof DeploymentController>[1] = {}): DeploymentController {
    const controller = new DeploymentController(k8s, { backend: { port: model.port }, ...options });
    controller.start();
    controllers.push(controller);
    return controller;
  }

  afterEach(async () => {
    for (const controller of controllers.splice(0)) controller.stop();
    await k8s?.close();
    await model?.close();
  });

  const kserveInputs = (more: Record<string, string> = {}) => ({
    target: 'kserve',
    name: 'iris',
    modelUri: MODEL_URI,
    modelFormat: 'sklearn',
    protocol: 'v2',
    namespace: NS,
    kubeconfig: k8s.kubeconfig({ token: TOKEN }),
    smokeTest: V2_REQUEST,
    smokeTestExpect: V2_EXPECT,
    timeoutMinutes: '1',
    ...more,
  });

  async function deploy(inputs: Record<string, string>) {
    try {
      return { ...(await runInProcess(runDeployModel, inputs)), error: undefined as string | undefined };
    } catch (error) {
      const lines = (error as { lines?: string[] }).lines ?? [];
      return { lines, outputs: {} as Record<string, string>, summary: '', error: (error as Error).message };
    }
  }

  async function isvc(name = 'iris'): Promise<any> {
    return (await k8sRequest(k8s, 'GET', `/apis/serving.kserve.io/v1beta1/namespaces/${NS}/inferenceservices/${name}`, { token: TOKEN })).body;
  }

  const traffic = (object: any) => Object.fromEntries((object.status.components.predictor.traffic ?? []).map((entry: any) => [entry.revisionName, entry.percent]));

  test('kserve: creates the InferenceService by server-side apply, waits for Ready, smoke-tests through a port-forward', async () => {
    await cluster();
    kserve();
    const run = await deploy(kserveInputs());
    expect(run.error).toBeUndefined();
    expect(run.outputs).toEqual({ endpointUrl: 'http://iris-models.example.com', revision: 'iris-predictor-00001', trafficPercent: '100', previousRevision: '', state: 'ready' });
    const object = await isvc();
    expect(object.spec.predictor.model).toEqual({ modelFormat: { name: 'sklearn' }, storageUri: MODEL_URI, protocolVersion: 'v2' });
    expect(object.metadata.managedFields.map((entry: any) => `${entry.manager}/${entry.operation}`)).toContain('mlops-tasks/Apply');
    expect(object.metadata.annotations['mlops-tasks.io/model-uri']).toBe(MODEL_URI);
    // The ingress (example.com) does not answer here, so the smoke test went through the revision's private Service.
    expect(k8s.portForwards.length).toBeGreaterThan(0);
    expect(k8s.portForwards.every((session) => session.pod.startsWith('iris-predictor-00001-'))).toBe(true);
    expect(model.requests.filter((request) => request.path === '/v2/models/iris/infer').map((request) => request.status)).toEqual([200]);
    expect(run.summary).toContain('#### Smoke test');
    expect(run.summary).toContain('| Wait until \'iris\' is ready |');
    expect(shown(run.lines)).not.toContain(TOKEN);
    expect([k8s.violations, model.violations]).toEqual([[], []]);
  });

  test('kserve canary: the new revision gets canaryTrafficPercent and is smoke-tested itself; fields of other managers survive', async () => {
    await cluster();
    const controller = kserve();
    expect((await deploy(kserveInputs())).error).toBeUndefined();
    // Another tool owns a field of the predictor: our applies must leave it alone.
    const patched = await k8sRequest(k8s, 'PATCH', `/apis/serving.kserve.io/v1beta1/namespaces/${NS}/inferenceservices/iris?fieldManager=platform-team`, {
      token: TOKEN,
      contentType: 'application/merge-patch+json',
      body: JSON.stringify({ spec: { predictor: { serviceAccountName: 'model-reader' } } }),
    });
    expect(patched.status).toBe(200);
    await controller.idle();
    const run = await deploy(kserveInputs({ canaryPercent: '20', modelUri: MODEL_URI.replace('b'.repeat(64), 'c'.repeat(64)) }));
    expect(run.error).toBeUndefined();
    expect(run.outputs).toMatchObject({ revision: 'iris-predictor-00003', previousRevision: expect.stringMatching(/^iris-predictor-0000[12]$/), trafficPercent: '20', state: 'ready' });
    const object = await isvc();
    expect(object.spec.predictor.canaryTrafficPercent).toBe(20);
    expect(object.spec.predictor.serviceAccountName).toBe('model-reader');
    expect(traffic(object)).toEqual({ [run.outputs.previousRevision!]: 80, 'iris-predictor-00003': 20 });
    // The smoke test reached the new revision, not the split.
    expect(k8s.portForwards.at(-1)!.pod).toMatch(/^iris-predictor-00003-/);
    expect(run.summary).toMatch(/canaryTrafficPercent: 20/);
    expect(k8s.violations).toEqual([]);
  });

  test('kserve: a model that fails to load fails the step with its reason, and rollback leaves the previous revision at 100%', async () => {
    await cluster();
    const controller = kserve();
    expect((await deploy(kserveInputs())).error).toBeUndefined();
    controller.outcomes.push('failed-to-load');
    const run = await deploy(kserveInputs({ modelUri: MODEL_URI.replace('b'.repeat(64), 'd'.repeat(64)) }));
    expect(run.error).toMatch(/^InferenceService models\/iris did not become ready: the model failed to load.* \(rolled back\)$/);
    await controller.idle();
    const object = await isvc();
    expect(object.spec.predictor.canaryTrafficPercent).toBe(0);
    expect(traffic(object)).toMatchObject({ 'iris-predictor-00001': 100 });
    expect(shown(run.lines)).toMatch(/condition PredictorReady=False/);
    expect(k8s.violations).toEqual([]);
  });

  test('kserve: a crash-looping predictor is reported with its events and last log lines, then rolled back', async () => {
    await cluster();
    const controller = kserve({ logLines: ['loading model from /mnt/models', 'ValueError: unsupported pickle protocol 5'] });
    expect((await deploy(kserveInputs())).error).toBeUndefined();
    controller.outcomes.push('crashloop');
    const run = await deploy(kserveInputs({ modelUri: MODEL_URI.replace('b'.repeat(64), 'e'.repeat(64)) }));
    // KServe reports a crash-looping predictor as a failed load (ModelLoadFailed) or the pod says so.
    expect(run.error).toMatch(/did not become ready: (.*CrashLoopBackOff|the model failed to load \(ModelLoadFailed\)).*\(rolled back\)$/);
    const log = shown(run.lines);
    expect(log).toMatch(/event Warning BackOff/);
    expect(log).toContain('ValueError: unsupported pickle protocol 5');
    await controller.idle();
    expect(traffic(await isvc())).toMatchObject({ 'iris-predictor-00001': 100 });
  });

  test('kserve: a smoke test with the wrong answer fails the deploy and rolls back to the previous revision', async () => {
    await cluster();
    const controller = kserve();
    expect((await deploy(kserveInputs())).error).toBeUndefined();
    model.fail = 'wrong-answer';
    const run = await deploy(kserveInputs({ modelUri: MODEL_URI.replace('b'.repeat(64), 'f'.repeat(64)) }));
    expect(run.error).toMatch(/^the smoke test failed: \$\.outputs\[0\]\.data\[0\].* \(rolled back\)$/);
    await controller.idle();
    expect(traffic(await isvc())).toMatchObject({ 'iris-predictor-00001': 100 });
  });

  test('kserve: a first deploy that never becomes ready is deleted again, leaving nothing behind', async () => {
    await cluster();
    kserve({ outcome: 'image-pull' });
    const run = await deploy(kserveInputs());
    expect(run.error).toMatch(/ImagePullBackOff.*\(rolled back\)$/);
    expect((await k8sRequest(k8s, 'GET', `/apis/serving.kserve.io/v1beta1/namespaces/${NS}/inferenceservices/iris`, { token: TOKEN })).status).toBe(404);
  });

  test('a rollback that fails is said beside the failure it was for', async () => {
    await cluster((attributes) => attributes.verb !== 'delete');
    kserve({ outcome: 'image-pull' });
    const run = await deploy(kserveInputs());
    expect(run.error).toMatch(/ImagePullBackOff.* \(rollback failed: .*DELETE InferenceService models\/iris with 403 Forbidden/);
    expect(run.error).not.toContain('\n');
    expect(shown(run.lines)).toContain('::group::Roll back');
  });

  test('kserve, Standard (RawDeployment) mode: replaced in place, smoke test through the predictor Service', async () => {
    await cluster();
    kserve({ mode: 'RawDeployment' });
    const run = await deploy(kserveInputs({ protocol: 'v1', smokeTest: '{"instances": [[1, 2, 3, 4]]}', smokeTestExpect: '200\n$.predictions length == 1' }));
    expect(run.error).toBeUndefined();
    expect(run.outputs).toMatchObject({ state: 'ready', trafficPercent: '100' });
    expect(model.requests.some((request) => request.path === '/v1/models/iris:predict' && request.status === 200)).toBe(true);
  });

  test('kserve, Standard mode canary: spec.canary[] beside the unchanged predictor; a failing canary is removed again', async () => {
    await cluster();
    const controller = kserve({ mode: 'RawDeployment' });
    expect((await deploy(kserveInputs())).error).toBeUndefined();
    const canaryUri = MODEL_URI.replace('b'.repeat(64), 'c'.repeat(64));
    const run = await deploy(kserveInputs({ canaryPercent: '30', modelUri: canaryUri }));
    expect(run.error).toBeUndefined();
    expect(run.outputs).toMatchObject({ state: 'ready', trafficPercent: '30' });
    const object = await isvc();
    expect(object.spec.predictor.model.storageUri).toBe(MODEL_URI);
    expect(object.spec.canary).toEqual([{ predictor: { model: { name: 'kserve-container', modelFormat: { name: 'sklearn' }, storageUri: canaryUri, protocolVersion: 'v2' } }, trafficPercent: 30 }]);
    expect(object.status.canaryStatuses).toEqual([expect.objectContaining({ ready: true, trafficPercent: 30 })]);

    controller.outcomes.push('failed-to-load');
    const failing = await deploy(kserveInputs({ canaryPercent: '30', modelUri: MODEL_URI.replace('b'.repeat(64), 'd'.repeat(64)) }));
    expect(failing.error).toMatch(/did not become ready: the model failed to load.*\(rolled back\)$/);
    await controller.idle();
    const after = await isvc();
    // The spec from before this step is back: the same predictor, and the canary that had passed.
    expect(after.spec.predictor.model.storageUri).toBe(MODEL_URI);
    expect(after.spec.canary[0].predictor.model.storageUri).toBe(canaryUri);
    expect(after.status.canaryStatuses).toEqual([expect.objectContaining({ ready: true })]);
    expect(k8s.violations).toEqual([]);
  });

  test('a namespace the user may not write: 403 said plainly at the dry run, nothing applied', async () => {
    await cluster((attributes) => attributes.verb === 'get' || attributes.verb === 'list' || attributes.verb === 'watch');
    kserve();
    const run = await deploy(kserveInputs());
    expect(run.error).toMatch(/403 Forbidden, the kubeconfig's user may not write inferenceservices in namespace 'models'/);
    expect(run.error).toMatch(/cannot patch resource "inferenceservices" in API group "serving.kserve.io" in the namespace "models"/);
    expect(k8s.requests.filter((request) => request.method === 'PATCH').every((request) => request.query.includes('dryRun=All'))).toBe(true);
    expect((await isvc()).kind).toBe('Status');
  });

  test('a kubeconfig pointing to no reachable server: one line, nothing else tried', async () => {
    await cluster();
    const kubeconfig = k8s.kubeconfig({ token: TOKEN, server: 'https://127.0.0.1:9' });
    const run = await deploy(kserveInputs({ kubeconfig }));
    expect(run.error).toMatch(/^cannot reach the Kubernetes API server https:\/\/127\.0\.0\.1:9 \(from 'kubeconfig'\)/);
    expect(run.error).not.toContain(TOKEN);
  });

  test('kubernetes: a Deployment and a Service, rolled out; a crash-looping update is rolled back to the previous template', async () => {
    await cluster();
    const controller = deployments({ logLines: ['exec /serve: no such file or directory'] });
    const inputs = {
      target: 'kubernetes',
      name: 'iris',
      image: 'registry.example.com/serving/iris:1',
      modelUri: MODEL_URI,
      protocol: 'v2',
      replicas: '2',
      resources: 'cpu=500m\nmemory=1Gi',
      env: 'LOG_LEVEL=info\nAPI_KEY=Sup3r-Secret-Api-Key',
      namespace: NS,
      kubeconfig: k8s.kubeconfig({ token: TOKEN }),
      smokeTest: V2_REQUEST,
      smokeTestExpect: V2_EXPECT,
      timeoutMinutes: '1',
    };
    const first = await deploy(inputs);
    expect(first.error).toBeUndefined();
    expect(first.outputs).toMatchObject({ state: 'ready', trafficPercent: '100', endpointUrl: 'http://iris.models.svc.cluster.local', revision: '1' });
    const path = `/apis/apps/v1/namespaces/${NS}/deployments/iris`;
    const container = (await k8sRequest(k8s, 'GET', path, { token: TOKEN })).body.spec.template.spec.containers[0];
    expect(container).toMatchObject({ image: 'registry.example.com/serving/iris:1', resources: { requests: { cpu: '500m', memory: '1Gi' } } });
    expect(container.env).toContainEqual({ name: 'MODEL_URI', value: MODEL_URI });
    expect(container.env).toContainEqual({ name: 'API_KEY', value: 'Sup3r-Secret-Api-Key' });
    // The applied spec is shown, but no env value: env often carries keys.
    expect(first.summary).toMatch(/name: API_KEY\n\+ +value: \(hidden, sha256 [0-9a-f]{8}\)/);
    expect(first.summary + shown(first.lines)).not.toContain('Sup3r-Secret-Api-Key');
    expect(model.requests.some((request) => request.path === '/v2/models/iris/infer' && request.status === 200)).toBe(true);

    controller.outcomes.push('crashloop');
    const second = await deploy({ ...inputs, image: 'registry.example.com/serving/iris:2' });
    expect(second.error).toMatch(/^Deployment models\/iris did not become ready: .*CrashLoopBackOff.*\(rolled back\)$/);
    expect(shown(second.lines)).toContain('exec /serve: no such file or directory');
    expect(second.outputs).toEqual({});
    const after = (await k8sRequest(k8s, 'GET', path, { token: TOKEN })).body;
    expect(after.spec.template.spec.containers[0].image).toBe('registry.example.com/serving/iris:1');
    expect(after.status.updatedReplicas).toBe(2);

    // A new image that rolls out but answers wrong is rolled back too.
    model.fail = 'wrong-answer';
    const third = await deploy({ ...inputs, image: 'registry.example.com/serving/iris:3' });
    expect(third.error).toMatch(/^the smoke test failed: .*\(rolled back\)$/);
    await controller.idle();
    const restored = (await k8sRequest(k8s, 'GET', path, { token: TOKEN })).body;
    expect(restored.spec.template.spec.containers[0].image).toBe('registry.example.com/serving/iris:1');
    expect(restored.status).toMatchObject({ updatedReplicas: 2, availableReplicas: 2 });
    expect(k8s.violations).toEqual([]);
  });
});
