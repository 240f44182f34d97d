import { createHash } from 'node:crypto';
import type http from 'node:http';
import { RegistryClient, sha256Digest, type RegistryClientOptions } from '../../shared/registry/client.js';
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST } from '../../shared/registry/media-types.js';
import { UserError } from '../../shared/util/errors.js';
import { makeTestCa, type TestCa } from '../helpers/ca.js';
import { FakeServers, readBody } from '../helpers/fake-servers.js';

const USER = 'alice';
const PASSWORD = 'pw-Zq81-secret';
const SOURCE = "inputs 'registryUsername' and 'registryPassword'";
const REPO = 'ml/app';

const servers = new FakeServers();
let ca: TestCa;

beforeAll(() => {
  ca = makeTestCa();
});
afterEach(() => servers.close());

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const digestOf = (body: Buffer) => `sha256:${createHash('sha256').update(body).digest('hex')}`;

interface Seen {
  method: string;
  path: string;
  authorization?: string;
  accept?: string;
  contentType?: string;
  body: Buffer;
}

/**
 * A distribution-spec registry that checks what a client sends: the auth flow (Bearer token
 * service or Basic), the token scopes, the manifest Accept header, and the bodies put.
 */
class FakeRegistry {
  origin = '';
  readonly seen: Seen[] = [];
  readonly tokenRequests: { service: string | null; scope: string | null; authorization?: string }[] = [];
  readonly manifests = new Map<string, { body: Buffer; type: string }>();
  /** Repositories where the user may pull but not push. */
  readonly readOnly = new Set<string>();
  sendDigest = true;
  private readonly grants = new Map<string, string>();

  constructor(private readonly auth: 'bearer' | 'basic' | 'none') {}

  get registry(): string {
    return this.origin.replace(/^\w+:\/\//, '');
  }

  readonly handler: http.RequestListener = (req, res) => {
    void this.handle(req, res).catch((error: Error) => res.writeHead(500).end(error.message));
  };

  private json(res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}): void {
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
  }

  private unauthorized(res: http.ServerResponse): void {
    const challenge = this.auth === 'basic' ? 'Basic realm="fake registry"' : `Bearer realm="${this.origin}/token",service="fake"`;
    this.json(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }, { 'www-authenticate': challenge });
  }

  /** The actions the request's credentials allow on a repository, or undefined when it gets a 401. */
  private allowed(authorization: string | undefined, repository: string | undefined): string[] | undefined {
    if (this.auth === 'none') return ['pull', 'push'];
    if (this.auth === 'basic') return authorization === basic(USER, PASSWORD) ? ['pull', 'push'] : undefined;
    const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    const scope = token ? this.grants.get(token) : undefined;
    if (scope === undefined) return undefined;
    if (repository === undefined) return []; // GET /v2/ only needs a valid token
    const [, name, actions] = /^repository:(.+):([a-z,]+)$/.exec(scope) ?? [];
    return name === repository ? (actions ?? '').split(',') : [];
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.origin);
    const body = await readBody(req);
    const authorization = req.headers.authorization;
    if (url.pathname === '/token') {
      const entry = { service: url.searchParams.get('service'), scope: url.searchParams.get('scope'), authorization };
      this.tokenRequests.push(entry);
      if (this.auth !== 'bearer') return this.json(res, 404, {});
      if (entry.service !== 'fake' || !/^repository:[a-z0-9/._-]+:(pull|pull,push)$/.test(entry.scope ?? '')) {
        return this.json(res, 400, { errors: [{ code: 'INVALID_SCOPE', message: `bad service or scope ${entry.scope}` }] });
      }
      if (authorization !== basic(USER, PASSWORD)) return this.json(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] });
      const token = `tok-${this.grants.size + 1}`;
      this.grants.set(token, entry.scope!);
      return this.json(res, 200, { token, expires_in: 300 });
    }
    this.seen.push({
      method: req.method ?? '',
      path: url.pathname,
      authorization,
      accept: req.headers.accept,
      contentType: req.headers['content-type'],
      body,
    });
    if (url.pathname === '/v2/') {
      if (!this.allowed(authorization, undefined)) return this.unauthorized(res);
      return this.json(res, 200, {});
    }
    const match = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
    if (!match) return this.json(res, 404, { errors: [{ code: 'NOT_FOUND', message: 'no route' }] });
    const [, repository = '', reference = ''] = match;
    const actions = this.allowed(authorization, repository);
    if (!actions) return this.unauthorized(res);
    const key = `${repository}:${reference}`;
    if (req.method === 'GET') {
      if (!actions.includes('pull')) return this.json(res, 403, { errors: [{ code: 'DENIED', message: 'no pull' }] });
      const accept = req.headers.accept ?? '';
      if (![OCI_MANIFEST, DOCKER_MANIFEST].every((type) => accept.includes(type))) {
        return this.json(res, 406, { errors: [{ code: 'MANIFEST_UNKNOWN', message: `accept was ${accept}` }] });
      }
      const manifest = this.manifests.get(key);
      if (!manifest) return this.json(res, 404, { errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] });
      const headers: http.OutgoingHttpHeaders = { 'content-type': `${manifest.type}; charset=utf-8` };
      if (this.sendDigest) headers['docker-content-digest'] = digestOf(manifest.body);
      res.writeHead(200, headers).end(manifest.body);
      return;
    }
    if (req.method === 'PUT') {
      if (!actions.includes('push') || this.readOnly.has(repository)) {
        return this.json(res, 403, { errors: [{ code: 'DENIED', message: 'requested access to the resource is denied' }] });
      }
      try {
        JSON.parse(body.toString('utf8'));
      } catch {
        return this.json(res, 400, { errors: [{ code: 'MANIFEST_INVALID', message: 'manifest invalid' }] });
      }
      this.manifests.set(key, { body, type: req.headers['content-type'] ?? '' });
      res.writeHead(201, { 'docker-content-digest': digestOf(body), location: `/v2/${repository}/manifests/${digestOf(body)}` }).end();
      return;
    }
    this.json(res, 405, {});
  }
}

