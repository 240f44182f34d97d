import https from 'node:https';
import http from 'node:http';
import { CancelledError, UserError } from '../util/errors.js';
import { sleep } from '../util/sleep.js';
import type { LoadedKubeConfig } from './kubeconfig.js';

/** A meta/v1 Status, the body of every API server error. */
export interface K8sStatus {
  kind?: string;
  message?: string;
  reason?: string;
  code?: number;
}

/** An answer other than 2xx, 401 and 403 (which are UserErrors of their own). */
export class K8sApiError extends UserError {
  constructor(
    readonly status: number,
    readonly body: K8sStatus | undefined,
    message: string,
  ) {
    super(message);
  }
}

const TIMEOUT_MS = 30_000;
const RETRIES = 3;
const RETRIED_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN']);
const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * The API server calls the port-forward and the deploy need, with the kubeconfig's own TLS and credentials
 * (certificates, tokens, exec plugins: whatever @kubernetes/client-node applies), a timeout per
 * attempt, retries on 429/5xx and dropped connections, and one-line errors that never carry a
 * credential.
 */
export class K8sApi {
  constructor(
    readonly config: LoadedKubeConfig,
    private readonly signal?: AbortSignal,
    /** What a cancel interrupts, for its message. */
    private readonly activity = 'the port-forward',
  ) {}

  /** `what` names the call in errors, e.g. "GET service kubeflow/ml-pipeline". */
  async get<T>(path: string, what: string): Promise<T> {
    return this.json<T>('GET', path, what);
  }

  /**
   * One call with a JSON answer. Every verb used here is idempotent (GET, server-side apply, merge
   * patch, DELETE), so dropped connections, 429 and 5xx are retried.
   */
  async json<T>(method: string, path: string, what: string, body?: { text: string; contentType: string }): Promise<T> {
    const answer = await this.call(method, path, what, body, 'application/json');
    try {
      return JSON.parse(answer.toString('utf8')) as T;
    } catch {
      throw new UserError(`the Kubernetes API server ${this.config.serverForLog} answered ${what} with a body that is not JSON`);
    }
  }

  /** A call with a text answer, e.g. a pod's log. */
  async text(path: string, what: string): Promise<string> {
    return (await this.call('GET', path, what, undefined, 'text/plain, */*')).toString('utf8');
  }

  private async call(method: string, path: string, what: string, body: { text: string; contentType: string } | undefined, accept: string): Promise<Buffer> {
    for (let attempt = 0; ; attempt++) {
      if (this.signal?.aborted) throw new CancelledError(this.activity);
      let answer: { status: number; headers: http.IncomingHttpHeaders; body: Buffer };
      try {
        answer = await this.once(method, path, body, accept);
      } catch (error) {
        if (error instanceof UserError) throw error;
        const code = (error as NodeJS.ErrnoException).code ?? '';
        if (RETRIED_CODES.has(code) && attempt < RETRIES) {
          await sleep(backoffMs(attempt), this.signal, this.activity);
          continue;
        }
        throw this.networkError(error as NodeJS.ErrnoException, what);
      }
      const { status } = answer;
      if ((status === 429 || status >= 500) && attempt < RETRIES) {
        await sleep(retryAfterMs(answer.headers['retry-after']) ?? backoffMs(attempt), this.signal, this.activity);
        continue;
      }
      if (status >= 200 && status < 300) return answer.body;
      throw this.statusError(status, parseStatus(answer.body), what);
    }
  }

