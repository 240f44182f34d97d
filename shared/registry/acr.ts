import { UserError } from '../util/errors.js';
import type { RegistryClient } from './client.js';
import type { RegistryCredentials } from './credentials.js';

/** The user an ACR refresh token logs in as (what `az acr login` does). */
export const ACR_TOKEN_USER = '00000000-0000-0000-0000-000000000000';

/** Entra scope ACR accepts for the exchange: the ARM audience, as `az acr login` requests. */
export const ACR_ENTRA_SCOPE = 'https://management.azure.com/.default';

/**
 * Trades a Microsoft Entra access token for an ACR refresh token at the registry's
 * /oauth2/exchange, giving registry credentials without any registry password.
 */
export async function acrCredentials(registry: RegistryClient, tenantId: string, accessToken: string): Promise<RegistryCredentials> {
  const response = await registry.postForm('/oauth2/exchange', {
    grant_type: 'access_token',
    service: registry.registry,
    tenant: tenantId,
    access_token: accessToken,
  });
  if (response.status !== 200) {
    throw new UserError(
      `registry ${registry.registry} refused the Azure token exchange (HTTP ${response.status}): check that the identity has the AcrPush role on it`,
    );
  }
  const refreshToken = (JSON.parse(response.body.toString('utf8')) as { refresh_token?: string }).refresh_token;
  if (!refreshToken) throw new UserError(`registry ${registry.registry}: the token exchange returned no refresh token`);
  return { username: ACR_TOKEN_USER, password: refreshToken };
}
