import { createHash } from 'node:crypto';
import type http from 'node:http';
import { Readable } from 'node:stream';
import type tls from 'node:tls';
import { NetworkError, request, safeUrl, type StreamedBody } from '../../shared/http/request.js';
import { CancelledError, UserError } from '../../shared/util/errors.js';
import { makeTestCa, type TestCa } from '../helpers/ca.js';
import { FakeServers, readBody } from '../helpers/fake-servers.js';

const servers = new FakeServers();
let ca: TestCa;

beforeAll(() => {
  ca = makeTestCa();
});
afterEach(() => servers.close());

/** Runs a promise that must reject and hands back what it rejected with. */
async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the request to fail, it succeeded');
}

describe('request: answers', () => {
  test('returns an HTTP error status with headers and body instead of throwing', async () => {
    let hits = 0;
    const { origin } = await servers.http((_req, res) => {
      hits++;
      res.writeHead(404, { 'content-type': 'text/plain', 'x-marker': 'm1' }).end('no such thing');
    });
    const response = await request(`${origin}/missing`);
    expect(response.status).toBe(404);
    expect(response.headers['x-marker']).toBe('m1');
    expect(response.body.toString()).toBe('no such thing');
    expect(response.url).toBe(`${origin}/missing`);
    expect(hits).toBe(1);
  });

  test('sends method, headers and body with a content-length', async () => {
    let seen: { method?: string; length?: string; header?: string; body?: string } = {};
    const { origin } = await servers.http(async (req, res) => {
      const body = await readBody(req);
      seen = { method: req.method, length: req.headers['content-length'], header: req.headers['x-thing'] as string, body: body.toString() };
      res.writeHead(201).end();
    });
    const response = await request(`${origin}/things`, { method: 'POST', headers: { 'x-thing': 'yes' }, body: 'héllo' });
    expect(response.status).toBe(201);
    expect(seen).toEqual({ method: 'POST', length: String(Buffer.byteLength('héllo')), header: 'yes', body: 'héllo' });
  });
});

/** A body of `size` deterministic bytes in 64 KiB pieces; counts how often it was opened and closed. */
function countedBody(size: number, fail?: Error): StreamedBody & { opened: number; closed: number; digest: string } {
  const piece = (index: number) => Buffer.alloc(Math.min(64 * 1024, size - index * 64 * 1024), index % 251);
  const pieces = Math.ceil(size / (64 * 1024));
  const hash = createHash('sha256');
  for (let index = 0; index < pieces; index++) hash.update(piece(index));
  const body = {
    length: size,
    opened: 0,
    closed: 0,
    digest: hash.digest('hex'),
    open() {
      body.opened++;
      let index = 0;
      const stream = new Readable({
        read() {
          if (fail && index === 1) this.destroy(fail);
          else this.push(index < pieces ? piece(index++) : null);
        },
      });
      stream.on('close', () => body.closed++);
      return stream;
    },
  };
  return body;
}

