import { InputError } from '../../util/errors.js';

/** Where the models go: one Azure ML workspace. */
export interface AzureMlWorkspace {
  subscriptionId: string;
  resourceGroup: string;
  workspace: string;
}

/** The container name rule of the 2024-04-01 spec (ModelContainers_CreateOrUpdate `name`). */
const MODEL_NAME = /^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$/;

/** Checked before anything is sent, so a bad name costs no token and no upload. */
export function checkModelName(name: string): void {
  if (!MODEL_NAME.test(name)) {
    throw new InputError('modelName', `'${name}' is not a valid Azure ML model name: use letters, digits, '-' and '_', starting with a letter or digit, at most 255 characters`);
  }
}

const segment = encodeURIComponent;

/** The ARM path of the workspace, without api-version. */
export function workspacePath(ws: AzureMlWorkspace): string {
  return `/subscriptions/${segment(ws.subscriptionId)}/resourceGroups/${segment(ws.resourceGroup)}/providers/Microsoft.MachineLearningServices/workspaces/${segment(ws.workspace)}`;
}

export function modelPath(ws: AzureMlWorkspace, name: string): string {
  return `${workspacePath(ws)}/models/${segment(name)}`;
}

export function versionPath(ws: AzureMlWorkspace, name: string, version: string): string {
  return `${modelPath(ws, name)}/versions/${segment(version)}`;
}

/** The long-form data URI Azure ML resolves against a datastore: what a model version points to. */
export function datastoreUri(ws: AzureMlWorkspace, datastore: string, path: string): string {
  return `azureml://subscriptions/${ws.subscriptionId}/resourceGroups/${ws.resourceGroup}/workspaces/${ws.workspace}/datastores/${datastore}/paths/${path}`;
}

/** The short asset reference `az ml` and DeployModel accept. */
export function modelAssetUri(name: string, version: string): string {
  return `azureml:${name}:${version}`;
}

/** The Azure ML studio page of a model version. */
export function studioUrl(ws: AzureMlWorkspace, name: string, version: string): string {
  const wsid = `/subscriptions/${ws.subscriptionId}/resourceGroups/${ws.resourceGroup}/workspaces/${ws.workspace}`;
  return `https://ml.azure.com/models/${segment(name)}/version/${segment(version)}?wsid=${wsid}`;
}

/** Blob folder of a model's files: named by content, so equal content lands on the same blobs. */
export function blobFolder(name: string, contentDigest: string): string {
  return `mlops-tasks/models/${name}/${contentDigest.replace(/^sha256:/, '')}`;
}
