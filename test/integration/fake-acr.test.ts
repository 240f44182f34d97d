/**
 * Self-test of the fakes for "Azure Container Registry without passwords", with real clients:
 * @azure/identity against the fake Entra, plain HTTPS for the ACR exchange, skopeo against the
 * real distribution registry behind the fake ACR front.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ClientAssertionCredential, ClientSecretCredential } from '@azure/identity';
import { makeTestCa, type TestCa } from '../helpers/ca.js';
import { ACR_REFRESH_TOKEN_USER, FAKE_ACR_ISSUER, makeTinyOciImage, startFakeAcr, type FakeAcr, type TinyOciImage } from '../helpers/fake-acr.js';
import { CLIENT_ASSERTION_TYPE_JWT_BEARER, startFakeEntra, type FakeEntra } from '../helpers/fake-entra.js';
import { AZURE_AD_TOKEN_EXCHANGE_AUDIENCE, startFakeAzurePipelinesOidc, startFakeGithubOidc, type FakeGithubOidc } from '../helpers/fake-github-oidc.js';
import { decodeJwt, rsaKeyPair, signJwt } from '../helpers/jwt.js';
import { root } from '../helpers/paths.js';

const run = promisify(execFile);
const ARM_SCOPE = 'https://management.azure.com/.default';

const missing = ['docker-registry', 'skopeo', 'openssl'].filter((tool) => {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'pipe' });
    return false;
  } catch {
    return true;
  }
});
if (missing.length) console.warn(`SKIPPED fake ACR registry tests: ${missing.join(', ')} not installed`);
const testWithTools = missing.length ? test.skip : test;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json(): Record<string, unknown>;
}

/** One HTTP(S) request from the test process, trusting the test CA. */
function request(url: string, init: { method?: string; headers?: Record<string, string>; body?: string; ca?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const client = target.protocol === 'https:' ? https : http;
    const req = client.request(target, { method: init.method ?? 'GET', headers: init.headers, ca: init.ca, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) as Record<string, unknown> });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

const form = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('fake Entra with @azure/identity', () => {
  let ca: TestCa;
  let entra: FakeEntra;
  beforeAll(async () => {
    ca = makeTestCa();
    entra = await startFakeEntra({ ca });
  });
  afterAll(async () => {
    await entra.stop();
    rmSync(ca.dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    entra.requests.length = 0;
  });

  test('ClientSecretCredential in-process (tlsOptions.ca) gets an ARM token; the requests are the metadata GET and one token POST', async () => {
    const credential = new ClientSecretCredential(entra.tenantId, entra.clientId, entra.clientSecret!, {
      authorityHost: entra.authorityHost,
      disableInstanceDiscovery: true,
      tlsOptions: { ca: ca.caPem },
    });
    const token = await credential.getToken(ARM_SCOPE);
    expect(token.tokenType).toBe('Bearer');
    expect(entra.isIssued(token.token)).toBe(true);
    expect(token.expiresOnTimestamp).toBeGreaterThan(Date.now() + 3000_000);
    expect(decodeJwt(token.token).claims).toMatchObject({ aud: 'https://management.azure.com', tid: entra.tenantId, appid: entra.clientId });

    expect(entra.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET /${entra.tenantId}/v2.0/.well-known/openid-configuration`,
      `POST /${entra.tenantId}/oauth2/v2.0/token`,
    ]);
    const post = entra.tokenRequests()[0]!;
    expect(post.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
    expect(post.form).toMatchObject({ grant_type: 'client_credentials', client_id: entra.clientId, client_secret: entra.clientSecret, scope: ARM_SCOPE });
    expect(post.form.client_assertion).toBeUndefined();
    expect(post.status).toBe(200);
    expect(entra.issued.at(-1)).toMatchObject({ via: 'client_secret', audience: 'https://management.azure.com', scope: ARM_SCOPE });
  });

  test('NODE_EXTRA_CA_CERTS in a child process is enough (no tlsOptions): the way a bundled entry runs', async () => {
    const script = `
      import { ClientSecretCredential } from '@azure/identity';
      const [tenant, client, secret, authorityHost] = process.argv.slice(1);
      const credential = new ClientSecretCredential(tenant, client, secret, { authorityHost, disableInstanceDiscovery: true });
      const token = await credential.getToken('${ARM_SCOPE}');
      process.stdout.write(token.token);
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script, entra.tenantId, entra.clientId, entra.clientSecret!, entra.authorityHost], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', NODE_EXTRA_CA_CERTS: ca.caCertFile },
    });
    expect(entra.isIssued(stdout)).toBe(true);
    expect(entra.requests.some((r) => r.path.includes('discovery/instance'))).toBe(false);
  });

  test('without the test CA the TLS handshake fails: the fake really speaks TLS', async () => {
    const credential = new ClientSecretCredential(entra.tenantId, entra.clientId, entra.clientSecret!, {
      authorityHost: entra.authorityHost,
      disableInstanceDiscovery: true,
      retryOptions: { maxRetries: 0 },
    });
    // MSAL hides the TLS failure behind endpoints_resolution_error (the metadata GET failed).
    await expect(credential.getToken(ARM_SCOPE)).rejects.toThrow(/endpoints_resolution_error/);
    expect(entra.requests).toHaveLength(0);
  });

  test('an http authority is refused by @azure/identity itself', () => {
    expect(() => new ClientSecretCredential(entra.tenantId, entra.clientId, 'x', { authorityHost: entra.authorityHost.replace('https:', 'http:') })).toThrow(/https/);
  });

  test('a wrong secret gets AADSTS7000215 (401), an unknown client AADSTS700016, an unknown tenant AADSTS90002', async () => {
    const options = { authorityHost: entra.authorityHost, disableInstanceDiscovery: true, tlsOptions: { ca: ca.caPem } };
    await expect(new ClientSecretCredential(entra.tenantId, entra.clientId, 'wrong', options).getToken(ARM_SCOPE)).rejects.toThrow(/AADSTS7000215/);
    expect(entra.tokenRequests().at(-1)?.status).toBe(401);
    await expect(new ClientSecretCredential(entra.tenantId, '11111111-1111-1111-1111-111111111111', entra.clientSecret!, options).getToken(ARM_SCOPE)).rejects.toThrow(/AADSTS700016/);
    // The metadata of an unknown tenant is refused too, as Entra does.
    await expect(new ClientSecretCredential('22222222-2222-2222-2222-222222222222', entra.clientId, entra.clientSecret!, options).getToken(ARM_SCOPE)).rejects.toThrow();
    const direct = await request(entra.tokenEndpoint.replace(entra.tenantId, '22222222-2222-2222-2222-222222222222'), { ...form({ grant_type: 'client_credentials', client_id: entra.clientId, client_secret: entra.clientSecret!, scope: ARM_SCOPE }), ca: ca.caPem });
    expect(direct.status).toBe(400);
    expect(direct.json()).toMatchObject({ error: 'invalid_request', error_codes: [90002] });
    expect(String(direct.json().error_description)).toMatch(/^AADSTS90002: /);
  });
});

