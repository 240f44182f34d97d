import { NetworkError } from '../http/request.js';
import { UserError } from '../util/errors.js';
import type { ApiVersion, KfpApi } from './api.js';
import type { KfpClient } from './client.js';
import { KfpV1 } from './v1.js';
import { KfpV2 } from './v2.js';

export type ApiChoice = 'auto' | ApiVersion;

export interface ConnectedApi {
  api: KfpApi;
  /** Multi-user Kubeflow: every experiment and run lives in a profile namespace. */
  multiUser: boolean;
}

async function healthz(client: KfpClient, version: ApiVersion): Promise<{ found: boolean; multiUser: boolean }> {
  try {
    const answer = await client.call<{ multi_user?: boolean }>('GET', `/apis/${version}/healthz`, { expect: [404] });
    return { found: answer.status !== 404, multiUser: answer.body.multi_user === true };
  } catch (error) {
    if (error instanceof NetworkError) throw new UserError(`input 'host': cannot reach the KFP API at ${client.host}: ${error.message}`);
    throw error;
  }
}

/**
 * Picks the API the server speaks. `auto` asks for v2beta1 (KFP 2.x) and falls back to v1beta1
 * (KFP 1.x) when the server does not know it. The probe also proves host and credentials before
 * anything else is sent.
 */
export async function connectApi(client: KfpClient, choice: ApiChoice): Promise<ConnectedApi> {
  const candidates: ApiVersion[] = choice === 'auto' ? ['v2beta1', 'v1beta1'] : [choice];
  for (const version of candidates) {
    const probe = await healthz(client, version);
    if (probe.found) return { api: version === 'v2beta1' ? new KfpV2(client) : new KfpV1(client), multiUser: probe.multiUser };
  }
  const tried = candidates.map((version) => `/apis/${version}/healthz`).join(' and ');
  throw new UserError(`input 'host': ${client.host} has no KFP API: GET ${tried} answered 404 (is the URL's path prefix right?)`);
}
