import { readFileSync } from 'node:fs';
import { InputError } from '../../util/errors.js';
import { InputReader } from '../../platform/inputs.js';
import type { AzureIdentity } from '../../azure/identity.js';
import type { Platform } from '../../platform/platform.js';
import type { MlflowAuth } from '../../model/mlflow/client.js';
import { lineageTags } from '../../model/lineage.js';
import { readMetadataTags } from '../../model/metadata.js';
import { checkTag } from '../../registry/reference.js';
import { readAzureIdentity } from '../azure-identity.js';
import { declaration } from './declaration.js';
import { readOciInputs, type OciInputs } from './oci-inputs.js';

export type RegistryKind = 'azureml' | 'mlflow' | 'oci';

export interface AzureMlInputs {
  identity: AzureIdentity;
  subscriptionId: string;
  resourceGroup: string;
  workspace: string;
  armUrl: string;
}

export interface MlflowInputs {
  trackingUri: string;
  auth: MlflowAuth;
  authSource: string;
  sourceUri: string;
  alias: string;
}

export interface RegisterInputs {
  registry: RegistryKind;
  modelPath: string;
  modelName: string;
  modelVersion: string;
  description: string;
  /** metadataFile keys, then `tags`, then lineage: later ones win. */
  tags: Map<string, string>;
  modelType: string;
  caPem?: string;
  azureml?: AzureMlInputs;
  mlflow?: MlflowInputs;
  oci?: OciInputs & { azureIdentity?: AzureIdentity };
}

/** What Azure ML accepts as a model name (model container name in the 2024-04-01 API). */
const AZUREML_NAME = /^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An http(s) URL without credentials, query or fragment, and without a trailing slash. */
function baseUrl(name: string, value: string, example: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InputError(name, `'${value}' is not a URL; write it like ${example}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InputError(name, `'${value}' is not an http or https URL`);
  if (url.username || url.password) throw new InputError(name, 'must not hold credentials: use the credential inputs');
  if (url.search || url.hash) throw new InputError(name, `'${value}' must not have a query string or fragment`);
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

function checkName(registry: RegistryKind, name: string): void {
  if (registry === 'azureml' && !AZUREML_NAME.test(name)) {
    throw new InputError('modelName', `'${name}' is not a name Azure ML accepts: use letters, digits, '-' and '_', at most 255, starting with a letter or digit`);
  }
  if (registry === 'mlflow' && /['\r\n]/.test(name)) throw new InputError('modelName', `'${name}' has a quote, which MLflow search filters cannot hold`);
}

function checkVersion(registry: RegistryKind, version: string): void {
  if (!version) return;
  if (registry === 'mlflow' && !/^[1-9][0-9]*$/.test(version)) throw new InputError('modelVersion', `'${version}' is not an MLflow version: MLflow versions are whole numbers from 1`);
  if (registry === 'oci') {
    const problem = checkTag(version);
    if (problem) throw new InputError('modelVersion', problem);
  }
  // Azure ML's API puts no pattern on versions; the azureml target checks what it needs.
}

function readMlflow(inputs: InputReader): MlflowInputs {
  const token = inputs.raw('mlflowToken');
  const password = inputs.raw('mlflowPassword');
  const username = inputs.string('mlflowUsername');
  const uri = inputs.string('mlflowTrackingUri');
  if (!uri) throw new InputError('mlflowTrackingUri', 'is required with registry mlflow: give the tracking server URL');
  const trackingUri = baseUrl('mlflowTrackingUri', uri, 'https://mlflow.example.com');
  if (token && (username || password)) throw new InputError('mlflowToken', "give either 'mlflowToken' or 'mlflowUsername' and 'mlflowPassword', not both");
  if (/[\r\n]/.test(token)) throw new InputError('mlflowToken', 'must be a single line');
  if (username && !password) throw new InputError('mlflowPassword', "is empty but 'mlflowUsername' is set");
  if (password && !username) throw new InputError('mlflowUsername', "is empty but 'mlflowPassword' is set");
  const sourceUri = inputs.string('sourceUri');
  if (sourceUri && !/^[a-z][a-z0-9+.-]*:/i.test(sourceUri)) throw new InputError('sourceUri', `'${sourceUri}' is not a URI: write it like s3://bucket/path or runs:/<run id>/model`);
  let auth: MlflowAuth = { kind: 'none' };
  let authSource = "no credentials (set 'mlflowToken', or 'mlflowUsername' and 'mlflowPassword')";
  if (token) [auth, authSource] = [{ kind: 'token', token }, "input 'mlflowToken'"];
  else if (username) [auth, authSource] = [{ kind: 'basic', username, password }, "inputs 'mlflowUsername' and 'mlflowPassword'"];
  return { trackingUri, auth, authSource, sourceUri, alias: inputs.string('alias') };
}

/** The workspace inputs of registry `azureml`, all named at once when some are missing. */
async function readAzureMl(inputs: InputReader, platform: Platform): Promise<AzureMlInputs> {
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
    throw new InputError(missing[0]!, `registry azureml needs the workspace: '${missing.join("', '")}' ${missing.length > 1 ? 'are' : 'is'} empty`);
  }
  if (!GUID.test(subscriptionId)) throw new InputError(subscriptionInput, `'${subscriptionId}' is not a subscription id (a GUID)`);
  const armUrl = baseUrl('azureResourceManagerUrl', connection?.url || inputs.string('azureResourceManagerUrl'), 'https://management.azure.com');
  // Fetching a federated token may be a remote call: it comes after every other check.
  const identity = await readAzureIdentity(inputs, platform);
  if (!identity) {
    const input = platform.name === 'azure' ? 'azureSubscription' : 'azureClientId';
    throw new InputError(input, 'registry azureml needs an Azure sign-in: ' + (platform.name === 'azure' ? 'choose an Azure Resource Manager service connection' : "give 'azureClientId' and 'azureTenantId' (and 'azureClientSecret' without federation)"));
  }
  return { identity, subscriptionId, resourceGroup, workspace, armUrl };
}