describe('request: streamed bodies', () => {
  test('sends a streamed body whole, with its content-length, opening it once', async () => {
    let seen: { length?: string; digest?: string; size?: number } = {};
    const { origin } = await servers.http(async (req, res) => {
      const received = await readBody(req);
      seen = { length: req.headers['content-length'], size: received.length, digest: createHash('sha256').update(received).digest('hex') };
      res.writeHead(201).end();
    });
    const body = countedBody(5 * 1024 * 1024 + 7);
    const response = await request(`${origin}/upload`, { method: 'PUT', body });
    expect(response.status).toBe(201);
    expect(seen).toEqual({ length: String(body.length), size: body.length, digest: body.digest });
    expect(body.opened).toBe(1);
  });

  test('a retried PUT gets a fresh stream for each attempt', async () => {
    const digests: string[] = [];
    const { origin } = await servers.http(async (req, res) => {
      digests.push(createHash('sha256').update(await readBody(req)).digest('hex'));
      res.writeHead(digests.length === 1 ? 503 : 200, { 'retry-after': '0' }).end();
    });
    const body = countedBody(300_000);
    const response = await request(`${origin}/x`, { method: 'PUT', body, retries: 1 });
    expect(response.status).toBe(200);
    expect(body.opened).toBe(2);
    expect(digests).toEqual([body.digest, body.digest]);
  });

  test("the body stream's own error ends the request as it is: not wrapped, not retried", async () => {
    let hits = 0;
    const { origin } = await servers.http((req, res) => {
      hits++;
      req.on('error', () => undefined);
      req.resume();
      req.on('end', () => res.writeHead(200).end());
    });
    const problem = new UserError("'model.bin' changed while it was being uploaded");
    const body = countedBody(1024 * 1024, problem);
    const error = await failure(request(`${origin}/x`, { method: 'PUT', body, retries: 3 }));
    expect(error).toBe(problem);
    expect(body.opened).toBe(1);
    expect(hits).toBeLessThanOrEqual(1);
  });

  test('a server that answers before reading the body gets its answer returned, and the stream is closed', async () => {
    const { origin } = await servers.http((_req, res) => {
      res.writeHead(413, { connection: 'close' }).end('too large');
    });
    const body = countedBody(64 * 1024 * 1024);
    const response = await request(`${origin}/x`, { method: 'PUT', body, retries: 0 });
    expect(response.status).toBe(413);
    // The 64 MiB were never all read: the stream was closed, not left holding its source.
    for (let waited = 0; body.closed === 0 && waited < 1000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(body.closed).toBe(1);
    expect(body.opened).toBe(1);
  });
});

describe('request: retries', () => {
  test('retries 503 on GET until it succeeds', async () => {
    let hits = 0;
    const { origin } = await servers.http((_req, res) => {
      hits++;
      if (hits < 3) res.writeHead(503, { 'retry-after': '0' }).end('busy');
      else res.writeHead(200).end('done');
    });
    const response = await request(`${origin}/x`, { retries: 3 });
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe('done');
    expect(hits).toBe(3);
  });

  test('gives up after the retries and returns the last 429', async () => {
    let hits = 0;
    const { origin } = await servers.http((_req, res) => {
      hits++;
      res.writeHead(429, { 'retry-after': '0' }).end(`hit ${hits}`);
    });
    const started = Date.now();
    const response = await request(`${origin}/x`, { retries: 2 });
    expect(response.status).toBe(429);
    expect(response.body.toString()).toBe('hit 3');
    expect(hits).toBe(3);
    // Retry-After: 0 means no wait at all, not the backoff.
    expect(Date.now() - started).toBeLessThan(400);
  });

  test('retries PUT (idempotent) on 500', async () => {
    const bodies: string[] = [];
    const { origin } = await servers.http(async (req, res) => {
      bodies.push((await readBody(req)).toString());
      res.writeHead(bodies.length === 1 ? 500 : 200, { 'retry-after': '0' }).end();
    });
    const response = await request(`${origin}/x`, { method: 'PUT', body: 'same body', retries: 1 });
    expect(response.status).toBe(200);
    expect(bodies).toEqual(['same body', 'same body']);
  });

  test('does not retry POST on 503', async () => {
    let hits = 0;
    const { origin } = await servers.http((_req, res) => {
      hits++;
      res.writeHead(503, { 'retry-after': '0' }).end();
    });
    const response = await request(`${origin}/x`, { method: 'POST', body: 'x', retries: 3 });
    expect(response.status).toBe(503);
    expect(hits).toBe(1);
  });

  test('does not retry 4xx other than 429', async () => {
    let hits = 0;
    const { origin } = await servers.http((_req, res) => {
      hits++;
      res.writeHead(400).end();
    });
    expect((await request(`${origin}/x`, { retries: 3 })).status).toBe(400);
    expect(hits).toBe(1);
  });

  test('waits for Retry-After given in seconds', async () => {
    const times: number[] = [];
    const { origin } = await servers.http((_req, res) => {
      times.push(Date.now());
      if (times.length === 1) res.writeHead(503, { 'retry-after': '1' }).end();
      else res.writeHead(200).end();
    });
    const response = await request(`${origin}/x`, { retries: 1 });
    expect(response.status).toBe(200);
    expect(times).toHaveLength(2);
    const waited = times[1]! - times[0]!;
    // The first backoff is at most 500 ms: only Retry-After explains a wait of a second.
    expect(waited).toBeGreaterThanOrEqual(950);
    expect(waited).toBeLessThan(2000);
  });

  test('retries a GET whose connection was reset', async () => {
    let hits = 0;
    const { origin } = await servers.http((req, res) => {
      hits++;
      if (hits === 1) req.socket.destroy();
      else res.writeHead(200).end('second time lucky');
    });
    const response = await request(`${origin}/x`, { retries: 1 });
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe('second time lucky');
    expect(hits).toBe(2);
  });

  test('does not retry a POST whose connection was reset', async () => {
    let hits = 0;
    const { origin } = await servers.http((req) => {
      hits++;
      req.socket.destroy();
    });
    const error = await failure(request(`${origin}/x`, { method: 'POST', body: 'x', retries: 3 }));
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).code).toBe('ECONNRESET');
    expect(hits).toBe(1);
  });
});

