import type { ArmClient } from '../../azure/arm.js';
import { entraAccessToken, type AzureIdentity } from '../../azure/identity.js';
import { tokenExpiryMs } from '../../azure/token-expiry.js';
import { UserError } from '../../util/errors.js';
import type { EndpointAuthMode } from './resources.js';

/** Managed online endpoints in AADToken mode take Entra tokens for Azure ML's data plane. */
const AML_DATA_PLANE_SCOPE = 'https://ml.azure.com/.default';
const REFRESH_BEFORE_EXPIRY_MS = 5 * 60_000;

/**
 * An ARM token source that asks Entra again shortly before the token expires: a deploy may wait
 * on provisioning longer than a token lives. `seen` gets each token, to be masked.
 */
export function armTokenSource(identity: AzureIdentity, armUrl: string, seen: (token: string) => void): (signal?: AbortSignal) => Promise<string> {
  let current: { token: Promise<string>; expiresAt: number } | undefined;
  return (signal) => {
    if (!current || Date.now() > current.expiresAt - REFRESH_BEFORE_EXPIRY_MS) {
      const token = entraAccessToken(identity, `${armUrl}/.default`, signal).then((value) => {
        seen(value);
        // Not a JWT: assume the shortest lifetime Entra gives.
        if (current?.token === token) current.expiresAt = tokenExpiryMs(value) ?? Date.now() + 60 * 60_000;
        return value;
      });
      // Until the answer comes, one request in flight serves every caller.
      current = { token, expiresAt: Infinity };
      token.catch(() => (current = undefined));
    }
    return current.token;
  };
}

/** The credential a scoring request needs for an endpoint in this auth mode. */
export async function scoringCredential(
  arm: ArmClient,
  endpointPath: string,
  endpointName: string,
  authMode: EndpointAuthMode,
  identity: AzureIdentity,
  signal: AbortSignal,
): Promise<string> {
  if (authMode === 'Key') {
    const keys = await arm.post<{ primaryKey?: string | null }>(`listing the keys of endpoint '${endpointName}'`, `${endpointPath}/listKeys`);
    if (!keys.primaryKey) throw new UserError(`endpoint '${endpointName}' has no primary key`);
    return keys.primaryKey;
  }
  if (authMode === 'AMLToken') {
    const token = await arm.post<{ accessToken?: string | null }>(`getting a token for endpoint '${endpointName}'`, `${endpointPath}/token`);
    if (!token.accessToken) throw new UserError(`endpoint '${endpointName}' gave no access token`);
    return token.accessToken;
  }
  return entraAccessToken(identity, AML_DATA_PLANE_SCOPE, signal);
}
