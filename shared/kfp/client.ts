import { request, type HttpResponse, type TlsOptions } from '../http/request.js';
import { oneLine, UserError } from '../util/errors.js';
import type { KfpAuth } from './auth.js';
import { multipartBody, type FilePart } from './multipart.js';
import { CALL_TIMEOUT_MS } from './timeouts.js';

export interface KfpClientOptions {
  /** The API base URL with any path prefix (https://kf.example.com/pipeline), no trailing slash. */
  host: string;
  auth: KfpAuth;
  tls?: TlsOptions;
  env?: NodeJS.ProcessEnv;
  /** The step's cancel signal: every call stops when it fires. */
  signal?: AbortSignal;
}

export interface CallOptions {
  query?: Record<string, string | number | undefined>;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as multipart/form-data instead of a JSON body. */
  file?: FilePart;
  timeoutMs?: number;
  retries?: number;
  /** Replaces the client's signal: terminating a run after a cancel needs a signal of its own. */
  signal?: AbortSignal;
  /** Statuses handed back to the caller instead of thrown, e.g. 404 or 409. */
  expect?: readonly number[];
  /** The namespace the call acts in, named when the server answers 403. */
  namespace?: string;
}

export interface KfpAnswer<T> {
  status: number;
  body: T;
}

/** An HTTP error answer of the KFP API; the message names the call. */
export class KfpError extends UserError {
  constructor(readonly call: string, readonly status: number, message: string) {
    super(message);
  }
}

const MAX_SERVER_MESSAGE = 300;

/** What the server said about an error: googleRpcStatus.message (v2, most v1 calls) or apiStatus.error (v1 uploads). */
function serverMessage(response: HttpResponse): string {
  const text = response.body.toString('utf8');
  let message = text;
  try {
    const parsed = JSON.parse(text) as { message?: unknown; error?: unknown };
    message = typeof parsed.message === 'string' && parsed.message ? parsed.message : typeof parsed.error === 'string' ? parsed.error : '';
  } catch {
    if (/^\s*</.test(text)) message = '';
  }
  message = oneLine(message);
  return message.length > MAX_SERVER_MESSAGE ? `${message.slice(0, MAX_SERVER_MESSAGE)}…` : message;
}

/** One KFP API server: JSON calls through the shared HTTP layer, with auth and errors that name the call. */
export class KfpClient {
  readonly host: string;

  constructor(private readonly options: KfpClientOptions) {
    this.host = options.host.replace(/\/+$/, '');
  }

  get auth(): KfpAuth {
    return this.options.auth;
  }

  url(path: string, query: CallOptions['query'] = {}): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== '') params.set(key, String(value));
    const search = params.toString();
    return `${this.host}${path}${search ? `?${search}` : ''}`;
  }

  async call<T>(method: string, path: string, options: CallOptions = {}): Promise<KfpAnswer<T>> {
    const call = `${method} ${path}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    let body: Buffer | string | undefined;
    if (options.file) {
      const multipart = multipartBody(options.file);
      body = multipart.body;
      headers['content-type'] = multipart.contentType;
    } else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    for (let refreshed = false; ; ) {
      const response = await request(this.url(path, options.query), {
        method,
        headers: { ...headers, ...this.options.auth.headers() },
        body,
        timeoutMs: options.timeoutMs ?? CALL_TIMEOUT_MS,
        retries: options.retries,
        signal: options.signal ?? this.options.signal,
        tls: this.options.tls,
        env: this.options.env,
      });
      // A projected token may have rotated since it was read: one retry with the new one.
      if (response.status === 401 && !refreshed && this.options.auth.refresh()) {
        refreshed = true;
        continue;
      }
      if (response.status >= 200 && response.status < 300) return { status: response.status, body: this.json<T>(call, response) };
      if (options.expect?.includes(response.status)) return { status: response.status, body: {} as T };
      throw this.failure(call, response, options.namespace);
    }
  }

  private json<T>(call: string, response: HttpResponse): T {
    const text = response.body.toString('utf8');
    if (!text.trim()) return {} as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      // Dex and oauth2-proxy answer an unauthenticated call with their login page and 200.
      const page = /^\s*</.test(text) || String(response.headers['content-type'] ?? '').includes('html');
      throw new KfpError(
        call,
        response.status,
        page
          ? `KFP ${call} answered with a web page, not JSON: 'host' is not the KFP API, or a login page answered (check ${this.options.auth.describe()})`
          : `KFP ${call} answered with something that is not JSON`,
      );
    }
  }

  private failure(call: string, response: HttpResponse, namespace?: string): KfpError {
    const { status } = response;
    const said = serverMessage(response);
    const detail = said ? `: ${said}` : '';
    const auth = this.options.auth.describe();
    if (status === 401) {
      const advice = auth.startsWith('no credentials') ? `the server wants credentials and got ${auth}` : `the server refused ${auth}: check it`;
      return new KfpError(call, status, `KFP ${call} answered HTTP 401: ${advice}`);
    }
    if (status === 403) {
      const what = namespace ? `${auth} may not use namespace '${namespace}'` : `${auth} lack the rights for this call`;
      return new KfpError(call, status, `KFP ${call} answered HTTP 403: ${what}${detail}`);
    }
    return new KfpError(call, status, `KFP ${call} answered HTTP ${status}${detail}`);
  }
}