/** Starts a fake registry over TLS signed by the test CA, or over plain HTTP. */
async function startRegistry(auth: 'bearer' | 'basic' | 'none', transport: 'tls' | 'plain' = 'tls'): Promise<FakeRegistry> {
  const registry = new FakeRegistry(auth);
  const running = transport === 'tls' ? await servers.https(ca, registry.handler) : await servers.http(registry.handler);
  registry.origin = running.origin;
  return registry;
}

function client(registry: FakeRegistry | string, options: Partial<RegistryClientOptions> = {}): RegistryClient {
  return new RegistryClient({
    registry: typeof registry === 'string' ? registry : registry.registry,
    credentials: { username: USER, password: PASSWORD },
    credentialsSource: SOURCE,
    ca: ca.caPem,
    env: {},
    ...options,
  });
}

async function userError(promise: Promise<unknown>): Promise<UserError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    return error as UserError;
  }
  throw new Error('expected a UserError, the call succeeded');
}

function expectNoSecret(message: string): void {
  expect(message).not.toContain(PASSWORD);
  expect(message).not.toContain(basic(USER, PASSWORD).slice('Basic '.length));
}

const MANIFEST = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: {}, layers: [] }));

describe('RegistryClient with a Bearer token service', () => {
  test('checkAccess gets a push token with the credentials and retries /v2/ with it', async () => {
    const registry = await startRegistry('bearer');
    await client(registry).checkAccess(REPO);
    expect(registry.tokenRequests).toEqual([{ service: 'fake', scope: `repository:${REPO}:pull,push`, authorization: basic(USER, PASSWORD) }]);
    expect(registry.seen.map((seen) => `${seen.method} ${seen.path} ${seen.authorization ?? '-'}`)).toEqual(['GET /v2/ -', 'GET /v2/ Bearer tok-1']);
  });

  test('a wrong password is a UserError naming the registry and where the credentials came from', async () => {
    const registry = await startRegistry('bearer');
    const error = await userError(client(registry, { credentials: { username: USER, password: 'wrong-pw-777' } }).checkAccess(REPO));
    expect(error.message).toContain(`registry ${registry.registry}`);
    expect(error.message).toContain(SOURCE);
    expect(error.message).toMatch(/refused the credentials/);
    expect(error.message).not.toContain('wrong-pw-777');
    expect(error.message).not.toMatch(/[\r\n]/);
    expectNoSecret(error.message);
  });

  test('no credentials: the message says they are required and where to set them', async () => {
    const registry = await startRegistry('bearer');
    const error = await userError(client(registry, { credentials: undefined }).checkAccess(REPO));
    expect(error.message).toContain(`registry ${registry.registry}`);
    expect(error.message).toMatch(/asks for credentials and none were given/);
    expect(error.message).toContain(SOURCE);
    expect(registry.tokenRequests).toHaveLength(1);
    expect(registry.tokenRequests[0]!.authorization).toBeUndefined();
  });

  test('getManifest returns body, media type and the digest the registry gives', async () => {
    const registry = await startRegistry('bearer');
    registry.manifests.set(`${REPO}:v1`, { body: MANIFEST, type: OCI_MANIFEST });
    const manifest = await client(registry).getManifest(REPO, 'v1');
    expect(manifest).toBeDefined();
    expect(manifest!.body.equals(MANIFEST)).toBe(true);
    expect(manifest!.mediaType).toBe(OCI_MANIFEST);
    expect(manifest!.digest).toBe(digestOf(MANIFEST));
    expect(registry.tokenRequests.map((request) => request.scope)).toEqual([`repository:${REPO}:pull`]);
    const get = registry.seen.find((seen) => seen.path === `/v2/${REPO}/manifests/v1` && seen.authorization);
    for (const type of [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST]) expect(get?.accept).toContain(type);
  });

  test('getManifest computes the digest when the registry sends none', async () => {
    const registry = await startRegistry('bearer');
    registry.sendDigest = false;
    registry.manifests.set(`${REPO}:v1`, { body: MANIFEST, type: DOCKER_MANIFEST });
    const manifest = await client(registry).getManifest(REPO, 'v1');
    expect(manifest!.digest).toBe(sha256Digest(MANIFEST));
    expect(manifest!.digest).toBe(digestOf(MANIFEST));
    expect(manifest!.mediaType).toBe(DOCKER_MANIFEST);
  });

  test('getManifest returns undefined for a manifest the registry does not have', async () => {
    const registry = await startRegistry('bearer');
    expect(await client(registry).getManifest(REPO, 'nope')).toBeUndefined();
  });

  test('putManifest sends the exact body and content type and returns the digest', async () => {
    const registry = await startRegistry('bearer');
    const body = Buffer.from('{"schemaVersion":2,  "odd spacing":"kept byte for byte"}\n');
    const digest = await client(registry).putManifest(REPO, 'v2', { body, mediaType: DOCKER_MANIFEST, digest: 'ignored' });
    expect(digest).toBe(digestOf(body));
    const put = registry.seen.find((seen) => seen.method === 'PUT' && seen.authorization);
    expect(put?.path).toBe(`/v2/${REPO}/manifests/v2`);
    expect(put?.contentType).toBe(DOCKER_MANIFEST);
    expect(put?.body.equals(body)).toBe(true);
    expect(registry.tokenRequests.map((request) => request.scope)).toEqual([`repository:${REPO}:pull,push`]);
    expect(registry.manifests.get(`${REPO}:v2`)?.body.equals(body)).toBe(true);
  });

  test('a token is fetched once per scope and reused', async () => {
    const registry = await startRegistry('bearer');
    registry.manifests.set(`${REPO}:v1`, { body: MANIFEST, type: OCI_MANIFEST });
    const registryClient = client(registry);
    await registryClient.checkAccess(REPO);
    await registryClient.getManifest(REPO, 'v1');
    await registryClient.getManifest(REPO, 'v1');
    expect(registry.tokenRequests.map((request) => request.scope)).toEqual([`repository:${REPO}:pull,push`, `repository:${REPO}:pull`]);
    // Once the challenge is known, no request goes out without its token.
    expect(registry.seen.filter((seen) => !seen.authorization)).toHaveLength(1);
  });

  test('a 403 on push says the credentials may not push there', async () => {
    const registry = await startRegistry('bearer');
    registry.readOnly.add(REPO);
    const error = await userError(client(registry).putManifest(REPO, 'v1', { body: MANIFEST, mediaType: OCI_MANIFEST, digest: '' }));
    expect(error.message).toContain(`registry ${registry.registry} denied PUT /v2/${REPO}/manifests/v1 (HTTP 403)`);
    expect(error.message).toContain(SOURCE);
    expectNoSecret(error.message);
  });

  test('another error status carries the registry error code and message', async () => {
    const registry = await startRegistry('bearer');
    const error = await userError(client(registry).putManifest(REPO, 'v1', { body: Buffer.from('not json'), mediaType: OCI_MANIFEST, digest: '' }));
    expect(error.message).toBe(`registry ${registry.registry}: PUT /v2/${REPO}/manifests/v1 answered HTTP 400: MANIFEST_INVALID manifest invalid`);
  });
});

