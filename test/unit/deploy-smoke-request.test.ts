import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { jsonProblem, readSmokeBody, sendSmokeTest } from '../../shared/deploy/smoke-request.js';
import type { SmokeEndpoint } from '../../shared/deploy/target.js';
import { CancelledError, UserError } from '../../shared/util/errors.js';
import { FakeServers, readBody } from '../helpers/fake-servers.js';

const KEY = 'sk-smoke-3f9a7c1e5b';
const servers = new FakeServers();
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'smoke-body-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => servers.close());

function endpoint(url: string): SmokeEndpoint {
  return { url, headers: { authorization: `Bearer ${KEY}`, 'Content-Type': 'text/plain' }, close: async () => undefined };
}

/** No proxy from the machine's environment may get between the test and its server. */
const options = (extra: { timeoutMs?: number; retries?: number; signal?: AbortSignal } = {}) => ({
  env: {},
  signal: extra.signal ?? new AbortController().signal,
  timeoutMs: extra.timeoutMs ?? 10_000,
  retries: extra.retries,
});

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure, it succeeded');
}

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('readSmokeBody', () => {
  test('inline JSON, object or list, is sent as written', () => {
    expect(readSmokeBody('  {"instances": [[1, 2]]}\n', dir)).toEqual({ body: '{"instances": [[1, 2]]}', source: 'inline JSON' });
    expect(readSmokeBody('[1]', dir)).toEqual({ body: '[1]', source: 'inline JSON' });
  });

  test('anything else is a file relative to the base folder; a BOM is dropped', () => {
    mkdirSync(path.join(dir, 'smoke'), { recursive: true });
    writeFileSync(path.join(dir, 'smoke', 'v2.json'), '\uFEFF{"inputs": []}\n');
    expect(readSmokeBody('smoke/v2.json', dir)).toEqual({ body: '{"inputs": []}\n', source: path.join(dir, 'smoke', 'v2.json') });
    expect(readSmokeBody(path.join(dir, 'smoke', 'v2.json'), '/elsewhere')).toMatchObject({ body: '{"inputs": []}\n' });
  });

  test('inline JSON that is broken says where, without quoting it', () => {
    const result = readSmokeBody('{"instances": [[1, 2]],\n "secretish": x}', dir);
    expect(result).toEqual({ problem: "the inline JSON is not valid JSON: unexpected 'x' at line 2, column 15" });
  });

  test('a file that is broken says where', () => {
    writeFileSync(path.join(dir, 'cut.json'), '{\n  "instances": [\n    [1, 2');
    expect(readSmokeBody('cut.json', dir)).toEqual({ problem: "file 'cut.json' is not valid JSON: it ends too early (line 3, column 10)" });
  });

  test('a missing file or a folder', () => {
    const missing = readSmokeBody('nope/request.json', dir);
    expect('problem' in missing && missing.problem).toMatch(/^file 'nope\/request\.json' not found \(looked for .*nope\/request\.json\); give inline JSON/);
    expect(readSmokeBody('smoke', dir)).toEqual({ problem: "'smoke' is a folder, not a JSON file" });
    expect(readSmokeBody('   ', dir)).toMatchObject({ problem: expect.stringMatching(/^is empty/) });
  });
});

describe('jsonProblem', () => {
  test.each([
    ['{"a": 1}', undefined],
    ['hello', "is not valid JSON: unexpected 'h' at line 1, column 1"],
    ['{"a": 1,}', "is not valid JSON: unexpected '}' at line 1, column 9"],
    ['{"a" 1}', "is not valid JSON: unexpected '1' at line 1, column 6"],
    ['[1 2]', "is not valid JSON: unexpected '2' at line 1, column 4"],
    ['[1]\n\n  x', "is not valid JSON: unexpected 'x' at line 3, column 3"],
    ['["a\\q"]', "is not valid JSON: unexpected 'q' at line 1, column 5"],
    ['["tab\there"]', 'is not valid JSON: unexpected character U+0009 at line 1, column 6'],
    ['[tru]', "is not valid JSON: unexpected ']' at line 1, column 5"],
    ['[-]', "is not valid JSON: unexpected '-' at line 1, column 2"],
    ['', 'is not valid JSON: it ends too early (line 1, column 1)'],
  ])('%j', (text, expected) => {
    expect(jsonProblem(text)).toBe(expected);
  });
});