describe('request: failures and their messages', () => {
  test('times out per attempt when the server never answers', async () => {
    let hits = 0;
    const { origin } = await servers.http(() => {
      hits++; // and never answer
    });
    const started = Date.now();
    const error = await failure(request(`${origin}/slow?sig=SECRET`, { timeoutMs: 300, retries: 0 }));
    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toBeInstanceOf(UserError);
    expect((error as NetworkError).code).toBe('ETIMEDOUT');
    expect(error.message).toContain(`GET ${origin}/slow`);
    expect(error.message).toMatch(/no answer/);
    expect(error.message).not.toContain('SECRET');
    expect(error.message).not.toContain('sig=');
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(1500);
    expect(hits).toBe(1);
  });

  test('a timeout counts as a dropped connection and is retried', async () => {
    let hits = 0;
    const { origin } = await servers.http((_req, res) => {
      hits++;
      if (hits > 1) res.writeHead(200).end('ok');
    });
    const response = await request(`${origin}/x`, { timeoutMs: 200, retries: 1 });
    expect(response.status).toBe(200);
    expect(hits).toBe(2);
  });

  test('the message of a refused connection has no userinfo and no query string', async () => {
    const port = await servers.closedPort();
    const error = await failure(request(`http://alice:hunter2pw@127.0.0.1:${port}/v2/blob?sig=SECRET&se=2030`, { retries: 0 }));
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).code).toBe('ECONNREFUSED');
    expect(error.message).toContain(`GET http://127.0.0.1:${port}/v2/blob`);
    for (const secret of ['alice', 'hunter2pw', 'SECRET', 'sig=', 'se=2030']) expect(error.message).not.toContain(secret);
  });

  test('safeUrl keeps scheme, host and path only', () => {
    expect(safeUrl('https://u:p@example.com:8443/a/b?sig=SECRET#frag')).toBe('https://example.com:8443/a/b?…');
    expect(safeUrl('http://example.com/a')).toBe('http://example.com/a');
    expect(safeUrl('not a url')).toBe('<invalid URL>');
  });
});

describe('request: redirects', () => {
  test('follows a same-origin redirect and keeps the Authorization header', async () => {
    const seen: { url?: string; authorization?: string }[] = [];
    const { origin } = await servers.http((req, res) => {
      seen.push({ url: req.url, authorization: req.headers.authorization });
      if (req.url === '/start') res.writeHead(302, { location: '/end' }).end();
      else res.writeHead(200).end('arrived');
    });
    const response = await request(`${origin}/start`, { headers: { authorization: 'Bearer tok' } });
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe('arrived');
    expect(response.url).toBe(`${origin}/end`);
    expect(seen).toEqual([
      { url: '/start', authorization: 'Bearer tok' },
      { url: '/end', authorization: 'Bearer tok' },
    ]);
  });

  test('drops the Authorization header when the redirect goes to another origin', async () => {
    const atOther: http.IncomingHttpHeaders[] = [];
    const other = await servers.http((req, res) => {
      atOther.push(req.headers);
      res.writeHead(200).end('blob');
    });
    const first = await servers.http((_req, res) => res.writeHead(307, { location: `${other.origin}/blob?sig=x` }).end());
    const response = await request(`${first.origin}/v2/blobs/1`, { headers: { authorization: 'Bearer tok', 'x-keep': 'kept' } });
    expect(response.status).toBe(200);
    expect(response.url).toBe(`${other.origin}/blob?sig=x`);
    expect(atOther).toHaveLength(1);
    expect(atOther[0]!.authorization).toBeUndefined();
    expect(atOther[0]!['x-keep']).toBe('kept');
  });

  // Header names are case-insensitive: a caller writing 'Authorization' must be protected too.
  test('drops the Authorization header on a cross-origin redirect whatever its case', async () => {
    const atOther: http.IncomingHttpHeaders[] = [];
    const other = await servers.http((req, res) => {
      atOther.push(req.headers);
      res.writeHead(200).end();
    });
    const first = await servers.http((_req, res) => res.writeHead(302, { location: `${other.origin}/elsewhere` }).end());
    await request(`${first.origin}/x`, { headers: { Authorization: 'Bearer tok' } });
    expect(atOther).toHaveLength(1);
    expect(atOther[0]!.authorization).toBeUndefined();
  });

  test('does not follow a redirect for POST', async () => {
    let otherHits = 0;
    const other = await servers.http((_req, res) => {
      otherHits++;
      res.end();
    });
    const first = await servers.http((_req, res) => res.writeHead(302, { location: `${other.origin}/x` }).end());
    const response = await request(`${first.origin}/x`, { method: 'POST', body: 'b' });
    expect(response.status).toBe(302);
    expect(otherHits).toBe(0);
  });

  test('stops after too many redirects', async () => {
    let hits = 0;
    const { origin } = await servers.http((_req, res) => {
      hits++;
      res.writeHead(302, { location: `/loop${hits}` }).end();
    });
    const error = await failure(request(`${origin}/loop?sig=SECRET`));
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).code).toBe('EREDIRECT');
    expect(error.message).toMatch(/too many redirects/);
    expect(error.message).not.toContain('SECRET');
    expect(hits).toBe(6);
  });
});

