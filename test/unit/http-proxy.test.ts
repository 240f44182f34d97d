import type http from 'node:http';
import type tls from 'node:tls';
import { proxyFor } from '../../shared/http/proxy.js';
import { NetworkError, request } from '../../shared/http/request.js';
import { makeTestCa, type TestCa } from '../helpers/ca.js';
import { FakeServers } from '../helpers/fake-servers.js';

const servers = new FakeServers();
let ca: TestCa;

beforeAll(() => {
  ca = makeTestCa();
});
afterEach(() => servers.close());

const proxyOf = (url: string, env: NodeJS.ProcessEnv) => proxyFor(new URL(url), env)?.href;

describe('proxyFor', () => {
  test('no proxy variables, no proxy', () => {
    expect(proxyOf('https://registry.example.com/v2/', {})).toBeUndefined();
    expect(proxyOf('http://registry.example.com/v2/', {})).toBeUndefined();
  });

  test('HTTPS_PROXY for https targets, HTTP_PROXY for http targets', () => {
    const env = { HTTPS_PROXY: 'http://secure-proxy:3128', HTTP_PROXY: 'http://plain-proxy:8080' };
    expect(proxyOf('https://a.example.com/', env)).toBe('http://secure-proxy:3128/');
    expect(proxyOf('http://a.example.com/', env)).toBe('http://plain-proxy:8080/');
  });

  test('HTTPS_PROXY is not used for http targets', () => {
    expect(proxyOf('http://a.example.com/', { HTTPS_PROXY: 'http://secure-proxy:3128' })).toBeUndefined();
  });

  test('as curl: HTTP_PROXY does not serve https targets, and lower case wins', () => {
    expect(proxyOf('https://a.example.com/', { HTTP_PROXY: 'http://plain-proxy:8080' })).toBeUndefined();
    expect(proxyOf('https://a.example.com/', { HTTPS_PROXY: 'http://upper:1', https_proxy: 'http://lower:1' })).toBe('http://lower:1/');
  });

  test('lower-case variables work too', () => {
    expect(proxyOf('https://a.example.com/', { https_proxy: 'http://lower:1' })).toBe('http://lower:1/');
    expect(proxyOf('http://a.example.com/', { http_proxy: 'http://lower:2' })).toBe('http://lower:2/');
    expect(proxyOf('https://a.example.com/', { https_proxy: 'http://lower:1', no_proxy: 'a.example.com' })).toBeUndefined();
  });

  test('a proxy without scheme is taken as http://', () => {
    expect(proxyOf('https://a.example.com/', { HTTPS_PROXY: 'proxy.corp:3128' })).toBe('http://proxy.corp:3128/');
  });

  test('proxy credentials are kept in the proxy URL', () => {
    const proxy = proxyFor(new URL('https://a.example.com/'), { HTTPS_PROXY: 'http://user:p%40ss@proxy.corp:3128' });
    expect(proxy?.username).toBe('user');
    expect(decodeURIComponent(proxy?.password ?? '')).toBe('p@ss');
  });

  describe('NO_PROXY', () => {
    const env = (noProxy: string): NodeJS.ProcessEnv => ({ HTTPS_PROXY: 'http://proxy:3128', HTTP_PROXY: 'http://proxy:3128', NO_PROXY: noProxy });
    const bypassed = (url: string, noProxy: string) => proxyFor(new URL(url), env(noProxy)) === undefined;

    test('an exact host', () => {
      expect(bypassed('https://registry.corp/', 'registry.corp')).toBe(true);
      expect(bypassed('https://other.corp/', 'registry.corp')).toBe(false);
      expect(bypassed('https://127.0.0.1:5000/', '127.0.0.1')).toBe(true);
    });

    test('a host also covers its subdomains but not look-alikes', () => {
      expect(bypassed('https://eu.registry.corp/', 'registry.corp')).toBe(true);
      expect(bypassed('https://notregistry.corp/', 'registry.corp')).toBe(false);
    });

    test('.suffix and *.suffix', () => {
      for (const rule of ['.corp.example', '*.corp.example']) {
        expect(bypassed('https://a.corp.example/', rule)).toBe(true);
        expect(bypassed('https://a.b.corp.example/', rule)).toBe(true);
        expect(bypassed('https://corp.example/', rule)).toBe(true);
        expect(bypassed('https://xcorp.example/', rule)).toBe(false);
        expect(bypassed('https://corp.example.org/', rule)).toBe(false);
      }
    });

    test('host:port matches that port only, with the scheme default port', () => {
      expect(bypassed('https://registry.corp:5000/', 'registry.corp:5000')).toBe(true);
      expect(bypassed('https://registry.corp:5001/', 'registry.corp:5000')).toBe(false);
      expect(bypassed('https://registry.corp/', 'registry.corp:443')).toBe(true);
      expect(bypassed('http://registry.corp/', 'registry.corp:443')).toBe(false);
      expect(bypassed('http://registry.corp/', 'registry.corp:80')).toBe(true);
    });

    test("'*' bypasses every host", () => {
      expect(bypassed('https://anything.example/', '*')).toBe(true);
      expect(bypassed('http://10.1.2.3:8080/', '*')).toBe(true);
    });

    test('a list separated by commas and spaces, matched without regard to case', () => {
      const list = ' localhost, .Internal.Corp ,REGISTRY.example:5000 ';
      expect(bypassed('https://localhost/', list)).toBe(true);
      expect(bypassed('https://git.internal.corp/', list)).toBe(true);
      expect(bypassed('https://Registry.Example:5000/', list)).toBe(true);
      expect(bypassed('https://registry.example/', list)).toBe(false);
      expect(bypassed('https://example.com/', list)).toBe(false);
    });

    test('an empty NO_PROXY bypasses nothing', () => {
      expect(bypassed('https://a.example/', '')).toBe(false);
      expect(bypassed('https://a.example/', ' , ')).toBe(false);
    });
  });
});

