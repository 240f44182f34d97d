import https from 'node:https';
import type net from 'node:net';
import { makeTestCa, type TestCa } from '../helpers/ca.js';
import { namespace, pod, service } from '../helpers/fake-k8s/objects.js';
import { RawWebSocket, type Frame } from '../helpers/fake-k8s/raw-websocket.js';
import { K8sSchemas } from '../helpers/fake-k8s/schemas.js';
import { FakeKubernetes } from '../helpers/fake-k8s/server.js';
import { FakeServers, type Running } from '../helpers/fake-servers.js';
import { specsDir } from '../helpers/paths.js';

const specs = specsDir();
if (!specs) console.warn('SKIPPED fake Kubernetes API server tests: no specs found (set MLOPS_SPECS_DIR or provide ../shared/specs)');
const describeWithSpecs = specs ? describe : describe.skip;

const TOKEN = 'fake-server-test-token';
const NS = 'kubeflow';
const POD = 'ml-pipeline-0';
const PORTFORWARD = `/api/v1/namespaces/${NS}/pods/${POD}/portforward`;

const portBytes = (port: number) => {
  const bytes = Buffer.alloc(2);
  bytes.writeUInt16LE(port, 0);
  return bytes;
};
const binaryFrames = (frames: Frame[]) => frames.filter((frame) => frame.opcode === 2).map((frame) => [frame.payload[0], frame.payload.subarray(1).toString('hex')]);

/**
 * The fake's side of the protocols, seen on the wire with a bare WebSocket client: what the
 * DeployModel tests and any future client can rely on, independent of @kubernetes/client-node.
 */
