import { InputError } from '../../util/errors.js';
import { InputReader } from '../../platform/inputs.js';
import type { AzureIdentity } from '../../azure/identity.js';
import type { Platform } from '../../platform/platform.js';
import type { MlflowAuth } from '../../model/mlflow/client.js';
import { lineageTags } from '../../model/lineage.js';
import { readMetadataTags } from '../../model/metadata.js';
import { checkTag } from '../../registry/reference.js';
import { readAzureIdentity } from '../azure-identity.js';
import { readAzureMlWorkspace, type AzureMlWorkspaceInputs } from '../azureml-workspace.js';
import { baseUrl } from '../base-url.js';
import { declaration } from './declaration.js';
import { readOciInputs, type OciInputs } from './oci-inputs.js';

export type RegistryKind = 'azureml' | 'mlflow' | 'oci';

export type AzureMlInputs = AzureMlWorkspaceInputs;

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
  return { ...common, azureml: await readAzureMlWorkspace(inputs, platform, 'registry azureml') };
}
