import { execFile, execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, randomUUID, type KeyObject } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestCa } from './ca.js';
import type { FakeEntra } from './fake-entra.js';
import { FakeServers, readBody } from './fake-servers.js';
import { nowSeconds, recordRequest, sendJson, signJwt, type RecordedRequest } from './jwt.js';
import { freePort, registryConfig, serveRegistry } from './registry.js';

export type { RecordedRequest } from './jwt.js';

/** The user name ACR wants with a refresh token as password. */
export const ACR_REFRESH_TOKEN_USER = '00000000-0000-0000-0000-000000000000';
/** The `iss` of the tokens the fake registry's token service signs, and the registry's `auth.token.issuer`. */
export const FAKE_ACR_ISSUER = 'fake-acr';

// ---------------------------------------------------------------------------------------------
// The real registry, with token auth
// ---------------------------------------------------------------------------------------------

export interface TokenSigner {
  /** PEM of the self-signed signing certificate: the registry's rootcertbundle. */
  certPem: string;
  certFile: string;
  /** base64 (standard, not url) DER of the certificate, for the x5c header. */
  certDerBase64: string;
  privateKey: KeyObject;
}

/** A self-signed RSA certificate (openssl) to sign registry tokens with; the registry trusts it as root. */
export function makeTokenSigner(dir: string): TokenSigner {
  const certFile = join(dir, 'token-signer.crt');
  const keyFile = join(dir, 'token-signer.key');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=fake-acr token signer',
    '-keyout', keyFile, '-out', certFile], { stdio: 'pipe' });
  const certPem = readFileSync(certFile, 'utf8');
  const certDerBase64 = certPem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  return { certPem, certFile, certDerBase64, privateKey: createPrivateKey(readFileSync(keyFile)) };
}

export interface TokenAuthRegistryOptions {
  /** `auth.token.realm`: where clients are sent for tokens. */
  realm: string;
  /** `auth.token.service`, and the `aud` the registry accepts. */
  service: string;
  /** `auth.token.issuer` (default fake-acr). */
  issuer?: string;
  /** `auth.token.rootcertbundle`: PEM file of the certificate(s) token signatures must chain to. */
  rootCertBundle: string;
}

export interface TokenAuthRegistry {
  /** 127.0.0.1:port, plain http. */
  host: string;
  port: number;
  /** What the registry printed so far (log level info: token rejections are logged there). */
  log(): string;
  stop(): Promise<void>;
}


/** Starts the real CNCF distribution registry on 127.0.0.1 (plain http) with `auth: token:`. */
export async function startTokenAuthRegistry(options: TokenAuthRegistryOptions): Promise<TokenAuthRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-token-registry-'));
  const port = await freePort();
  const config = [
    ...registryConfig(dir, port, 'info'),
    `  secret: ${randomUUID()}`,
    'auth:',
    '  token:',
    `    realm: ${JSON.stringify(options.realm)}`,
    `    service: ${JSON.stringify(options.service)}`,
    `    issuer: ${JSON.stringify(options.issuer ?? FAKE_ACR_ISSUER)}`,
    `    rootcertbundle: ${JSON.stringify(options.rootCertBundle)}`,
  ];
  const registry = await serveRegistry(dir, port, config);
  return { host: `127.0.0.1:${port}`, port, log: registry.output, stop: registry.stop };
}

// ---------------------------------------------------------------------------------------------
// The fake ACR front
// ---------------------------------------------------------------------------------------------

export interface FakeAcrOptions {
  /** Server certificate for 127.0.0.1; clients trust ca.caCertFile (or FakeAcr.certDir). */
  ca: TestCa;
  /** The Entra whose access tokens /oauth2/exchange accepts. */
  entra: Pick<FakeEntra, 'tenantId' | 'issued' | 'isIssued'>;
  /**
   * Audiences of Entra tokens the exchange accepts, compared without trailing slashes
   * (default: ARM, the classic management audience and https://containerregistry.azure.net).
   */
  acceptedAudiences?: string[];
  /** Decides what a token grants for a requested scope (default: every action asked for). */
  grant?: (type: string, name: string, actions: string[]) => string[];
  /** Lifetime of refresh tokens (default 3 h) and of registry access tokens (default 300 s). */
  refreshTokenLifetimeSeconds?: number;
  accessTokenLifetimeSeconds?: number;
}