/** Reads and checks every RegisterModel input before any file is read or anything is sent. */
export async function readRegisterInputs(platform: Platform): Promise<RegisterInputs> {
  const inputs = new InputReader(declaration, platform);
  // Secrets first: they are masked before anything below can echo them.
  for (const name of ['mlflowToken', 'mlflowPassword', 'password', 'azureClientSecret']) inputs.raw(name);
  const registry = inputs.pick<RegistryKind>('registry');
  const modelPath = inputs.string('modelPath');
  const modelName = inputs.string('modelName');
  checkName(registry, modelName);
  const modelVersion = inputs.string('modelVersion');
  checkVersion(registry, modelVersion);
  if (registry === 'oci' && !modelVersion && !platform.ci.sha) {
    throw new InputError('modelVersion', 'is empty and the runner gives no commit SHA to tag the model with: set it');
  }
  const metadataFile = inputs.path('metadataFile', 'file');
  const tags = metadataFile ? await readMetadataTags(metadataFile, inputs.string('metadataFile')) : new Map<string, string>();
  for (const [key, value] of inputs.map('tags')) tags.set(key, value);
  const lineage = lineageTags(platform.ci, { sourceImage: inputs.list('sourceImage').join(','), kfpRunId: inputs.string('kfpRunId') });
  for (const [key, value] of lineage) tags.set(key, value);

  const common = {
    registry,
    modelPath,
    modelName,
    modelVersion,
    description: inputs.string('description'),
    tags,
    modelType: inputs.string('modelType'),
    caPem: inputs.certificate('caCertFile'),
  };
  if (registry === 'mlflow') return { ...common, mlflow: readMlflow(inputs) };
  if (registry === 'oci') {
    const oci = readOciInputs(inputs, platform);
    const azureIdentity = await readAzureIdentity(inputs, platform);
    if (azureIdentity && oci.credentials) {
      throw new InputError(platform.name === 'azure' ? 'azureSubscription' : 'azureClientId', 'give either Azure sign-in or registry credentials, not both');
    }
    return { ...common, oci: { ...oci, azureIdentity } };
  }
  return { ...common, azureml: await readAzureMl(inputs, platform) };
}
