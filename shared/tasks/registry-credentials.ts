import { entraAccessToken, type AzureIdentity } from '../azure/identity.js';
import { ACR_ENTRA_SCOPE, acrCredentials } from '../registry/acr.js';
import { RegistryClient, type RegistryClientOptions } from '../registry/client.js';
import { dockerConfigCredentials } from '../registry/docker-config.js';
import type { RegistryCredentials } from '../registry/credentials.js';
import type { Platform } from '../platform/platform.js';
import type { InputReader } from '../platform/inputs.js';
import { InputError } from '../util/errors.js';

export interface CredentialChoice {
  credentials?: RegistryCredentials;
  /** Where they came from, for messages; never their value. */
  source: string;
}

/**
 * Registry credentials in order of precedence: given outright (inputs, service connection),
 * an Azure identity exchanged for an ACR refresh token, then the agent's Docker config.
 */
export async function resolveRegistryCredentials(
  platform: Platform,
  given: CredentialChoice,
  azureIdentity: AzureIdentity | undefined,
  client: Omit<RegistryClientOptions, 'credentials' | 'credentialsSource'>,
): Promise<CredentialChoice> {
  if (given.credentials) return given;
  if (azureIdentity) {
    platform.info(`signing in to ${client.registry} with the Azure identity from ${azureIdentity.source}`);
    const accessToken = await entraAccessToken(azureIdentity, ACR_ENTRA_SCOPE, client.signal);
    platform.setSecret(accessToken);
    const credentials = await acrCredentials(new RegistryClient(client), azureIdentity.tenantId, accessToken);
    platform.setSecret(credentials.password);
    return { credentials, source: azureIdentity.source };
  }
  const fromConfig = await dockerConfigCredentials(client.registry, platform.childEnv());
  if (fromConfig) {
    platform.setSecret(fromConfig.password);
    return { credentials: fromConfig, source: 'the Docker config (DOCKER_CONFIG or ~/.docker/config.json)' };
  }
  return given;
}

const DOCKER_HUB_HOSTS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** Docker Hub answers under several names. */
export function sameRegistry(a: string, b: string): boolean {
  return a === b || (DOCKER_HUB_HOSTS.has(a) && DOCKER_HUB_HOSTS.has(b));
}

function hostOf(url: string): string {
  if (!url) return '';
  try {
    return new URL(url.includes('://') ? url : `https://${url}`).host;
  } catch {
    return url;
  }
}

/**
 * The registry credentials given outright: `username`/`password`, or (Azure DevOps) a Docker
 * registry service connection in `containerRegistry`, which must be for `registry`.
 */
export function readGivenCredentials(inputs: InputReader, platform: Platform, registry: string): CredentialChoice {
  const connectionId = inputs.string('containerRegistry');
  const username = inputs.string('username');
  const password = inputs.raw('password');
  if (connectionId) {
    if (username || password) throw new InputError('containerRegistry', "give either a service connection or 'username' and 'password', not both");
    const connection = platform.getServiceConnection('containerRegistry');
    if (!connection) throw new InputError('containerRegistry', `service connection '${connectionId}' is not available to this job`);
    const user = connection.parameters.username ?? '';
    const secret = connection.parameters.password ?? '';
    if (!user || !secret) throw new InputError('containerRegistry', `service connection '${connectionId}' has no username and password`);
    const connectionRegistry = hostOf(connection.parameters.registry || connection.url);
    if (connectionRegistry && !sameRegistry(connectionRegistry, registry)) {
      throw new InputError('containerRegistry', `the service connection is for ${connectionRegistry} but the push goes to ${registry}`);
    }
    return { credentials: { username: user, password: secret }, source: "service connection 'containerRegistry'" };
  }
  if (username && !password) throw new InputError('password', "is empty but 'username' is set");
  if (password && !username) throw new InputError('username', "is empty but 'password' is set");
  if (username) return { credentials: { username, password }, source: "inputs 'username' and 'password'" };
  const hint = platform.name === 'azure' ? "'containerRegistry', 'azureSubscription'" : "'azureClientId' and 'azureTenantId'";
  return { source: `inputs 'username' and 'password' (or ${hint})` };
}