export interface IssuedRefreshToken {
  token: string;
  /** The Entra access token it was exchanged for. */
  entraToken: string;
  tenant: string;
  expiresOn: number;
}

export interface GrantedAccess {
  type: string;
  name: string;
  actions: string[];
}

export interface IssuedAccessToken {
  token: string;
  /** How the client proved itself: Basic auth on GET, or a refresh_token form on POST. */
  via: 'basic' | 'refresh_token';
  scopes: string[];
  access: GrantedAccess[];
  expiresOn: number;
}

export interface FakeAcr {
  /** 127.0.0.1:port: the "login server"; also the token `service`. */
  host: string;
  /** https://127.0.0.1:port */
  origin: string;
  /** A directory holding only ca.crt, for skopeo/buildah --cert-dir (a dir with *.key files confuses them). */
  certDir: string;
  /** Every request to the front, in arrival order: exchange, token, and proxied /v2/ traffic. */
  requests: RecordedRequest[];
  exchangeRequests(): RecordedRequest[];
  tokenRequests(): RecordedRequest[];
  refreshTokens: IssuedRefreshToken[];
  accessTokens: IssuedAccessToken[];
  /** While on, /oauth2/exchange answers 401 {"errors":[{"code":"UNAUTHORIZED",…}]} whatever is sent. */
  refuseExchange(on: boolean): void;
  /** The real registry behind the front. */
  registry: TokenAuthRegistry;
  stop(): Promise<void>;
}

const acrError = (code: string, message: string) => ({ errors: [{ code, message }] });
const trimSlash = (value: string) => value.replace(/\/+$/, '');

/** Splits `type:name:actions` (the name may not hold ':' in practice, but split on the first and last anyway). */
export function parseScope(scope: string): GrantedAccess | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last === first) return undefined;
  const type = scope.slice(0, first).replace(/\(.*\)$/, '');
  return { type, name: scope.slice(first + 1, last), actions: scope.slice(last + 1).split(',').filter(Boolean) };
}

/**
 * Azure Container Registry without passwords, faked: an HTTPS front on 127.0.0.1 that answers
 * POST /oauth2/exchange (Entra access token → ACR refresh token) and GET/POST /oauth2/token (refresh
 * token → registry JWT), and proxies everything else to a real docker-registry with token auth.
 */