describe('requests through a proxy', () => {
  test('an https target goes through a CONNECT tunnel and TLS stays end to end', async () => {
    const seenByTarget: http.IncomingHttpHeaders[] = [];
    const target = await servers.https(ca, (req, res) => {
      seenByTarget.push(req.headers);
      res.end(`tls says ${req.url}`);
    });
    const proxy = await servers.proxy();
    const response = await request(`${target.origin}/v2/?x=1`, {
      env: { HTTPS_PROXY: proxy.url },
      tls: { ca: ca.caPem },
      headers: { authorization: 'Bearer for-the-target' },
    });
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe('tls says /v2/?x=1');
    expect(proxy.seen.map(({ method, target: where }) => `${method} ${where}`)).toEqual([`CONNECT 127.0.0.1:${target.port}`]);
    // The proxy only sees the tunnel; the credentials travel inside TLS to the target.
    expect(proxy.seen[0]!.headers.authorization).toBeUndefined();
    expect(seenByTarget[0]!.authorization).toBe('Bearer for-the-target');
  });

  test('through the tunnel no IP address is sent as TLS server name (SNI)', async () => {
    let servername: unknown = 'not seen';
    const target = await servers.https(ca, (_req, res) => res.end());
    target.server.on('secureConnection', (socket: tls.TLSSocket & { servername?: string | false }) => {
      servername = socket.servername;
    });
    const proxy = await servers.proxy();
    await request(`${target.origin}/`, { env: { HTTPS_PROXY: proxy.url }, tls: { ca: ca.caPem } });
    expect(proxy.seen).toHaveLength(1);
    expect(servername).toBeFalsy();
  });

  test('through the tunnel the certificate is still checked against the target', async () => {
    const target = await servers.https(ca, (_req, res) => res.end());
    const proxy = await servers.proxy();
    let error: unknown;
    try {
      await request(`${target.origin}/`, { env: { HTTPS_PROXY: proxy.url }, retries: 0 });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(NetworkError);
    expect(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN']).toContain((error as NetworkError).code);
    expect(proxy.seen.map((seen) => seen.method)).toEqual(['CONNECT']);
  });

  test('proxy credentials go to the proxy as Proxy-Authorization on CONNECT', async () => {
    const target = await servers.https(ca, (req, res) => res.end(String(req.headers['proxy-authorization'] ?? 'none')));
    const proxy = await servers.proxy();
    const proxyUrl = `http://proxyuser:p%40ss@127.0.0.1:${proxy.port}`;
    const response = await request(`${target.origin}/`, { env: { HTTPS_PROXY: proxyUrl }, tls: { ca: ca.caPem } });
    expect(proxy.seen[0]!.headers['proxy-authorization']).toBe(`Basic ${Buffer.from('proxyuser:p@ss').toString('base64')}`);
    // ...and never to the target.
    expect(response.body.toString()).toBe('none');
  });

  test('a proxy that refuses CONNECT gives a NetworkError naming the proxy, not its password', async () => {
    const target = await servers.https(ca, (_req, res) => res.end());
    const refusing = await servers.tcp((socket) => {
      socket.once('data', () => socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n'));
    });
    let error: unknown;
    try {
      const proxyUrl = `http://proxyuser:pw-s3cret@127.0.0.1:${refusing.port}`;
      await request(`${target.origin}/`, { env: { HTTPS_PROXY: proxyUrl }, tls: { ca: ca.caPem }, retries: 0 });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as Error).message).toContain(`proxy 127.0.0.1:${refusing.port} refused CONNECT 127.0.0.1:${target.port}: 403`);
    expect((error as Error).message).not.toContain('pw-s3cret');
  });

  test('an http target is sent to the proxy in absolute-URI form', async () => {
    const seenByTarget: { url?: string; host?: string }[] = [];
    const target = await servers.http((req, res) => {
      seenByTarget.push({ url: req.url, host: req.headers.host });
      res.end('plain through proxy');
    });
    const proxy = await servers.proxy();
    const response = await request(`${target.origin}/path?q=1`, { env: { HTTP_PROXY: proxy.url } });
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe('plain through proxy');
    expect(proxy.seen).toHaveLength(1);
    expect(proxy.seen[0]!.method).toBe('GET');
    expect(proxy.seen[0]!.target).toBe(`${target.origin}/path?q=1`);
    expect(proxy.seen[0]!.headers.host).toBe(`127.0.0.1:${target.port}`);
    expect(seenByTarget).toEqual([{ url: '/path?q=1', host: `127.0.0.1:${target.port}` }]);
  });

  test('proxy credentials go to the proxy for an http target too', async () => {
    const target = await servers.http((_req, res) => res.end());
    const proxy = await servers.proxy();
    const proxyUrl = `http://proxyuser:secret@127.0.0.1:${proxy.port}`;
    const response = await request(`${target.origin}/`, { env: { HTTP_PROXY: proxyUrl } });
    expect(response.status).toBe(200);
    expect(proxy.seen[0]!.headers['proxy-authorization']).toBe(`Basic ${Buffer.from('proxyuser:secret').toString('base64')}`);
  });

  test('NO_PROXY sends an https target straight to it', async () => {
    const target = await servers.https(ca, (_req, res) => res.end('direct'));
    const proxy = await servers.proxy();
    const response = await request(`${target.origin}/`, {
      env: { HTTPS_PROXY: proxy.url, NO_PROXY: 'localhost,127.0.0.1' },
      tls: { ca: ca.caPem },
    });
    expect(response.body.toString()).toBe('direct');
    expect(proxy.seen).toHaveLength(0);
  });

  test('NO_PROXY sends an http target straight to it', async () => {
    const target = await servers.http((_req, res) => res.end('direct'));
    const proxy = await servers.proxy();
    const response = await request(`${target.origin}/`, { env: { HTTP_PROXY: proxy.url, no_proxy: `127.0.0.1:${target.port}` } });
    expect(response.body.toString()).toBe('direct');
    expect(proxy.seen).toHaveLength(0);
  });
});
