import https from 'node:https';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { stringify } from 'yaml';
import type { TestCa } from '../ca.js';
import { registerCoreV1 } from './core-v1.js';
import { CrdSchema, kserveCrdFile } from './crd.js';
import { registerPodLogs, type PodLogs } from './logs.js';
import { registerPortForward, type PortForwardSession } from './port-forward.js';
import { APPS_V1, CORE_V1_WRITABLE } from './resource-types.js';
import { Router } from './router.js';
import type { K8sSchemas } from './schemas.js';
import { ObjectStore, type K8sObject, type ResourceType } from './store.js';
import { registerStatusSubresource, registerWrites } from './writes.js';

/** Who a bearer token stands for, and what RBAC lets them do (everything unless said). */
export interface FakeUser {
  name: string;
  can?: (attributes: Attributes) => boolean;
}

/** The authorization attributes the API server checks for a request. */
export interface Attributes {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

export interface HttpContext {
  request: IncomingMessage;
  response: ServerResponse;
  url: URL;
  user: FakeUser;
}

export interface UpgradeContext {
  request: IncomingMessage;
  socket: Duplex;
  head: Buffer;
  url: URL;
  user: FakeUser;
}

/** What a Status names: the object, its group and kind, and for 409/422 the causes. */
export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: { reason?: string; message?: string; field?: string }[];
}

export interface StartOptions {
  ca: TestCa;
  schemas: K8sSchemas;
  /**
   * Serve what DeployModel needs too: apps/v1 deployments and replicasets, core v1 events, pod
   * logs, writable services and pods, and KServe's serving.kserve.io/v1beta1 inferenceservices
   * (its CRD schema loaded from <specs>/kserve; about a second the first time in a process).
   * Off, the server is what the port-forward tests expect: read-only core v1, no groups.
   */
  deploy?: boolean;
}

export interface RequestRecord {
  method: string;
  path: string;
  query: string;
  user?: string;
  upgrade: boolean;
  status?: number;
}

const STATUS_SCHEMA = 'io.k8s.apimachinery.pkg.apis.meta.v1.Status';

/**
 * A fake Kubernetes API server over HTTPS (the test CA) with bearer-token authentication and
 * per-user authorization. It serves discovery, get/list of what its store holds and the
 * pods/portforward WebSocket, and it checks what it is asked and what it answers against the
 * upstream OpenAPI v3 schemas: every request line against the spec's paths and query parameters,
 * every object stored and every body sent against its component schema. Each problem lands in
 * `violations`, which tests expect to be empty.
 *
 * With `deploy: true` it also serves what DeployModel uses (apps/v1, events, pod logs, KServe
 * InferenceServices; writes.ts, watch.ts, logs.ts), and controllers.ts brings applied objects to
 * life. To grow it: register routes on `http` / `upgrades`, resource types on `store`; responses
 * go through `sendObject` / `sendStatus` so they are checked.
 */
export class FakeKubernetes {
  readonly violations: string[] = [];
  readonly requests: RequestRecord[] = [];
  readonly portForwards: PortForwardSession[] = [];
  /** Pod log lines by namespace/pod/container, set with setPodLog. */
  readonly podLogs: PodLogs = new Map();
  /** How often a watch that allows bookmarks gets one. */
  bookmarkIntervalMs = 1000;
  /** The InferenceService CRD when serving with deploy: true. */
  crd: CrdSchema | undefined;
  readonly store: ObjectStore;
  readonly http = new Router<HttpContext>();
  readonly upgrades = new Router<UpgradeContext>();
  /** Answer every request with this status instead (e.g. 503), to test failures. */
  outage: number | undefined;
  /** Wait this long before answering each request, to test timeouts and cancellation. */
  latencyMs = 0;
  /** The same for WebSocket upgrades alone. */
  upgradeLatencyMs = 0;
  private readonly tokens = new Map<string, FakeUser>();
  private readonly backends = new Map<string, { host: string; port: number }>();
  private readonly sockets = new Set<Socket>();
  private server!: https.Server;
  origin = '';

  private constructor(
    readonly ca: TestCa,
    readonly schemas: K8sSchemas,
    deploy: boolean,
  ) {
    const validate = (schema: string, value: unknown, where: string) => this.validate(schema, value, where);
    if (deploy) {
      this.crd = CrdSchema.load(kserveCrdFile(join(schemas.dir, '..')));
      this.store = new ObjectStore(validate, [...CORE_V1_WRITABLE, ...APPS_V1, this.crd.register(schemas)]);
    } else this.store = new ObjectStore(validate);
    registerCoreV1(this);
    registerWrites(this);
    registerStatusSubresource(this);
    registerPodLogs(this);
    registerPortForward(this);
  }