export async function startFakeAcr(options: FakeAcrOptions): Promise<FakeAcr> {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-fake-acr-'));
  const certDir = join(dir, 'certs');
  mkdirSync(certDir);
  copyFileSync(options.ca.caCertFile, join(certDir, 'ca.crt'));
  const signer = makeTokenSigner(dir);
  const acceptedAudiences = (options.acceptedAudiences ?? ['https://management.azure.com', 'https://management.core.windows.net', 'https://containerregistry.azure.net']).map(trimSlash);
  const grant = options.grant ?? ((_type: string, _name: string, actions: string[]) => actions);
  const refreshLifetime = options.refreshTokenLifetimeSeconds ?? 3 * 3600;
  const accessLifetime = options.accessTokenLifetimeSeconds ?? 300;
  const requests: RecordedRequest[] = [];
  const refreshTokens: IssuedRefreshToken[] = [];
  const accessTokens: IssuedAccessToken[] = [];
  let refusing = false;
  let host = '';
  let registry: TokenAuthRegistry | undefined;
  const agent = new http.Agent({ keepAlive: true });
  const servers = new FakeServers();

  async function exchange(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const record = recordRequest(req, (await readBody(req)).toString('utf8'));
    requests.push(record);
    if (req.method !== 'POST') return sendJson(res, record, 405, acrError('UNSUPPORTED', 'The requested HTTP method is not supported.'));
    if (refusing) return sendJson(res, record, 401, acrError('UNAUTHORIZED', 'Unauthorized: the registry refused to exchange the Azure Active Directory access token (fake-acr refuseExchange).'));
    if (!/^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '')) {
      return sendJson(res, record, 400, acrError('UNSUPPORTED', 'Content-Type must be application/x-www-form-urlencoded.'));
    }
    const form = record.form;
    if (form.grant_type !== 'access_token') {
      return sendJson(res, record, 400, acrError('UNSUPPORTED', `Unsupported grant_type '${form.grant_type ?? ''}': this fake takes grant_type=access_token.`));
    }
    if (!form.service) return sendJson(res, record, 400, acrError('UNSUPPORTED', 'Missing service.'));
    if (form.service !== host) return sendJson(res, record, 400, acrError('UNSUPPORTED', `Service '${form.service}' is not this registry (${host}).`));
    if (!form.access_token) return sendJson(res, record, 400, acrError('UNSUPPORTED', 'Missing access_token.'));
    if (!form.tenant) return sendJson(res, record, 400, acrError('UNSUPPORTED', 'Missing tenant.'));
    if (form.tenant !== options.entra.tenantId) return sendJson(res, record, 401, acrError('UNAUTHORIZED', `Tenant '${form.tenant}' does not match the access token's tenant.`));
    const entraToken = options.entra.issued.find((t) => t.token === form.access_token);
    if (!entraToken || !options.entra.isIssued(form.access_token)) {
      return sendJson(res, record, 401, acrError('UNAUTHORIZED', 'The access token is not valid (not issued by the Entra the registry trusts, or expired).'));
    }
    if (!acceptedAudiences.includes(trimSlash(entraToken.audience))) {
      return sendJson(res, record, 401, acrError('UNAUTHORIZED', `The access token's audience '${entraToken.audience}' is not accepted.`));
    }
    const now = nowSeconds();
    const expiresOn = now + refreshLifetime;
    const token = signJwt({ x5c: [signer.certDerBase64] }, {
      jti: randomUUID(),
      sub: entraToken.clientId,
      nbf: now,
      exp: expiresOn,
      iat: now,
      iss: FAKE_ACR_ISSUER,
      aud: host,
      version: '1.0',
      grant_type: 'refresh_token',
      tenant: form.tenant,
      permissions: { actions: ['read', 'write', 'delete'] },
      roles: [],
    }, signer.privateKey);
    refreshTokens.push({ token, entraToken: form.access_token, tenant: form.tenant, expiresOn });
    sendJson(res, record, 200, { refresh_token: token });
  }

  async function token(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const record = recordRequest(req, (await readBody(req)).toString('utf8'));
    requests.push(record);
    const unauthorized = (message: string) =>
      sendJson(res, record, 401, acrError('UNAUTHORIZED', `${message} visit https://aka.ms/acr/authorization for more information.`));
    let params: [string, string][];
    let refreshToken: string | undefined;
    let via: IssuedAccessToken['via'];
    if (req.method === 'GET') {
      params = record.queryAll;
      via = 'basic';
      if (!record.basic) return unauthorized('authentication required,');
      if (record.basic.username !== ACR_REFRESH_TOKEN_USER) return unauthorized(`user '${record.basic.username}' cannot log in with a refresh token,`);
      refreshToken = record.basic.password;
    } else if (req.method === 'POST') {
      params = record.formAll;
      via = 'refresh_token';
      if (record.form.grant_type !== 'refresh_token') {
        return sendJson(res, record, 400, acrError('UNSUPPORTED', `Unsupported grant_type '${record.form.grant_type ?? ''}': this fake takes grant_type=refresh_token.`));
      }
      refreshToken = record.form.refresh_token;
      if (!refreshToken) return unauthorized('refresh_token missing,');
    } else {
      return sendJson(res, record, 405, acrError('UNSUPPORTED', 'The requested HTTP method is not supported.'));
    }
    const service = params.find(([key]) => key === 'service')?.[1];
    if (service !== host) return sendJson(res, record, 400, acrError('UNSUPPORTED', `Service '${service ?? ''}' is not this registry (${host}).`));
    const issued = refreshTokens.find((t) => t.token === refreshToken);
    if (!issued || issued.expiresOn <= nowSeconds()) return unauthorized('authentication required (the refresh token is not valid),');
    const scopes = params.filter(([key]) => key === 'scope').flatMap(([, value]) => value.split(' ')).filter(Boolean);
    const access: GrantedAccess[] = [];
    for (const scope of scopes) {
      const parsed = parseScope(scope);
      if (!parsed) return sendJson(res, record, 400, acrError('UNSUPPORTED', `Malformed scope '${scope}'.`));
      const actions = grant(parsed.type, parsed.name, parsed.actions);
      access.push({ type: parsed.type, name: parsed.name, actions });
    }
    const now = nowSeconds();
    const expiresOn = now + accessLifetime;
    const jwt = signJwt({ x5c: [signer.certDerBase64] }, {
      iss: FAKE_ACR_ISSUER,
      sub: ACR_REFRESH_TOKEN_USER,
      aud: host,
      exp: expiresOn,
      nbf: now,
      iat: now,
      jti: randomUUID(),
      access,
    }, signer.privateKey);
    accessTokens.push({ token: jwt, via, scopes, access, expiresOn });
    sendJson(res, record, 200, { access_token: jwt, token: jwt, expires_in: accessLifetime, issued_at: new Date(now * 1000).toISOString() });
  }

  function proxy(req: http.IncomingMessage, res: http.ServerResponse): void {
    const record = recordRequest(req, '');
    requests.push(record);
    if (!registry) return sendJson(res, record, 503, acrError('UNAVAILABLE', 'registry not started'));
    const upstream = http.request(
      {
        host: '127.0.0.1',
        port: registry.port,
        method: req.method,
        path: req.url,
        agent,
        headers: { ...req.headers, 'x-forwarded-proto': 'https', 'x-forwarded-host': host },
      },
      (answer) => {
        record.status = answer.statusCode ?? 502;
        res.writeHead(record.status, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', (error) => {
      if (!res.headersSent) sendJson(res, record, 502, acrError('UNAVAILABLE', `fake-acr proxy: ${error.message}`));
      else res.destroy();
    });
    req.pipe(upstream);
  }

  const running = await servers.https(options.ca, (req, res) => {
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    const route = path === '/oauth2/exchange' ? exchange : path === '/oauth2/token' ? token : undefined;
    if (!route) return proxy(req, res);
    route(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, undefined, 500, acrError('UNKNOWN', String(error)));
      else res.destroy();
    });
  });
  host = `127.0.0.1:${running.port}`;
  const stopAll = async () => {
    await servers.close();
    agent.destroy();
    await registry?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    registry = await startTokenAuthRegistry({ realm: `https://${host}/oauth2/token`, service: host, rootCertBundle: signer.certFile });
  } catch (error) {
    await stopAll();
    throw error;
  }

  return {
    host,
    origin: running.origin,
    certDir,
    requests,
    exchangeRequests: () => requests.filter((r) => r.path === '/oauth2/exchange'),
    tokenRequests: () => requests.filter((r) => r.path === '/oauth2/token'),
    refreshTokens,
    accessTokens,
    refuseExchange: (on) => {
      refusing = on;
    },
    registry,
    stop: stopAll,
  };
}

