import { request, type HttpResponse } from '../http/request.js';
import { UserError, oneLine } from '../util/errors.js';
import { sleep } from '../util/sleep.js';

export interface ArmClientOptions {
  /** e.g. https://management.azure.com (sovereign clouds and tests use others). */
  armUrl: string;
  apiVersion: string;
  /** A bearer token for `${armUrl}/.default`; asked for once per call so a long wait may refresh it. */
  token: () => Promise<string>;
  env: NodeJS.ProcessEnv;
  /** Extra CA (PEM) trusted for ARM. */
  ca?: string;
  signal?: AbortSignal;
  /** Longest wait for a long-running operation (default 30 min). */
  operationTimeoutMs?: number;
  /** Longest pause between two polls, whatever Retry-After asks (a deadline that must be kept). */
  maxPollMs?: number;
}

/** A request ARM accepted and may still be working on: what `start` returns, not followed. */
export interface StartedOperation<T> {
  status: number;
  body: T;
  /** Azure-AsyncOperation (a status document) or, failing that, Location; undefined when done. */
  operationUrl?: string;
  retryAfterMs?: number;
}

/** An ARM operation status document (Azure-AsyncOperation), read leniently. */
export interface OperationStatus {
  status: string;
  error?: { code?: string; message?: string; details?: { code?: string; message?: string }[] };
}

/** An ARM call that answered with an error status: one line, `{error:{code,message}}` folded in. */
export class ArmError extends UserError {
  constructor(readonly what: string, readonly status: number, readonly code: string, detail: string) {
    super(oneLine(`${what} failed: HTTP ${status}${code ? ` ${code}` : ''}${detail ? `: ${detail}` : ''}`));
  }
}

const TERMINAL_FAILURE = new Set(['failed', 'canceled', 'cancelled']);
const DEFAULT_POLL_MS = 5_000;

/** The `{error:{code,message}}` body ARM sends with every failure, read leniently. */
function armErrorOf(response: HttpResponse): { code: string; message: string } {
  try {
    const body = JSON.parse(response.body.toString('utf8')) as { error?: { code?: string; message?: string }; code?: string; message?: string };
    const error = body.error ?? body;
    return { code: error.code ?? '', message: (error.message ?? '').slice(0, 500) };
  } catch {
    return { code: '', message: response.body.toString('utf8').slice(0, 200) };
  }
}

