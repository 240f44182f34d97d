import http from 'node:http';
import { stringify } from 'yaml';
import { makeTestCa, type TestCa } from '../helpers/ca.js';
import { DeploymentController, InferenceServiceController } from '../helpers/fake-k8s/controllers.js';
import { namespace } from '../helpers/fake-k8s/objects.js';
import { RawWebSocket } from '../helpers/fake-k8s/raw-websocket.js';
import { K8sSchemas } from '../helpers/fake-k8s/schemas.js';
import { FakeKubernetes } from '../helpers/fake-k8s/server.js';
import { k8sRequest } from '../helpers/fake-k8s/test-client.js';
import { ModelServer } from '../helpers/model-server.js';
import { specsDir } from '../helpers/paths.js';

const specs = specsDir();
if (!specs) console.warn('SKIPPED fake Kubernetes controller tests: no specs found (set MLOPS_SPECS_DIR or provide ../shared/specs)');
const describeWithSpecs = specs ? describe : describe.skip;

const TOKEN = 'controller-test-token';
const NS = 'models';
const ISVCS = `/apis/serving.kserve.io/v1beta1/namespaces/${NS}/inferenceservices`;
const DEPLOYMENTS = `/apis/apps/v1/namespaces/${NS}/deployments`;

const isvc = (storageUri: string, canaryTrafficPercent?: number) => ({
  apiVersion: 'serving.kserve.io/v1beta1',
  kind: 'InferenceService',
  metadata: { name: 'iris' },
  spec: { predictor: { ...(canaryTrafficPercent !== undefined ? { canaryTrafficPercent } : {}), model: { modelFormat: { name: 'sklearn' }, storageUri } } },
});

const deployment = (image: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web' },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'model', image, ports: [{ containerPort: 8080 }] }] } },
  },
});

const condition = (object: any, type: string) => object.status.conditions.find((candidate: { type: string }) => candidate.type === type);