// ---------------------------------------------------------------------------------------------
// A tiny image to push
// ---------------------------------------------------------------------------------------------

const run = promisify(execFile);

export interface TinyOciImage {
  /** The OCI layout directory. */
  dir: string;
  /** skopeo/buildah source reference: oci:<dir>:latest */
  reference: string;
  /** Digest of the manifest, sha256:… */
  manifestDigest: string;
  cleanup(): void;
}

/**
 * An OCI image layout made by hand (no base image can be pulled here): one gzip layer holding
 * /hello.txt, a config and a manifest, tagged latest.
 */
export async function makeTinyOciImage(content = 'hello from fake-acr\n'): Promise<TinyOciImage> {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-tiny-oci-'));
  const layout = join(dir, 'layout');
  const blobs = join(layout, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  mkdirSync(join(dir, 'rootfs'));
  writeFileSync(join(dir, 'rootfs', 'hello.txt'), content);
  await run('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-cf', join(dir, 'layer.tar'), '-C', join(dir, 'rootfs'), 'hello.txt']);
  const layerTar = readFileSync(join(dir, 'layer.tar'));
  await run('gzip', ['-n', '-9', join(dir, 'layer.tar')]);
  const layerGz = readFileSync(join(dir, 'layer.tar.gz'));
  const sha = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
  const put = (data: Buffer | string) => {
    const digest = sha(data);
    writeFileSync(join(blobs, digest), data);
    return { digest: `sha256:${digest}`, size: Buffer.byteLength(data) };
  };
  const layer = put(layerGz);
  const config = put(JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config: { Labels: { 'org.opencontainers.image.title': 'fake-acr tiny image' } },
    rootfs: { type: 'layers', diff_ids: [`sha256:${sha(layerTar)}`] },
    history: [{ created: '1970-01-01T00:00:00Z', created_by: 'makeTinyOciImage' }],
  }));
  const manifest = put(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
  }));
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(layout, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }],
  }));
  return {
    dir: layout,
    reference: `oci:${layout}:latest`,
    manifestDigest: manifest.digest,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
