import { request, type HttpResponse, type StreamedBody } from '../../http/request.js';
import { UserError } from '../../util/errors.js';

/** How requests to the tracking server prove who sends them. */
export type MlflowAuth = { kind: 'token'; token: string } | { kind: 'basic'; username: string; password: string } | { kind: 'none' };

export interface MlflowClientOptions {
  /** Base URL of the tracking server, without trailing slash (a path prefix is kept). */
  trackingUri: string;
  auth: MlflowAuth;
  /** The input(s) the credentials came from, for messages; never their value. */
  authSource: string;
  ca?: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

/** An MLflow REST error: HTTP status and, when the server sent one, its error_code. */
export class MlflowApiError extends UserError {
  constructor(message: string, readonly status: number, readonly errorCode: string) {
    super(message);
  }
}

/** One JSON message, as the REST API 2.0 carries protobuf messages. */
export type Message = Record<string, unknown>;

const API = '/api/2.0';
/** A model file can be large: an upload gets minutes, not the default 30 s. */
const UPLOAD_TIMEOUT_MS = 30 * 60_000;

function query(message: Message): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(message)) {
    for (const item of Array.isArray(value) ? value : [value]) if (item !== undefined) params.append(key, String(item));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

function errorBody(body: Buffer): { error_code?: string; message?: string } {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as { error_code?: string; message?: string }) : {};
  } catch {
    return {};
  }
}

/** The MLflow tracking server's REST API 2.0, through the project's one HTTP layer. */
export class MlflowClient {
  constructor(private readonly options: MlflowClientOptions) {}

  get trackingUri(): string {
    return this.options.trackingUri;
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    const { auth } = this.options;
    const headers: Record<string, string> = { accept: 'application/json', ...extra };
    if (auth.kind === 'token') headers.authorization = `Bearer ${auth.token}`;
    if (auth.kind === 'basic') headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    return headers;
  }

  /** Turns a refusal into one line naming the server, the call and the credentials' source. */
  private check(method: string, path: string, response: HttpResponse): void {
    if (response.status >= 200 && response.status < 300) return;
    const where = `MLflow tracking server ${this.options.trackingUri} answered HTTP ${response.status} to ${method} ${path}`;
    const { error_code: code = '', message = '' } = errorBody(response.body);
    if (response.status === 401) throw new MlflowApiError(`${where}: it refused the credentials from ${this.options.authSource}: check them`, 401, code);
    if (response.status === 403) throw new MlflowApiError(`${where}: the credentials from ${this.options.authSource} lack the rights for this call`, 403, code);
    // MLflow says RESOURCE_DOES_NOT_EXIST with a 404; a bare 404 means no MLflow API at this address.
    if (response.status === 404 && !code) {
      throw new MlflowApiError(`${where}: no MLflow REST API there for the credentials from ${this.options.authSource}; check input 'mlflowTrackingUri' (the server's base URL)`, 404, '');
    }
    const detail = message ? `: ${message.split('\n')[0]!.slice(0, 300)}` : '';
    throw new MlflowApiError(`${where}${code ? ` ${code}` : ''}${detail}`, response.status, code);
  }

  /** Calls one REST endpoint: GET carries the message in the query string, the others as JSON. */
  async call<T = Message>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, message: Message = {}): Promise<T> {
    const get = method === 'GET';
    const url = `${this.options.trackingUri}${API}${path}${get ? query(message) : ''}`;
    const response = await request(url, {
      method,
      headers: this.headers(get ? {} : { 'content-type': 'application/json' }),
      body: get ? undefined : JSON.stringify(message),
      signal: this.options.signal,
      tls: this.options.ca ? { ca: this.options.ca } : undefined,
      env: this.options.env,
    });
    this.check(method, path, response);
    const text = response.body.toString('utf8');
    return (text.trim() ? JSON.parse(text) : {}) as T;
  }

  /** PUT of raw bytes (in memory or streamed) to an artifact path through the server's artifact proxy. */
  async putArtifact(artifactPath: string, body: Buffer | StreamedBody): Promise<void> {
    const path = `/mlflow-artifacts/artifacts/${encodeArtifactPath(artifactPath)}`;
    const response = await request(`${this.options.trackingUri}${API}${path}`, {
      method: 'PUT',
      headers: this.headers({ 'content-type': 'application/octet-stream' }),
      body,
      timeoutMs: UPLOAD_TIMEOUT_MS,
      signal: this.options.signal,
      tls: this.options.ca ? { ca: this.options.ca } : undefined,
      env: this.options.env,
    });
    this.check('PUT', path, response);
  }

  /** DELETE of an artifact path (file or folder); used to take back a failed upload. */
  async deleteArtifact(artifactPath: string): Promise<void> {
    const path = `/mlflow-artifacts/artifacts/${encodeArtifactPath(artifactPath)}`;
    const response = await request(`${this.options.trackingUri}${API}${path}`, {
      method: 'DELETE',
      headers: this.headers(),
      signal: this.options.signal,
      tls: this.options.ca ? { ca: this.options.ca } : undefined,
      env: this.options.env,
    });
    this.check('DELETE', path, response);
  }

  /** True when the server proxies artifacts (mlflow server without --no-serve-artifacts). */
  async hasArtifactProxy(probePath: string): Promise<boolean> {
    const path = '/mlflow-artifacts/artifacts';
    const response = await request(`${this.options.trackingUri}${API}${path}${query({ path: probePath })}`, {
      headers: this.headers(),
      // A server without the proxy answers 503 (or 404 on old ones): asking three more times wastes seconds.
      retries: 1,
      signal: this.options.signal,
      tls: this.options.ca ? { ca: this.options.ca } : undefined,
      env: this.options.env,
    });
    if (response.status === 404 || response.status === 501 || response.status === 503) return false;
    this.check('GET', path, response);
    return true;
  }
}

export function encodeArtifactPath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}
