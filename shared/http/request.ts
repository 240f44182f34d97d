import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { isIP } from 'node:net';
import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { CancelledError, UserError } from '../util/errors.js';
import { proxyAuthorization, proxyFor, TunnelAgent } from './proxy.js';
import { sleep } from '../util/sleep.js';

export interface TlsOptions {
  /** Extra CA certificates (PEM) trusted besides the public ones. */
  ca?: string;
  /** Accept any certificate (an insecure registry). */
  insecure?: boolean;
}

/**
 * A body streamed rather than held in memory: `open` gives a fresh stream for each attempt (a retry
 * cannot rewind the last one), which must yield exactly `length` bytes. An error the stream raises
 * ends the request with that same error, never retried.
 */
export interface StreamedBody {
  length: number;
  open(): Readable;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer | string | StreamedBody;
  /** Per attempt, from connect to the last byte of the answer. */
  timeoutMs?: number;
  /** Attempts after the first, for 429, 5xx and dropped connections. */
  retries?: number;
  signal?: AbortSignal;
  tls?: TlsOptions;
  env?: NodeJS.ProcessEnv;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** The URL that answered, after redirects. */
  url: string;
}

/** A request that got no HTTP answer at all. */
export class NetworkError extends UserError {
  /** Without query string or credentials, like the message. */
  readonly url: string;

