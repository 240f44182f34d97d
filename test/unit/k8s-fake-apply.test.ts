import { stringify } from 'yaml';
import { makeTestCa, type TestCa } from '../helpers/ca.js';
import { namespace } from '../helpers/fake-k8s/objects.js';
import { K8sSchemas } from '../helpers/fake-k8s/schemas.js';
import { FakeKubernetes } from '../helpers/fake-k8s/server.js';
import { k8sRequest, k8sWatch } from '../helpers/fake-k8s/test-client.js';
import { specsDir } from '../helpers/paths.js';

const specs = specsDir();
if (!specs) console.warn('SKIPPED fake Kubernetes apply tests: no specs found (set MLOPS_SPECS_DIR or provide ../shared/specs)');
const describeWithSpecs = specs ? describe : describe.skip;

const TOKEN = 'apply-test-token';
const NS = 'models';
const DEPLOYMENTS = `/apis/apps/v1/namespaces/${NS}/deployments`;
const ISVCS = `/apis/serving.kserve.io/v1beta1/namespaces/${NS}/inferenceservices`;
const APPLY = 'application/apply-patch+yaml';

function deployment(name: string, options: { replicas?: number; image?: string; labels?: Record<string, string>; annotations?: Record<string, string> } = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, ...(options.labels ? { labels: options.labels } : {}), ...(options.annotations ? { annotations: options.annotations } : {}) },
    spec: {
      ...(options.replicas !== undefined ? { replicas: options.replicas } : {}),
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'model', image: options.image ?? 'registry.example/model:1' }] } },
    },
  };
}

function isvc(name: string, predictor: Record<string, unknown> = { model: { modelFormat: { name: 'sklearn' }, storageUri: 's3://models/iris/1' } }) {
  return { apiVersion: 'serving.kserve.io/v1beta1', kind: 'InferenceService', metadata: { name }, spec: { predictor } };
}