  static async start(options: StartOptions): Promise<FakeKubernetes> {
    const fake = new FakeKubernetes(options.ca, options.schemas, options.deploy ?? false);
    fake.server = https.createServer({ cert: options.ca.serverCertPem, key: options.ca.serverKeyPem });
    fake.server.on('connection', (socket: Socket) => {
      fake.sockets.add(socket);
      socket.on('close', () => fake.sockets.delete(socket));
    });
    fake.server.on('request', (request: IncomingMessage, response: ServerResponse) => fake.onRequest(request, response));
    fake.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => fake.onUpgrade(request, socket, head));
    await new Promise<void>((resolve, reject) => {
      fake.server.once('error', reject);
      fake.server.listen(0, '127.0.0.1', () => resolve());
    });
    fake.origin = `https://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    return fake;
  }

  /** A bearer token the server accepts; a string is a user allowed everything. */
  addToken(token: string, user: FakeUser | string): void {
    this.tokens.set(token, typeof user === 'string' ? { name: user } : user);
  }

  put(...objects: K8sObject[]): void {
    for (const object of objects) this.store.put(object);
  }

  /** Where the pod's port really is: port-forwards to namespace/pod:podPort are piped there. */
  forward(namespace: string, pod: string, podPort: number, target: { port: number; host?: string }): void {
    this.backends.set(`${namespace}/${pod}:${podPort}`, { host: target.host ?? '127.0.0.1', port: target.port });
  }

  /** Log lines a container of a pod has written (previous: those of its last terminated run). */
  setPodLog(namespace: string, pod: string, lines: string[], options: { container?: string; previous?: boolean } = {}): void {
    this.podLogs.set(`${namespace}/${pod}/${options.container ?? ''}/${options.previous ? 'previous' : 'current'}`, [...lines]);
  }

  backendFor(namespace: string, pod: string, podPort: number): { host: string; port: number } | undefined {
    return this.backends.get(`${namespace}/${pod}:${podPort}`);
  }

  /** A kubeconfig (YAML) for this server: its CA, a token user, one context. */
  kubeconfig(options: { token?: string; server?: string; caPem?: string | null; namespace?: string } = {}): string {
    const cluster: Record<string, unknown> = { server: options.server ?? this.origin };
    const caPem = options.caPem === undefined ? this.ca.caPem : options.caPem;
    if (caPem) cluster['certificate-authority-data'] = Buffer.from(caPem).toString('base64');
    return stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'fake', cluster }],
      users: [{ name: 'ci', user: options.token ? { token: options.token } : {} }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'ci', namespace: options.namespace ?? 'default' } }],
      'current-context': 'fake',
    });
  }

  violation(problem: string): void {
    this.violations.push(problem);
  }

  /** Validates a value against a schema; problems become violations prefixed with `where`. */
  validate(schema: string, value: unknown, where: string): void {
    for (const problem of this.schemas.validate(schema, value)) this.violation(`${where}: ${problem}`);
  }

  authorize(user: FakeUser, attributes: Attributes): boolean {
    return user.can ? user.can(attributes) : true;
  }

  /** The API server's Forbidden message for a denied request. */
  forbiddenMessage(user: FakeUser, attributes: Attributes): string {
    const resource = attributes.subresource ? `${attributes.resource}/${attributes.subresource}` : attributes.resource;
    // The group-qualified resource, as in 'deployments.apps "x" is forbidden'.
    const qualified = attributes.group ? `${attributes.resource}.${attributes.group}` : attributes.resource;
    const subject = attributes.name ? `${qualified} "${attributes.name}"` : qualified;
    const scope = attributes.namespace ? ` in the namespace "${attributes.namespace}"` : ' at the cluster scope';
    return `${subject} is forbidden: User "${user.name}" cannot ${attributes.verb} resource "${resource}" in API group "${attributes.group}"${scope}`;
  }

  /** Sends a JSON body after checking it against its schema. */
  sendObject(context: HttpContext, status: number, body: unknown, schema: string): void {
    this.validate(schema, body, `response to ${context.request.method} ${context.url.pathname}`);
    const json = JSON.stringify(body);
    context.response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
    context.response.end(json);
    this.record(context.request)!.status = status;
  }

  status(code: number, reason: string, message: string, details?: StatusDetails): Record<string, unknown> {
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
  }

  sendStatus(context: Pick<HttpContext, 'request' | 'response' | 'url'>, code: number, reason: string, message: string, details?: StatusDetails): void {
    const body = this.status(code, reason, message, details);
    this.validate(STATUS_SCHEMA, body, `response to ${context.request.method} ${context.url.pathname}`);
    const json = JSON.stringify(body);
    context.response.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
    context.response.end(json);
    const record = this.record(context.request);
    if (record) record.status = code;
  }

  /** Answers an upgrade request with an error instead of switching protocols. */
  refuseUpgrade(context: Pick<UpgradeContext, 'request' | 'socket' | 'url'>, code: number, reason: string, message: string, details?: StatusDetails): void {
    const body = this.status(code, reason, message, details);
    this.validate(STATUS_SCHEMA, body, `response to upgrade ${context.url.pathname}`);
    const json = JSON.stringify(body);
    context.socket.end(
      `HTTP/1.1 ${code} ${STATUS_CODES[code]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`,
    );
    const record = this.record(context.request);
    if (record) record.status = code;
  }

  /** The object the API server serves at a URL, typed by the store's resource types. */
  resourceType(groupVersionText: string, plural: string): ResourceType | undefined {
    return this.store.typeFor(groupVersionText, plural);
  }

  async close(): Promise<void> {
    if (!this.server) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private readonly records = new WeakMap<IncomingMessage, RequestRecord>();

  record(request: IncomingMessage): RequestRecord | undefined {
    return this.records.get(request);
  }

  private authenticate(request: IncomingMessage): FakeUser | undefined {
    const match = /^Bearer (.+)$/.exec(request.headers.authorization ?? '');
    return match ? this.tokens.get(match[1]!) : undefined;
  }

  private begin(request: IncomingMessage, upgrade: boolean): { url: URL; user: FakeUser | undefined } {
    const url = new URL(request.url ?? '/', this.origin);
    const user = this.authenticate(request);
    const record: RequestRecord = { method: request.method ?? '', path: url.pathname, query: url.search, user: user?.name, upgrade };
    this.requests.push(record);
    this.records.set(request, record);
    const problems = this.schemas.checkRequest(request.method ?? 'GET', url.pathname, url.searchParams);
    for (const problem of problems ?? []) this.violation(`request ${request.method} ${url.pathname}${url.search}: ${problem}`);
    return { url, user };
  }

  private onRequest(request: IncomingMessage, response: ServerResponse): void {
    if (this.latencyMs) {
      const timer = setTimeout(() => this.handleRequest(request, response), this.latencyMs);
      request.socket.once('close', () => clearTimeout(timer));
      return;
    }
    this.handleRequest(request, response);
  }

  private handleRequest(request: IncomingMessage, response: ServerResponse): void {
    const { url, user } = this.begin(request, false);
    const base = { request, response, url };
    if (this.outage) return this.sendStatus(base, this.outage, 'ServiceUnavailable', 'the fake API server is down for this test');
    if (!user) return this.sendStatus(base, 401, 'Unauthorized', 'Unauthorized');
    const handler = this.http.match(request.method ?? 'GET', url.pathname);
    if (handler === 'method') return this.sendStatus(base, 405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
    if (!handler) {
      this.violation(`request ${request.method} ${url.pathname}: no such path on the API server`);
      return this.sendStatus(base, 404, 'NotFound', 'the server could not find the requested resource');
    }
    Promise.resolve()
      .then(() => handler({ ...base, user }))
      .catch((error: unknown) => {
        this.violation(`the fake failed on ${request.method} ${url.pathname}: ${(error as Error).stack ?? error}`);
        if (!response.headersSent) this.sendStatus(base, 500, 'InternalError', 'the fake failed');
      });
  }

  private onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined);
    if (this.upgradeLatencyMs) {
      const timer = setTimeout(() => this.handleUpgrade(request, socket, head), this.upgradeLatencyMs);
      socket.once('close', () => clearTimeout(timer));
      return;
    }
    this.handleUpgrade(request, socket, head);
  }

  private handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const { url, user } = this.begin(request, true);
    const base = { request, socket, url };
    if (this.outage) return this.refuseUpgrade(base, this.outage, 'ServiceUnavailable', 'the fake API server is down for this test');
    if (!user) return this.refuseUpgrade(base, 401, 'Unauthorized', 'Unauthorized');
    const handler = this.upgrades.match(request.method ?? 'GET', url.pathname);
    if (!handler || handler === 'method') {
      this.violation(`upgrade ${request.method} ${url.pathname}: no such streaming endpoint`);
      return this.refuseUpgrade(base, 404, 'NotFound', 'the server could not find the requested resource');
    }
    Promise.resolve()
      .then(() => handler({ ...base, head, user }))
      .catch((error: unknown) => {
        this.violation(`the fake failed on upgrade ${url.pathname}: ${(error as Error).stack ?? error}`);
        socket.destroy();
      });
  }
}