describe('fake GitHub OIDC and a federated credential', () => {
  let ca: TestCa;
  let oidc: FakeGithubOidc;
  let entra: FakeEntra;
  beforeAll(async () => {
    ca = makeTestCa();
    oidc = await startFakeGithubOidc({ repository: 'contoso/ml' });
    entra = await startFakeEntra({ ca, clientSecret: null, validateAssertion: oidc.checkAssertion });
  });
  afterAll(async () => {
    await entra.stop();
    await oidc.stop();
    rmSync(ca.dir, { recursive: true, force: true });
  });

  async function githubToken(audience = AZURE_AD_TOKEN_EXCHANGE_AUDIENCE, bearer = oidc.requestToken): Promise<Answer> {
    return request(`${oidc.requestUrl}&audience=${encodeURIComponent(audience)}`, { headers: { authorization: `Bearer ${bearer}` } });
  }

  test('the runtime answers {"value": JWT} with the asked audience; the request is recorded', async () => {
    const answer = await githubToken();
    expect(answer.status).toBe(200);
    const jwt = String(answer.json().value);
    expect(decodeJwt(jwt).claims).toMatchObject({ aud: AZURE_AD_TOKEN_EXCHANGE_AUDIENCE, sub: 'repo:contoso/ml:ref:refs/heads/main', iss: 'https://token.actions.githubusercontent.com' });
    const seen = oidc.requests.at(-1)!;
    expect(seen).toMatchObject({ method: 'GET', query: { 'api-version': '2.0', audience: AZURE_AD_TOKEN_EXCHANGE_AUDIENCE }, bearer: oidc.requestToken, status: 200 });
    expect(oidc.checkAssertion(jwt)).toBeNull();
  });

  test('a wrong runtime token gets 401', async () => {
    const answer = await githubToken(AZURE_AD_TOKEN_EXCHANGE_AUDIENCE, 'not-the-runtime-token');
    expect(answer.status).toBe(401);
    expect(oidc.requests.at(-1)?.status).toBe(401);
  });

  test('ClientAssertionCredential with the GitHub token gets an ARM token; Entra saw the assertion', async () => {
    const oidcBefore = oidc.issued.length;
    const credential = new ClientAssertionCredential(entra.tenantId, entra.clientId, async () => String((await githubToken()).json().value), {
      authorityHost: entra.authorityHost,
      disableInstanceDiscovery: true,
      tlsOptions: { ca: ca.caPem },
    });
    const token = await credential.getToken(ARM_SCOPE);
    expect(entra.isIssued(token.token)).toBe(true);
    const post = entra.tokenRequests().at(-1)!;
    expect(post.form).toMatchObject({ grant_type: 'client_credentials', client_id: entra.clientId, scope: ARM_SCOPE, client_assertion_type: CLIENT_ASSERTION_TYPE_JWT_BEARER });
    // MSAL may call getAssertion more than once per getToken; the one sent is one the runtime issued.
    expect(oidc.issued.slice(oidcBefore).map((t) => t.token)).toContain(post.form.client_assertion);
    expect(post.form.client_secret).toBeUndefined();
    expect(entra.issued.at(-1)?.via).toBe('client_assertion');
  });

  test('an assertion with another audience is refused with AADSTS70021, and a secret is refused when none is configured', async () => {
    const options = { authorityHost: entra.authorityHost, disableInstanceDiscovery: true, tlsOptions: { ca: ca.caPem } };
    const wrongAudience = new ClientAssertionCredential(entra.tenantId, entra.clientId, async () => String((await githubToken('https://github.com/contoso')).json().value), options);
    await expect(wrongAudience.getToken(ARM_SCOPE)).rejects.toThrow(/AADSTS70021/);
    await expect(new ClientSecretCredential(entra.tenantId, entra.clientId, 'any', options).getToken(ARM_SCOPE)).rejects.toThrow(/AADSTS7000215/);
  });
});