describe('RegistryClient with Basic auth', () => {
  test('right credentials: checkAccess sends them after the challenge', async () => {
    const registry = await startRegistry('basic');
    await client(registry).checkAccess(REPO);
    expect(registry.seen.map((seen) => seen.authorization ?? '-')).toEqual(['-', basic(USER, PASSWORD)]);
    expect(registry.tokenRequests).toHaveLength(0);
  });

  test('wrong credentials: a UserError without the password', async () => {
    const registry = await startRegistry('basic');
    const error = await userError(client(registry, { credentials: { username: USER, password: 'wrong-pw-777' } }).checkAccess(REPO));
    expect(error.message).toContain(`registry ${registry.registry} refused the credentials from ${SOURCE} (HTTP 401)`);
    expect(error.message).not.toContain('wrong-pw-777');
    expect(error.message).not.toContain(basic(USER, 'wrong-pw-777').slice('Basic '.length));
  });

  test('no credentials: the message says they are required', async () => {
    const registry = await startRegistry('basic');
    const error = await userError(client(registry, { credentials: undefined, credentialsSource: undefined }).checkAccess(REPO));
    expect(error.message).toBe(`registry ${registry.registry} asks for credentials and none were given: set the given credentials`);
  });

  test('manifests round-trip', async () => {
    const registry = await startRegistry('basic');
    const registryClient = client(registry);
    await registryClient.putManifest(REPO, 'v1', { body: MANIFEST, mediaType: OCI_MANIFEST, digest: '' });
    const manifest = await registryClient.getManifest(REPO, 'v1');
    expect(manifest?.body.equals(MANIFEST)).toBe(true);
    expect(manifest?.mediaType).toBe(OCI_MANIFEST);
  });
});

