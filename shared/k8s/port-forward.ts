import net from 'node:net';
import { PassThrough, Writable, type Readable } from 'node:stream';
import { CancelledError, InputError, oneLine, UserError } from '../util/errors.js';
import { K8sApi } from './api.js';
import { loadKubeConfig, type LoadedKubeConfig } from './kubeconfig.js';
import { resolveServicePod, type PodTarget } from './resolve.js';
import { targetProblem, type ServiceTarget } from './target.js';

export { parsePortForward, type ServiceTarget } from './target.js';
export { kubeconfigFromServiceConnection } from './service-connection.js';
export { kubeconfigSecrets } from './kubeconfig.js';

export interface PortForwardOptions {
  /** Kubeconfig content (YAML), not a path. */
  kubeconfig: string;
  target: ServiceTarget;
  /** Aborting tears the forward down, as close() does. */
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** The input the kubeconfig came from, named in errors; 'kubeconfig' unless said. */
  kubeconfigInput?: string;
  /** Where HTTPS_PROXY / NO_PROXY are read; process.env unless said. */
  env?: NodeJS.ProcessEnv;
}

export interface PortForward {
  /** http://127.0.0.1:<local port> */
  url: string;
  /** The pod the Service resolved to, and the port on it. */
  pod: string;
  podPort: number;
  /** Stops listening, drops every forwarded connection; resolves once the local port is free. */
  close(): Promise<void>;
}

/** The part of a `ws` WebSocket (what @kubernetes/client-node's PortForward returns) used here. */
interface ForwardSocket {
  readonly readyState: number;
  close(code?: number): void;
  terminate(): void;
  on(event: 'close', listener: () => void): unknown;
}

const OPEN_GRACE_MS = 2_000;
const PROBE_MS = 500;
const UPGRADE_TIMEOUT_MS = 30_000;

/**
 * `kubectl port-forward svc/<service> <port>` made by the step itself: resolves the Service to a
 * ready pod, checks that the API server lets us port-forward to it, then listens on 127.0.0.1 and
 * opens one pods/portforward WebSocket (v4.channel.k8s.io, through @kubernetes/client-node's
 * PortForward) per local connection. @kubernetes/client-node is loaded here, on first use.
 */
export async function openPortForward(options: PortForwardOptions): Promise<PortForward> {
  const { target, signal, log = () => undefined } = options;
  const problem = targetProblem(target);
  if (problem) throw new InputError('portForward', problem);
  if (signal?.aborted) throw new CancelledError('the port-forward');
  const config = await loadKubeConfig(options.kubeconfig, options.kubeconfigInput ?? 'kubeconfig', options.env);
  const api = new K8sApi(config, signal);
  const pod = await resolveServicePod(api, target, config.serverForLog);
  const forwarder = new config.k8s.PortForward(config.kc, true);
  const what = `the port-forward to pod ${pod.namespace}/${pod.pod} port ${pod.port}`;
  const connect = async (input: Readable, output: Writable, errors: Writable): Promise<ForwardSocket> => {
    const opening = (forwarder.portForward(pod.namespace, pod.pod, [pod.port], output, errors, input) as Promise<ForwardSocket>).catch(
      (error: unknown) => {
        throw upgradeError(api, error, what, `create pods/portforward in namespace ${pod.namespace}`);
      },
    );
    // ws has no handshake timeout of its own: a server that never answers the upgrade, or a
    // cancel meanwhile, must not leave us waiting. A WebSocket that opens too late is dropped.
    return withDeadline(opening, signal, `${what}: the API server ${config.serverForLog} did not answer the upgrade within ${UPGRADE_TIMEOUT_MS / 1000} s`);
  };

  // One WebSocket up front, so that a 403 on pods/portforward, or a pod that refuses the port,
  // fails the step here with its reason rather than as dropped connections later.
  await probe(connect, config, what, signal);

  const tunnel = new Tunnel(config, pod, connect, log);
  const url = await tunnel.listen();
  const onAbort = () => void tunnel.close();
  signal?.addEventListener('abort', onAbort, { once: true });
  const via = config.proxyForLog ? ` (via proxy ${config.proxyForLog})` : '';
  log(`port-forward: service ${target.namespace}/${target.service}:${target.port} -> pod ${pod.pod}:${pod.port} through ${config.serverForLog}${via}, on ${url}`);
  return {
    url,
    pod: pod.pod,
    podPort: pod.port,
    close: async () => {
      signal?.removeEventListener('abort', onAbort);
      await tunnel.close();
    },
  };
}

/**
 * Opens one forward and watches its error channel for a moment: the kubelet dials the pod's port
 * as the stream opens and reports a refusal there at once. No news within PROBE_MS is good news
 * (the protocol has no success message).
 */