describeWithSpecs('the simulated controllers bring applied objects to life', () => {
  let ca: TestCa;
  let schemas: K8sSchemas;
  let fake: FakeKubernetes;
  let model: ModelServer;
  const call = (method: string, path: string, body?: unknown, contentType?: string) => k8sRequest(fake, method, path, { token: TOKEN, body, contentType });
  const apply = (path: string, object: unknown) => call('PATCH', `${path}?fieldManager=ci&force=true`, stringify(object), 'application/apply-patch+yaml');

  beforeAll(() => {
    ca = makeTestCa();
    schemas = K8sSchemas.load(specs!);
  });

  beforeEach(async () => {
    fake = await FakeKubernetes.start({ ca, schemas, deploy: true });
    fake.addToken(TOKEN, 'ci');
    fake.put(namespace(NS));
    model = await ModelServer.start({ name: 'iris', specs });
  });

  afterEach(async () => {
    await fake.close();
    await model.close();
  });

  test('InferenceService: a ready revision, then a canary splitting traffic with the previous one, then promoted', async () => {
    const controller = new InferenceServiceController(fake, { backend: { port: model.port } }).start();
    await apply(`${ISVCS}/iris`, isvc('s3://models/iris/1'));
    await controller.idle();
    let live = (await call('GET', `${ISVCS}/iris`)).body;
    expect(live.status).toMatchObject({
      observedGeneration: 1,
      deploymentMode: 'Serverless',
      url: 'http://iris-models.example.com',
      address: { url: 'http://iris.models.svc.cluster.local' },
      components: {
        predictor: {
          url: 'http://iris-predictor-models.example.com',
          latestCreatedRevision: 'iris-predictor-00001',
          latestReadyRevision: 'iris-predictor-00001',
          latestRolledoutRevision: 'iris-predictor-00001',
          traffic: [{ revisionName: 'iris-predictor-00001', percent: 100, latestRevision: true }],
        },
      },
      modelStatus: { states: { activeModelState: 'Loaded', targetModelState: 'Loaded' }, transitionStatus: 'UpToDate' },
    });
    expect(live.status.conditions.map((c: { type: string; status: string }) => `${c.type}=${c.status}`)).toEqual([
      'IngressReady=True', 'LatestDeploymentReady=True', 'PredictorConfigurationReady=True', 'PredictorReady=True', 'PredictorRouteReady=True', 'Ready=True', 'RoutesReady=True',
    ]);

    await apply(`${ISVCS}/iris`, isvc('s3://models/iris/2', 10));
    await controller.idle();
    live = (await call('GET', `${ISVCS}/iris`)).body;
    expect(live.status.components.predictor).toMatchObject({
      latestCreatedRevision: 'iris-predictor-00002',
      latestReadyRevision: 'iris-predictor-00002',
      latestRolledoutRevision: 'iris-predictor-00001',
      previousRolledoutRevision: 'iris-predictor-00001',
      traffic: [
        { revisionName: 'iris-predictor-00002', percent: 10, latestRevision: true, tag: 'latest' },
        { revisionName: 'iris-predictor-00001', percent: 90, latestRevision: false, tag: 'prev' },
      ],
    });
    // Promotion changes traffic only: no third revision.
    await apply(`${ISVCS}/iris`, isvc('s3://models/iris/2'));
    await controller.idle();
    live = (await call('GET', `${ISVCS}/iris`)).body;
    expect(live.status.components.predictor).toMatchObject({ latestCreatedRevision: 'iris-predictor-00002', traffic: [{ revisionName: 'iris-predictor-00002', percent: 100 }] });
    const pods = (await call('GET', `/api/v1/namespaces/${NS}/pods?labelSelector=serving.kserve.io%2Finferenceservice%3Diris`)).body.items;
    expect(pods.map((pod: any) => pod.metadata.labels['serving.knative.dev/revision'])).toEqual(['iris-predictor-00002']);
    const services = (await call('GET', `/api/v1/namespaces/${NS}/services`)).body.items.map((service: any) => `${service.metadata.name}:${service.spec.type}`);
    expect(services).toEqual(expect.arrayContaining(['iris-predictor:ExternalName', 'iris-predictor-00002-private:ClusterIP']));
    expect(fake.violations).toEqual([]);
  });

  test("InferenceService: a revision that fails keeps traffic on the previous one and says why; the test chooses per revision", async () => {
    const controller = new InferenceServiceController(fake).start();
    controller.outcomes.push('ready', 'failed-to-load', 'crashloop', 'image-pull', 'pending');
    await apply(`${ISVCS}/iris`, isvc('s3://models/iris/1'));
    await controller.idle();
    await apply(`${ISVCS}/iris`, isvc('s3://models/iris/2'));
    await controller.idle();
    let live = (await call('GET', `${ISVCS}/iris`)).body;
    expect(condition(live, 'PredictorReady')).toMatchObject({ status: 'False', reason: 'RevisionFailed' });
    expect(condition(live, 'IngressReady').status).toBe('True');
    expect(live.status.components.predictor).toMatchObject({ latestCreatedRevision: 'iris-predictor-00002', latestReadyRevision: 'iris-predictor-00001', traffic: [{ revisionName: 'iris-predictor-00001', percent: 100 }] });
    expect(live.status.modelStatus).toMatchObject({ states: { activeModelState: 'Loaded', targetModelState: 'FailedToLoad' }, transitionStatus: 'BlockedByFailedLoad', lastFailureInfo: { reason: 'ModelLoadFailed', modelRevisionName: 'iris-predictor-00002' } });

    await apply(`${ISVCS}/iris`, isvc('s3://models/iris/3'));
    await controller.idle();
    const crashing = (await call('GET', `/api/v1/namespaces/${NS}/pods?labelSelector=serving.knative.dev%2Frevision%3Diris-predictor-00003`)).body.items[0];
    expect(crashing.status.containerStatuses[0].state.waiting.reason).toBe('CrashLoopBackOff');
    const log = await call('GET', `/api/v1/namespaces/${NS}/pods/${crashing.metadata.name}/log?container=kserve-container&previous=true&tailLines=1`);
    expect(log.text).toBe('ValueError: the model file is not a valid model\n');
    const events = (await call('GET', `/api/v1/namespaces/${NS}/events?fieldSelector=involvedObject.name%3D${crashing.metadata.name}`)).body.items;
    expect(events.map((event: any) => `${event.type} ${event.reason}`)).toEqual(['Warning BackOff']);

    await apply(`${ISVCS}/iris`, isvc('s3://models/iris/4'));
    await controller.idle();
    const pulling = (await call('GET', `/api/v1/namespaces/${NS}/pods?labelSelector=serving.knative.dev%2Frevision%3Diris-predictor-00004`)).body.items[0];
    expect([pulling.status.phase, pulling.status.containerStatuses[0].state.waiting.reason]).toEqual(['Pending', 'ImagePullBackOff']);

    await apply(`${ISVCS}/iris`, isvc('s3://models/iris/5'));
    await controller.idle();
    live = (await call('GET', `${ISVCS}/iris`)).body;
    expect(condition(live, 'Ready').status).toBe('Unknown');
    expect(live.status.modelStatus).toMatchObject({ states: { targetModelState: 'Pending' }, transitionStatus: 'InProgress' });
    expect(controller.revisions(NS, 'iris').map((revision) => revision.outcome)).toEqual(['ready', 'failed-to-load', 'crashloop', 'image-pull', 'pending']);
    expect(fake.violations).toEqual([]);
  });

  test('InferenceService: the ready revision\'s pod is port-forwarded to the real model server', async () => {
    const controller = new InferenceServiceController(fake, { backend: { port: model.port } }).start();
    await apply(`${ISVCS}/iris`, isvc('s3://models/iris/1'));
    await controller.idle();
    const pod = (await call('GET', `/api/v1/namespaces/${NS}/pods?labelSelector=serving.knative.dev%2Frevision%3Diris-predictor-00001`)).body.items[0];
    const { ws } = await RawWebSocket.open(`${fake.origin}/api/v1/namespaces/${NS}/pods/${pod.metadata.name}/portforward?ports=8012`, { ca: ca.caPem, token: TOKEN, protocols: ['v4.channel.k8s.io'] });
    await ws!.until((frames) => frames.length >= 2);
    const body = JSON.stringify({ inputs: [{ name: 'input-0', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] });
    ws!.send(Buffer.concat([Buffer.from([0]), Buffer.from(`POST /v2/models/iris/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`)]));
    await ws!.until((frames) => frames.some((frame) => frame.opcode === 8));
    const reply = Buffer.concat(ws!.frames.filter((frame) => frame.opcode === 2 && frame.payload[0] === 0).slice(1).map((frame) => frame.payload.subarray(1))).toString();
    expect(reply).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4)).outputs[0].data).toEqual([5.6]);
    ws!.close();
    expect(model.violations).toEqual([]);
    expect(fake.violations).toEqual([]);
  });

  test('InferenceService in RawDeployment mode: one <name>-predictor ClusterIP Service and no revisions in status', async () => {
    const controller = new InferenceServiceController(fake, { mode: 'RawDeployment' }).start();
    await apply(`${ISVCS}/iris`, isvc('s3://models/iris/1'));
    await controller.idle();
    const live = (await call('GET', `${ISVCS}/iris`)).body;
    expect(live.status).toMatchObject({ deploymentMode: 'RawDeployment', address: { url: 'http://iris-predictor.models.svc.cluster.local' } });
    expect(live.status.components.predictor.traffic).toBeUndefined();
    const service = (await call('GET', `/api/v1/namespaces/${NS}/services/iris-predictor`)).body;
    expect(service.spec).toMatchObject({ type: 'ClusterIP', selector: { app: 'isvc.iris-predictor' }, ports: [{ port: 80, targetPort: 8080 }] });
    const pods = (await call('GET', `/api/v1/namespaces/${NS}/pods?labelSelector=app%3Disvc.iris-predictor`)).body.items;
    expect(pods).toHaveLength(1);
    expect(fake.violations).toEqual([]);
  });

  test('Deployment: a ready rollout replaces the pods; a failing one keeps them and exceeds its deadline, with events', async () => {
    const controller = new DeploymentController(fake).start();
    controller.outcomes.push('ready', 'crashloop');
    await apply(`${DEPLOYMENTS}/web`, deployment('registry.example/model:1'));
    await controller.idle();
    let live = (await call('GET', `${DEPLOYMENTS}/web`)).body;
    expect(live.status).toMatchObject({ observedGeneration: 1, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 });
    expect(condition(live, 'Progressing')).toMatchObject({ status: 'True', reason: 'NewReplicaSetAvailable' });
    const first = (await call('GET', `/api/v1/namespaces/${NS}/pods?labelSelector=app%3Dweb`)).body.items;
    expect(first).toHaveLength(2);

    await apply(`${DEPLOYMENTS}/web`, deployment('registry.example/model:2'));
    await controller.idle();
    live = (await call('GET', `${DEPLOYMENTS}/web`)).body;
    expect(live.status).toMatchObject({ observedGeneration: 2, updatedReplicas: 2, readyReplicas: 2, unavailableReplicas: 2 });
    expect(condition(live, 'Progressing')).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded' });
    const pods = (await call('GET', `/api/v1/namespaces/${NS}/pods?labelSelector=app%3Dweb`)).body.items;
    expect(pods).toHaveLength(4);
    const crashing = pods.filter((pod: any) => pod.status.containerStatuses[0].state.waiting?.reason === 'CrashLoopBackOff');
    expect(crashing).toHaveLength(2);
    const events = (await call('GET', `/api/v1/namespaces/${NS}/events?fieldSelector=involvedObject.name%3D${crashing[0].metadata.name}`)).body.items;
    expect(events[0]).toMatchObject({ type: 'Warning', reason: 'BackOff', involvedObject: { kind: 'Pod', name: crashing[0].metadata.name } });
    expect(fake.violations).toEqual([]);
  });
});
