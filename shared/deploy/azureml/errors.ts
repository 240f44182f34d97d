import { ArmError } from '../../azure/arm.js';
import type { AzureMlWorkspace } from '../../model/azureml/workspace.js';
import { UserError, oneLine } from '../../util/errors.js';

/** What to check after ARM refused a call: the status says which kind of mistake it is. */
function hint(status: number, ws: AzureMlWorkspace, armUrl: string): string | undefined {
  switch (status) {
    case 401:
      return `check the Azure credential (tenant, client id, secret or federated token) and that it signs in to the cloud of ${armUrl}`;
    case 403:
      return `give the identity a role that may manage online endpoints (AzureML Data Scientist, or Contributor) on workspace '${ws.workspace}' in resource group '${ws.resourceGroup}'`;
    case 404:
      return `check that subscription '${ws.subscriptionId}', resource group '${ws.resourceGroup}' and workspace '${ws.workspace}' exist and are the ones meant`;
    default:
      return undefined;
  }
}

/** An ArmError with what to check folded into its one line; other errors unchanged. */
export function explained(error: unknown, ws: AzureMlWorkspace, armUrl: string): unknown {
  if (!(error instanceof ArmError)) return error;
  const advice = hint(error.status, ws, armUrl);
  return advice ? new UserError(oneLine(`${error.message}; ${advice}`)) : error;
}