async function probe(
  connect: (input: Readable, output: Writable, errors: Writable) => Promise<ForwardSocket>,
  config: LoadedKubeConfig,
  what: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  const errors: Buffer[] = [];
  let settle = () => undefined as void;
  const errorStream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      // The first frame of the channel (the port) arrives stripped, as an empty chunk.
      if (chunk.length) {
        errors.push(Buffer.from(chunk));
        settle();
      }
      done();
    },
  });
  const forward = await connect(new PassThrough(), sink(), errorStream);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => settle(), PROBE_MS);
    const onAbort = () => settle();
    signal?.addEventListener('abort', onAbort, { once: true });
    settle = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve();
    };
    forward.on('close', () => settle());
  });
  forward.close();
  if (signal?.aborted) throw new CancelledError('the port-forward');
  const text = oneLine(Buffer.concat(errors).toString('utf8'));
  if (text) throw new UserError(config.redact(`${what} failed: ${text}`));
}

/** The local listener: one WebSocket per accepted connection, bytes piped both ways. */
class Tunnel {
  private readonly server = net.createServer((socket) => this.accept(socket));
  private readonly sockets = new Set<net.Socket>();
  private readonly forwards = new Set<ForwardSocket>();
  private readonly opening = new Set<Promise<unknown>>();
  private closing: Promise<void> | undefined;

  constructor(
    private readonly config: LoadedKubeConfig,
    private readonly pod: PodTarget,
    private readonly connect: (input: Readable, output: Writable, errors: Writable) => Promise<ForwardSocket>,
    private readonly log: (line: string) => void,
  ) {}

  listen(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve(`http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`);
      });
    });
  }

  private accept(socket: net.Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.setNoDelay(true);
    // A client that goes away mid-transfer is not our failure; 'close' cleans up.
    socket.on('error', () => undefined);
    socket.on('close', () => this.sockets.delete(socket));
    const errors: Buffer[] = [];
    const errorStream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        errors.push(Buffer.from(chunk));
        done();
      },
    });
    const opening = this.connect(socket, socket, errorStream).then(
      (forward) => {
        if (this.closing || socket.destroyed) {
          forward.terminate();
          return;
        }
        this.forwards.add(forward);
        forward.on('close', () => {
          this.forwards.delete(forward);
          // The error channel carries the API server's (kubelet's) reason when the forward failed.
          const text = oneLine(Buffer.concat(errors).toString('utf8'));
          if (text) {
            this.log(this.config.redact(`port-forward: pod ${this.pod.pod}:${this.pod.port}: ${text}`));
            socket.destroy();
          } else {
            socket.end();
          }
        });
        socket.on('close', () => {
          if (forward.readyState <= 1) forward.close();
        });
      },
      (error: unknown) => {
        if (!this.closing) this.log(this.config.redact(`port-forward: ${(error as Error).message}`));
        socket.destroy();
      },
    );
    this.opening.add(opening);
    void opening.finally(() => this.opening.delete(opening));
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      for (const forward of this.forwards) forward.terminate();
      for (const socket of this.sockets) socket.destroy();
      // WebSockets still opening are terminated as they open; wait for them, not for a hung server.
      await Promise.race([Promise.allSettled([...this.opening]), delay(OPEN_GRACE_MS)]);
      await closed;
    })();
    return this.closing;
  }
}

function withDeadline(opening: Promise<ForwardSocket>, signal: AbortSignal | undefined, timeoutMessage: string): Promise<ForwardSocket> {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (action: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      action();
    };
    const timer = setTimeout(() => finish(() => reject(new UserError(timeoutMessage))), UPGRADE_TIMEOUT_MS);
    const onAbort = () => finish(() => reject(new CancelledError('the port-forward')));
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    opening.then(
      (forward) => {
        if (done) forward.terminate();
        finish(() => resolve(forward));
      },
      (error: unknown) => finish(() => reject(error)),
    );
  });
}

function sink(): Writable {
  return new Writable({ write: (_chunk, _encoding, done) => done() });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** ws rejects an upgrade with "Unexpected server response: 403", or with the socket's error. */
function upgradeError(api: K8sApi, error: unknown, what: string, permission: string): UserError {
  const cause = ((error as { error?: unknown })?.error ?? error) as NodeJS.ErrnoException;
  const message = cause?.message ?? (error as { message?: string })?.message ?? String(error);
  const status = /Unexpected server response: (\d{3})/.exec(message)?.[1];
  if (status) return api.statusError(Number(status), Number(status) === 403 ? { message: permission } : undefined, what);
  return api.networkError(Object.assign(new Error(message), { code: cause?.code }), what);
}