describeWithSpecs('the fake Kubernetes API server, on the wire', () => {
  let ca: TestCa;
  let schemas: K8sSchemas;
  let servers: FakeServers;
  let echo: Running<net.Server>;
  let fake: FakeKubernetes;

  const get = (path: string, token = TOKEN): Promise<{ status: number; body: any }> =>
    new Promise((resolve, reject) => {
      https
        .get(`${fake.origin}${path}`, { ca: ca.caPem, headers: token ? { authorization: `Bearer ${token}` } : {} }, (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString() || 'null') }));
        })
        .on('error', reject);
    });
  const upgrade = (path: string, options: { protocols?: string[]; token?: string } = {}) =>
    RawWebSocket.open(`${fake.origin}${path}`, { ca: ca.caPem, token: TOKEN, protocols: ['v4.channel.k8s.io'], ...options });

  beforeAll(() => {
    ca = makeTestCa();
    schemas = K8sSchemas.load(specs!);
  });

  beforeEach(async () => {
    servers = new FakeServers();
    // An upper-casing echo: what comes back proves the bytes went through the target.
    echo = await servers.tcp((socket) => socket.on('data', (chunk: Buffer) => socket.write(chunk.toString('latin1').toUpperCase(), 'latin1')));
    fake = await FakeKubernetes.start({ ca, schemas });
    fake.addToken(TOKEN, 'system:serviceaccount:ci:bot');
    fake.put(namespace(NS), service(NS, 'ml-pipeline', { selector: { app: 'ml-pipeline' }, ports: [{ port: 8888 }] }), pod(NS, POD, { labels: { app: 'ml-pipeline' } }));
    fake.forward(NS, POD, 8888, { port: echo.port });
  });

  afterEach(async () => {
    await fake.close();
    await servers.close();
  });

  test('discovery: /api, /apis and the v1 resource list, with pods/portforward', async () => {
    expect((await get('/api')).body).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    expect((await get('/apis')).body).toMatchObject({ kind: 'APIGroupList', groups: [] });
    const resources = (await get('/api/v1')).body.resources.map((resource: { name: string }) => resource.name);
    expect(resources).toEqual(['namespaces', 'services', 'endpoints', 'pods', 'pods/portforward']);
    expect(fake.violations).toEqual([]);
  });

  test('get, list with a label selector, 404 and 401 as the API server answers them', async () => {
    expect((await get(`/api/v1/namespaces/${NS}/services/ml-pipeline`)).body).toMatchObject({ apiVersion: 'v1', kind: 'Service' });
    const list = await get(`/api/v1/namespaces/${NS}/pods?labelSelector=${encodeURIComponent('app in (ml-pipeline)')}`);
    expect(list.body).toMatchObject({ apiVersion: 'v1', kind: 'PodList', items: [{ metadata: { name: POD } }] });
    expect(list.body.items[0].kind).toBeUndefined();
    expect((await get(`/api/v1/namespaces/${NS}/pods?labelSelector=app%3Dother`)).body.items).toEqual([]);
    expect(await get(`/api/v1/namespaces/${NS}/services/nope`)).toEqual({
      status: 404,
      body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'services "nope" not found', reason: 'NotFound', details: { name: 'nope', kind: 'services' }, code: 404 },
    });
    expect((await get(`/api/v1/namespaces/${NS}/services/ml-pipeline`, '')).status).toBe(401);
    expect(fake.violations).toEqual([]);
  });

  test('requests the spec does not know are violations', async () => {
    await get(`/api/v1/namespaces/${NS}/pods?selector=app`);
    await get('/api/v1/namespaces/kubeflow/widgets');
    expect(fake.violations).toEqual([
      "request GET /api/v1/namespaces/kubeflow/pods?selector=app: query parameter 'selector' is not declared for GET /api/v1/namespaces/{namespace}/pods",
      "request GET /api/v1/namespaces/kubeflow/widgets: no resource type 'widgets' in v1",
    ]);
  });

  test('port-forward on v4.channel.k8s.io: port headers on channels 0 and 1, data piped, closed when the target ends', async () => {
    const { status, protocol, ws } = await upgrade(`${PORTFORWARD}?ports=8888`, { protocols: ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'channel.k8s.io'] });
    expect([status, protocol]).toEqual([101, 'v4.channel.k8s.io']);
    await ws!.until((frames) => frames.length >= 2);
    expect(binaryFrames(ws!.frames)).toEqual([
      [0, portBytes(8888).toString('hex')],
      [1, portBytes(8888).toString('hex')],
    ]);
    ws!.send(Buffer.concat([Buffer.from([0]), Buffer.from('hello pod')]));
    await ws!.until((frames) => frames.length >= 3);
    expect(ws!.frames[2]!.payload.toString()).toBe('\0HELLO POD');
    // The target closing its end closes the WebSocket.
    await servers.close();
    await ws!.until((frames) => frames.some((frame) => frame.opcode === 8));
    ws!.close();
    await ws!.ended();
    expect(fake.portForwards).toMatchObject([{ pod: POD, ports: [8888], protocol: 'v4.channel.k8s.io', bytesFromClient: 9, bytesToClient: 9, errors: [], closed: true }]);
    expect(ws!.problems).toEqual([]);
    expect(fake.violations).toEqual([]);
  });

  test('port-forward on v4.base64.channel.k8s.io: text frames, channel as a digit, payload in base64', async () => {
    const { protocol, ws } = await upgrade(`${PORTFORWARD}?ports=8888`, { protocols: ['v4.base64.channel.k8s.io'] });
    expect(protocol).toBe('v4.base64.channel.k8s.io');
    await ws!.until((frames) => frames.length >= 2);
    expect(ws!.frames.map((frame) => [frame.opcode, frame.payload.toString()])).toEqual([
      [1, `0${portBytes(8888).toString('base64')}`],
      [1, `1${portBytes(8888).toString('base64')}`],
    ]);
    ws!.send(`0${Buffer.from('base64 data').toString('base64')}`);
    await ws!.until((frames) => frames.length >= 3);
    expect(Buffer.from(ws!.frames[2]!.payload.toString().slice(1), 'base64').toString()).toBe('BASE64 DATA');
    ws!.close();
    await ws!.ended();
    expect(fake.violations).toEqual([]);
  });

  test('two ports on one WebSocket: channels 0/1 and 2/3; a port with no target reports on its error channel', async () => {
    const { ws } = await upgrade(`${PORTFORWARD}?ports=8888&ports=9090`);
    await ws!.until((frames) => frames.filter((frame) => frame.payload[0] === 3).length >= 2);
    const frames = binaryFrames(ws!.frames);
    expect(frames.slice(0, 4)).toEqual([
      [0, portBytes(8888).toString('hex')],
      [1, portBytes(8888).toString('hex')],
      [2, portBytes(9090).toString('hex')],
      [3, portBytes(9090).toString('hex')],
    ]);
    const error = ws!.frames.find((frame) => frame.payload[0] === 3 && frame.payload.length > 3)!;
    expect(error.payload.subarray(1).toString()).toMatch(/^error forwarding port 9090 to pod ml-pipeline-0, uid [0-9a-f-]+: .*connection refused$/);
    ws!.send(Buffer.concat([Buffer.from([0]), Buffer.from('still works')]));
    await ws!.until((all) => all.some((frame) => frame.payload.subarray(1).toString() === 'STILL WORKS'));
    ws!.close();
    await ws!.ended();
    expect(fake.violations).toEqual([]);
  });

  test('protocol mistakes by the client are violations', async () => {
    const first = await upgrade(`${PORTFORWARD}?ports=8888`);
    await first.ws!.until((frames) => frames.length >= 2);
    first.ws!.send(Buffer.from([1, 0x41]));
    first.ws!.send(Buffer.from([7, 0x41]));
    first.ws!.send('0text on a binary protocol');
    first.ws!.send(Buffer.from([0, 0x41]), { mask: false });
    await first.ws!.ended();
    expect(fake.violations).toEqual([
      'port-forward client wrote to error channel 1, which only the server writes',
      'port-forward client wrote to channel 7, which does not exist (1 port(s))',
      'port-forward client sent a text frame on v4.channel.k8s.io',
      'port-forward WebSocket to kubeflow/ml-pipeline-0: an unmasked frame from the client (RFC 6455 5.1)',
    ]);
  });

  test('refusals before the upgrade: protocol, ports, pod, authentication, authorization', async () => {
    const spdy = await upgrade(`${PORTFORWARD}?ports=8888`, { protocols: ['portforward.k8s.io', 'SPDY/3.1+portforward.k8s.io'] });
    expect(spdy.status).toBe(400);
    expect(JSON.parse(spdy.body).message).toBe(
      'requested protocol(s) are not supported: [portforward.k8s.io SPDY/3.1+portforward.k8s.io]; supports [v4.channel.k8s.io v4.base64.channel.k8s.io]',
    );
    expect((await upgrade(PORTFORWARD)).status).toBe(400);
    expect(JSON.parse((await upgrade(`/api/v1/namespaces/${NS}/pods/nope/portforward?ports=1`)).body)).toMatchObject({ code: 404, message: 'pods "nope" not found' });
    expect((await upgrade(`${PORTFORWARD}?ports=8888`, { token: 'wrong' })).status).toBe(401);
    fake.addToken('reader', { name: 'reader', can: ({ verb }) => verb !== 'create' });
    const forbidden = await upgrade(`${PORTFORWARD}?ports=8888`, { token: 'reader' });
    expect([forbidden.status, JSON.parse(forbidden.body).message]).toEqual([
      403,
      'pods "ml-pipeline-0" is forbidden: User "reader" cannot create resource "pods/portforward" in API group "" in the namespace "kubeflow"',
    ]);
    fake.put(pod(NS, 'pending-0', { phase: 'Pending' }));
    expect((await upgrade(`/api/v1/namespaces/${NS}/pods/pending-0/portforward?ports=1`)).status).toBe(400);
    expect(fake.portForwards).toEqual([]);
    expect(fake.violations).toEqual([]);
  });
});
