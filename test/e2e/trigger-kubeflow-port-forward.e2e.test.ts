import { makeTestCa, type TestCa } from '../helpers/ca.js';
import { namespace, pod, service } from '../helpers/fake-k8s/objects.js';
import { K8sSchemas } from '../helpers/fake-k8s/schemas.js';
import { FakeKubernetes } from '../helpers/fake-k8s/server.js';
import { FakeServers } from '../helpers/fake-servers.js';
import { nodeBinaries, specsDir } from '../helpers/paths.js';
import { errorLines, runBundle, type BundleRun } from '../helpers/run-bundle.js';
import { packageFile, v2Pipeline } from '../helpers/fake-kfp/packages.js';
import { FakeKfp } from '../helpers/fake-kfp/server.js';
import { standardPlan, type RunPlan } from '../helpers/fake-kfp/store.js';

// TriggerKubeflow reaching the KFP API the way `kubectl port-forward svc/ml-pipeline 8888` did:
// through the fake Kubernetes API server's pods/portforward WebSocket, to the fake KFP server.

const TASK = { taskName: 'TriggerKubeflow', actionName: 'trigger-kubeflow' };
const K8S_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.cGlwZWxpbmUtYm90.c2lnbmVkLWJ5LXRoZS1jbHVzdGVy';
const NS = 'kubeflow';
const POD = 'ml-pipeline-7d9f8-abcde';
const specs = specsDir();
if (!specs) console.warn('SKIPPED TriggerKubeflow port-forward tests: no specs found (set MLOPS_SPECS_DIR or provide ../shared/specs)');
const describeWithSpecs = specs ? describe : describe.skip;

describeWithSpecs('TriggerKubeflow through a port-forward it opens itself', () => {
  let ca: TestCa;
  let schemas: K8sSchemas;
  let servers: FakeServers;
  let k8s: FakeKubernetes;

  beforeAll(() => {
    ca = makeTestCa();
    schemas = K8sSchemas.load(specs!);
  });

  async function cluster(plan: RunPlan): Promise<FakeKfp> {
    servers = new FakeServers();
    const kfp = await FakeKfp.start(servers, { specsDir: specs!, plan });
    k8s = await FakeKubernetes.start({ ca, schemas });
    k8s.addToken(K8S_TOKEN, 'system:serviceaccount:ci:pipeline-bot');
    k8s.put(
      namespace(NS),
      service(NS, 'ml-pipeline', { selector: { app: 'ml-pipeline' }, ports: [{ name: 'http', port: 8888 }] }),
      pod(NS, POD, { labels: { app: 'ml-pipeline' }, ports: [{ name: 'http', containerPort: 8888 }] }),
    );
    k8s.forward(NS, POD, 8888, { port: Number(new URL(kfp.url).port) });
    return kfp;
  }

  afterEach(async () => {
    await k8s?.close();
    await servers?.close();
  });

  const inputs = { pipelineFile: packageFile(v2Pipeline()), parameters: 'training_image: x\nepochs: 2', uiUrl: 'https://kf.example.com/_/pipeline' };
  const leaked = (run: BundleRun) =>
    run.stdout
      .split('\n')
      .filter((line) => !/^(::add-mask::|##vso\[task\.setsecret\])/.test(line))
      .join('\n')
      .includes(K8S_TOKEN);

  test('GitHub: kubeconfig content, the default portForward target, run links from uiUrl', async () => {
    const kfp = await cluster(standardPlan({ durationMs: 1_500 }));
    const run = await runBundle({ ...TASK, kind: 'github', node: nodeBinaries().at(-1)!.path, inputs: { ...inputs, kubeconfig: k8s.kubeconfig({ token: K8S_TOKEN }) } });
    expect(errorLines(run, 'github')).toEqual([]);
    expect(run.outputs.runState).toBe('SUCCEEDED');
    expect(run.outputs.runUrl).toBe(`https://kf.example.com/_/pipeline/#/runs/details/${run.outputs.runId}`);
    expect(run.stdout).toMatch(/^port-forward: service kubeflow\/ml-pipeline:8888 -> pod ml-pipeline-7d9f8-abcde:8888 through /m);
    expect(k8s.portForwards.length).toBeGreaterThan(0);
    expect(leaked(run)).toBe(false);
    expect([kfp.violations, k8s.violations]).toEqual([[], []]);
  });

  test('Azure DevOps: a Kubernetes service connection (service account) instead of a kubeconfig', async () => {
    const kfp = await cluster(standardPlan({ durationMs: 1_500 }));
    const endpoint = '7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f';
    const key = endpoint.toUpperCase();
    const run = await runBundle({
      ...TASK,
      kind: 'azure',
      node: nodeBinaries().at(-1)!.path,
      inputs: { ...inputs, kubernetesServiceConnection: endpoint },
      env: {
        [`ENDPOINT_URL_${key}`]: k8s.origin,
        [`ENDPOINT_AUTH_${key}`]: JSON.stringify({
          scheme: 'Token',
          parameters: { apiToken: Buffer.from(K8S_TOKEN).toString('base64'), serviceAccountCertificate: Buffer.from(ca.caPem).toString('base64') },
        }),
        [`ENDPOINT_DATA_${key}_AUTHORIZATIONTYPE`]: 'ServiceAccount',
      },
    });
    expect(errorLines(run, 'azure')).toEqual([]);
    expect(run.outputs.runState).toBe('SUCCEEDED');
    expect(leaked(run)).toBe(false);
    expect([kfp.violations, k8s.violations]).toEqual([[], []]);
  });

  test('SIGTERM during the wait: the run is terminated through the still-open forward, then the step exits within 10 s', async () => {
    const kfp = await cluster(standardPlan({ durationMs: 10 * 60_000 }));
    let signalledAt = 0;
    const run = await runBundle({
      ...TASK,
      kind: 'github',
      node: nodeBinaries().at(-1)!.path,
      inputs: { ...inputs, kubeconfig: k8s.kubeconfig({ token: K8S_TOKEN }) },
      onSpawn: (child) => {
        child.stdout?.on('data', (chunk: Buffer) => {
          if (!signalledAt && chunk.toString().includes('waiting for run')) {
            signalledAt = Date.now();
            child.kill('SIGTERM');
          }
        });
      },
    });
    expect(Date.now() - signalledAt).toBeLessThan(10_000);
    expect(run.code).not.toBe(0);
    expect([...kfp.store.runs.values()][0]!.terminatedAt).toBeDefined();
    expect(errorLines(run, 'github')).toEqual([expect.stringMatching(/^TriggerKubeflow: cancelled while waiting for run '.*'; terminated it: https:\/\/kf\.example\.com\/_\/pipeline\/#\/runs\/details\//)]);
    expect(kfp.violations).toEqual([]);
  });
});
