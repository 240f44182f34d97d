import { endpoints, namespace, pod, service } from '../helpers/fake-k8s/objects.js';
import { K8sSchemas } from '../helpers/fake-k8s/schemas.js';
import { ObjectStore, parseLabelSelector, type K8sObject } from '../helpers/fake-k8s/store.js';
import { specsDir } from '../helpers/paths.js';

const specs = specsDir();
if (!specs) console.warn('SKIPPED fake Kubernetes schema tests: no specs found (set MLOPS_SPECS_DIR or provide ../shared/specs)');
const describeWithSpecs = specs ? describe : describe.skip;

// The fake is only as good as its checks: these show they catch what they are meant to.
describeWithSpecs('the fake Kubernetes API server checks objects and requests against the OpenAPI v3 schemas', () => {
  let schemas: K8sSchemas;
  beforeAll(() => {
    schemas = K8sSchemas.load(specs!);
  });

  test('the fixtures the tests use are valid objects', () => {
    expect(schemas.validate('io.k8s.api.core.v1.Namespace', namespace('kubeflow'))).toEqual([]);
    expect(schemas.validate('io.k8s.api.core.v1.Service', service('kubeflow', 'ml-pipeline', { selector: { app: 'x' }, ports: [{ name: 'http', port: 8888, targetPort: 'api' }] }))).toEqual([]);
    expect(schemas.validate('io.k8s.api.core.v1.Service', service('kubeflow', 'external', { ports: [{ port: 80 }], type: 'ExternalName' }))).toEqual([]);
    expect(schemas.validate('io.k8s.api.core.v1.Pod', pod('kubeflow', 'p', { ports: [{ name: 'http', containerPort: 8888 }], deleting: true }))).toEqual([]);
    expect(schemas.validate('io.k8s.api.core.v1.Pod', pod('kubeflow', 'p', { phase: 'Pending' }))).toEqual([]);
    expect(
      schemas.validate('io.k8s.api.core.v1.Endpoints', endpoints('kubeflow', 'e', { ready: [{ pod: 'p', ip: '10.0.0.1' }], notReady: [{ pod: 'q', ip: '10.0.0.2' }], ports: [{ port: 1 }] })),
    ).toEqual([]);
  });

  test('wrong types, missing required fields and unknown fields are violations', () => {
    const bad = service('kubeflow', 'ml-pipeline', { ports: [{ port: 8888 }] }) as K8sObject & { spec: Record<string, any> };
    bad.spec.ports[0].port = '8888';
    bad.spec.ports.push({ name: 'no-port' });
    bad.spec.selectr = { app: 'typo' };
    bad.metadata.labels = { app: 7 as unknown as string };
    expect(schemas.validate('io.k8s.api.core.v1.Service', bad).sort()).toEqual(
      [
        '/metadata/labels/app must be string',
        "/spec must NOT have additional properties 'selectr'",
        '/spec/ports/0/port must be integer',
        "/spec/ports/1 must have required property 'port'",
      ].sort(),
    );
    const badPod = pod('kubeflow', 'p') as K8sObject & { spec: Record<string, any> };
    badPod.spec.containers[0].ports = [{ containerPort: 2 ** 40 }];
    delete badPod.spec.containers[0].name;
    expect(schemas.validate('io.k8s.api.core.v1.Pod', badPod).sort()).toEqual(
      ["/spec/containers/0 must have required property 'name'", '/spec/containers/0/ports/0/containerPort must match format "int32"'].sort(),
    );
  });

  test('the store validates what is put in it and stamps what the API server stamps', () => {
    const violations: string[] = [];
    const store = new ObjectStore((schema, value, where) => violations.push(...schemas.validate(schema, value).map((problem) => `${where}: ${problem}`)));
    const stored = store.put(service('kubeflow', 'ml-pipeline', { ports: [{ port: 8888 }] }));
    expect(stored.metadata).toMatchObject({ namespace: 'kubeflow', resourceVersion: expect.stringMatching(/^\d+$/), uid: expect.any(String) });
    expect(violations).toEqual([]);
    const broken = pod('kubeflow', 'p');
    (broken.status as Record<string, unknown>).phase = 7;
    store.put(broken);
    expect(violations).toEqual(['stored Pod kubeflow/p: /status/phase must be string']);
  });

  test('request lines are checked against the paths and query parameters of the spec', () => {
    expect(schemas.checkRequest('GET', '/api/v1/namespaces/kubeflow/pods', new URLSearchParams('labelSelector=app%3Dx&limit=10'))).toEqual([]);
    expect(schemas.checkRequest('GET', '/api/v1/namespaces/kubeflow/pods/p/portforward', new URLSearchParams('ports=8888'))).toEqual([]);
    expect(schemas.checkRequest('GET', '/api/v1/namespaces/kubeflow/pods', new URLSearchParams('selector=app&limit=ten'))).toEqual([
      "query parameter 'selector' is not declared for GET /api/v1/namespaces/{namespace}/pods",
      "query parameter 'limit' must be an integer, got 'ten'",
    ]);
    expect(schemas.checkRequest('GET', '/api/v1/namespaces/kubeflow/pods/p/portforward', new URLSearchParams('ports=http'))).toEqual([
      "query parameter 'ports' must be an integer, got 'http'",
    ]);
    expect(schemas.checkRequest('POST', '/api/v1/namespaces/kubeflow/services/s', new URLSearchParams())).toEqual([
      'POST is not an operation of /api/v1/namespaces/{namespace}/services/{name}',
    ]);
    expect(schemas.checkRequest('GET', '/api', new URLSearchParams())).toBeUndefined();
  });

  test('discovery documents outside the per-version files have schemas of their own', () => {
    expect(schemas.validate('io.k8s.apimachinery.pkg.apis.meta.v1.APIVersions', { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] })).toEqual([]);
    expect(schemas.validate('io.k8s.apimachinery.pkg.apis.meta.v1.APIVersions', { kind: 'APIVersions', versions: 'v1' })).toHaveLength(2);
  });
});

describe('label selectors as the API server parses them', () => {
  const labels = { app: 'ml-pipeline', tier: 'api', canary: '' };
  test.each([
    ['', true],
    ['app=ml-pipeline', true],
    ['app==ml-pipeline,tier=api', true],
    ['app=ml-pipeline,tier=ui', false],
    ['app!=ui', true],
    ['missing!=x', true],
    ['tier in (api, ui)', true],
    ['tier notin (api)', false],
    ['missing notin (api)', true],
    ['canary', true],
    ['!canary', false],
    ['!missing,app', true],
    ['app.kubernetes.io/name=x', false],
  ])('%j matches: %s', (selector, expected) => {
    const matches = parseLabelSelector(selector);
    if (typeof matches === 'string') throw new Error(matches);
    expect(matches(labels)).toBe(expected);
  });

  test('a selector that does not parse gives the reason', () => {
    expect(parseLabelSelector('app=(x')).toBe("unable to parse requirement: 'app=(x'");
  });
});
