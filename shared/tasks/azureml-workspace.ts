import { InputError } from '../util/errors.js';
import type { AzureIdentity } from '../azure/identity.js';
import type { InputReader } from '../platform/inputs.js';
import type { Platform } from '../platform/platform.js';
import { azureIdentityInputs, readAzureIdentity } from './azure-identity.js';
import { baseUrl } from './base-url.js';
import type { InputDeclaration } from './declaration.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** One Azure ML workspace and the identity that signs in to it. */
export interface AzureMlWorkspaceInputs {
  identity: AzureIdentity;
  subscriptionId: string;
  resourceGroup: string;
  workspace: string;
  armUrl: string;
}

/** The sign-in and workspace inputs, in one form group; `use` says when they apply, e.g. "registry `azureml`". */
export function azureMlWorkspaceInputs(group: string, use: string): InputDeclaration[] {
  return [
    ...azureIdentityInputs.map((input) => ({ ...input, group })),
    {
      name: 'resourceGroup',
      label: 'Resource group',
      description: `Resource group of the Azure ML workspace (${use}).`,
      type: 'string',
      group,
    },
    {
      name: 'workspace',
      label: 'Workspace',
      description: `Name of the Azure ML workspace (${use}).`,
      type: 'string',
      group,
    },
    {
      name: 'azureResourceManagerUrl',
      label: 'Azure Resource Manager URL',
      description: 'Azure Resource Manager endpoint, for sovereign clouds. On Azure DevOps the URL of the service connection wins.',
      type: 'string',
      default: 'https://management.azure.com',
      group,
    },
  ];
}

/** The workspace inputs, all missing ones named at once; `use` names the choice that needs them. */
export async function readAzureMlWorkspace(inputs: InputReader, platform: Platform, use: string): Promise<AzureMlWorkspaceInputs> {
  const connection = platform.name === 'azure' ? platform.getServiceConnection('azureSubscription') : undefined;
  const subscriptionId = connection?.data.subscriptionid || inputs.string('azureSubscriptionId');
  const resourceGroup = inputs.string('resourceGroup');
  const workspace = inputs.string('workspace');
  const subscriptionInput = platform.name === 'azure' ? 'azureSubscription' : 'azureSubscriptionId';
  const missing = [
    ...(subscriptionId ? [] : [subscriptionInput]),
    ...(resourceGroup ? [] : ['resourceGroup']),
    ...(workspace ? [] : ['workspace']),
  ];
  if (missing.length) {
    throw new InputError(missing[0]!, `${use} needs the workspace: '${missing.join("', '")}' ${missing.length > 1 ? 'are' : 'is'} empty`);
  }
  if (!GUID.test(subscriptionId)) throw new InputError(subscriptionInput, `'${subscriptionId}' is not a subscription id (a GUID)`);
  const armUrl = baseUrl('azureResourceManagerUrl', connection?.url || inputs.string('azureResourceManagerUrl'), 'https://management.azure.com');
  // Fetching a federated token may be a remote call: it comes after every other check.
  const identity = await readAzureIdentity(inputs, platform);
  if (!identity) {
    const input = platform.name === 'azure' ? 'azureSubscription' : 'azureClientId';
    throw new InputError(
      input,
      `${use} needs an Azure sign-in: ` +
        (platform.name === 'azure' ? 'choose an Azure Resource Manager service connection' : "give 'azureClientId' and 'azureTenantId' (and 'azureClientSecret' without federation)"),
    );
  }
  return { identity, subscriptionId, resourceGroup, workspace, armUrl };
}