describe('fake Azure Pipelines OIDC with AzurePipelinesCredential', () => {
  test('AzurePipelinesCredential (SYSTEM_OIDCREQUESTURI, run in a child with NODE_EXTRA_CA_CERTS) gets an ARM token; wrong System.AccessToken fails', async () => {
    const ca = makeTestCa();
    const ado = await startFakeAzurePipelinesOidc({ ca });
    const entra = await startFakeEntra({ ca, clientSecret: null, validateAssertion: ado.checkAssertion });
    try {
      const script = `
        import { AzurePipelinesCredential } from '@azure/identity';
        const [tenant, client, connection, systemToken, authorityHost] = process.argv.slice(1);
        const credential = new AzurePipelinesCredential(tenant, client, connection, systemToken, { authorityHost, disableInstanceDiscovery: true, retryOptions: { maxRetries: 0 } });
        try { process.stdout.write((await credential.getToken('${ARM_SCOPE}')).token); } catch (error) { process.stderr.write(String(error.message)); process.exit(3); }
      `;
      const go = (systemToken: string) => run(process.execPath, ['--input-type=module', '-e', script, entra.tenantId, entra.clientId, ado.serviceConnectionId, systemToken, entra.authorityHost], {
        cwd: root,
        env: { PATH: process.env.PATH ?? '', NODE_EXTRA_CA_CERTS: ca.caCertFile, ...ado.env },
      });
      const { stdout } = await go(ado.systemAccessToken);
      expect(entra.isIssued(stdout)).toBe(true);
      expect(ado.requests[0]).toMatchObject({ method: 'POST', query: { 'api-version': '7.1', serviceConnectionId: ado.serviceConnectionId }, bearer: ado.systemAccessToken, status: 200 });
      expect(ado.requests[0]?.headers['x-tfs-fedauthredirect']).toBe('Suppress');
      expect(entra.tokenRequests().at(-1)?.form).toMatchObject({ client_assertion_type: CLIENT_ASSERTION_TYPE_JWT_BEARER, client_id: entra.clientId });
      expect(ado.issued.map((t) => t.token)).toContain(entra.tokenRequests().at(-1)?.form.client_assertion);
      await expect(go('wrong')).rejects.toMatchObject({ code: 3 });
      expect(ado.requests.at(-1)?.status).toBe(401);
    } finally {
      await entra.stop();
      await ado.stop();
      rmSync(ca.dir, { recursive: true, force: true });
    }
  });
});

