import { InputError, UserError } from '../util/errors.js';
import type { AzureIdentity } from '../azure/identity.js';
import type { InputReader } from '../platform/inputs.js';
import type { Platform } from '../platform/platform.js';
import type { InputDeclaration } from './declaration.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The audience Entra expects on a federated token from a CI runner. */
const FEDERATION_AUDIENCE = 'api://AzureADTokenExchange';

/** The Azure sign-in inputs every task that talks to Azure shares. */
export const azureIdentityInputs: readonly InputDeclaration[] = [
  {
    name: 'azureSubscription',
    label: 'Azure Resource Manager connection',
    description: 'Azure Resource Manager service connection (service principal, workload identity federation or managed identity).',
    type: 'connection',
    connectionType: 'AzureRM',
    platforms: ['azure'],
    group: 'azure',
  },
  {
    name: 'azureClientId',
    label: 'Azure client id',
    description: 'Application (client) id of the Microsoft Entra identity. Without `azureClientSecret`, the job signs in by workload identity federation (needs `permissions: id-token: write`).',
    type: 'string',
    platforms: ['github'],
    group: 'azure',
  },
  {
    name: 'azureTenantId',
    label: 'Azure tenant id',
    description: 'Directory (tenant) id, a GUID.',
    type: 'string',
    platforms: ['github'],
    group: 'azure',
  },
  {
    name: 'azureSubscriptionId',
    label: 'Azure subscription id',
    description: 'Subscription id, for tasks that address Azure resources.',
    type: 'string',
    platforms: ['github'],
    group: 'azure',
  },
  {
    name: 'azureClientSecret',
    label: 'Azure client secret',
    description: 'Client secret, when federation is not set up. Pass it from a secret.',
    type: 'string',
    secret: true,
    platforms: ['github'],
    group: 'azure',
  },
];

function checkGuid(input: string, value: string, what: string): void {
  if (!GUID.test(value)) throw new InputError(input, `'${value}' is not a GUID: give the ${what}`);
}

async function fromGitHubInputs(inputs: InputReader, platform: Platform): Promise<AzureIdentity | undefined> {
  const clientId = inputs.string('azureClientId');
  const tenantId = inputs.string('azureTenantId');
  const clientSecret = inputs.raw('azureClientSecret');
  if (!clientId && !tenantId && !clientSecret) return undefined;
  if (!clientId) throw new InputError('azureClientId', "is empty but other Azure inputs are set");
  if (!tenantId) throw new InputError('azureTenantId', "is empty but other Azure inputs are set");
  checkGuid('azureClientId', clientId, 'application (client) id');
  checkGuid('azureTenantId', tenantId, 'directory (tenant) id');
  const common = { tenantId, clientId, authorityHost: platform.childEnv().AZURE_AUTHORITY_HOST };
  if (clientSecret) return { ...common, kind: 'secret', clientSecret, source: "inputs 'azureClientId' and 'azureClientSecret'" };
  // Fetched now, so a job without id-token permission fails with exactly that reason.
  const assertion = await platform.requestIdToken(FEDERATION_AUDIENCE);
  return { ...common, kind: 'federated', assertion: async () => assertion, source: "input 'azureClientId' (workload identity federation)" };
}

function fromServiceConnection(platform: Platform): AzureIdentity | undefined {
  const connection = platform.getServiceConnection('azureSubscription');
  if (!connection) {
    const id = platform.getInput('azureSubscription')?.trim();
    if (id) throw new InputError('azureSubscription', `service connection '${id}' is not available to this job`);
    return undefined;
  }
  const { parameters } = connection;
  const source = "service connection 'azureSubscription'";
  const authorityHost = connection.data.environmentauthorityurl;
  const tenantId = parameters.tenantid ?? '';
  const clientId = parameters.serviceprincipalid ?? '';
  switch (connection.scheme) {
    case 'ServicePrincipal':
      checkGuid('azureSubscription', tenantId, 'tenant id in the service connection');
      if (parameters.authenticationtype === 'spnCertificate') {
        return { kind: 'certificate', tenantId, clientId, authorityHost, certificatePem: parameters.serviceprincipalcertificate ?? '', source };
      }
      return { kind: 'secret', tenantId, clientId, authorityHost, clientSecret: parameters.serviceprincipalkey ?? '', source };
    case 'WorkloadIdentityFederation': {
      checkGuid('azureSubscription', tenantId, 'tenant id in the service connection');
      const systemAccessToken = platform.getEndpoint('SystemVssConnection')?.parameters.accesstoken;
      if (!systemAccessToken) throw new UserError('workload identity federation needs the job access token (SystemVssConnection), which the agent did not pass');
      return { kind: 'azure-pipelines', tenantId, clientId, authorityHost, serviceConnectionId: connection.id, systemAccessToken, source };
    }
    case 'ManagedServiceIdentity':
      return { kind: 'managed-identity', tenantId, clientId, authorityHost, source };
    default:
      throw new InputError('azureSubscription', `service connection scheme '${connection.scheme}' is not supported`);
  }
}

/** The Azure identity the inputs describe, or undefined when the step is not asked to use Azure. */
export function readAzureIdentity(inputs: InputReader, platform: Platform): Promise<AzureIdentity | undefined> {
  return platform.name === 'azure' ? Promise.resolve(fromServiceConnection(platform)) : fromGitHubInputs(inputs, platform);
}