describe('RegistryClient transport', () => {
  test('an unreachable registry is a UserError that says so', async () => {
    const port = await servers.closedPort();
    const error = await userError(client(`127.0.0.1:${port}`).checkAccess(REPO));
    expect(error.message).toMatch(new RegExp(`^registry 127\\.0\\.0\\.1:${port} is unreachable: `));
    expect(error.message).toContain('ECONNREFUSED');
    expectNoSecret(error.message);
  });

  test('insecure: a plain-HTTP registry reached over https first falls back to http', async () => {
    const registry = await startRegistry('bearer', 'plain');
    registry.manifests.set(`${REPO}:v1`, { body: MANIFEST, type: OCI_MANIFEST });
    const registryClient = client(registry, { insecure: true, ca: undefined });
    await registryClient.checkAccess(REPO);
    const manifest = await registryClient.getManifest(REPO, 'v1');
    expect(manifest?.digest).toBe(digestOf(MANIFEST));
    expect(registry.seen.map((seen) => `${seen.method} ${seen.path}`)).toEqual([
      'GET /v2/',
      'GET /v2/',
      `GET /v2/${REPO}/manifests/v1`,
    ]);
  });

  test('without insecure a plain-HTTP registry is not spoken to in clear, and the message says what to set', async () => {
    const registry = await startRegistry('none', 'plain');
    const error = await userError(client(registry, { ca: undefined }).checkAccess(REPO));
    expect(error.message).toContain(`registry ${registry.registry} does not speak TLS`);
    expect(error.message).toContain('insecureRegistry');
    expect(error.message).not.toMatch(/[\r\n]/);
    expect(registry.seen).toHaveLength(0);
  });

  test('an untrusted certificate is a UserError pointing at caCertFile', async () => {
    const registry = await startRegistry('bearer');
    const error = await userError(client(registry, { ca: undefined }).checkAccess(REPO));
    expect(error.message).toContain(`registry ${registry.registry}: its TLS certificate is not trusted`);
    expect(error.message).toContain("'caCertFile'");
    expect(error.message).toContain('insecureRegistry');
    expect(registry.seen).toHaveLength(0);
  });

  test('with the CA certificate the same registry is trusted', async () => {
    const registry = await startRegistry('bearer');
    await expect(client(registry, { ca: ca.caPem }).checkAccess(REPO)).resolves.toBeUndefined();
    expect(registry.seen).toHaveLength(2);
  });

  test('insecure accepts an untrusted certificate and stays on https', async () => {
    const registry = await startRegistry('bearer');
    await client(registry, { ca: undefined, insecure: true }).checkAccess(REPO);
    expect(registry.seen.map((seen) => seen.authorization ?? '-')).toEqual(['-', 'Bearer tok-1']);
  });
});
