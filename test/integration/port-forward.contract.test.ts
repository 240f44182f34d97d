import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { kubeconfigFromServiceConnection, openPortForward, type PortForward } from '../../shared/k8s/port-forward.js';
import { CancelledError, InputError, UserError } from '../../shared/util/errors.js';
import { makeTestCa, type TestCa } from '../helpers/ca.js';
import { endpoints, namespace, pod, service } from '../helpers/fake-k8s/objects.js';
import { K8sSchemas } from '../helpers/fake-k8s/schemas.js';
import { FakeKubernetes, type Attributes } from '../helpers/fake-k8s/server.js';
import { FakeServers, type Running } from '../helpers/fake-servers.js';
import { specsDir } from '../helpers/paths.js';

const specs = specsDir();
if (!specs) console.warn('SKIPPED port-forward contract tests: no specs found (set MLOPS_SPECS_DIR or provide ../shared/specs)');
const describeWithSpecs = specs ? describe : describe.skip;

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.c2VydmljZS1hY2NvdW50LXRva2Vu.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg';
const USER = 'system:serviceaccount:ci:pipeline-bot';
const NS = 'kubeflow';
const TARGET = { namespace: NS, service: 'ml-pipeline', port: 8888 };
const LABELS = { app: 'ml-pipeline', 'app.kubernetes.io/component': 'ml-pipeline' };

/** Stands in for the ml-pipeline API server: a health check, an echo and a byte source. */
const mlPipeline: http.RequestListener = (request, response) => {
  if (request.url === '/apis/v2beta1/healthz') {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ commit_sha: '4f2c1a0', tag_name: '2.3.0', multi_user: false }));
  } else if (request.url === '/echo' && request.method === 'POST') {
    response.writeHead(200, { 'content-type': 'application/octet-stream' });
    request.pipe(response);
  } else if (request.url?.startsWith('/bytes/')) {
    const size = Number(request.url.slice('/bytes/'.length));
    response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
    response.end(pattern(size));
  } else if (request.url === '/hang') {
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.write('started');
  } else {
    response.writeHead(404).end();
  }
};

