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
    tokenUrl.searchParams.set('scope', scope);
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
    options: { scope: string; headers?: Record<string, string>; body?: Buffer; allow?: number[] },
  ): Promise<HttpResponse> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const authorization = await this.authorization(options.scope);
      const headers = { ...options.headers, ...(authorization ? { authorization } : {}) };
      const response = await this.http(method, `${this.base}${path}`, { headers, body: options.body });
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
