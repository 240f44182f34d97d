import type http from 'node:http';
import { createWriteStream, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, existsSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { readBody, type FakeServers } from '../fake-servers.js';
import { checkMessage, loadProtos, queryToMessage, type ProtoEndpoint, type ProtoSchema } from './proto.js';

/**
 * A fake MLflow tracking server: the model registry and the artifact proxy, with artifacts on
 * disk. Routes come from the `option (rpc)` endpoints of the upstream .proto files, and every
 * request and response body is checked against its message; anything off lands in `violations`.
 */

export interface FakeMlflowOptions {
  specsDir: string;
  /** Bearer tokens accepted; with neither tokens nor users, no auth is asked. */
  tokens?: string[];
  users?: { username: string; password: string }[];
  /** Tokens that authenticate but may not call anything (403). */
  forbiddenTokens?: string[];
  /** false: artifact routes answer 503 as `mlflow server --no-serve-artifacts` does. */
  serveArtifacts?: boolean;
  /** Artifact PUTs that succeed before every further one fails with HTTP 500. */
  failUploadsAfter?: number;
  /** getModelVersion answers PENDING_REGISTRATION this many times before READY. */
  pendingPolls?: number;
  /** Page size the search answers with at most, to exercise paging. */
  pageSize?: number;
}

interface StoredVersion {
  name: string;
  version: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  current_stage: string;
  description?: string;
  source: string;
  run_id: string;
  status: string;
  tags: { key: string; value: string }[];
  polls: number;
}

interface StoredModel {
  name: string;
  creation_timestamp: number;
  aliases: Map<string, string>;
  versions: StoredVersion[];
}

class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

const API = '/api/2.0';

function routePattern(path: string): RegExp {
  const escaped = path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/<path:(\w+)>/g, '(?<$1>.+)');
  return new RegExp(`^${API}${escaped}$`);
}

export class FakeMlflow {
  readonly violations: string[] = [];
  readonly models = new Map<string, StoredModel>();
  /** Every call as 'METHOD /path', in order. */
  readonly calls: string[] = [];
  artifactWrites = 0;
  /** Uploads let in so far: counted on arrival, since concurrent uploads finish in any order. */
  private uploadsAdmitted = 0;
  readonly artifactRoot = mkdtempSync(join(tmpdir(), 'fake-mlflow-artifacts-'));
  /** Uploads land here first and move into the store only once complete, as a real store does. */
  private readonly incoming = mkdtempSync(join(tmpdir(), 'fake-mlflow-incoming-'));
  private readonly routes: { endpoint: ProtoEndpoint; pattern: RegExp }[];

  private constructor(private readonly schema: ProtoSchema, private readonly options: FakeMlflowOptions, readonly url: string) {
    this.routes = schema.endpoints.map((endpoint) => ({ endpoint, pattern: routePattern(endpoint.path) }));
  }

  static async start(servers: FakeServers, options: FakeMlflowOptions): Promise<FakeMlflow> {
    const schema = loadProtos(join(options.specsDir, 'mlflow/protos'), ['model_registry.proto', 'mlflow_artifacts.proto']);
    let fake: FakeMlflow | undefined;
    const running = await servers.http((req, res) => void fake!.handle(req, res));
    fake = new FakeMlflow(schema, options, running.origin);
    return fake;
  }

  /** Versions of all models, for assertions. */
  versions(name?: string): StoredVersion[] {
    return [...this.models.values()].filter((model) => !name || model.name === name).flatMap((model) => model.versions);
  }

