import type http from 'node:http';
import type { TestCa } from '../ca.js';
import type { FakeEntra } from '../fake-entra.js';
import { FakeServers, readBody } from '../fake-servers.js';
import type { FakeOnline } from './online.js';

/** The audience of Entra tokens an AADToken endpoint accepts. */
export const AML_DATA_PLANE_AUDIENCE = 'https://ml.azure.com';

export interface ScoringRequest {
  endpoint: string;
  /** The deployment the request reached; undefined when it was refused. */
  deployment?: string;
  /** How it was chosen: the azureml-model-deployment header, or the traffic map. */
  routedBy?: 'header' | 'traffic';
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export type ScoringHandler = (request: { deployment: string; body: string; headers: http.IncomingHttpHeaders }) => { status?: number; body: unknown } | Promise<{ status?: number; body: unknown }>;

export interface FakeScoring {
  /** https://127.0.0.1:port; endpoints' scoringUri is `${url}/<endpoint>/score`. */
  url: string;
  requests: ScoringRequest[];
  /** The model server behind one deployment, or behind every deployment without its own ('*'). */
  serve(deployment: string, handler: ScoringHandler): void;
}

/**
 * The data plane of the fake's online endpoints, a real HTTPS server: checks the endpoint's
 * credential (key, AML token or Entra token), routes by the azureml-model-deployment header or by
 * the traffic map (deterministically, request by request), and hands the request to the test's
 * handler for that deployment. Default handler: echoes which deployment answered.
 */
export async function startFakeScoring(servers: FakeServers, ca: TestCa, online: FakeOnline, entra: FakeEntra): Promise<FakeScoring> {
  const requests: ScoringRequest[] = [];
  const handlers = new Map<string, ScoringHandler>();
  let counter = 0;

  function authorized(endpoint: string, authorization: string | undefined): boolean {
    const stored = online.endpoints.get(endpoint)!;
    const bearer = /^Bearer\s+(.+)$/i.exec(authorization ?? '')?.[1];
    if (!bearer) return false;
    switch (stored.properties.authMode) {
      case 'Key':
        return bearer === stored.keys.primaryKey || bearer === stored.keys.secondaryKey;
      case 'AMLToken':
        return online.amlTokens.has(bearer);
      default:
        return entra.isIssued(bearer) && entra.issued.find((token) => token.token === bearer)?.audience === AML_DATA_PLANE_AUDIENCE;
    }
  }

  /** Walks the traffic map by request count: over 100 requests each deployment gets its share. */
  function byTraffic(endpoint: string): string | undefined {
    const shares = Object.entries(online.traffic(endpoint)).filter(([, percent]) => percent > 0).sort(([a], [b]) => a.localeCompare(b));
    if (!shares.length) return undefined;
    const slot = counter++ % 100;
    let upTo = 0;
    for (const [name, percent] of shares) {
      upTo += percent;
      if (slot < upTo) return name;
    }
    return shares.at(-1)![0];
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = (await readBody(req)).toString('utf8');
    const endpoint = /^\/([^/]+)\/score$/.exec(new URL(req.url ?? '/', 'https://fake').pathname)?.[1] ?? '';
    const record: ScoringRequest = { endpoint, status: 0, headers: req.headers, body };
    requests.push(record);
    const answer = (status: number, payload: unknown, deployment?: string) => {
      record.status = status;
      res.writeHead(status, { 'content-type': 'application/json', ...(deployment ? { 'azureml-model-deployment': deployment } : {}) });
      res.end(JSON.stringify(payload));
    };
    if (req.method !== 'POST') return answer(405, { message: 'POST only' });
    if (!online.endpoints.has(endpoint)) return answer(404, { message: `no endpoint ${endpoint}` });
    if (!authorized(endpoint, req.headers.authorization)) return answer(401, { message: 'Unauthorized' });
    const header = req.headers['azureml-model-deployment'];
    const wanted = Array.isArray(header) ? header[0] : header;
    const deployment = wanted ?? byTraffic(endpoint);
    if (!deployment) return answer(424, { message: 'No valid deployments to route to. Please check that the endpoint has at least one deployment with positive weight values or use a deployment specific header to route.' });
    const stored = online.deploymentsOf(endpoint).get(deployment);
    if (!stored || stored.provisioningState !== 'Succeeded') return answer(404, { message: `deployment ${deployment} is not ready to serve` });
    record.deployment = deployment;
    record.routedBy = wanted ? 'header' : 'traffic';
    const echo: ScoringHandler = () => ({ body: { deployment } });
    const handler = handlers.get(deployment) ?? handlers.get('*') ?? echo;
    const result = await handler({ deployment, body, headers: req.headers });
    answer(result.status ?? 200, result.body, deployment);
  }

  const running = await servers.https(ca, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(error));
      else res.destroy();
    });
  });
  return { url: running.origin, requests, serve: (deployment, handler) => void handlers.set(deployment, handler) };
}