  /**
   * A watch: newline-delimited JSON events streamed until the server ends it, `onEvent` returns
   * true, or the signal aborts. Resolves with how it ended; the caller re-lists and re-watches.
   */
  async watch<E>(path: string, what: string, onEvent: (event: E) => boolean, signal: AbortSignal): Promise<'done' | 'ended'> {
    const options = await this.requestOptions();
    const url = new URL(this.config.server + path);
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (error: Error | undefined, how?: 'done' | 'ended') => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        this.signal?.removeEventListener('abort', onAbort);
        request.destroy();
        if (error) reject(error);
        else resolve(how!);
      };
      const onAbort = () => finish(new CancelledError(this.activity));
      const request = (transport.request as typeof https.request)(
        url,
        { ...options, method: 'GET', headers: { ...options.headers, accept: 'application/json' } },
        (response) => {
          const status = response.statusCode ?? 0;
          if (status < 200 || status >= 300) {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('end', () => finish(this.statusError(status, parseStatus(Buffer.concat(chunks)), what)));
            return;
          }
          let pending = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => {
            pending += chunk;
            let newline: number;
            while (!settled && (newline = pending.indexOf('\n')) >= 0) {
              const line = pending.slice(0, newline).trim();
              pending = pending.slice(newline + 1);
              if (!line) continue;
              let event: E;
              try {
                event = JSON.parse(line) as E;
              } catch {
                finish(new UserError(`the Kubernetes API server ${this.config.serverForLog} sent a watch event that is not JSON for ${what}`));
                return;
              }
              if (onEvent(event)) finish(undefined, 'done');
            }
          });
          response.on('end', () => finish(undefined, 'ended'));
          response.on('error', () => finish(undefined, 'ended'));
        },
      );
      signal.addEventListener('abort', onAbort, { once: true });
      this.signal?.addEventListener('abort', onAbort, { once: true });
      request.on('error', (error: NodeJS.ErrnoException) => {
        // A dropped watch is normal (proxies, API server restarts): the caller watches again.
        if (RETRIED_CODES.has(error.code ?? '')) finish(undefined, 'ended');
        else finish(this.networkError(error, what));
      });
      request.end();
    });
  }

  /** The one-line error for a non-2xx answer to a call (also used for WebSocket upgrades). */
  statusError(status: number, body: K8sStatus | undefined, what: string): UserError {
    const { serverForLog, input, redact } = this.config;
    const detail = body?.message ? `: ${redact(body.message)}` : '';
    if (status === 401) {
      return new UserError(
        `the Kubernetes API server ${serverForLog} answered ${what} with 401 Unauthorized: the credentials in '${input}' were not accepted (expired or revoked?)`,
      );
    }
    if (status === 403) {
      return new UserError(
        `the Kubernetes API server ${serverForLog} answered ${what} with 403 Forbidden: the user in '${input}' lacks permission${detail}`,
      );
    }
    return new K8sApiError(status, body, `the Kubernetes API server ${serverForLog} answered ${what} with ${status}${detail}`);
  }

  networkError(error: NodeJS.ErrnoException, what: string): UserError {
    const { serverForLog, input, redact } = this.config;
    const code = error.code ?? '';
    if (TLS_CODES.has(code)) {
      return new UserError(
        `the Kubernetes API server ${serverForLog} has a certificate that is not trusted (${code}): check the cluster's certificate-authority-data in '${input}'`,
      );
    }
    return new UserError(`cannot reach the Kubernetes API server ${serverForLog} (from '${input}') for ${what}: ${redact(error.message)}`);
  }

  /**
   * TLS material, credentials and agent for one request, as client-node derives them from the
   * kubeconfig (running an exec plugin or refreshing an OIDC token when the user has one).
   */
  private async requestOptions(): Promise<https.RequestOptions> {
    const options: https.RequestOptions = {};
    try {
      await this.config.kc.applyToHTTPSOptions(options as never);
    } catch (error) {
      const message = (error as Error)?.message?.split(/\r?\n/)[0] ?? String(error);
      throw new UserError(`the credentials in '${this.config.input}' could not be applied: ${this.config.redact(message)}`);
    }
    return options;
  }

  private async once(
    method: string,
    path: string,
    body: { text: string; contentType: string } | undefined,
    accept: string,
  ): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
    const options = await this.requestOptions();
    const url = new URL(this.config.server + path);
    const transport = url.protocol === 'https:' ? https : http;
    const headers: http.OutgoingHttpHeaders = { ...(options.headers as http.OutgoingHttpHeaders), accept };
    if (body) {
      headers['content-type'] = body.contentType;
      headers['content-length'] = Buffer.byteLength(body.text);
    }
    return new Promise((resolve, reject) => {
      const request = (transport.request as typeof https.request)(url, { ...options, method, headers }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
        response.on('error', reject);
      });
      const timer = setTimeout(
        () => request.destroy(Object.assign(new Error(`no answer within ${TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' })),
        TIMEOUT_MS,
      );
      const onAbort = () => request.destroy(new CancelledError(this.activity));
      this.signal?.addEventListener('abort', onAbort, { once: true });
      request.on('close', () => {
        clearTimeout(timer);
        this.signal?.removeEventListener('abort', onAbort);
      });
      request.on('error', reject);
      request.end(body?.text);
    });
  }
}

function parseStatus(body: Buffer): K8sStatus | undefined {
  try {
    const status = JSON.parse(body.toString('utf8')) as K8sStatus;
    return status && typeof status === 'object' ? status : undefined;
  } catch {
    return undefined;
  }
}

function backoffMs(attempt: number): number {
  return Math.random() * Math.min(5_000, 250 * 2 ** attempt);
}

function retryAfterMs(header: string | string[] | undefined): number | undefined {
  const seconds = Number(Array.isArray(header) ? header[0] : header);
  return header !== undefined && Number.isFinite(seconds) ? Math.min(Math.max(seconds, 0), 30) * 1000 : undefined;
}