describeWithSpecs('the fake Kubernetes API server: discovery, server-side apply, watch, status, logs, RBAC', () => {
  let ca: TestCa;
  let schemas: K8sSchemas;
  let fake: FakeKubernetes;
  const call = (method: string, path: string, body?: unknown, contentType?: string, token = TOKEN) => k8sRequest(fake, method, path, { token, body, contentType });
  const apply = (path: string, object: unknown, query: string, token = TOKEN) => call('PATCH', `${path}?${query}`, stringify(object), APPLY, token);

  beforeAll(() => {
    ca = makeTestCa();
    schemas = K8sSchemas.load(specs!);
  });

  beforeEach(async () => {
    fake = await FakeKubernetes.start({ ca, schemas, deploy: true });
    fake.addToken(TOKEN, 'system:serviceaccount:ci:deployer');
    fake.put(namespace(NS));
  });

  afterEach(async () => {
    await fake.close();
  });

  test('discovery lists apps/v1 and serving.kserve.io/v1beta1 with their resources and subresources', async () => {
    const groups = (await call('GET', '/apis')).body.groups.map((group: { name: string; preferredVersion: { groupVersion: string } }) => group.preferredVersion.groupVersion);
    expect(groups).toEqual(['apps/v1', 'serving.kserve.io/v1beta1']);
    const apps = (await call('GET', '/apis/apps/v1')).body.resources.map((resource: { name: string }) => resource.name);
    expect(apps).toEqual(['deployments', 'deployments/status', 'replicasets', 'replicasets/status']);
    const kserve = (await call('GET', '/apis/serving.kserve.io/v1beta1')).body;
    expect(kserve.resources).toEqual([
      expect.objectContaining({ name: 'inferenceservices', kind: 'InferenceService', namespaced: true, shortNames: ['isvc'], verbs: expect.arrayContaining(['patch', 'watch']) }),
      expect.objectContaining({ name: 'inferenceservices/status' }),
    ]);
    const core = (await call('GET', '/api/v1')).body.resources.map((resource: { name: string }) => resource.name);
    expect(core).toEqual(expect.arrayContaining(['events', 'pods/log', 'pods/status', 'services/status']));
    expect(fake.violations).toEqual([]);
  });

  test('apply creates (201) with the metadata the API server sets, and an unchanged re-apply keeps the generation', async () => {
    const created = await apply(`${DEPLOYMENTS}/web`, deployment('web', { replicas: 2 }), 'fieldManager=ci');
    expect(created.status).toBe(201);
    expect(created.body.metadata).toMatchObject({
      name: 'web',
      namespace: NS,
      uid: expect.stringMatching(/^[0-9a-f-]{36}$/),
      resourceVersion: expect.stringMatching(/^\d+$/),
      generation: 1,
      creationTimestamp: expect.stringMatching(/Z$/),
      managedFields: [{ manager: 'ci', operation: 'Apply', apiVersion: 'apps/v1', fieldsType: 'FieldsV1', time: expect.any(String), fieldsV1: expect.any(Object) }],
    });
    expect(created.body.metadata.managedFields[0].fieldsV1).toMatchObject({
      'f:spec': { 'f:replicas': {}, 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"model"}': { '.': {}, 'f:image': {}, 'f:name': {} } } } } },
    });
    // Defaults the API server fills in are there, and owned by nobody.
    expect(created.body.spec).toMatchObject({ progressDeadlineSeconds: 600, strategy: { type: 'RollingUpdate' } });
    expect(created.body.metadata.managedFields[0].fieldsV1['f:spec']['f:progressDeadlineSeconds']).toBeUndefined();

    const again = await apply(`${DEPLOYMENTS}/web`, deployment('web', { replicas: 2 }), 'fieldManager=ci');
    expect([again.status, again.body.metadata.generation, again.body.metadata.uid]).toEqual([200, 1, created.body.metadata.uid]);
    const changed = await apply(`${DEPLOYMENTS}/web`, deployment('web', { replicas: 2, image: 'registry.example/model:2' }), 'fieldManager=ci');
    expect([changed.status, changed.body.metadata.generation]).toEqual([200, 2]);
    expect(Number(changed.body.metadata.resourceVersion)).toBeGreaterThan(Number(created.body.metadata.resourceVersion));
    expect(fake.violations).toEqual([]);
  });

  test("apply merges: another manager's fields survive, fields this manager stops applying are removed", async () => {
    await apply(`${DEPLOYMENTS}/web`, deployment('web', { annotations: { 'ci/commit': 'abc' }, labels: { team: 'ml' } }), 'fieldManager=ci');
    await apply(`${DEPLOYMENTS}/web`, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', labels: { owner: 'alice' } } }, 'fieldManager=kubectl');
    const reapplied = await apply(`${DEPLOYMENTS}/web`, deployment('web', { labels: { team: 'ml' } }), 'fieldManager=ci');
    expect(reapplied.status).toBe(200);
    expect(reapplied.body.metadata.labels).toEqual({ team: 'ml', owner: 'alice' });
    expect(reapplied.body.metadata.annotations).toBeUndefined();
    expect(reapplied.body.metadata.managedFields.map((entry: { manager: string }) => entry.manager).sort()).toEqual(['ci', 'kubectl']);
    expect(fake.violations).toEqual([]);
  });

  test('a field another manager owns with another value is a 409 conflict; force takes it over', async () => {
    await apply(`${DEPLOYMENTS}/web`, deployment('web', { replicas: 2 }), 'fieldManager=ci');
    const conflict = await apply(`${DEPLOYMENTS}/web`, deployment('web', { replicas: 5 }), 'fieldManager=autoscaler');
    expect(conflict.status).toBe(409);
    expect(conflict.body).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'Conflict',
      code: 409,
      message: 'Apply failed with 1 conflict: conflict with "ci" using apps/v1: .spec.replicas',
      details: { name: 'web', group: 'apps', kind: 'deployments', causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "ci" using apps/v1', field: '.spec.replicas' }] },
    });
    // The same value is shared ownership, not a conflict.
    expect((await apply(`${DEPLOYMENTS}/web`, deployment('web', { replicas: 2 }), 'fieldManager=other')).status).toBe(200);
    const forced = await apply(`${DEPLOYMENTS}/web`, deployment('web', { replicas: 5 }), 'fieldManager=autoscaler&force=true');
    expect([forced.status, forced.body.spec.replicas]).toEqual([200, 5]);
    const ci = forced.body.metadata.managedFields.find((entry: { manager: string }) => entry.manager === 'ci');
    expect(ci.fieldsV1['f:spec']['f:replicas']).toBeUndefined();
    expect(fake.violations).toEqual([]);
  });

  test('an Update manager owns what it changed: apply conflicts with it too', async () => {
    await apply(`${DEPLOYMENTS}/web`, deployment('web', { replicas: 2 }), 'fieldManager=ci');
    const patched = await call('PATCH', `${DEPLOYMENTS}/web?fieldManager=kubectl-scale`, { spec: { replicas: 3 } }, 'application/merge-patch+json');
    expect(patched.body.metadata.managedFields).toEqual(
      expect.arrayContaining([expect.objectContaining({ manager: 'kubectl-scale', operation: 'Update', fieldsV1: { 'f:spec': { 'f:replicas': {} } } })]),
    );
    const conflict = await apply(`${DEPLOYMENTS}/web`, deployment('web', { replicas: 2 }), 'fieldManager=ci');
    expect([conflict.status, conflict.body.message]).toEqual([409, 'Apply failed with 1 conflict: conflict with "kubectl-scale" using apps/v1: .spec.replicas']);
    expect(fake.violations).toEqual([]);
  });

  test('dryRun=All answers as the write would and stores nothing', async () => {
    const dry = await apply(`${ISVCS}/iris`, isvc('iris'), 'fieldManager=ci&force=true&fieldValidation=Strict&dryRun=All');
    expect(dry.status).toBe(201);
    expect(dry.body).toMatchObject({ kind: 'InferenceService', metadata: { name: 'iris', uid: expect.any(String), generation: 1 } });
    expect((await call('GET', `${ISVCS}/iris`)).status).toBe(404);
    expect(fake.store.history.filter((change) => change.resource.plural === 'inferenceservices')).toEqual([]);
    expect(fake.violations).toEqual([]);
  });

  test('an object its schema rejects is a 422 Invalid with causes, and a violation', async () => {
    const answer = await apply(`${ISVCS}/iris`, isvc('iris', { model: { modelFormat: { name: 'sklearn' } }, modle: 'typo', minReplicas: 'two' }), 'fieldManager=ci');
    expect(answer.status).toBe(422);
    expect(answer.body).toMatchObject({ reason: 'Invalid', code: 422, details: { name: 'iris', group: 'serving.kserve.io', kind: 'InferenceService' } });
    expect(answer.body.details.causes).toEqual(
      expect.arrayContaining([
        { reason: 'FieldValueInvalid', message: 'field not declared in schema', field: 'spec.predictor.modle' },
        expect.objectContaining({ reason: 'FieldValueInvalid', field: 'spec.predictor.minReplicas' }),
      ]),
    );
    expect(answer.body.message).toMatch(/^InferenceService\.serving\.kserve\.io "iris" is invalid: \[/);
    expect(fake.violations.join('\n')).toMatch(/the client sent an invalid InferenceService: spec\.predictor\.modle: field not declared in schema/);
    expect((await call('GET', `${ISVCS}/iris`)).status).toBe(404);
    const selector = deployment('web');
    selector.spec.template.metadata.labels = { app: 'other' };
    const mismatch = await apply(`${DEPLOYMENTS}/web`, selector, 'fieldManager=ci');
    expect([mismatch.status, mismatch.body.details.causes[0].field]).toEqual([422, 'spec.template.metadata.labels']);
  });

  test('apply requests the API server refuses: no fieldManager, a name that differs from the URL, an unknown media type', async () => {
    expect(await apply(`${DEPLOYMENTS}/web`, deployment('web'), 'force=true')).toMatchObject({ status: 400, body: { message: expect.stringContaining('fieldManager is required for apply requests') } });
    expect(await apply(`${DEPLOYMENTS}/web`, deployment('other'), 'fieldManager=ci')).toMatchObject({ status: 400, body: { message: 'the name of the object (other) does not match the name on the URL (web)' } });
    expect((await call('PATCH', `${DEPLOYMENTS}/web`, '{}', 'text/plain')).status).toBe(415);
    expect(fake.violations).toEqual([]);
  });

  test('a user RBAC denies gets 403 with the API server message', async () => {
    fake.addToken('viewer', { name: 'viewer', can: ({ verb }) => verb === 'get' || verb === 'list' });
    const denied = await apply(`${ISVCS}/x`, isvc('x'), 'fieldManager=ci', 'viewer');
    expect(denied.status).toBe(403);
    expect(denied.body).toMatchObject({
      reason: 'Forbidden',
      message: 'inferenceservices.serving.kserve.io "x" is forbidden: User "viewer" cannot patch resource "inferenceservices" in API group "serving.kserve.io" in the namespace "models"',
      details: { name: 'x', group: 'serving.kserve.io', kind: 'inferenceservices' },
    });
    const status = await call('PUT', `${ISVCS}/x/status`, isvc('x'), undefined, 'viewer');
    expect(status.body.message).toBe('inferenceservices.serving.kserve.io "x" is forbidden: User "viewer" cannot update resource "inferenceservices/status" in API group "serving.kserve.io" in the namespace "models"');
    expect(fake.violations).toEqual([]);
  });

  test('status: the main resource ignores it, the status subresource sets only it', async () => {
    const withStatus = { ...isvc('iris'), status: { url: 'http://ignored' } };
    const created = await apply(`${ISVCS}/iris`, withStatus, 'fieldManager=ci');
    expect(created.body.status).toBeUndefined();
    const patched = await call('PATCH', `${ISVCS}/iris/status`, { status: { url: 'http://iris.models.example.com', observedGeneration: 1 }, spec: { predictor: null } }, 'application/merge-patch+json');
    expect(patched.status).toBe(200);
    expect(patched.body.status).toEqual({ url: 'http://iris.models.example.com', observedGeneration: 1 });
    expect(patched.body.spec.predictor).toBeDefined();
    expect(patched.body.metadata.generation).toBe(1);
    const replaced = await call('PUT', `${ISVCS}/iris/status`, { ...patched.body, status: { url: 'http://x' } });
    expect(replaced.body.status).toEqual({ url: 'http://x' });
    const stale = await call('PUT', `${ISVCS}/iris/status`, { ...patched.body, status: {} });
    expect(stale.status).toBe(409);
    expect(fake.violations).toEqual([]);
  });

  test('list with labelSelector and fieldSelector; delete answers with a Status and removes what the object owned', async () => {
    const created = (await apply(`${DEPLOYMENTS}/web`, deployment('web', { labels: { tier: 'model' } }), 'fieldManager=ci')).body;
    await apply(`${DEPLOYMENTS}/other`, deployment('other'), 'fieldManager=ci');
    expect((await call('GET', `${DEPLOYMENTS}?labelSelector=tier%3Dmodel`)).body.items.map((item: any) => item.metadata.name)).toEqual(['web']);
    expect((await call('GET', `${DEPLOYMENTS}?fieldSelector=metadata.name%3Dother`)).body.items.map((item: any) => item.metadata.name)).toEqual(['other']);
    expect((await call('GET', `${DEPLOYMENTS}?fieldSelector=spec.replicas%3D1`)).status).toBe(400);
    fake.put({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web-1', namespace: NS, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: created.metadata.uid }] },
      spec: { containers: [{ name: 'model', image: 'x' }] },
    });
    const deleted = await call('DELETE', `${DEPLOYMENTS}/web`);
    expect(deleted.body).toMatchObject({ kind: 'Status', status: 'Success', details: { name: 'web', group: 'apps', kind: 'deployments', uid: created.metadata.uid } });
    expect((await call('GET', `/api/v1/namespaces/${NS}/pods/web-1`)).status).toBe(404);
    expect((await call('DELETE', `${DEPLOYMENTS}/web`)).body).toMatchObject({ code: 404, message: 'deployments.apps "web" not found' });
    expect(fake.violations).toEqual([]);
  });

  test('watch streams ADDED and MODIFIED, replays from a resourceVersion, and answers a compacted one with 410', async () => {
    const events = k8sWatch(fake, `${ISVCS}?watch=1&fieldSelector=metadata.name%3Diris&allowWatchBookmarks=true`, { token: TOKEN, until: (all) => all.length >= 2 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const created = await apply(`${ISVCS}/iris`, isvc('iris'), 'fieldManager=ci');
    await apply(`${ISVCS}/other`, isvc('other'), 'fieldManager=ci');
    await call('PATCH', `${ISVCS}/iris/status`, { status: { url: 'http://iris' } }, 'application/merge-patch+json');
    expect((await events).events.map((event) => [event.type, event.object.metadata.name])).toEqual([
      ['ADDED', 'iris'],
      ['MODIFIED', 'iris'],
    ]);
    const replay = await k8sWatch(fake, `${ISVCS}?watch=true&resourceVersion=${created.body.metadata.resourceVersion}&timeoutSeconds=1`, { token: TOKEN });
    expect([replay.ended, replay.events.map((event) => [event.type, event.object.metadata.name])]).toEqual([
      true,
      [
        ['ADDED', 'other'],
        ['MODIFIED', 'iris'],
      ],
    ]);
    fake.store.compact();
    const expired = await k8sWatch(fake, `${ISVCS}?watch=true&resourceVersion=${created.body.metadata.resourceVersion}`, { token: TOKEN });
    expect(expired.events).toEqual([{ type: 'ERROR', object: expect.objectContaining({ kind: 'Status', code: 410, reason: 'Expired' }) }]);
    fake.bookmarkIntervalMs = 20;
    const bookmark = await k8sWatch(fake, `${ISVCS}?watch=true&resourceVersion=${fake.store.currentResourceVersion()}&allowWatchBookmarks=true`, {
      token: TOKEN,
      until: (all) => all.some((event) => event.type === 'BOOKMARK'),
    });
    expect(bookmark.events).toEqual([{ type: 'BOOKMARK', object: { apiVersion: 'serving.kserve.io/v1beta1', kind: 'InferenceService', metadata: { resourceVersion: expect.any(String) } } }]);
    expect(fake.violations).toEqual([]);
  });

  test('pod logs: text/plain from the lines a test set, with tailLines, container and previous', async () => {
    fake.put({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'iris-0', namespace: NS },
      spec: { containers: [{ name: 'kserve-container', image: 'x' }, { name: 'queue-proxy', image: 'y' }] },
      status: { phase: 'Running', containerStatuses: [{ name: 'kserve-container', image: 'x', imageID: '', ready: false, restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1 } } }] },
    });
    fake.setPodLog(NS, 'iris-0', ['loading model', 'Traceback', 'ValueError: bad model'], { container: 'kserve-container', previous: true });
    const log = await call('GET', `/api/v1/namespaces/${NS}/pods/iris-0/log?container=kserve-container&previous=true&tailLines=2`);
    expect([log.status, log.contentType, log.text]).toEqual([200, 'text/plain', 'Traceback\nValueError: bad model\n']);
    expect((await call('GET', `/api/v1/namespaces/${NS}/pods/iris-0/log`)).body.message).toBe('a container name must be specified for pod iris-0, choose one of: [kserve-container queue-proxy]');
    expect((await call('GET', `/api/v1/namespaces/${NS}/pods/iris-0/log?container=kserve-container`)).body.message).toBe(
      'container "kserve-container" in pod "iris-0" is waiting to start: CrashLoopBackOff',
    );
    expect(fake.violations).toEqual([]);
  });
});
