import type { TokenCredential } from '@azure/identity';
import { UserError, errorMessage, oneLine } from '../util/errors.js';

/** How a step proves who it is to Microsoft Entra ID. */
export type AzureIdentity = { tenantId: string; clientId: string; authorityHost?: string; source: string } & (
  | { kind: 'secret'; clientSecret: string }
  | { kind: 'certificate'; certificatePem: string }
  | { kind: 'federated'; assertion: () => Promise<string> }
  | { kind: 'azure-pipelines'; serviceConnectionId: string; systemAccessToken: string }
  | { kind: 'managed-identity' }
);

/** Public clouds validate their authority through instance discovery; any other host cannot. */
const DISCOVERABLE_HOSTS = ['login.microsoftonline.com', 'login.microsoftonline.us', 'login.chinacloudapi.cn'];

// @azure/identity (MSAL underneath) is large: it is loaded only when a step asks for Azure.
async function credentialFor(identity: AzureIdentity): Promise<TokenCredential> {
  const identityModule = await import('@azure/identity');
  const authorityHost = identity.authorityHost || undefined;
  const options = {
    authorityHost,
    disableInstanceDiscovery: !!authorityHost && !DISCOVERABLE_HOSTS.includes(new URL(authorityHost).hostname),
  };
  switch (identity.kind) {
    case 'secret':
      return new identityModule.ClientSecretCredential(identity.tenantId, identity.clientId, identity.clientSecret, options);
    case 'certificate':
      return new identityModule.ClientCertificateCredential(identity.tenantId, identity.clientId, { certificate: identity.certificatePem }, options);
    case 'federated':
      return new identityModule.ClientAssertionCredential(identity.tenantId, identity.clientId, identity.assertion, options);
    case 'azure-pipelines':
      return new identityModule.AzurePipelinesCredential(identity.tenantId, identity.clientId, identity.serviceConnectionId, identity.systemAccessToken, options);
    case 'managed-identity':
      return new identityModule.ManagedIdentityCredential(identity.clientId ? { clientId: identity.clientId } : {});
  }
}

/** A Microsoft Entra access token for a scope; failures become one line naming the credential's source. */
export async function entraAccessToken(identity: AzureIdentity, scope: string, signal?: AbortSignal): Promise<string> {
  const credential = await credentialFor(identity);
  try {
    const token = await credential.getToken(scope, { abortSignal: signal });
    if (!token?.token) throw new Error('no token was returned');
    return token.token;
  } catch (error) {
    if (error instanceof UserError) throw error;
    // MSAL's messages run over many lines with trace ids; the first line holds the AADSTS reason.
    const reason = oneLine(errorMessage(error).split(/\r?\n/).find((line) => line.trim()) ?? 'unknown error').slice(0, 300);
    throw new UserError(`Microsoft Entra ID refused the ${identity.kind} credential from ${identity.source}: ${reason}`);
  }
}
