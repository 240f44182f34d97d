import http, { type ClientRequestArgs } from 'node:http';
import tls from 'node:tls';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { Agent as HttpsAgent, type AgentOptions } from 'node:https';

/**
 * The proxy to use for a URL, as curl reads the variables: https_proxy for https targets,
 * http_proxy for http ones, lower case before upper case, no_proxy to bypass.
 */
export function proxyFor(target: URL, env: NodeJS.ProcessEnv = process.env): URL | undefined {
  const raw = target.protocol === 'https:' ? env.https_proxy ?? env.HTTPS_PROXY : env.http_proxy ?? env.HTTP_PROXY;
  if (!raw || bypassesProxy(target, env.no_proxy ?? env.NO_PROXY ?? '')) return undefined;
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

/** The Proxy-Authorization header for credentials written in the proxy URL, if any. */
export function proxyAuthorization(proxy: URL): Record<string, string> {
  if (!proxy.username) return {};
  const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return { 'proxy-authorization': `Basic ${Buffer.from(credentials).toString('base64')}` };
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
    const headers: Record<string, string> = { host: target, ...proxyAuthorization(this.proxy) };
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
      const host = options.servername ?? options.host ?? '';
      callback?.(null, tls.connect({ ...options, socket, servername: isIP(host) ? undefined : host }));
    });
    connect.once('error', (error) => callback?.(error, connect.socket as Duplex));
    connect.end();
    return undefined;
  }
}