  constructor(readonly method: string, url: string, readonly code: string, detail: string) {
    super(`${method} ${safeUrl(url)} failed: ${detail}`);
    this.url = safeUrl(url);
  }
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_RETRIES = 3;
const MAX_REDIRECTS = 5;
const MAX_BACKOFF_MS = 10_000;
const MAX_RETRY_AFTER_MS = 60_000;
const RETRIED_CODES = new Set(['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ESOCKETTIMEDOUT', 'UND_ERR_SOCKET']);
const CREDENTIAL_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

/** A URL fit for a log: no credentials, no query string (SAS tokens, codes). */
export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}${parsed.search ? '?…' : ''}`;
  } catch {
    return '<invalid URL>';
  }
}

const agents = new Map<string, http.Agent>();

function agentFor(url: URL, options: RequestOptions): http.Agent | undefined {
  const proxy = proxyFor(url, options.env ?? process.env);
  const secure = url.protocol === 'https:';
  if (!secure && !proxy) return undefined;
  const key = `${url.protocol}|${proxy?.href ?? ''}|${options.tls?.ca ?? ''}|${options.tls?.insecure ?? false}`;
  let agent = agents.get(key);
  if (!agent) {
    const tlsOptions: https.AgentOptions = { keepAlive: true, rejectUnauthorized: !options.tls?.insecure };
    if (options.tls?.ca) tlsOptions.ca = [...tls.rootCertificates, ...extraCaFromEnv(options.env), options.tls.ca];
    agent = secure
      ? proxy
        ? (new TunnelAgent(proxy, tlsOptions) as unknown as https.Agent)
        : new https.Agent(tlsOptions)
      : new http.Agent({ keepAlive: true });
    agents.set(key, agent);
  }
  return agent;
}

/** Passing `ca` replaces Node's trust store, so NODE_EXTRA_CA_CERTS is carried over by hand. */
function extraCaFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  const file = env.NODE_EXTRA_CA_CERTS;
  if (!file) return [];
  try {
    return [readFileSync(file, 'utf8')];
  } catch {
    return [];
  }
}

/** Retry-After in seconds or as an HTTP date; undefined when absent or unreadable. */
function retryAfterMs(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS) : undefined;
}

function backoffMs(attempt: number): number {
  // Full jitter: spreads the retries of many agents hitting one busy server.
  return Math.random() * Math.min(MAX_BACKOFF_MS, 500 * 2 ** attempt);
}

/** Errors raised by a streamed body: the caller's own (a changed file, say), passed on unwrapped. */
const bodyErrors = new WeakSet<object>();

function isStreamed(body: RequestOptions['body']): body is StreamedBody {
  return typeof body === 'object' && !Buffer.isBuffer(body);
}

function once(url: URL, options: RequestOptions): Promise<HttpResponse> {
  const method = options.method ?? 'GET';
  const proxy = url.protocol === 'http:' ? proxyFor(url, options.env ?? process.env) : undefined;
  return new Promise((resolve, reject) => {
    const headers = { ...options.headers };
    const streamed = isStreamed(options.body) ? options.body : undefined;
    const body = typeof options.body === 'string' ? Buffer.from(options.body) : streamed ? undefined : options.body;
    if (body) headers['content-length'] = String(body.length);
    if (streamed) headers['content-length'] = String(streamed.length);
    const target = proxy
      ? { host: proxy.hostname, port: proxy.port || 80, path: url.href, headers: { ...headers, ...proxyAuthorization(proxy), host: url.host } }
      : { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port || undefined, path: `${url.pathname}${url.search}`, headers };
    const transport = url.protocol === 'https:' ? https : http;
    const hostname = url.hostname.replace(/^\[|\]$/g, '');
    // SNI carries host names only (RFC 6066).
    const requestOptions: https.RequestOptions = { ...target, method, agent: agentFor(url, options), ...(isIP(hostname) ? {} : { servername: hostname }) };
    const request = (transport.request as typeof https.request)(requestOptions, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks), url: url.href });
        // An answer before the whole streamed body went out (a refusal): stop sending. The
        // connection is unusable with half a body in it, and the stream's file is released.
        if (streamed && !request.writableFinished) request.destroy();
      });
      response.on('error', reject);
    });
    const timer = setTimeout(() => {
      request.destroy(Object.assign(new Error(`no answer within ${(options.timeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000} s`), { code: 'ETIMEDOUT' }));
    }, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const onAbort = () => request.destroy(new CancelledError('the request'));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const source = streamed?.open();
    request.on('close', () => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      // A server that answers before reading the whole body leaves the stream unread: release its file.
      source?.destroy();
    });
    request.on('error', reject);
    if (!source) {
      request.end(body);
      return;
    }
    source.on('error', (error) => {
      bodyErrors.add(error);
      reject(error);
      request.destroy(error);
    });
    source.pipe(request);
  });
}

/**
 * The one way the core talks HTTP: per-attempt timeouts, retries with backoff and jitter on
 * 429/5xx and dropped connections (honouring Retry-After), redirects, custom CA, proxies.
 * HTTP error statuses are returned, not thrown: callers know what a 401 or 404 means to them.
 */
export async function request(url: string, options: RequestOptions = {}): Promise<HttpResponse> {
  const method = options.method ?? 'GET';
  const retries = IDEMPOTENT.has(method) ? options.retries ?? DEFAULT_RETRIES : 0;
  let current = new URL(url);
  let headers = { ...options.headers };
  for (let attempt = 0, redirects = 0; ; ) {
    if (options.signal?.aborted) throw new CancelledError('the request');
    let response: HttpResponse;
    try {
      response = await once(current, { ...options, headers });
    } catch (error) {
      if (error instanceof CancelledError || bodyErrors.has(error as object)) throw error;
      const code = (error as NodeJS.ErrnoException).code ?? 'ERROR';
      if (RETRIED_CODES.has(code) && attempt < retries) {
        await sleep(backoffMs(attempt++), options.signal, 'the request');
        continue;
      }
      throw new NetworkError(method, current.href, code, (error as Error).message);
    }
    const location = response.headers.location;
    if ([301, 302, 303, 307, 308].includes(response.status) && location && (method === 'GET' || method === 'HEAD')) {
      if (++redirects > MAX_REDIRECTS) throw new NetworkError(method, url, 'EREDIRECT', 'too many redirects');
      const next = new URL(location, current);
      // Credentials are for the host that asked for them, never for the one it sends us to.
      if (next.origin !== current.origin) {
        headers = Object.fromEntries(Object.entries(headers).filter(([name]) => !CREDENTIAL_HEADERS.has(name.toLowerCase())));
      }
      current = next;
      continue;
    }
    if ((response.status === 429 || response.status >= 500) && attempt < retries) {
      await sleep(retryAfterMs(response.headers['retry-after']) ?? backoffMs(attempt), options.signal, 'the request');
      attempt++;
      continue;
    }
    return response;
  }
}
