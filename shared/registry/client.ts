import { createHash } from 'node:crypto';
import { UserError } from '../util/errors.js';
import { NetworkError, request, type HttpResponse, type RequestOptions } from '../http/request.js';
import { parseChallenge, type Challenge } from './challenge.js';
import { MANIFEST_ACCEPT } from './media-types.js';
import { apiHost } from './reference.js';
import type { RegistryCredentials } from './credentials.js';

export interface RegistryClientOptions {
  registry: string;
  credentials?: RegistryCredentials;
  /** Where the credentials came from, for messages: e.g. "inputs 'username' and 'password'". */
  credentialsSource?: string;
  /** Plain HTTP or an unverified certificate, for this registry only. */
  insecure?: boolean;
  ca?: string;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

export interface Manifest {
  body: Buffer;
  mediaType: string;
  /** As the registry serves it (Docker-Content-Digest), else computed from the body. */
  digest: string;
}

const CERTIFICATE_ERRORS = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);
/** What Node reports when it speaks TLS to a plain-HTTP server. */
const PLAIN_HTTP_ERRORS = new Set(['EPROTO', 'ERR_SSL_WRONG_VERSION_NUMBER', 'ECONNRESET']);

export function sha256Digest(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** A client for the OCI distribution API with the registry auth flows (basic and bearer token). */
export class RegistryClient {
  private base: string;
  private readonly host: string;
  private readonly tokens = new Map<string, string>();
  private challenge: Challenge | undefined;

  constructor(private readonly options: RegistryClientOptions) {
    this.host = apiHost(options.registry);
    this.base = `https://${this.host}`;
  }

  get registry(): string {
    return this.options.registry;
  }

  /** Checks that the registry answers and accepts our credentials for pushing to a repository. */
  async checkAccess(repository: string): Promise<void> {
    await this.send('GET', '/v2/', { scope: `repository:${repository}:pull,push` });
  }

  async getManifest(repository: string, reference: string): Promise<Manifest | undefined> {
    const response = await this.send('GET', `/v2/${repository}/manifests/${reference}`, {
      scope: `repository:${repository}:pull`,
      headers: { accept: MANIFEST_ACCEPT },
      allow: [404],
    });
    if (response.status === 404) return undefined;
    const header = response.headers['docker-content-digest'];
    return {
      body: response.body,
      mediaType: String(response.headers['content-type'] ?? '').split(';')[0] ?? '',
      digest: typeof header === 'string' && header ? header : sha256Digest(response.body),
    };
  }

  /** The digest a reference resolves to, without fetching the manifest; undefined when absent. */
  async headManifest(repository: string, reference: string): Promise<string | undefined> {
    const response = await this.send('HEAD', `/v2/${repository}/manifests/${reference}`, {
      scope: `repository:${repository}:pull`,
      headers: { accept: MANIFEST_ACCEPT },
      allow: [404],
    });
    if (response.status === 404) return undefined;
    const header = response.headers['docker-content-digest'];
    // A registry that omits the header on HEAD is asked again with GET.
    return typeof header === 'string' && header ? header : (await this.getManifest(repository, reference))?.digest;
  }

  async hasBlob(repository: string, digest: string): Promise<boolean> {
    const response = await this.send('HEAD', `/v2/${repository}/blobs/${digest}`, { scope: `repository:${repository}:pull`, allow: [404] });
    return response.status !== 404;
  }

  async getBlob(repository: string, digest: string): Promise<Buffer> {
    const response = await this.send('GET', `/v2/${repository}/blobs/${digest}`, { scope: `repository:${repository}:pull` });
    if (sha256Digest(response.body) !== digest) throw new UserError(`registry ${this.registry}: blob ${digest} of ${repository} does not match its digest`);
    return response.body;
  }

  /**
   * Cross-repository mount: the registry links a blob it already holds under another repository.
   * Returns false when it would rather receive an upload (the upload it opened is cancelled).
   */
  async mountBlob(repository: string, digest: string, fromRepository: string): Promise<boolean> {
    const query = `mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(fromRepository)}`;
    const response = await this.send('POST', `/v2/${repository}/blobs/uploads/?${query}`, {
      scope: `repository:${repository}:pull,push repository:${fromRepository}:pull`,
    });
    if (response.status === 201) return true;
    const location = response.headers.location;
    if (response.status === 202 && typeof location === 'string') {
      await this.send('DELETE', this.pathOf(location), {
        scope: `repository:${repository}:pull,push`,
        allow: [404, 405],
      });
    }
    return false;
  }

  /**
   * One request of a blob upload session (POST opens, PATCH sends a chunk, GET reads its status,
   * PUT closes, DELETE cancels), with push scope; the flow itself lives in blob-upload.ts.
   * `location` is the path or URL the registry gave last.
   */
  async uploadRequest(
    repository: string,
    method: string,
    location: string,
    options: { headers?: Record<string, string>; body?: Buffer; allow?: number[]; timeoutMs?: number } = {},
  ): Promise<HttpResponse> {
    return this.send(method, this.pathOf(location), { scope: `repository:${repository}:pull,push`, ...options });
  }

  /** Bytes start..end (inclusive) of a blob, so a big blob is copied without holding it whole. */
  async getBlobRange(repository: string, digest: string, start: number, end: number): Promise<Buffer> {
    const response = await this.send('GET', `/v2/${repository}/blobs/${digest}`, {
      scope: `repository:${repository}:pull`,
      headers: { range: `bytes=${start}-${end}` },
    });
    const expected = end - start + 1;
    // A 200 is the whole blob: a registry without Range support; take the slice asked for.
    const body = response.status === 206 ? response.body : response.body.subarray(start, end + 1);
    if (body.length !== expected) throw new UserError(`registry ${this.registry}: blob ${digest} of ${repository} ended early (${start + body.length} of ${end + 1} bytes)`);
    return body;
  }

  /** Every tag of a repository, following the registry's pagination; [] for an unknown repository. */
  async listTags(repository: string): Promise<string[]> {
    const tags: string[] = [];
    let path: string | undefined = `/v2/${repository}/tags/list?n=1000`;
    while (path) {
      const response = await this.send('GET', path, { scope: `repository:${repository}:pull`, allow: [404] });
      if (response.status === 404) return [];
      tags.push(...((JSON.parse(response.body.toString('utf8')) as { tags?: string[] | null }).tags ?? []));
      const next = /<([^>]+)>;\s*rel="?next"?/.exec(String(response.headers.link ?? ''))?.[1];
      path = next ? this.pathOf(next) : undefined;
    }
    return tags;
  }

  /** An unauthenticated form POST to the registry host (the ACR token exchange lives there). */
  async postForm(path: string, form: Record<string, string>): Promise<HttpResponse> {
    return this.http('POST', `${this.base}${path}`, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
  }

  /** Path and query of a URL the registry gave us (Location, Link), relative or absolute. */
  private pathOf(url: string): string {
    const parsed = new URL(url, `${this.base}/`);
    return parsed.pathname + parsed.search;
  }

  /** Points a tag at a manifest: no layer moves, the digest stays the same. */
  async putManifest(repository: string, tag: string, manifest: Manifest): Promise<string> {
    const response = await this.send('PUT', `/v2/${repository}/manifests/${tag}`, {
      scope: `repository:${repository}:pull,push`,
      headers: { 'content-type': manifest.mediaType },
      body: manifest.body,
    });
    const header = response.headers['docker-content-digest'];
    return typeof header === 'string' && header ? header : sha256Digest(manifest.body);
  }

  private describeCredentials(): string {
    return this.options.credentialsSource ?? 'the given credentials';
  }

  private credentialsProblem(status: number): UserError {
    return new UserError(
      this.options.credentials
        ? `registry ${this.registry} refused the credentials from ${this.describeCredentials()} (HTTP ${status}): check them`
        : `registry ${this.registry} asks for credentials and none were given: set ${this.describeCredentials()}`,
    );
  }

  private async http(method: string, url: string, options: RequestOptions): Promise<HttpResponse> {
    try {
      return await request(url, {
        ...options,
        method,
        signal: this.options.signal,
        env: this.options.env,
        tls: { ca: this.options.ca, insecure: this.options.insecure },
      });
    } catch (error) {
      if (!(error instanceof NetworkError)) throw error;
      if (this.options.insecure && url.startsWith('https:') && PLAIN_HTTP_ERRORS.has(error.code)) {
        // An insecure registry may speak plain HTTP: try that once, as Docker does.
        this.base = `http://${this.host}`;
        return this.http(method, url.replace(/^https:/, 'http:'), options);
      }
      if (url.startsWith('https:') && PLAIN_HTTP_ERRORS.has(error.code) && error.code !== 'ECONNRESET') {
        throw new UserError(`registry ${this.registry} does not speak TLS (${error.code}): set 'insecureRegistry: true' if it is meant to be used over plain HTTP`);
      }
      if (CERTIFICATE_ERRORS.has(error.code)) {
        throw new UserError(
          `registry ${this.registry}: its TLS certificate is not trusted (${error.code}): set 'caCertFile' to its CA certificate, or 'insecureRegistry: true'`,
        );
      }
      throw new UserError(`registry ${this.registry} is unreachable: ${error.message}`);
    }
  }

  private async authorization(scope: string): Promise<string | undefined> {
    const challenge = this.challenge;
    const credentials = this.options.credentials;
    if (!challenge) return undefined;
    if (challenge.scheme === 'basic') {
      if (!credentials) return undefined;
      return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
    }
    if (challenge.scheme !== 'bearer' || !challenge.params.realm) return undefined;
    const cached = this.tokens.get(scope);
    if (cached) return `Bearer ${cached}`;
    const tokenUrl = new URL(challenge.params.realm);
    if (challenge.params.service) tokenUrl.searchParams.set('service', challenge.params.service);
    // Several scopes (a cross-repository mount) go as repeated parameters.
    for (const part of scope.split(' ')) tokenUrl.searchParams.append('scope', part);
    const headers: Record<string, string> = {};
    if (credentials) {
      headers.authorization = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
    }
    const response = await this.http('GET', tokenUrl.href, { headers });
    if (response.status === 401 || response.status === 403) {
      throw this.credentialsProblem(response.status);
    }
    if (response.status !== 200) {
      throw new UserError(`registry ${this.registry}: token endpoint answered HTTP ${response.status}`);
    }
    const body = JSON.parse(response.body.toString('utf8')) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new UserError(`registry ${this.registry}: token endpoint gave no token`);
    this.tokens.set(scope, token);
    return `Bearer ${token}`;
  }

  private async send(
    method: string,
    path: string,
    options: { scope: string; headers?: Record<string, string>; body?: Buffer; allow?: number[]; timeoutMs?: number },
  ): Promise<HttpResponse> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const authorization = await this.authorization(options.scope);
      const headers = { ...options.headers, ...(authorization ? { authorization } : {}) };
      const response = await this.http(method, `${this.base}${path}`, { headers, body: options.body, timeoutMs: options.timeoutMs });
      if (response.status === 401) {
        const challenge = parseChallenge(String(response.headers['www-authenticate'] ?? ''));
        if (attempt === 0 && challenge && !authorization) {
          this.challenge = challenge;
          continue;
        }
        throw this.credentialsProblem(401);
      }
      if (response.status === 403) {
        throw new UserError(`registry ${this.registry} denied ${method} ${path} (HTTP 403): the credentials from ${this.describeCredentials()} may not push there`);
      }
      if (response.status >= 400 && !options.allow?.includes(response.status)) {
        throw new UserError(`registry ${this.registry}: ${method} ${path} answered HTTP ${response.status}: ${registryErrorText(response.body)}`);
      }
      return response;
    }
    throw new Error('unreachable');
  }
}

/** The first error message of a distribution-spec error body, or the start of the body. */
function registryErrorText(body: Buffer): string {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { errors?: { code?: string; message?: string }[] };
    const first = parsed.errors?.[0];
    if (first) return `${first.code ?? ''} ${first.message ?? ''}`.trim();
  } catch {
    /* not JSON */
  }
  return body.toString('utf8').slice(0, 200).replace(/\s+/g, ' ');
}
