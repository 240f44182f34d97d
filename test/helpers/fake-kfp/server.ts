import type http from 'node:http';
import type { TestCa } from '../ca.js';
import { readBody, type FakeServers } from '../fake-servers.js';
import { CODE, rpcError, type HandlerContext, type Reply } from './common.js';
import { v1Handlers } from './handlers-v1.js';
import { v2Handlers } from './handlers-v2.js';
import { FakeKfpStore, standardPlan, type RunPlan } from './store.js';
import { SwaggerContract, type KfpApiVersion, type Route } from './swagger.js';

export interface FakeKfpOptions {
  /** Where the swagger files are: specsDir() from test/helpers/paths. */
  specsDir: string;
  /** The APIs served: KFP 2.x serves both (the default), KFP 1.x only v1beta1. */
  apis?: KfpApiVersion[];
  /** A path prefix in front of /apis, as behind a Kubeflow gateway: '/pipeline'. */
  prefix?: string;
  multiUser?: boolean;
  /** Accepted bearer tokens; when neither tokens nor cookies are given, no auth is asked for. */
  tokens?: string[];
  cookies?: string[];
  /** Tokens that authenticate but may do nothing (403). */
  forbiddenTokens?: string[];
  /** Namespaces every caller gets 403 for. */
  forbiddenNamespaces?: string[];
  /** The schedule of every new run. Default: three seconds, every task succeeding. */
  plan?: RunPlan;
  tls?: TestCa;
}

export interface SeenCall {
  method: string;
  path: string;
  query: string;
  status: number;
  at: number;
}

const HANDLERS: Record<KfpApiVersion, Record<string, (context: HandlerContext) => Reply>> = { v2beta1: v2Handlers, v1beta1: v1Handlers };
// Fields that exist in the 2.17 swagger but that servers before 2.14 (name) or 2.17 (tags,
// plugins_input) reject as unknown: a client that sends them breaks on most clusters in use.
const NEWER_FIELDS = ['name', 'tags', 'plugins_input'];
const V2_BODIES_WITHOUT_NEWER_FIELDS = new Set(['POST /apis/v2beta1/pipelines', 'POST /apis/v2beta1/experiments', 'POST /apis/v2beta1/runs']);

/**
 * A KFP API server that keeps state and checks every request it gets and every answer it gives
 * against the upstream swagger of its API version. Problems are collected in `violations`; tests
 * assert there are none. A request that breaks the contract is refused with 400, as the real
 * server refuses unknown fields.
 */
export class FakeKfp {
  readonly store = new FakeKfpStore();
  readonly violations: string[] = [];
  readonly calls: SeenCall[] = [];
  /** The URL to give as `host`: origin and prefix. */
  url = '';
  plan: RunPlan;
  /** Called with 'METHOD /swagger/path' before each request is handled: tests race the step here. */
  before: (operation: string) => void = () => undefined;
  private readonly contracts: Partial<Record<KfpApiVersion, SwaggerContract>> = {};
  private readonly apis: KfpApiVersion[];

  private constructor(private readonly options: FakeKfpOptions) {
    this.apis = options.apis ?? ['v2beta1', 'v1beta1'];
    // Both contracts are loaded: a v1-only server still knows what a v2 call looks like.
    this.contracts.v2beta1 = new SwaggerContract(options.specsDir, 'v2beta1');
    this.contracts.v1beta1 = new SwaggerContract(options.specsDir, 'v1beta1');
    this.plan = options.plan ?? standardPlan();
  }

