import { makeTestCa, type TestCa } from '../helpers/ca.js';
import { InferenceServiceController } from '../helpers/fake-k8s/controllers.js';
import { namespace } from '../helpers/fake-k8s/objects.js';
import { K8sSchemas } from '../helpers/fake-k8s/schemas.js';
import { FakeKubernetes } from '../helpers/fake-k8s/server.js';
import { ModelServer } from '../helpers/model-server.js';
import { nodeBinaries, specsDir } from '../helpers/paths.js';
import { errorLines, runBundle, type BundleRun, type RunnerKind } from '../helpers/run-bundle.js';

// The built DeployModel bundles, on both Node versions, as each runner runs them: KServe through
// the fake Kubernetes API server (every object checked against the KServe CRD and the Kubernetes
// OpenAPI), the smoke test through the port-forward to a real V2 model server.

const TASK = { taskName: 'DeployModel', actionName: 'deploy-model' };
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.ZTJlLWRlcGxveQ.c2lnbmVkLWJ5LWNsdXN0ZXI';
const NS = 'models';
const specs = specsDir();
if (!specs) console.warn('SKIPPED DeployModel kserve end-to-end tests: no specs found (set MLOPS_SPECS_DIR or provide ../shared/specs)');
const describeWithSpecs = specs ? describe : describe.skip;
const CONNECTION = '5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b';

function visible(run: BundleRun): string {
  return run.stdout.split('\n').filter((line) => !/^(::add-mask::|##vso\[task\.setsecret\])/.test(line)).join('\n') + run.stderr;
}

describeWithSpecs.each(nodeBinaries())('DeployModel bundles on $label, target kserve (contract test against the KServe CRD)', ({ path: node }) => {
  let ca: TestCa;
  let schemas: K8sSchemas;
  let k8s: FakeKubernetes;
  let model: ModelServer;
  let controller: InferenceServiceController;

  beforeAll(() => {
    ca = makeTestCa();
    schemas = K8sSchemas.load(specs!);
  });
  beforeEach(async () => {
    model = await ModelServer.start({ name: 'iris', specs: specs!, protocol: 'v2' });
    k8s = await FakeKubernetes.start({ ca, schemas, deploy: true });
    k8s.addToken(TOKEN, 'system:serviceaccount:ci:deploy-bot');
    k8s.put(namespace(NS));
    controller = new InferenceServiceController(k8s, { backend: { port: model.port } }).start();
  });
  afterEach(async () => {
    controller.stop();
    await k8s.close();
    await model.close();
  });

  function reach(kind: RunnerKind): { inputs: Record<string, string>; env: Record<string, string> } {
    if (kind === 'github') return { inputs: { kubeconfig: k8s.kubeconfig({ token: TOKEN }) }, env: {} };
    const key = CONNECTION.toUpperCase();
    return {
      inputs: { kubernetesServiceConnection: CONNECTION },
      env: {
        [`ENDPOINT_URL_${key}`]: k8s.origin,
        [`ENDPOINT_AUTH_${key}`]: JSON.stringify({ scheme: 'Token', parameters: { apiToken: Buffer.from(TOKEN).toString('base64'), serviceAccountCertificate: Buffer.from(ca.caPem).toString('base64') } }),
        [`ENDPOINT_DATA_${key}_AUTHORIZATIONTYPE`]: 'ServiceAccount',
      },
    };
  }

  const deploy = (kind: RunnerKind, more: Record<string, string> = {}) => {
    const { inputs, env } = reach(kind);
    return runBundle({
      ...TASK,
      kind,
      node,
      env,
      inputs: {
        target: 'kserve',
        name: 'iris',
        modelUri: `oci://registry.example.com/models/iris@sha256:${'a'.repeat(64)}`,
        modelFormat: 'sklearn',
        namespace: NS,
        smokeTest: '{"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}]}',
        smokeTestExpect: '200\n$.outputs[0].data[0] > 5.5',
        timeoutMinutes: '1',
        ...inputs,
        ...more,
      },
    });
  };

  test.each(['github', 'azure'] as RunnerKind[])('%s bundle: deploys, then a canary of 25%; outputs as the runner reads them; no credential in the log', async (kind) => {
    const first = await deploy(kind);
    expect(errorLines(first, kind)).toEqual([]);
    expect(first.outputs).toEqual({ endpointUrl: 'http://iris-models.example.com', revision: 'iris-predictor-00001', trafficPercent: '100', previousRevision: '', state: 'ready' });
    const canary = await deploy(kind, { modelUri: `oci://registry.example.com/models/iris@sha256:${'b'.repeat(64)}`, canaryPercent: '25' });
    expect(errorLines(canary, kind)).toEqual([]);
    expect(canary.outputs).toEqual({ endpointUrl: 'http://iris-models.example.com', revision: 'iris-predictor-00002', trafficPercent: '25', previousRevision: 'iris-predictor-00001', state: 'ready' });
    expect(canary.summary).toContain('#### Applied changes');
    expect(canary.summary).toMatch(/\+ +canaryTrafficPercent: 25/);
    expect(model.requests.filter((request) => request.path === '/v2/models/iris/infer' && request.status === 200)).toHaveLength(2);
    expect(visible(first) + visible(canary)).not.toContain(TOKEN);
    expect([k8s.violations, model.violations]).toEqual([[], []]);
  });

  test('a failing new revision: exit 1 with one error line, outputs say rolled-back, the previous revision keeps 100%', async () => {
    expect(errorLines(await deploy('github'), 'github')).toEqual([]);
    controller.outcomes.push('failed-to-load');
    const run = await deploy('github', { modelUri: `oci://registry.example.com/models/iris@sha256:${'c'.repeat(64)}` });
    expect(run.code).toBe(1);
    expect(errorLines(run, 'github')).toEqual([expect.stringMatching(/^DeployModel: InferenceService models\/iris did not become ready: the model failed to load.*\(rolled back\)$/)]);
    expect(run.outputs).toMatchObject({ state: 'rolled-back', previousRevision: 'iris-predictor-00001', trafficPercent: '0' });
    await controller.idle();
    const traffic = (k8s.store.list(k8s.resourceType('serving.kserve.io/v1beta1', 'inferenceservices')!, NS)[0]!.status as any).components.predictor.traffic;
    expect(traffic).toContainEqual(expect.objectContaining({ revisionName: 'iris-predictor-00001', percent: 100 }));
    expect(k8s.violations).toEqual([]);
  });

  test('SIGTERM while waiting: the watch stops and the step ends within 5 s, saying it was cancelled', async () => {
    controller.outcomes.push('pending');
    let signalledAt = 0;
    const { inputs, env } = reach('github');
    const run = await runBundle({
      ...TASK,
      kind: 'github',
      node,
      env,
      inputs: { target: 'kserve', name: 'iris', modelUri: `oci://registry.example.com/models/iris@sha256:${'d'.repeat(64)}`, modelFormat: 'sklearn', namespace: NS, ...inputs },
      onSpawn: (child) => {
        child.stdout?.on('data', (chunk: Buffer) => {
          if (!signalledAt && chunk.toString().includes('waiting for InferenceService')) {
            signalledAt = Date.now();
            child.kill('SIGTERM');
          }
        });
      },
    });
    expect(signalledAt).toBeGreaterThan(0);
    expect(Date.now() - signalledAt).toBeLessThan(5_000);
    expect(run.code).not.toBe(0);
    expect(errorLines(run, 'github')).toEqual([expect.stringMatching(/cancelled/)]);
  });
});
