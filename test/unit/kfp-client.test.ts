import type http from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KfpAuth } from '../../shared/kfp/auth.js';
import { KfpClient, KfpError } from '../../shared/kfp/client.js';
import { connectApi } from '../../shared/kfp/connect.js';
import { FakeServers, readBody } from '../helpers/fake-servers.js';

const servers = new FakeServers();
afterEach(() => servers.close());

const TOKEN = 'Kfp-Token-Value-123';

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

function answer(status: number, body: unknown, type = 'application/json'): http.RequestListener {
  return (_req, res) => res.writeHead(status, { 'content-type': type }).end(typeof body === 'string' ? body : JSON.stringify(body));
}

describe('KfpClient', () => {
  test('calls host + path prefix with the bearer token and cookie, JSON both ways', async () => {
    let seen: { url?: string; auth?: string; cookie?: string; type?: string; body?: string } = {};
    const { origin } = await servers.http(async (req, res) => {
      seen = { url: req.url, auth: req.headers.authorization, cookie: req.headers.cookie, type: req.headers['content-type'], body: (await readBody(req)).toString() };
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"experiment_id":"e1"}');
    });
    const client = new KfpClient({ host: `${origin}/pipeline/`, auth: new KfpAuth({ token: TOKEN, cookie: 'authservice_session=abc' }) });
    const reply = await client.call<{ experiment_id: string }>('POST', '/apis/v2beta1/experiments', { body: { display_name: 'x' }, query: { namespace: 'team', empty: '' } });
    expect(reply).toEqual({ status: 200, body: { experiment_id: 'e1' } });
    expect(seen).toEqual({
      url: '/pipeline/apis/v2beta1/experiments?namespace=team',
      auth: `Bearer ${TOKEN}`,
      cookie: 'authservice_session=abc',
      type: 'application/json',
      body: '{"display_name":"x"}',
    });
  });

  test('401 names the input that gave the credentials, never their value', async () => {
    const { origin } = await servers.http(answer(401, { code: 16, message: `token ${TOKEN} is expired` }));
    const error = await failure(new KfpClient({ host: origin, auth: new KfpAuth({ token: TOKEN }) }).call('GET', '/apis/v2beta1/healthz'));
    expect(error).toBeInstanceOf(KfpError);
    expect(error.message).toBe("KFP GET /apis/v2beta1/healthz answered HTTP 401: the server refused the credentials from input 'token': check it");
    const none = await failure(new KfpClient({ host: origin, auth: new KfpAuth({}) }).call('GET', '/apis/v2beta1/healthz'));
    expect(none.message).toBe(
      'KFP GET /apis/v2beta1/healthz answered HTTP 401: the server wants credentials and got no credentials (inputs token, tokenFile and cookie are empty)',
    );
  });

  test('403 on a namespaced call names the namespace and the inputs', async () => {
    const { origin } = await servers.http(answer(403, { code: 7, message: 'PermissionDenied' }));
    const client = new KfpClient({ host: origin, auth: new KfpAuth({ cookie: 'session=1' }) });
    const error = await failure(client.call('GET', '/apis/v2beta1/experiments', { namespace: 'team-x' }));
    expect(error.message).toBe("KFP GET /apis/v2beta1/experiments answered HTTP 403: the credentials from input 'cookie' may not use namespace 'team-x': PermissionDenied");
  });

  test('a login page answering 200 is called what it is', async () => {
    const { origin } = await servers.http(answer(200, '<!doctype html><title>Log in to Dex</title>', 'text/html'));
    const error = await failure(new KfpClient({ host: origin, auth: new KfpAuth({}) }).call('GET', '/apis/v2beta1/healthz'));
    expect(error.message).toMatch(/answered with a web page, not JSON: 'host' is not the KFP API, or a login page answered/);
  });

  test('statuses the caller expects are handed back; others carry the server message, one line', async () => {
    const { origin } = await servers.http((req, res) => {
      if (req.url?.includes('exists')) return answer(409, { code: 6, message: 'already exists' })(req, res);
      return answer(400, { code: 3, message: 'Invalid input:\nline two' })(req, res);
    });
    const client = new KfpClient({ host: origin, auth: new KfpAuth({}) });
    expect(await client.call('POST', '/exists', { expect: [409] })).toEqual({ status: 409, body: {} });
    expect((await failure(client.call('POST', '/bad'))).message).toBe('KFP POST /bad answered HTTP 400: Invalid input: line two');
  });

  test('tokenFile is re-read after a 401 and the call retried once with the rotated token', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'mlops-token-')), 'token');
    writeFileSync(file, 'old-token\n');
    const seen: string[] = [];
    const { origin } = await servers.http((req, res) => {
      seen.push(String(req.headers.authorization));
      if (req.headers.authorization === 'Bearer new-token') return answer(200, { multi_user: false })(req, res);
      writeFileSync(file, 'new-token\n');
      answer(401, { code: 16, message: 'expired' })(req, res);
    });
    const secrets: string[] = [];
    const client = new KfpClient({ host: origin, auth: new KfpAuth({ tokenFile: file }, (value) => secrets.push(value)) });
    expect((await client.call('GET', '/apis/v2beta1/healthz')).status).toBe(200);
    expect(seen).toEqual(['Bearer old-token', 'Bearer new-token']);
    expect(secrets).toEqual(['old-token', 'new-token']);
  });

  test('a token file that stays the same is not retried forever', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'mlops-token-')), 'token');
    writeFileSync(file, 'same-token');
    let hits = 0;
    const { origin } = await servers.http((req, res) => {
      hits++;
      answer(401, {})(req, res);
    });
    const error = await failure(new KfpClient({ host: origin, auth: new KfpAuth({ tokenFile: file }) }).call('GET', '/x'));
    expect(error.message).toMatch(/refused the credentials from input 'tokenFile'/);
    expect(hits).toBe(1);
  });
});

describe('connectApi', () => {
  test('auto takes v2beta1 where the server has it, and reads multi-user mode', async () => {
    const { origin } = await servers.http(answer(200, { multi_user: true }));
    const connected = await connectApi(new KfpClient({ host: origin, auth: new KfpAuth({}) }), 'auto');
    expect(connected.api.version).toBe('v2beta1');
    expect(connected.multiUser).toBe(true);
  });

  test('auto falls back to v1beta1 on a KFP 1.x server', async () => {
    const { origin } = await servers.http((req, res) =>
      req.url?.startsWith('/apis/v1beta1/') ? answer(200, {})(req, res) : res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found'),
    );
    expect((await connectApi(new KfpClient({ host: origin, auth: new KfpAuth({}) }), 'auto')).api.version).toBe('v1beta1');
  });

  test('a URL without the KFP API says so, naming the input', async () => {
    const { origin } = await servers.http((_req, res) => res.writeHead(404).end());
    const error = await failure(connectApi(new KfpClient({ host: `${origin}/wrong`, auth: new KfpAuth({}) }), 'auto'));
    expect(error.message).toBe(
      `input 'host': ${origin}/wrong has no KFP API: GET /apis/v2beta1/healthz and /apis/v1beta1/healthz answered 404 (is the URL's path prefix right?)`,
    );
  });

  test('an unreachable host names the input and the call', async () => {
    const port = await servers.closedPort();
    const error = await failure(connectApi(new KfpClient({ host: `http://127.0.0.1:${port}`, auth: new KfpAuth({}) }), 'v2beta1'));
    expect(error.message).toBe(
      `input 'host': cannot reach the KFP API at http://127.0.0.1:${port}: GET http://127.0.0.1:${port}/apis/v2beta1/healthz failed: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
  });
});