function header(response: HttpResponse, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Retry-After in seconds (ARM never sends the HTTP-date form), as milliseconds. */
function retryAfterMs(response: HttpResponse): number | undefined {
  const seconds = Number(header(response, 'retry-after'));
  return header(response, 'retry-after') !== undefined && Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

/**
 * A small Azure Resource Manager REST client over the one HTTP layer: bearer token, api-version,
 * one-line errors, paging by nextLink, and long-running operations followed to their end.
 */
export class ArmClient {
  private readonly base: string;

  constructor(private readonly options: ArmClientOptions) {
    this.base = options.armUrl.replace(/\/+$/, '');
  }

  /** A URL for a resource path (starting with /subscriptions/...) or an absolute link ARM gave us. */
  url(pathOrLink: string, query: Record<string, string | undefined> = {}): string {
    const url = new URL(/^https?:\/\//.test(pathOrLink) ? pathOrLink : `${this.base}${pathOrLink}`);
    if (!url.searchParams.has('api-version')) url.searchParams.set('api-version', this.options.apiVersion);
    for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, value);
    return url.href;
  }

  private async send(method: string, url: string, body?: unknown): Promise<HttpResponse> {
    const headers: Record<string, string> = { authorization: `Bearer ${await this.options.token()}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    return request(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      env: this.options.env,
      signal: this.options.signal,
      tls: this.options.ca ? { ca: this.options.ca } : undefined,
    });
  }

  private failure(what: string, response: HttpResponse): ArmError {
    const { code, message } = armErrorOf(response);
    return new ArmError(what, response.status, code, message);
  }

  private static json<T>(response: HttpResponse): T {
    return (response.body.length ? JSON.parse(response.body.toString('utf8')) : {}) as T;
  }

  /** GET a resource; undefined when ARM says 404. */
  async find<T>(what: string, path: string, query?: Record<string, string | undefined>): Promise<T | undefined> {
    const response = await this.send('GET', this.url(path, query));
    if (response.status === 404) return undefined;
    if (response.status !== 200) throw this.failure(what, response);
    return ArmClient.json<T>(response);
  }

  async get<T>(what: string, path: string, query?: Record<string, string | undefined>): Promise<T> {
    const found = await this.find<T>(what, path, query);
    if (found === undefined) throw new ArmError(what, 404, 'NotFound', 'the resource does not exist');
    return found;
  }

  /** Every item of a paged list, following nextLink. */
  async list<T>(what: string, path: string, query?: Record<string, string | undefined>, limit = Infinity): Promise<T[]> {
    const items: T[] = [];
    let next: string | undefined = this.url(path, query);
    while (next && items.length < limit) {
      const response = await this.send('GET', next);
      if (response.status !== 200) throw this.failure(what, response);
      const page = ArmClient.json<{ value?: T[]; nextLink?: string | null }>(response);
      items.push(...(page.value ?? []));
      next = page.nextLink ? this.url(page.nextLink) : undefined;
    }
    return items;
  }

  /** PUT a resource and wait for it when ARM answers asynchronously; returns the final resource. */
  async put<T>(what: string, path: string, body: unknown): Promise<T> {
    return this.call<T>('PUT', what, path, body);
  }

  /** POST an action (listSecrets, listKeys, ...) and wait for it when ARM answers asynchronously. */
  async post<T>(what: string, path: string, body?: unknown): Promise<T> {
    return this.call<T>('POST', what, path, body);
  }

  /** DELETE a resource; a 404 counts as done. */
  async delete(what: string, path: string): Promise<void> {
    const response = await this.send('DELETE', this.url(path));
    if (response.status === 404) return;
    if (response.status === 202) {
      await this.follow<unknown>(what, response, 'DELETE', this.url(path));
      return;
    }
    if (response.status !== 200 && response.status !== 204) throw this.failure(what, response);
  }

  /**
   * Sends a PUT/PATCH/POST/DELETE and returns as soon as ARM accepts it, with the URL to follow:
   * for work the caller waits on in its own way (a deployment's provisioningState, say).
   */
  async start<T>(method: string, what: string, path: string, body?: unknown): Promise<StartedOperation<T>> {
    const response = await this.send(method, this.url(path), body);
    if (response.status < 200 || response.status > 202) throw this.failure(what, response);
    const operationUrl = header(response, 'azure-asyncoperation') || (response.status === 202 ? header(response, 'location') : undefined);
    return { status: response.status, body: ArmClient.json<T>(response), operationUrl: operationUrl || undefined, retryAfterMs: retryAfterMs(response) };
  }

  /** GET a resource with the pause ARM asks for before the next look; resource undefined on 404. */
  async poll<T>(what: string, path: string): Promise<{ resource?: T; retryAfterMs?: number }> {
    const response = await this.send('GET', this.url(path));
    if (response.status === 404) return { retryAfterMs: retryAfterMs(response) };
    if (response.status !== 200) throw this.failure(what, response);
    return { resource: ArmClient.json<T>(response), retryAfterMs: retryAfterMs(response) };
  }

  /** One read of an Azure-AsyncOperation status document. */
  async operationStatus(what: string, operationUrl: string): Promise<OperationStatus> {
    const response = await this.send('GET', operationUrl);
    if (response.status !== 200) throw this.failure(`${what} (operation status)`, response);
    return ArmClient.json<OperationStatus>(response);
  }

  /** The pause before the next poll: Retry-After when given, capped by maxPollMs. */
  pauseMs(retryAfter: number | undefined, fallbackMs = DEFAULT_POLL_MS): number {
    return Math.min(retryAfter ?? fallbackMs, this.options.maxPollMs ?? Infinity);
  }

  private async call<T>(method: string, what: string, path: string, body: unknown): Promise<T> {
    const url = this.url(path);
    const response = await this.send(method, url, body);
    if (response.status !== 200 && response.status !== 201 && response.status !== 202) throw this.failure(what, response);
    const pending = header(response, 'azure-asyncoperation') || (response.status === 202 && header(response, 'location'));
    if (!pending) return ArmClient.json<T>(response);
    return this.follow<T>(what, response, method, url);
  }

  /**
   * Follows a long-running operation: Azure-AsyncOperation holds a status document
   * (Succeeded/Failed/Canceled); Location answers 202 until done, then the result. Retry-After paces
   * the polls. A PUT ends by reading the resource itself, as ARM's LRO guidelines say.
   */
  private async follow<T>(what: string, first: HttpResponse, method: string, resourceUrl: string): Promise<T> {
    const asyncOperation = header(first, 'azure-asyncoperation');
    const location = header(first, 'location');
    const deadline = Date.now() + (this.options.operationTimeoutMs ?? 30 * 60_000);
    let last = first;
    for (;;) {
      await sleep(this.pauseMs(retryAfterMs(last)), this.options.signal, 'the Azure operation');
      if (Date.now() > deadline) throw new UserError(`${what} did not finish within ${Math.round((this.options.operationTimeoutMs ?? 1_800_000) / 60_000)} min`);
      if (asyncOperation) {
        last = await this.send('GET', asyncOperation);
        if (last.status !== 200) throw this.failure(`${what} (operation status)`, last);
        const status = ArmClient.json<{ status?: string; error?: { code?: string; message?: string } }>(last);
        const state = (status.status ?? '').toLowerCase();
        if (TERMINAL_FAILURE.has(state)) {
          throw new ArmError(what, 200, status.error?.code ?? status.status ?? '', status.error?.message ?? `the operation ended ${status.status}`);
        }
        if (state !== 'succeeded') continue;
        if (method === 'PUT' || method === 'PATCH') return this.get<T>(what, resourceUrl);
        if (location) {
          const result = await this.send('GET', location);
          if (result.status === 200) return ArmClient.json<T>(result);
        }
        return {} as T;
      }
      last = await this.send('GET', location!);
      if (last.status === 202) continue;
      if (last.status === 200 || last.status === 201 || last.status === 204) {
        return method === 'PUT' ? this.get<T>(what, resourceUrl) : ArmClient.json<T>(last);
      }
      throw this.failure(`${what} (operation result)`, last);
    }
  }
}