describe('sendSmokeTest', () => {
  test('POSTs the body as JSON with the endpoint headers and returns the answer', async () => {
    let seen: { method?: string; type?: string; auth?: string; body?: string } = {};
    const { origin } = await servers.http(async (req, res) => {
      seen = { method: req.method, type: req.headers['content-type'], auth: req.headers.authorization, body: (await readBody(req)).toString() };
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"predictions":[1]}');
    });
    const answer = await sendSmokeTest(endpoint(`${origin}/v1/models/iris:predict`), '{"instances":[[1]]}', options());
    expect(answer).toMatchObject({ status: 200, bodyText: '{"predictions":[1]}' });
    expect(answer.ms).toBeGreaterThanOrEqual(0);
    expect(seen).toEqual({ method: 'POST', type: 'application/json', auth: `Bearer ${KEY}`, body: '{"instances":[[1]]}' });
  });

  test('retries a 503 from a model that just became ready', async () => {
    let hits = 0;
    const { origin } = await servers.http((_req, res) => {
      hits++;
      if (hits < 3) res.writeHead(503).end('no healthy upstream');
      else res.writeHead(200).end('{"ok":true}');
    });
    const answer = await sendSmokeTest(endpoint(`${origin}/x`), '{}', options());
    expect(answer).toMatchObject({ status: 200, bodyText: '{"ok":true}' });
    expect(hits).toBe(3);
  });

  test('does not retry a 500: the model answered, and badly', async () => {
    let hits = 0;
    const { origin } = await servers.http((_req, res) => {
      hits++;
      res.writeHead(500).end('boom');
    });
    const answer = await sendSmokeTest(endpoint(`${origin}/x`), '{}', options());
    expect(answer).toMatchObject({ status: 500, bodyText: 'boom' });
    expect(hits).toBe(1);
  });

  test('gives up after the retries and returns the last 502', async () => {
    let hits = 0;
    const { origin } = await servers.http((_req, res) => {
      hits++;
      res.writeHead(502).end(`bad gateway ${hits}`);
    });
    const answer = await sendSmokeTest(endpoint(`${origin}/x`), '{}', options({ retries: 2 }));
    expect(answer).toMatchObject({ status: 502, bodyText: 'bad gateway 3' });
    expect(hits).toBe(3);
  });

  test('stops retrying when the time is up', async () => {
    let hits = 0;
    const { origin } = await servers.http((_req, res) => {
      hits++;
      res.writeHead(504).end();
    });
    const started = Date.now();
    const answer = await sendSmokeTest(endpoint(`${origin}/x`), '{}', options({ timeoutMs: 600, retries: 50 }));
    expect(answer.status).toBe(504);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(hits).toBeLessThan(5);
  });

  test('times out a model that never answers, within the budget, without the key', async () => {
    const { origin } = await servers.http(() => {
      // Never answers.
    });
    const started = Date.now();
    const error = await failure(sendSmokeTest(endpoint(`${origin}/v1/models/iris:predict?key=${KEY}`), '{}', options({ timeoutMs: 400 })));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toBe(`smoke test: POST ${origin}/v1/models/iris:predict?… got no answer within 0.4 s`);
    expect(error.message).not.toContain(KEY);
  });

  test('retries refused connections, then says so without the key', async () => {
    const port = await closedPort();
    const error = await failure(sendSmokeTest(endpoint(`http://127.0.0.1:${port}/x`), '{}', options({ retries: 2 })));
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toMatch(/^smoke test: POST http:\/\/127\.0\.0\.1:\d+\/x failed: .*ECONNREFUSED.* \(3 attempts\)$/);
    expect(error.message).not.toContain(KEY);
    expect(error.stack ?? '').not.toContain(KEY);
  });

  test('a connection refused at first is retried until the model listens', async () => {
    const port = await closedPort();
    const server = http.createServer((_req, res) => res.writeHead(200).end('{"late":true}'));
    // The first attempt goes out at once and is refused; the first retry waits at least 125 ms.
    const timer = setTimeout(() => server.listen(port, '127.0.0.1'), 50);
    try {
      const answer = await sendSmokeTest(endpoint(`http://127.0.0.1:${port}/x`), '{}', options());
      expect(answer).toMatchObject({ status: 200, bodyText: '{"late":true}' });
    } finally {
      clearTimeout(timer);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('a cancel stops the waiting between attempts', async () => {
    const { origin } = await servers.http((_req, res) => res.writeHead(503).end());
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const error = await failure(sendSmokeTest(endpoint(`${origin}/x`), '{}', options({ signal: controller.signal, retries: 50 })));
    expect(error).toBeInstanceOf(CancelledError);
  });
});