describe('fake ACR: exchange, token service and a real registry', () => {
  let ca: TestCa;
  let entra: FakeEntra;
  let acr: FakeAcr;
  let image: TinyOciImage;
  let entraToken: string;
  let refreshToken: string;
  let work: string;

  beforeAll(async () => {
    if (missing.length) return;
    work = mkdtempSync(join(tmpdir(), 'mlops-fake-acr-test-'));
    ca = makeTestCa();
    entra = await startFakeEntra({ ca });
    acr = await startFakeAcr({ ca, entra });
    image = await makeTinyOciImage();
    const credential = new ClientSecretCredential(entra.tenantId, entra.clientId, entra.clientSecret!, {
      authorityHost: entra.authorityHost,
      disableInstanceDiscovery: true,
      tlsOptions: { ca: ca.caPem },
    });
    entraToken = (await credential.getToken(ARM_SCOPE)).token;
    // Each test can run alone (-t): the refresh token is got here; the exchange test checks the exchange itself.
    const answer = await request(`${acr.origin}/oauth2/exchange`, { ...form({ grant_type: 'access_token', service: acr.host, tenant: entra.tenantId, access_token: entraToken }), ca: ca.caPem });
    refreshToken = String(answer.json().refresh_token);
    // The image the read tests look at.
    await run('skopeo', ['copy', '--retry-times', '0', '--dest-creds', `${ACR_REFRESH_TOKEN_USER}:${refreshToken}`, '--dest-cert-dir', acr.certDir, image.reference, `docker://${acr.host}/ml/tiny:1`]);
  });
  afterAll(async () => {
    await acr?.stop();
    await entra?.stop();
    image?.cleanup();
    if (ca) rmSync(ca.dir, { recursive: true, force: true });
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const exchange = (fields: Record<string, string>) => request(`${acr.origin}/oauth2/exchange`, { ...form(fields), ca: ca.caPem });

  testWithTools('the exchange turns the Entra token into a refresh token and records the exact form', async () => {
    const answer = await exchange({ grant_type: 'access_token', service: acr.host, tenant: entra.tenantId, access_token: entraToken });
    expect(answer.status).toBe(200);
    const refreshToken = String(answer.json().refresh_token);
    expect(decodeJwt(refreshToken).claims).toMatchObject({ iss: FAKE_ACR_ISSUER, aud: acr.host, tenant: entra.tenantId, grant_type: 'refresh_token' });
    const seen = acr.exchangeRequests().at(-1)!;
    expect(seen.method).toBe('POST');
    expect(seen.formAll).toEqual([['grant_type', 'access_token'], ['service', acr.host], ['tenant', entra.tenantId], ['access_token', entraToken]]);
    expect(seen.status).toBe(200);
    expect(acr.refreshTokens.at(-1)).toMatchObject({ token: refreshToken, entraToken, tenant: entra.tenantId });
  });

  testWithTools('the exchange checks the form: tenant, service, grant_type, and that Entra issued the token', async () => {
    const good = { grant_type: 'access_token', service: acr.host, tenant: entra.tenantId, access_token: entraToken };
    expect((await exchange({ ...good, tenant: '33333333-3333-3333-3333-333333333333' })).status).toBe(401);
    expect((await exchange({ ...good, service: 'other.azurecr.io' })).status).toBe(400);
    expect((await exchange({ ...good, grant_type: 'password' })).status).toBe(400);
    const { tenant: _omitted, ...noTenant } = good;
    expect((await exchange(noTenant)).status).toBe(400);
    const forged = signJwt({}, decodeJwt(entraToken).claims, rsaKeyPair().privateKey);
    const refused = await exchange({ ...good, access_token: forged });
    expect(refused.status).toBe(401);
    expect(refused.json()).toMatchObject({ errors: [{ code: 'UNAUTHORIZED' }] });
  });

  testWithTools('refuseExchange(true) makes the exchange answer 401 {"errors": [...]}, and false restores it', async () => {
    const good = { grant_type: 'access_token', service: acr.host, tenant: entra.tenantId, access_token: entraToken };
    acr.refuseExchange(true);
    try {
      const refused = await exchange(good);
      expect(refused.status).toBe(401);
      expect(refused.json()).toMatchObject({ errors: [{ code: 'UNAUTHORIZED', message: expect.any(String) }] });
      expect(acr.exchangeRequests().at(-1)?.status).toBe(401);
    } finally {
      acr.refuseExchange(false);
    }
    expect((await exchange(good)).status).toBe(200);
  });

  testWithTools('GET /v2/ without a token gets the Bearer challenge of an ACR, from the real registry', async () => {
    const answer = await request(`${acr.origin}/v2/`, { ca: ca.caPem });
    expect(answer.status).toBe(401);
    expect(answer.headers['www-authenticate']).toBe(`Bearer realm="https://${acr.host}/oauth2/token",service="${acr.host}"`);
  });

  testWithTools('skopeo pushes with the refresh token as password (GET /oauth2/token with Basic), and reads the image back', async () => {
    const creds = `${ACR_REFRESH_TOKEN_USER}:${refreshToken}`;
    const target = `docker://${acr.host}/ml/pushed:1`;
    const before = acr.tokenRequests().length;
    await run('skopeo', ['copy', '--retry-times', '0', '--dest-creds', creds, '--dest-cert-dir', acr.certDir, image.reference, target]);
    const { stdout } = await run('skopeo', ['inspect', '--creds', creds, '--cert-dir', acr.certDir, target]);
    const inspected = JSON.parse(stdout) as { Digest: string; Labels: Record<string, string> };
    expect(inspected.Digest).toBe(image.manifestDigest);
    expect(inspected.Labels['org.opencontainers.image.title']).toBe('fake-acr tiny image');

    const tokenRequests = acr.tokenRequests().slice(before);
    expect(tokenRequests.length).toBeGreaterThan(0);
    for (const seen of tokenRequests) {
      expect(seen).toMatchObject({ method: 'GET', basic: { username: ACR_REFRESH_TOKEN_USER, password: refreshToken }, status: 200 });
      expect(seen.query.service).toBe(acr.host);
    }
    expect(tokenRequests.flatMap((r) => r.queryAll.filter(([k]) => k === 'scope').map(([, v]) => v))).toContain('repository:ml/pushed:pull,push');
    const pushToken = acr.accessTokens.find((t) => t.scopes.includes('repository:ml/pushed:pull,push'))!;
    expect(pushToken.via).toBe('basic');
    expect(decodeJwt(pushToken.token)).toMatchObject({
      header: { typ: 'JWT', alg: 'RS256', x5c: [expect.any(String)] },
      claims: { iss: FAKE_ACR_ISSUER, aud: acr.host, access: [{ type: 'repository', name: 'ml/pushed', actions: ['pull', 'push'] }] },
    });
    // The registry saw Bearer tokens on the blob and manifest uploads.
    expect(acr.requests.some((r) => r.method === 'PUT' && r.path === '/v2/ml/pushed/manifests/1' && r.bearer && r.status === 201)).toBe(true);
  });

  testWithTools('a client holding an identity token uses POST /oauth2/token with grant_type=refresh_token (skopeo --authfile)', async () => {
    const authfile = join(work, 'auth.json');
    writeFileSync(authfile, JSON.stringify({ auths: { [acr.host]: { auth: Buffer.from(`${ACR_REFRESH_TOKEN_USER}:`).toString('base64'), identitytoken: refreshToken } } }));
    const before = acr.tokenRequests().length;
    const { stdout } = await run('skopeo', ['inspect', '--authfile', authfile, '--cert-dir', acr.certDir, `docker://${acr.host}/ml/tiny:1`]);
    expect((JSON.parse(stdout) as { Digest: string }).Digest).toBe(image.manifestDigest);
    const posts = acr.tokenRequests().slice(before);
    expect(posts.length).toBeGreaterThan(0);
    expect(posts[0]).toMatchObject({ method: 'POST', form: { client_id: 'containers/image', grant_type: 'refresh_token', refresh_token: refreshToken, service: acr.host, scope: 'repository:ml/tiny:pull' }, status: 200 });
    expect(acr.accessTokens.at(-1)?.via).toBe('refresh_token');
  });

  testWithTools('buildah login as 00000000-… with the refresh token succeeds (Bearer flow on /v2/), and a wrong one fails', async () => {
    const authfile = join(work, 'buildah-auth.json');
    const login = (password: string) => new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = execFile('buildah', ['login', '--authfile', authfile, '--cert-dir', acr.certDir, '--username', ACR_REFRESH_TOKEN_USER, '--password-stdin', acr.host],
        { env: { ...process.env, STORAGE_DRIVER: 'vfs', BUILDAH_ISOLATION: 'chroot' } }, (error, _stdout, stderr) => resolve({ code: error ? (error as { code?: number }).code ?? 1 : 0, stderr: String(stderr) }));
      child.stdin?.end(password);
    });
    const before = acr.tokenRequests().length;
    expect(await login(refreshToken)).toEqual({ code: 0, stderr: '' });
    expect(acr.tokenRequests().slice(before)).toEqual([expect.objectContaining({ method: 'GET', basic: { username: ACR_REFRESH_TOKEN_USER, password: refreshToken }, status: 200 })]);
    const { stdout } = await run('skopeo', ['inspect', '--authfile', authfile, '--cert-dir', acr.certDir, `docker://${acr.host}/ml/tiny:1`]);
    expect((JSON.parse(stdout) as { Digest: string }).Digest).toBe(image.manifestDigest);
    const refused = await login('not-a-refresh-token');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/invalid username\/password|401|unauthorized/i);
    expect(acr.tokenRequests().at(-1)).toMatchObject({ basic: { password: 'not-a-refresh-token' }, status: 401 });
  });

  testWithTools('a wrong refresh token is refused by the token service, and skopeo fails', async () => {
    const direct = await request(`${acr.origin}/oauth2/token?service=${acr.host}&scope=repository:ml/tiny:pull`, {
      headers: { authorization: basic(ACR_REFRESH_TOKEN_USER, 'not-a-refresh-token') },
      ca: ca.caPem,
    });
    expect(direct.status).toBe(401);
    expect(direct.json()).toMatchObject({ errors: [{ code: 'UNAUTHORIZED' }] });
    // The right token with another user name is refused too, as ACR does.
    expect((await request(`${acr.origin}/oauth2/token?service=${acr.host}&scope=repository:ml/tiny:pull`, { headers: { authorization: basic('someone', refreshToken) }, ca: ca.caPem })).status).toBe(401);
    const post = await request(`${acr.origin}/oauth2/token`, { ...form({ grant_type: 'refresh_token', service: acr.host, scope: 'repository:ml/tiny:pull', refresh_token: 'forged' }), ca: ca.caPem });
    expect(post.status).toBe(401);
    await expect(run('skopeo', ['inspect', '--retry-times', '0', '--creds', `${ACR_REFRESH_TOKEN_USER}:not-a-refresh-token`, '--cert-dir', acr.certDir, `docker://${acr.host}/ml/tiny:1`]))
      .rejects.toMatchObject({ stderr: expect.stringMatching(/401|unauthorized|authentication required/i) });
  });

  testWithTools('the real registry checks the token signature: a token signed by another key is refused, a fake-acr one accepted', async () => {
    const answer = await request(`${acr.origin}/oauth2/token?service=${acr.host}&scope=repository:ml/tiny:pull`, {
      headers: { authorization: basic(ACR_REFRESH_TOKEN_USER, refreshToken) },
      ca: ca.caPem,
    });
    expect(answer.status).toBe(200);
    expect(answer.json().token).toBe(answer.json().access_token);
    const good = String(answer.json().access_token);
    const ok = await request(`${acr.origin}/v2/ml/tiny/tags/list`, { headers: { authorization: `Bearer ${good}` }, ca: ca.caPem });
    expect(ok.status).toBe(200);
    expect(ok.json()).toEqual({ name: 'ml/tiny', tags: ['1'] });
    const { header, claims } = decodeJwt(good);
    const forged = signJwt(header, claims, rsaKeyPair().privateKey);
    expect((await request(`${acr.origin}/v2/ml/tiny/tags/list`, { headers: { authorization: `Bearer ${forged}` }, ca: ca.caPem })).status).toBe(401);
    // A pull-only token cannot push.
    const upload = await request(`${acr.origin}/v2/ml/tiny/blobs/uploads/`, { method: 'POST', headers: { authorization: `Bearer ${good}` }, ca: ca.caPem });
    expect(upload.status).toBe(401);
  });
});