  /** Files under the artifact store, relative to its root. */
  artifactFiles(): string[] {
    const out: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const full = join(dir, name);
        if (statSync(full).isDirectory()) walk(full);
        else out.push(relative(this.artifactRoot, full).split(sep).join('/'));
      }
    };
    walk(this.artifactRoot);
    return out.sort();
  }

  close(): void {
    rmSync(this.artifactRoot, { recursive: true, force: true });
    rmSync(this.incoming, { recursive: true, force: true });
  }

  private authorize(req: http.IncomingMessage): void {
    const { tokens = [], users = [], forbiddenTokens = [] } = this.options;
    if (!tokens.length && !users.length) return;
    const header = req.headers.authorization ?? '';
    const bearer = /^Bearer (.+)$/.exec(header)?.[1];
    if (bearer && forbiddenTokens.includes(bearer)) throw new ApiError(403, 'PERMISSION_DENIED', 'Permission denied');
    if (bearer && tokens.includes(bearer)) return;
    const basic = /^Basic (.+)$/.exec(header)?.[1];
    if (basic) {
      const [username, ...rest] = Buffer.from(basic, 'base64').toString('utf8').split(':');
      if (users.some((user) => user.username === username && user.password === rest.join(':'))) return;
    }
    throw new ApiError(401, 'UNAUTHENTICATED', 'You are not authenticated. Please see the documentation for details.');
  }

  private send(res: http.ServerResponse, endpoint: ProtoEndpoint | undefined, status: number, body: Record<string, unknown>): void {
    if (endpoint && status === 200) {
      for (const problem of checkMessage(this.schema, endpoint.response, body, { request: false })) this.violations.push(`response of ${endpoint.rpc}: ${problem}`);
    }
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const route = this.routes.find((candidate) => candidate.endpoint.method === method && candidate.pattern.test(url.pathname));
    // Artifact bodies are streamed to disk, so a large upload costs the fake no memory either.
    const upload = route?.endpoint.rpc === 'uploadArtifact';
    const raw = upload ? Buffer.alloc(0) : await readBody(req);
    this.calls.push(`${method} ${url.pathname}`);
    if (!route) {
      // What Flask answers for a path it has no route for: HTML, no error_code.
      res.writeHead(404, { 'content-type': 'text/html' }).end('<!doctype html><title>404 Not Found</title>');
      return;
    }
    const { endpoint } = route;
    const artifactPath = route.pattern.exec(url.pathname)?.groups?.artifact_path;
    try {
      this.authorize(req);
      let message: Record<string, unknown> = {};
      if (method === 'GET') {
        const parsed = queryToMessage(this.schema, endpoint.request, url.searchParams);
        this.violations.push(...parsed.problems.map((problem) => `request of ${endpoint.rpc}: ${problem}`));
        message = parsed.message;
      } else if (endpoint.rpc !== 'uploadArtifact' && raw.length) {
        try {
          message = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
        } catch {
          this.violations.push(`request of ${endpoint.rpc}: body is not JSON`);
        }
      }
      for (const problem of checkMessage(this.schema, endpoint.request, message, { request: true })) this.violations.push(`request of ${endpoint.rpc}: ${problem}`);
      const answer = upload ? await this.receiveArtifact(artifactPath, req) : this.dispatch(endpoint.rpc, message, artifactPath);
      this.send(res, endpoint, 200, answer);
    } catch (error) {
      // An upload refused before its body was read: drain it so the client sees the answer, not a reset.
      if (upload && !req.readableEnded) req.resume();
      if (error instanceof ApiError) this.send(res, endpoint, error.status, { error_code: error.code, message: error.message });
      else this.send(res, endpoint, 500, { error_code: 'INTERNAL_ERROR', message: String(error) });
    }
  }

  private model(name: unknown): StoredModel {
    const model = this.models.get(String(name));
    if (!model) throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `Registered Model with name=${String(name)} not found`);
    return model;
  }

  private version(name: unknown, version: unknown): StoredVersion {
    const found = this.model(name).versions.find((candidate) => candidate.version === String(version));
    if (!found) throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `Model Version (name=${String(name)}, version=${String(version)}) not found`);
    return found;
  }

  private shown(version: StoredVersion): Record<string, unknown> {
    const { polls: _polls, ...rest } = version;
    const aliases = [...(this.models.get(version.name)?.aliases ?? [])].filter(([, target]) => target === version.version).map(([alias]) => alias);
    return { ...rest, aliases };
  }

  private artifactFile(path: string | undefined): string {
    const full = resolve(this.artifactRoot, decodeURIComponent(path ?? ''));
    if (full !== this.artifactRoot && !full.startsWith(this.artifactRoot + sep)) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', 'Invalid path');
    return full;
  }

  private artifacts(): void {
    if (this.options.serveArtifacts === false) {
      throw new ApiError(503, 'INTERNAL_ERROR', 'Endpoint disabled due to the mlflow server running with `--no-serve-artifacts`.');
    }
  }

  /** uploadArtifact: the body to a temporary file, moved into the store only when it arrived whole. */
  private async receiveArtifact(artifactPath: string | undefined, req: http.IncomingMessage): Promise<Record<string, unknown>> {
    this.artifacts();
    if (this.options.failUploadsAfter !== undefined && this.uploadsAdmitted >= this.options.failUploadsAfter) {
      throw new ApiError(500, 'INTERNAL_ERROR', 'the artifact store is not writable');
    }
    this.uploadsAdmitted++;
    const file = this.artifactFile(artifactPath);
    const part = join(this.incoming, `${this.artifactWrites}-${Math.random().toString(36).slice(2)}`);
    try {
      await pipeline(req, createWriteStream(part));
      const expected = Number(req.headers['content-length'] ?? Number.NaN);
      if (statSync(part).size !== expected) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `body of ${statSync(part).size} bytes, content-length ${expected}`);
      mkdirSync(dirname(file), { recursive: true });
      renameSync(part, file);
    } finally {
      rmSync(part, { force: true });
    }
    this.artifactWrites++;
    return {};
  }

  private dispatch(rpc: string, message: Record<string, unknown>, artifactPath: string | undefined): Record<string, unknown> {
    const now = Date.now();
    switch (rpc) {
      case 'createRegisteredModel': {
        const name = String(message.name);
        if (this.models.has(name)) throw new ApiError(400, 'RESOURCE_ALREADY_EXISTS', `Registered Model (name=${name}) already exists.`);
        this.models.set(name, { name, creation_timestamp: now, aliases: new Map(), versions: [] });
        return { registered_model: { name, creation_timestamp: now, last_updated_timestamp: now } };
      }
      case 'deleteRegisteredModel':
        this.model(message.name);
        this.models.delete(String(message.name));
        return {};
      case 'searchModelVersions': {
        const filter = /^name='([^']*)'$/.exec(String(message.filter ?? ''));
        if (!filter) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Unsupported filter in this fake: ${String(message.filter)}`);
        const all = this.versions(filter[1]);
        const start = Number(message.page_token ?? 0);
        const size = Math.min(Number(message.max_results ?? 200000), this.options.pageSize ?? Infinity);
        const page = all.slice(start, start + size);
        return { model_versions: page.map((version) => this.shown(version)), ...(start + size < all.length ? { next_page_token: String(start + size) } : {}) };
      }
      case 'getModelVersion': {
        const version = this.version(message.name, message.version);
        if (version.status === 'PENDING_REGISTRATION' && ++version.polls > (this.options.pendingPolls ?? 0)) version.status = 'READY';
        return { model_version: this.shown(version) };
      }
      case 'createModelVersion': {
        const model = this.model(message.name);
        const version: StoredVersion = {
          name: model.name,
          version: String(model.versions.reduce((max, item) => Math.max(max, Number(item.version)), 0) + 1),
          creation_timestamp: now,
          last_updated_timestamp: now,
          current_stage: 'None',
          ...(message.description ? { description: String(message.description) } : {}),
          source: String(message.source),
          run_id: '',
          status: this.options.pendingPolls ? 'PENDING_REGISTRATION' : 'READY',
          tags: ((message.tags as { key: string; value: string }[] | undefined) ?? []).map(({ key, value }) => ({ key, value })),
          polls: 0,
        };
        const source = String(message.source);
        if (source.startsWith('mlflow-artifacts:/') && !existsSync(this.artifactFile(source.slice('mlflow-artifacts:/'.length)))) {
          throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `source ${source} holds no artifacts`);
        }
        model.versions.push(version);
        return { model_version: this.shown(version) };
      }
      case 'deleteModelVersion': {
        const model = this.model(message.name);
        this.version(message.name, message.version);
        model.versions = model.versions.filter((version) => version.version !== String(message.version));
        return {};
      }
      case 'setRegisteredModelAlias':
        this.version(message.name, message.version);
        this.model(message.name).aliases.set(String(message.alias), String(message.version));
        return {};
      case 'listArtifacts': {
        this.artifacts();
        const dir = this.artifactFile(String(message.path ?? '') || '.');
        if (!existsSync(dir) || !statSync(dir).isDirectory()) return {};
        const files = readdirSync(dir).map((name) => {
          const full = join(dir, name);
          const isDir = statSync(full).isDirectory();
          return { path: relative(this.artifactRoot, full).split(sep).join('/'), is_dir: isDir, ...(isDir ? {} : { file_size: statSync(full).size }) };
        });
        return files.length ? { files } : {};
      }
      case 'deleteArtifact':
        this.artifacts();
        rmSync(this.artifactFile(artifactPath), { recursive: true, force: true });
        return {};
      default:
        this.violations.push(`unexpected call ${rpc}: the task has no business calling it`);
        throw new ApiError(501, 'NOT_IMPLEMENTED', `${rpc} is not implemented by the fake`);
    }
  }
}
