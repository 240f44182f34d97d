import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { TestCa } from './ca.js';

/** A server listening on 127.0.0.1 and a free port. */
export interface Running<S extends net.Server = net.Server> {
  server: S;
  port: number;
  /** scheme://127.0.0.1:port, no trailing slash. */
  origin: string;
}

/**
 * Starts servers and closes every one of them, with their sockets, in close():
 * call close() from afterEach so no test leaves a handle open.
 */
export class FakeServers {
  private readonly running: { server: net.Server; sockets: Set<net.Socket> }[] = [];

  private async listen<S extends net.Server>(server: S, scheme: string): Promise<Running<S>> {
    const sockets = new Set<net.Socket>();
    server.on('connection', (socket: net.Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    this.running.push({ server, sockets });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const port = (server.address() as net.AddressInfo).port;
    return { server, port, origin: `${scheme}://127.0.0.1:${port}` };
  }

  http(handler: http.RequestListener): Promise<Running<http.Server>> {
    return this.listen(http.createServer(handler), 'http');
  }

  https(ca: TestCa, handler: http.RequestListener): Promise<Running<https.Server>> {
    return this.listen(https.createServer({ cert: ca.serverCertPem, key: ca.serverKeyPem }, handler), 'https');
  }

  /** A raw TCP server, for servers that misbehave below HTTP. */
  tcp(onSocket: (socket: net.Socket) => void): Promise<Running<net.Server>> {
    return this.listen(net.createServer(onSocket), 'http');
  }

  /**
   * A forward proxy: CONNECT host:port opens a tunnel, an absolute-URI request is forwarded.
   * Every request the proxy sees is recorded, tunnels and forwards alike.
   */
  async proxy(): Promise<Running<http.Server> & { seen: ProxyRequest[]; url: string }> {
    const seen: ProxyRequest[] = [];
    const server = http.createServer((req, res) => {
      seen.push({ method: req.method ?? '', target: req.url ?? '', headers: req.headers });
      let target: URL;
      try {
        target = new URL(req.url ?? '');
      } catch {
        res.writeHead(400).end('absolute URI expected');
        return;
      }
      const upstream = http.request(
        { host: target.hostname, port: target.port || 80, method: req.method, path: `${target.pathname}${target.search}`, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.writeHead(502).end());
      req.pipe(upstream);
    });
    server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
      seen.push({ method: 'CONNECT', target: req.url ?? '', headers: req.headers });
      const [host = '', port = ''] = (req.url ?? '').split(/:(?=\d+$)/);
      const upstream = net.connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (head.length) upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      client.on('close', () => upstream.destroy());
    });
    const running = await this.listen(server, 'http');
    return { ...running, seen, url: running.origin };
  }

  /** A port nothing listens on: taken from a server that was closed again. */
  async closedPort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  }

  async close(): Promise<void> {
    const running = this.running.splice(0);
    await Promise.all(
      running.map(
        ({ server, sockets }) =>
          new Promise<void>((resolve) => {
            for (const socket of sockets) socket.destroy();
            if (!server.listening) return resolve();
            server.close(() => resolve());
          }),
      ),
    );
  }
}

export interface ProxyRequest {
  method: string;
  /** host:port for CONNECT, the absolute URI otherwise. */
  target: string;
  headers: http.IncomingHttpHeaders;
}

/** Reads a request body whole. */
export function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
