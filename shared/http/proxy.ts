import http, { type ClientRequestArgs } from 'node:http';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { Agent as HttpsAgent, type AgentOptions } from 'node:https';

/** The proxy to use for a URL per HTTPS_PROXY / HTTP_PROXY / NO_PROXY, as curl reads them. */
export function proxyFor(target: URL, env: NodeJS.ProcessEnv = process.env): URL | undefined {
  const raw =
    target.protocol === 'https:'
      ? env.HTTPS_PROXY ?? env.https_proxy ?? env.HTTP_PROXY ?? env.http_proxy
      : env.HTTP_PROXY ?? env.http_proxy;
  if (!raw || bypassesProxy(target, env.NO_PROXY ?? env.no_proxy ?? '')) return undefined;
  return new URL(raw.includes('://') ? raw : `http://${raw}`);
}

function bypassesProxy(target: URL, noProxy: string): boolean {
  const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = target.port || (target.protocol === 'https:' ? '443' : '80');
  return noProxy
    .split(/[\s,]+/)
    .filter(Boolean)
    .some((rule) => {
      if (rule === '*') return true;
      const [ruleHost = '', rulePort] = rule.toLowerCase().split(/:(?=\d+$)/);
      if (rulePort && rulePort !== port) return false;
      const suffix = ruleHost.replace(/^\*?\./, '');
      return host === suffix || host.endsWith(`.${suffix}`);
    });
}

/**
 * An HTTPS agent that reaches its targets through an HTTP CONNECT tunnel, so TLS (and the
 * registry's certificate check) stays end to end.
 */
export class TunnelAgent extends HttpsAgent {
  constructor(private readonly proxy: URL, options: AgentOptions) {
    super(options);
  }

  override createConnection(
    options: ClientRequestArgs & tls.ConnectionOptions,
    callback?: (error: Error | null, socket: Duplex) => void,
  ): Duplex | undefined {
    const target = `${options.host ?? options.hostname}:${options.port}`;
    const headers: Record<string, string> = { host: target };
    if (this.proxy.username) {
      const credentials = `${decodeURIComponent(this.proxy.username)}:${decodeURIComponent(this.proxy.password)}`;
      headers['proxy-authorization'] = `Basic ${Buffer.from(credentials).toString('base64')}`;
    }
    const connect = http.request({
      host: this.proxy.hostname,
      port: this.proxy.port || 80,
      method: 'CONNECT',
      path: target,
      headers,
    });
    connect.once('connect', (response, socket) => {
      if (response.statusCode !== 200) {
        socket.destroy();
        callback?.(new Error(`proxy ${this.proxy.host} refused CONNECT ${target}: ${response.statusCode}`), socket);
        return;
      }
      callback?.(null, tls.connect({ ...options, socket, servername: options.servername ?? options.host ?? undefined }));
    });
    connect.once('error', (error) => callback?.(error, connect.socket as Duplex));
    connect.end();
    return undefined;
  }
}
