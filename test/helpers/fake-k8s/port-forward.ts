import net from 'node:net';
import type { FakeKubernetes, UpgradeContext } from './server.js';
import { acceptWebSocket, handshakeProblem, offeredProtocols } from './websocket.js';

/**
 * The WebSocket subprotocols the API server offers for pods/portforward (kubelet's
 * pkg/kubelet/cri/streaming/portforward/websocket.go): binary channels, or the same channels
 * base64-encoded in text frames. portforward.k8s.io (and its SPDY/3.1+ WebSocket tunnel) is the
 * SPDY protocol, which this fake does not speak: it refuses it as an unsupported subprotocol.
 */
export const PORT_FORWARD_PROTOCOLS = ['v4.channel.k8s.io', 'v4.base64.channel.k8s.io'];

/** One pods/portforward WebSocket the fake accepted (or refused, with `refused`). */
export interface PortForwardSession {
  namespace: string;
  pod: string;
  ports: number[];
  protocol: string;
  user: string;
  /** Payload bytes received on data channels and sent back on them (port headers excluded). */
  bytesFromClient: number;
  bytesToClient: number;
  /** Messages written on error channels. */
  errors: string[];
  /** Set once the WebSocket is gone. */
  closed: boolean;
}

/**
 * GET /api/v1/namespaces/:namespace/pods/:name/portforward?ports=P[,Q] upgraded to a WebSocket,
 * speaking the channel protocol as the kubelet does: for port index i, channel 2i carries data
 * both ways and channel 2i+1 carries errors to the client; the first frame on each channel is the
 * port, 2 bytes little-endian. Each data channel is piped to the TCP target the test configured
 * for that pod and port (FakeKubernetes.forward). When every target connection has ended the
 * server closes the WebSocket; when the client closes it, the target connections are dropped.
 */
export function registerPortForward(fake: FakeKubernetes): void {
  fake.upgrades.add('GET', '/api/v1/namespaces/:namespace/pods/:name/portforward', (context, params) =>
    portForward(fake, context, params.namespace!, params.name!),
  );
}

function portForward(fake: FakeKubernetes, context: UpgradeContext, namespace: string, name: string): void {
  const { request, url, user } = context;
  const attributes = { verb: 'create', group: '', resource: 'pods', subresource: 'portforward', namespace, name };
  if (!fake.authorize(user, attributes)) {
    return fake.refuseUpgrade(context, 403, 'Forbidden', fake.forbiddenMessage(user, attributes), { name, kind: 'pods' });
  }
  const podsType = fake.resourceType('v1', 'pods')!;
  const pod = fake.store.get(podsType, namespace, name);
  if (!pod) return fake.refuseUpgrade(context, 404, 'NotFound', `pods "${name}" not found`, { name, kind: 'pods' });
  const phase = (pod.status as { phase?: string } | undefined)?.phase;
  if (phase !== 'Running') return fake.refuseUpgrade(context, 400, 'BadRequest', `pod ${name} is not running (phase ${phase ?? 'unknown'})`);

  const handshake = handshakeProblem(request);
  if (handshake) {
    fake.violation(`port-forward upgrade: ${handshake}`);
    return fake.refuseUpgrade(context, 400, 'BadRequest', `not a WebSocket handshake: ${handshake}`);
  }
  const portTexts = url.searchParams.getAll('ports').flatMap((value) => value.split(','));
  if (!portTexts.length) return fake.refuseUpgrade(context, 400, 'BadRequest', 'query parameter "port" is required');
  const ports: number[] = [];
  for (const text of portTexts) {
    const port = /^\d+$/.test(text) ? Number(text) : NaN;
    if (!(port >= 1 && port <= 65535)) return fake.refuseUpgrade(context, 400, 'BadRequest', `unable to parse "${text}" as a port`);
    ports.push(port);
  }
  const offered = offeredProtocols(request);
  // As wsstream does: the client's protocols in its order, the first one the server supports;
  // no protocol at all means the binary one.
  const protocol = offered.length ? offered.find((candidate) => PORT_FORWARD_PROTOCOLS.includes(candidate)) : '';
  if (protocol === undefined) {
    return fake.refuseUpgrade(
      context,
      400,
      'BadRequest',
      `requested protocol(s) are not supported: [${offered.join(' ')}]; supports [${PORT_FORWARD_PROTOCOLS.join(' ')}]`,
    );
  }

  const ws = acceptWebSocket(request, context.socket, context.head, protocol || undefined);
  const session: PortForwardSession = { namespace, pod: name, ports, protocol, user: user.name, bytesFromClient: 0, bytesToClient: 0, errors: [], closed: false };
  fake.portForwards.push(session);
  const base64 = protocol === 'v4.base64.channel.k8s.io';
  const send = (channel: number, data: Buffer): boolean =>
    base64 ? ws.send(String.fromCharCode(48 + channel) + data.toString('base64')) : ws.send(Buffer.concat([Buffer.from([channel]), data]));

  const uid = pod.metadata.uid ?? '';
  let open = ports.length;
  const ended = () => {
    if (--open === 0) ws.close(1000);
  };
  const targets = ports.map((port, index) => {
    const header = Buffer.alloc(2);
    header.writeUInt16LE(port, 0);
    send(2 * index, header);
    send(2 * index + 1, header);
    const fail = (reason: string) => {
      const message = `error forwarding port ${port} to pod ${name}, uid ${uid}: ${reason}`;
      session.errors.push(message);
      send(2 * index + 1, Buffer.from(message));
    };
    const backend = fake.backendFor(namespace, name, port);
    if (!backend) {
      fail(`failed to connect to localhost:${port} inside namespace of pod ${name}: dial tcp 127.0.0.1:${port}: connect: connection refused`);
      queueMicrotask(ended);
      return undefined;
    }
    const socket = net.connect(backend.port, backend.host);
    socket.on('data', (chunk: Buffer) => {
      session.bytesToClient += chunk.length;
      if (!send(2 * index, chunk)) {
        socket.pause();
        ws.once('drain', () => socket.resume());
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => fail(`dial tcp ${backend.host}:${backend.port}: ${error.code ?? error.message}`));
    socket.on('close', ended);
    return socket;
  });

  ws.on('violation', (problem) => fake.violation(`port-forward WebSocket to ${namespace}/${name}: ${problem}`));
  ws.on('message', (message, binary) => {
    if (!message.length) return;
    if (binary === base64) {
      fake.violation(`port-forward client sent a ${binary ? 'binary' : 'text'} frame on ${protocol || 'the binary protocol'}`);
      return;
    }
    const channel = base64 ? message[0]! - 48 : message[0]!;
    const payload = base64 ? Buffer.from(message.subarray(1).toString('latin1'), 'base64') : message.subarray(1);
    if (channel >= 2 * ports.length) {
      fake.violation(`port-forward client wrote to channel ${channel}, which does not exist (${ports.length} port(s))`);
      return;
    }
    if (channel % 2 === 1) {
      fake.violation(`port-forward client wrote to error channel ${channel}, which only the server writes`);
      return;
    }
    session.bytesFromClient += payload.length;
    const target = targets[channel / 2];
    if (target && !target.destroyed && !target.write(payload)) {
      ws.pause();
      target.once('drain', () => ws.resume());
    }
  });
  ws.on('close', () => {
    session.closed = true;
    for (const target of targets) target?.destroy();
  });
}