  static async start(servers: FakeServers, options: FakeKfpOptions): Promise<FakeKfp> {
    const fake = new FakeKfp(options);
    const handler: http.RequestListener = (req, res) => {
      fake.handle(req, res).catch((error: Error) => {
        fake.violations.push(`fake server error: ${error.message}`);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 13, message: error.message }));
      });
    };
    const running = options.tls ? await servers.https(options.tls, handler) : await servers.http(handler);
    fake.url = `${running.origin}${options.prefix ?? ''}`;
    return fake;
  }

  /** Calls that changed something on the server. */
  mutations(): SeenCall[] {
    return this.calls.filter((call) => call.method !== 'GET' && call.status < 300);
  }

  private send(res: http.ServerResponse, call: SeenCall, reply: Reply, route?: Route): void {
    // The v1 upload endpoints answer errors as apiStatus ({error, code}), everything else as googleRpcStatus.
    const errorSchema = (route?.operation.responses.default?.schema as { $ref?: string } | undefined)?.$ref;
    if (reply.status !== 200 && errorSchema === '#/definitions/apiStatus') {
      const status = reply.body as { code?: number; message?: string; error?: string };
      if (status.message !== undefined) reply = { status: reply.status, body: { error: status.message, code: status.code, details: [] } };
    }
    const body = Buffer.from(JSON.stringify(reply.body));
    if (route) {
      const problems = this.contracts[route.version]!.checkResponse(route, reply.status, body, 'application/json');
      for (const problem of problems) this.violations.push(`${call.method} ${call.path}: the fake's own ${problem}`);
    }
    call.status = reply.status;
    res.writeHead(reply.status, { 'content-type': 'application/json' }).end(body);
  }

  private authorize(req: http.IncomingMessage): Reply | undefined {
    const { tokens = [], cookies = [], forbiddenTokens = [] } = this.options;
    if (!tokens.length && !cookies.length && !forbiddenTokens.length) return undefined;
    const bearer = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
    if (bearer && forbiddenTokens.includes(bearer)) return rpcError(403, CODE.permissionDenied, 'PermissionDenied: the service account may not access Kubeflow Pipelines');
    if (bearer && tokens.includes(bearer)) return undefined;
    if (req.headers.cookie && cookies.includes(String(req.headers.cookie))) return undefined;
    return rpcError(401, CODE.unauthenticated, 'Unauthenticated: Request header error: there is no user identity header');
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const prefix = this.options.prefix ?? '';
    const call: SeenCall = { method, path: url.pathname, query: url.search, status: 0, at: Date.now() };
    this.calls.push(call);
    const notFound = (why?: string) => {
      if (why) this.violations.push(`${method} ${url.pathname}: ${why}`);
      call.status = 404;
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
    };
    if (!url.pathname.startsWith(`${prefix}/apis/`)) return notFound();
    const path = url.pathname.slice(prefix.length);
    call.path = path;
    const version = /^\/apis\/(v2beta1|v1beta1)\//.exec(path)?.[1] as KfpApiVersion | undefined;
    // A KFP 1.x server has no v2beta1 routes at all: 404 is its honest answer, not a client error.
    if (!version || !this.apis.includes(version)) return notFound(version ? undefined : 'not a KFP API path');
    const contract = this.contracts[version]!;
    const route = contract.route(method, path);
    if (!route) return notFound(`no such operation in the ${version} swagger`);

    this.before(`${method} ${route.template}`);
    const denied = this.authorize(req);
    if (denied) return this.send(res, call, denied, route);
    const seen = { method, path, query: url.searchParams, headers: req.headers, body };
    const problems = contract.checkRequest(route, seen);
    const key = `${method} ${route.template}`;
    if (V2_BODIES_WITHOUT_NEWER_FIELDS.has(key) && body.length) {
      const fields = Object.keys(JSON.parse(body.toString('utf8') || '{}') as object);
      for (const field of NEWER_FIELDS.filter((name) => fields.includes(name))) problems.push(`body field '${field}' is unknown to KFP servers before 2.14/2.17`);
    }
    if (problems.length) {
      for (const problem of problems) this.violations.push(`${method} ${path}: ${problem}`);
      return this.send(res, call, rpcError(400, CODE.invalidArgument, `invalid request: ${problems[0]}`), route);
    }
    const handler = HANDLERS[version][key];
    if (!handler) {
      this.violations.push(`${key}: the fake does not implement this operation`);
      return this.send(res, call, rpcError(501, CODE.unimplemented, 'not implemented by the fake'), route);
    }
    const forbiddenNamespaces = this.options.forbiddenNamespaces ?? [];
    const context: HandlerContext = {
      store: this.store,
      route,
      query: url.searchParams,
      body,
      contentType: String(req.headers['content-type'] ?? ''),
      multiUser: this.options.multiUser ?? false,
      speaksV2: this.apis.includes('v2beta1'),
      plan: this.plan,
      forbidden: (namespace) =>
        namespace && forbiddenNamespaces.includes(namespace)
          ? rpcError(403, CODE.permissionDenied, `User is not authorized to access namespace '${namespace}'`)
          : undefined,
    };
    this.send(res, call, handler(context), route);
  }
}