function pattern(size: number): Buffer {
  const buffer = Buffer.alloc(size);
  for (let i = 0; i < size; i++) buffer[i] = (i * 31 + (i >> 8)) & 0xff;
  return buffer;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** One request on its own connection (no keep-alive), so each one is its own port-forward. */
function call(base: string, path: string, options: { method?: string; body?: Buffer } = {}): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const request = http.request(`${base}${path}`, { method: options.method ?? 'GET', agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(options.body);
  });
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

/** Waits until a condition holds, for state the fake updates as sockets close. */
async function eventually(condition: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describeWithSpecs('openPortForward against a fake Kubernetes API server (schemas: Kubernetes OpenAPI v3)', () => {
  let ca: TestCa;
  let schemas: K8sSchemas;
  let servers: FakeServers;
  let backend: Running<http.Server>;
  let fake: FakeKubernetes;
  let forward: PortForward | undefined;
  let logs: string[];

  const open = (options: Partial<Parameters<typeof openPortForward>[0]> = {}) =>
    openPortForward({ kubeconfig: fake.kubeconfig({ token: TOKEN }), target: TARGET, log: (line) => logs.push(line), ...options });

  /** Runs openPortForward expecting it to fail; returns the error after checking no secret leaked. */
  async function failure(options: Partial<Parameters<typeof openPortForward>[0]> = {}): Promise<Error> {
    const error = await open(options).then(
      (opened) => {
        forward = opened;
        throw new Error('openPortForward succeeded');
      },
      (caught: Error) => caught,
    );
    expect(error.message).not.toContain(TOKEN);
    expect(error.message).not.toMatch(/[\r\n]/);
    return error;
  }

  beforeAll(() => {
    ca = makeTestCa();
    schemas = K8sSchemas.load(specs!);
  });

  beforeEach(async () => {
    logs = [];
    servers = new FakeServers();
    backend = await servers.http(mlPipeline);
    fake = await FakeKubernetes.start({ ca, schemas });
    fake.addToken(TOKEN, USER);
    fake.put(
      namespace(NS),
      service(NS, 'ml-pipeline', { selector: LABELS, ports: [{ name: 'http', port: 8888 }, { name: 'grpc', port: 8887 }] }),
      pod(NS, 'ml-pipeline-7d9f8-abcde', { labels: LABELS, ports: [{ name: 'http', containerPort: 8888 }, { name: 'grpc', containerPort: 8887 }] }),
    );
    fake.forward(NS, 'ml-pipeline-7d9f8-abcde', 8888, { port: backend.port });
  });

  afterEach(async () => {
    await forward?.close();
    forward = undefined;
    await fake.close();
    await servers.close();
    for (const line of logs) expect(line).not.toContain(TOKEN);
  });

  test('reaches the pod behind the service through the pods/portforward WebSocket', async () => {
    forward = await open();
    expect(forward.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(forward.pod).toBe('ml-pipeline-7d9f8-abcde');
    expect(forward.podPort).toBe(8888);

    const health = await call(forward.url, '/apis/v2beta1/healthz');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body.toString())).toMatchObject({ tag_name: '2.3.0' });

    // Resolved as the real client must: the service, then its pods by selector.
    const reads = fake.requests.filter((request) => !request.upgrade).map((request) => `${request.path}${decodeURIComponent(request.query)}`);
    expect(reads).toEqual([
      '/api/v1/namespaces/kubeflow/services/ml-pipeline',
      '/api/v1/namespaces/kubeflow/pods?labelSelector=app=ml-pipeline,app.kubernetes.io/component=ml-pipeline',
    ]);
    for (const session of fake.portForwards) {
      expect(session).toMatchObject({ namespace: NS, pod: 'ml-pipeline-7d9f8-abcde', ports: [8888], protocol: 'v4.channel.k8s.io', user: USER, errors: [] });
    }
    // The probe made when opening, then the request.
    expect(fake.portForwards).toHaveLength(2);
    expect(fake.requests.every((request) => request.user === USER)).toBe(true);
    expect(logs.join('\n')).toContain(`service kubeflow/ml-pipeline:8888 -> pod ml-pipeline-7d9f8-abcde:8888 through ${fake.origin}, on ${forward.url}`);
    expect(fake.violations).toEqual([]);
  });

  test('carries several concurrent connections and large bodies both ways', async () => {
    forward = await open();
    const uploads = Array.from({ length: 6 }, () => randomBytes(3 * 1024 * 1024 + 17));
    const [download, ...echoes] = await Promise.all([
      call(forward.url, `/bytes/${16 * 1024 * 1024}`),
      ...uploads.map((body) => call(forward!.url, '/echo', { method: 'POST', body })),
    ]);
    expect(download!.status).toBe(200);
    expect(sha256(download!.body)).toBe(sha256(pattern(16 * 1024 * 1024)));
    echoes.forEach((echo, index) => {
      expect(echo.status).toBe(200);
      expect(echo.body.length).toBe(uploads[index]!.length);
      expect(sha256(echo.body)).toBe(sha256(uploads[index]!));
    });
    await eventually(() => fake.portForwards.every((session) => session.closed));
    const sessions = fake.portForwards.slice(1);
    expect(sessions).toHaveLength(7);
    const total = uploads.reduce((sum, body) => sum + body.length, 0);
    expect(sessions.reduce((sum, session) => sum + session.bytesFromClient, 0)).toBeGreaterThanOrEqual(total);
    expect(sessions.reduce((sum, session) => sum + session.bytesToClient, 0)).toBeGreaterThanOrEqual(total + 16 * 1024 * 1024);
    expect(fake.violations).toEqual([]);
  });

  test('skips pods that are not ready or terminating, and resolves a named targetPort', async () => {
    fake.put(
      service(NS, 'ml-pipeline', { selector: LABELS, ports: [{ name: 'http', port: 8888, targetPort: 'api' }] }),
      pod(NS, 'ml-pipeline-7d9f8-abcde', { labels: LABELS, ready: false, ports: [{ name: 'api', containerPort: 8888 }] }),
      pod(NS, 'ml-pipeline-7d9f8-pendi', { labels: LABELS, phase: 'Pending', ports: [{ name: 'api', containerPort: 8888 }] }),
      pod(NS, 'ml-pipeline-7d9f8-termi', { labels: LABELS, deleting: true, ports: [{ name: 'api', containerPort: 8888 }] }),
      pod(NS, 'ml-pipeline-7d9f8-zzzzz', { labels: LABELS, ports: [{ name: 'api', containerPort: 3000 }], readySince: new Date(Date.now() - 3_600_000) }),
      pod(NS, 'ml-pipeline-7d9f8-newer', { labels: LABELS, ports: [{ name: 'api', containerPort: 3000 }], readySince: new Date(Date.now() - 5_000) }),
      pod(NS, 'unrelated', { labels: { app: 'other' }, ports: [{ name: 'api', containerPort: 3000 }] }),
    );
    fake.forward(NS, 'ml-pipeline-7d9f8-zzzzz', 3000, { port: backend.port });
    forward = await open();
    expect(forward.pod).toBe('ml-pipeline-7d9f8-zzzzz');
    expect(forward.podPort).toBe(3000);
    expect((await call(forward.url, '/apis/v2beta1/healthz')).status).toBe(200);
    expect(fake.portForwards.map((session) => `${session.pod}:${session.ports.join(',')}`)).toEqual([
      'ml-pipeline-7d9f8-zzzzz:3000',
      'ml-pipeline-7d9f8-zzzzz:3000',
    ]);
    expect(fake.violations).toEqual([]);
  });

  test('resolves a service without a selector through its Endpoints (ready addresses only)', async () => {
    fake.put(
      service(NS, 'ml-pipeline', { ports: [{ name: 'http', port: 8888, targetPort: 'api' }, { name: 'grpc', port: 8887 }] }),
      pod(NS, 'external-0', { ports: [{ containerPort: 9000 }] }),
      pod(NS, 'external-1', { ports: [{ containerPort: 9000 }], ready: false }),
      endpoints(NS, 'ml-pipeline', {
        notReady: [{ pod: 'external-1', ip: '10.244.0.11' }],
        ready: [{ pod: 'external-0', ip: '10.244.0.10' }],
        ports: [
          { name: 'grpc', port: 8887 },
          { name: 'http', port: 9000 },
        ],
      }),
    );
    fake.forward(NS, 'external-0', 9000, { port: backend.port });
    forward = await open();
    expect([forward.pod, forward.podPort]).toEqual(['external-0', 9000]);
    expect((await call(forward.url, '/apis/v2beta1/healthz')).status).toBe(200);
    expect(fake.requests.map((request) => request.path)).toContain('/api/v1/namespaces/kubeflow/endpoints/ml-pipeline');
    expect(fake.violations).toEqual([]);
  });

  test('close() drops open connections and frees the local port', async () => {
    forward = await open();
    const port = Number(new URL(forward.url).port);
    // A response that never ends keeps a WebSocket open until close().
    const hanging = new Promise<string>((resolve) => {
      http.get(`${forward!.url}/hang`, { agent: false }, (response) => {
        response.once('data', () => resolve('started'));
        response.on('error', () => undefined);
      });
    });
    expect(await hanging).toBe('started');
    await forward.close();
    forward = undefined;
    expect(await refused(port)).toBe(true);
    // The port can be bound again at once.
    const again = net.createServer();
    await new Promise<void>((resolve, reject) => again.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
    await new Promise<void>((resolve) => again.close(() => resolve()));
    await eventually(() => fake.portForwards.every((session) => session.closed));
    expect(fake.violations).toEqual([]);
  });

  test('aborting the signal tears the forward down; an aborted signal stops it from opening', async () => {
    const controller = new AbortController();
    forward = await open({ signal: controller.signal });
    const port = Number(new URL(forward.url).port);
    expect((await call(forward.url, '/apis/v2beta1/healthz')).status).toBe(200);
    controller.abort();
    await eventually(() => fake.portForwards.every((session) => session.closed));
    await expect(refused(port)).resolves.toBe(true);
    await forward.close(); // idempotent after an abort

    const aborted = new AbortController();
    aborted.abort();
    forward = undefined;
    expect(await failure({ signal: aborted.signal })).toBeInstanceOf(CancelledError);
  });

  test('aborting while the API server is slow to answer cancels at once', async () => {
    fake.latencyMs = 10_000;
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 200);
    const error = await failure({ signal: controller.signal });
    expect(error).toBeInstanceOf(CancelledError);
    expect(error.message).toBe('the port-forward was cancelled');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  test('aborting while the API server holds a WebSocket upgrade cancels at once', async () => {
    fake.upgradeLatencyMs = 10_000;
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 300);
    const error = await failure({ signal: controller.signal });
    expect(error).toBeInstanceOf(CancelledError);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  test('a connection the pod refuses later is dropped and its reason logged from the error channel', async () => {
    forward = await open();
    fake.forward(NS, 'ml-pipeline-7d9f8-abcde', 8888, { port: await servers.closedPort() });
    await expect(call(forward.url, '/apis/v2beta1/healthz')).rejects.toThrow();
    await eventually(() => logs.some((line) => line.includes('error forwarding port 8888 to pod ml-pipeline-7d9f8-abcde')));
    expect(logs.find((line) => line.includes('error forwarding'))).toMatch(
      /^port-forward: pod ml-pipeline-7d9f8-abcde:8888: error forwarding port 8888 to pod ml-pipeline-7d9f8-abcde, uid [0-9a-f-]+: dial tcp 127\.0\.0\.1:\d+: ECONNREFUSED$/,
    );
    expect(fake.violations).toEqual([]);
  });

  test('HTTPS_PROXY is honoured for the API calls and the WebSockets; NO_PROXY bypasses it', async () => {
    const proxy = await servers.proxy();
    const apiServer = new URL(fake.origin).host;
    forward = await open({ env: { HTTPS_PROXY: proxy.url } });
    expect((await call(forward.url, '/apis/v2beta1/healthz')).status).toBe(200);
    // Service, pods, the probe and the request: each tunnelled with CONNECT.
    expect(proxy.seen.map((request) => `${request.method} ${request.target}`)).toEqual(Array(4).fill(`CONNECT ${apiServer}`));
    expect(logs.join('\n')).toContain(`through ${fake.origin} (via proxy ${proxy.url}), on ${forward.url}`);
    await forward.close();

    forward = await open({ env: { HTTPS_PROXY: proxy.url, NO_PROXY: '127.0.0.1' } });
    expect((await call(forward.url, '/apis/v2beta1/healthz')).status).toBe(200);
    expect(proxy.seen).toHaveLength(4);
    expect(fake.violations).toEqual([]);
  });

  test('an Azure DevOps ServiceAccount connection (base64 token and CA) reaches the pod', async () => {
    const kubeconfig = kubeconfigFromServiceConnection({
      id: 'c0ffee00-1234-4321-abcd-0123456789ab',
      url: fake.origin,
      scheme: 'Token',
      parameters: { apitoken: Buffer.from(TOKEN).toString('base64'), serviceAccountCertificate: Buffer.from(ca.caPem).toString('base64') },
      data: { authorizationtype: 'ServiceAccount' },
    });
    forward = await open({ kubeconfig, kubeconfigInput: 'kubernetesServiceConnection' });
    expect((await call(forward.url, '/apis/v2beta1/healthz')).status).toBe(200);
    expect(fake.requests.every((request) => request.user === USER)).toBe(true);
    await forward.close();
    forward = undefined;

    fake.addToken(TOKEN, { name: USER, can: ({ resource }: Attributes) => resource !== 'pods' });
    const error = await failure({ kubeconfig, kubeconfigInput: 'kubernetesServiceConnection' });
    expect(error.message).toBe(
      `the Kubernetes API server ${fake.origin} answered GET pods of service kubeflow/ml-pipeline with 403 Forbidden: the user in 'kubernetesServiceConnection' lacks permission: pods is forbidden: User "${USER}" cannot list resource "pods" in API group "" in the namespace "kubeflow"`,
    );
    expect(fake.violations).toEqual([]);
  });

  describe('fails with one line naming the input or the server', () => {
    test('a kubeconfig without a current context (InputError kubeconfig)', async () => {
      const kubeconfig = fake.kubeconfig({ token: TOKEN }).replace(/^current-context:.*$/m, '');
      const error = await failure({ kubeconfig });
      expect(error).toBeInstanceOf(InputError);
      expect(error.message).toBe("input 'kubeconfig': has no current-context (contexts: fake)");
      expect(fake.requests).toEqual([]);
    });

    test('a kubeconfig that does not parse, under the input it came from', async () => {
      const error = await failure({ kubeconfig: `clusters: [\n  token: ${TOKEN}`, kubeconfigInput: 'kubernetesServiceConnection' });
      expect(error).toBeInstanceOf(InputError);
      expect(error.message).toMatch(/^input 'kubernetesServiceConnection': does not parse as YAML/);
    });

    test('a target that is not valid (InputError portForward)', async () => {
      const error = await failure({ target: { namespace: 'Kubeflow', service: 'ml-pipeline', port: 8888 } });
      expect(error).toBeInstanceOf(InputError);
      expect(error.message).toMatch(/^input 'portForward': namespace 'Kubeflow' is not a DNS-1123 label/);
    });

    test('an unreachable API server', async () => {
      const server = `https://127.0.0.1:${await servers.closedPort()}`;
      const error = await failure({ kubeconfig: fake.kubeconfig({ token: TOKEN, server }) });
      expect(error).toBeInstanceOf(UserError);
      expect(error.message).toMatch(new RegExp(`^cannot reach the Kubernetes API server ${server} \\(from 'kubeconfig'\\) for GET service kubeflow/ml-pipeline: .*ECONNREFUSED`));
    });

    test('an API server whose certificate the kubeconfig does not trust', async () => {
      const error = await failure({ kubeconfig: fake.kubeconfig({ token: TOKEN, caPem: makeTestCa().caPem }) });
      expect(error.message).toMatch(/^the Kubernetes API server https:\/\/127\.0\.0\.1:\d+ has a certificate that is not trusted \(\w+\): check the cluster's certificate-authority-data in 'kubeconfig'$/);
    });

    test('a service that does not exist', async () => {
      const error = await failure({ target: { ...TARGET, service: 'ml-pipeline-ui' } });
      expect(error).toBeInstanceOf(UserError);
      expect(error.message).toBe(
        `service kubeflow/ml-pipeline-ui was not found on the Kubernetes API server ${fake.origin}: check 'portForward' and the namespace`,
      );
      expect(fake.violations).toEqual([]);
    });

    test('a pod that refuses the port: found when opening, with the reason the API server gives', async () => {
      fake.forward(NS, 'ml-pipeline-7d9f8-abcde', 8888, { port: await servers.closedPort() });
      const error = await failure();
      expect(error.message).toMatch(
        /^the port-forward to pod kubeflow\/ml-pipeline-7d9f8-abcde port 8888 failed: error forwarding port 8888 to pod ml-pipeline-7d9f8-abcde, uid [0-9a-f-]+: dial tcp 127\.0\.0\.1:\d+: ECONNREFUSED$/,
      );
      expect(fake.violations).toEqual([]);
    });

    test('a plain-HTTP API server without insecure-skip-tls-verify (InputError kubeconfig)', async () => {
      const error = await failure({ kubeconfig: fake.kubeconfig({ token: TOKEN, server: fake.origin.replace('https:', 'http:'), caPem: null }) });
      expect(error.message).toBe(
        "input 'kubeconfig': cluster 'fake' has an http:// server: use https://, or set insecure-skip-tls-verify: true to allow plain HTTP",
      );
    });

    test('a service port that does not exist', async () => {
      const error = await failure({ target: { ...TARGET, port: 9999 } });
      expect(error.message).toBe("service kubeflow/ml-pipeline has no TCP port 9999 (its ports: 8888/TCP, 8887/TCP): check 'portForward'");
    });

    test('a service with no ready pod', async () => {
      fake.put(
        pod(NS, 'ml-pipeline-7d9f8-abcde', { labels: LABELS, ready: false, ports: [{ name: 'http', containerPort: 8888 }] }),
        pod(NS, 'ml-pipeline-7d9f8-fghij', { labels: LABELS, phase: 'Pending' }),
      );
      const error = await failure();
      expect(error.message).toBe(
        'service kubeflow/ml-pipeline has no ready pod (2 match its selector app=ml-pipeline,app.kubernetes.io/component=ml-pipeline: ml-pipeline-7d9f8-abcde Running but not ready, ml-pipeline-7d9f8-fghij Pending)',
      );
      expect(fake.portForwards).toEqual([]);
      expect(fake.violations).toEqual([]);
    });

    test('a selector-less service whose Endpoints have no ready address', async () => {
      fake.put(
        service(NS, 'ml-pipeline', { ports: [{ port: 8888 }] }),
        endpoints(NS, 'ml-pipeline', { notReady: [{ pod: 'ml-pipeline-7d9f8-abcde', ip: '10.244.0.10' }], ports: [{ port: 8888 }] }),
      );
      const error = await failure();
      expect(error.message).toBe('service kubeflow/ml-pipeline has no ready pod (it has no selector, and its Endpoints list no ready address backed by a pod)');
      expect(fake.violations).toEqual([]);
    });

    test('401 from the API server: says so and names the input, never the token', async () => {
      const error = await failure({ kubeconfig: fake.kubeconfig({ token: `${TOKEN}-revoked` }) });
      expect(error.message).toBe(
        `the Kubernetes API server ${fake.origin} answered GET service kubeflow/ml-pipeline with 401 Unauthorized: the credentials in 'kubeconfig' were not accepted (expired or revoked?)`,
      );
    });

    test('403 on reading the service: says so with the API server reason', async () => {
      fake.addToken(TOKEN, { name: USER, can: ({ resource }: Attributes) => resource !== 'services' });
      const error = await failure();
      expect(error.message).toBe(
        `the Kubernetes API server ${fake.origin} answered GET service kubeflow/ml-pipeline with 403 Forbidden: the user in 'kubeconfig' lacks permission: services "ml-pipeline" is forbidden: User "${USER}" cannot get resource "services" in API group "" in the namespace "kubeflow"`,
      );
      expect(fake.violations).toEqual([]);
    });

    test('403 on pods/portforward: found when opening, not on the first connection', async () => {
      fake.addToken(TOKEN, { name: USER, can: ({ subresource }: Attributes) => subresource !== 'portforward' });
      const error = await failure();
      expect(error.message).toBe(
        `the Kubernetes API server ${fake.origin} answered the port-forward to pod kubeflow/ml-pipeline-7d9f8-abcde port 8888 with 403 Forbidden: the user in 'kubeconfig' lacks permission: create pods/portforward in namespace kubeflow`,
      );
      expect(fake.violations).toEqual([]);
    });

    test('an API server that keeps answering 503 (retried, then reported)', async () => {
      fake.outage = 503;
      const error = await failure();
      expect(error.message).toBe(
        `the Kubernetes API server ${fake.origin} answered GET service kubeflow/ml-pipeline with 503: the fake API server is down for this test`,
      );
      expect(fake.requests).toHaveLength(4);
    });
  });
});
