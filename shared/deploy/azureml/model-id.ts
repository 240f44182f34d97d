import { workspacePath, type AzureMlWorkspace } from '../../model/azureml/workspace.js';

/** A model version a managed online deployment can serve, by the id its `model` field takes. */
export interface AzureMlModel {
  /** ARM id of a workspace model version, or the azureml://registries/... asset id. */
  id: string;
  name: string;
  version: string;
}

/** The asset name rule of the 2024-04-01 spec (containers and versions' parents). */
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$/;
const VERSION = /^[^/:\s]+$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const FORMS = 'azureml:<name>:<version>, azureml://subscriptions/.../workspaces/<ws>/models/<name>/versions/<version>, or an ARM id /subscriptions/.../models/<name>/versions/<version>';

function checked(id: string, name: string, version: string): AzureMlModel | { problem: string } {
  if (!NAME.test(name)) return { problem: `'${name}' is not a valid Azure ML model name (letters, digits, '-' and '_', starting with a letter or digit)` };
  if (!VERSION.test(version)) return { problem: `'${version}' is not a valid Azure ML model version` };
  return { id, name, version };
}

function armVersionId(subscription: string, resourceGroup: string, workspace: string, name: string, version: string): string {
  return `${workspacePath({ subscriptionId: subscription, resourceGroup, workspace })}/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}`;
}

/**
 * The model a URI names, as a managed online deployment refers to it; a problem (one line, for the
 * modelUri input) for anything Azure ML cannot serve. Pure: the task checks inputs with it before
 * anything is sent.
 */
export function azureMlModel(uri: string, ws: AzureMlWorkspace): AzureMlModel | { problem: string } {
  const value = uri.trim();
  let found: RegExpExecArray | null;
  if ((found = /^azureml:([^/:][^:]*):([^:]+)$/.exec(value))) {
    return checked(armVersionId(ws.subscriptionId, ws.resourceGroup, ws.workspace, found[1]!, found[2]!), found[1]!, found[2]!);
  }
  if ((found = /^azureml:\/\/subscriptions\/([^/]+)\/resource[Gg]roups\/([^/]+)\/workspaces\/([^/]+)\/models\/([^/]+)\/versions\/([^/]+)\/?$/.exec(value))) {
    const [, subscription, resourceGroup, workspace, name, version] = found as unknown as string[];
    return checked(armVersionId(subscription!, resourceGroup!, workspace!, name!, version!), name!, version!);
  }
  if ((found = /^azureml:\/\/locations\/([^/]+)\/workspaces\/([^/]+)\/models\/([^/]+)\/versions\/([^/]+)\/?$/.exec(value))) {
    const [, , workspace, name, version] = found as unknown as string[];
    // This form names the workspace by its id (a GUID), which only the workspace itself knows: it
    // can only be the workspace we deploy to, since a deployment serves its own workspace's models.
    if (workspace !== ws.workspace && !GUID.test(workspace!)) {
      return { problem: `'${uri}' names workspace '${workspace}', not '${ws.workspace}': deploy from the workspace the model is registered in` };
    }
    return checked(armVersionId(ws.subscriptionId, ws.resourceGroup, ws.workspace, name!, version!), name!, version!);
  }
  if ((found = /^azureml:\/\/registries\/([^/]+)\/models\/([^/]+)\/versions\/([^/]+)\/?$/.exec(value))) {
    // Registry models are served by their asset id as is.
    return checked(value.replace(/\/$/, ''), found[2]!, found[3]!);
  }
  if ((found = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.MachineLearningServices\/workspaces\/([^/]+)\/models\/([^/]+)\/versions\/([^/]+)\/?$/i.exec(value))) {
    const [, subscription, resourceGroup, workspace, name, version] = found as unknown as string[];
    return checked(armVersionId(subscription!, resourceGroup!, workspace!, name!, version!), name!, version!);
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(value)?.[1]?.toLowerCase();
  if (scheme && scheme !== 'azureml') return { problem: `azureml cannot serve ${scheme}:// models; register the model with registry azureml` };
  return { problem: `'${uri}' is not an Azure ML model reference: use ${FORMS}` };
}

/** The ARM id (or registry asset id) a deployment's `model` takes, or the problem with the URI. */
export function azureMlModelId(uri: string, ws: AzureMlWorkspace): string | { problem: string } {
  const model = azureMlModel(uri, ws);
  return 'problem' in model ? model : model.id;
}