describe('request: TLS', () => {
  test('trusts a server signed by the CA given in tls.ca', async () => {
    const { origin } = await servers.https(ca, (_req, res) => res.end('secure'));
    const response = await request(`${origin}/x`, { tls: { ca: ca.caPem } });
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe('secure');
  });

  test('without the CA the request fails with a certificate error code', async () => {
    let hits = 0;
    const { origin } = await servers.https(ca, (_req, res) => {
      hits++;
      res.end();
    });
    const error = await failure(request(`${origin}/x`, { retries: 0 }));
    expect(error).toBeInstanceOf(NetworkError);
    expect(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY']).toContain((error as NetworkError).code);
    expect(hits).toBe(0);
  });

  test('tls.insecure accepts a certificate nobody vouches for', async () => {
    const { origin } = await servers.https(ca, (_req, res) => res.end('anyway'));
    const response = await request(`${origin}/x`, { tls: { insecure: true } });
    expect(response.body.toString()).toBe('anyway');
  });

  // RFC 6066 forbids an IP address as TLS server name; Node warns (DEP0123) when given one.
  test('sends no IP address as TLS server name (SNI)', async () => {
    let servername: string | false | undefined;
    const running = await servers.https(ca, (_req, res) => res.end());
    running.server.on('secureConnection', (socket: tls.TLSSocket) => {
      servername = (socket as tls.TLSSocket & { servername?: string | false }).servername;
    });
    // A distinct CA string gives a fresh agent, so this request makes a fresh TLS connection.
    await request(`${running.origin}/x`, { tls: { ca: `${ca.caPem}\n` } });
    expect(servername).toBeFalsy();
  });
});

describe('request: cancel', () => {
  test('an AbortSignal cancels an in-flight request with CancelledError', async () => {
    let hits = 0;
    const { origin } = await servers.http(() => {
      hits++; // never answers
    });
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 100);
    const error = await failure(request(`${origin}/x`, { signal: controller.signal, timeoutMs: 5000 }));
    expect(error).toBeInstanceOf(CancelledError);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(hits).toBe(1);
  });

  test('an AbortSignal cancels the wait before a retry', async () => {
    let hits = 0;
    const { origin } = await servers.http((_req, res) => {
      hits++;
      res.writeHead(503, { 'retry-after': '30' }).end();
    });
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 150);
    const error = await failure(request(`${origin}/x`, { signal: controller.signal, retries: 3 }));
    expect(error).toBeInstanceOf(CancelledError);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(hits).toBe(1);
  });

  test('an already aborted signal sends nothing', async () => {
    let hits = 0;
    const { origin } = await servers.http((_req, res) => {
      hits++;
      res.end();
    });
    const error = await failure(request(`${origin}/x`, { signal: AbortSignal.abort() }));
    expect(error).toBeInstanceOf(CancelledError);
    expect(hits).toBe(0);
  });
});
