import { InputError } from '../../util/errors.js';
import { InputReader } from '../../platform/inputs.js';
import type { Platform } from '../../platform/platform.js';
import { lineageTags } from '../../model/lineage.js';
import { namespaceProblem } from '../../k8s/target.js';
import { parseSmokeExpect, type SmokeExpect } from '../../deploy/smoke-expect.js';
import { readSmokeBody } from '../../deploy/smoke-request.js';
import { KSERVE_STORAGE_SCHEMES } from '../../deploy/kserve/manifest.js';
import type { DeploySpec, DeployTargetKind, InferenceProtocol } from '../../deploy/target.js';
import { azureMlModel } from '../../deploy/azureml/model-id.js';
import { readAzureMlWorkspace, type AzureMlWorkspaceInputs } from '../azureml-workspace.js';
import { readKubernetesAccess, type KubernetesAccess } from '../kubernetes-access.js';
import { declaration } from './declaration.js';

export interface ClusterInputs extends KubernetesAccess {
  namespace: string;
}

export interface AzureMlDeployInputs extends AzureMlWorkspaceInputs {
  instanceType: string;
  authMode: 'key' | 'aadToken';
}

export interface DeployInputs {
  target: DeployTargetKind;
  spec: DeploySpec;
  timeoutMinutes: number;
  smoke?: { body: string; source: string; expect: SmokeExpect };
  rollbackOnFailure: boolean;
  cluster?: ClusterInputs;
  azureml?: AzureMlDeployInputs;
}

/** A DNS-1035 label: what a Service (and so an InferenceService or Deployment we expose) may be called. */
const DNS1035 = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** Azure ML online endpoint names: 3-32 characters, a letter first. */
const AZUREML_ENDPOINT = /^[a-zA-Z][a-zA-Z0-9-]{1,30}[a-zA-Z0-9]$/;
const AZUREML_MODEL = /^(azureml:[^:/\s]+:[^:/\s]+|azureml:\/\/\S+\/models\/[^/\s]+\/versions\/[^/\s]+|\/subscriptions\/\S+\/models\/[^/\s]+\/versions\/[^/\s]+)$/i;
const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;

function checkName(target: DeployTargetKind, name: string): void {
  if (target === 'azureml') {
    if (!AZUREML_ENDPOINT.test(name)) throw new InputError('name', `'${name}' is not an Azure ML endpoint name: 3-32 letters, digits and '-', starting with a letter`);
  } else if (!DNS1035.test(name)) {
    throw new InputError('name', `'${name}' is not a DNS-1035 label: lower-case letters, digits and '-', starting with a letter, at most 63 characters`);
  }
}

function schemeOf(uri: string): string | undefined {
  return /^([a-z][a-z0-9+.-]*):/i.exec(uri)?.[1]?.toLowerCase();
}

/** Which of modelUri and image each target needs, and which URIs it can serve. */
function checkModelAndImage(target: DeployTargetKind, modelUri: string, image: string, modelFormat: string): void {
  const scheme = schemeOf(modelUri);
  if (modelUri && !scheme && !modelUri.startsWith('/subscriptions/')) throw new InputError('modelUri', `'${modelUri}' is not a URI: it has no scheme (e.g. oci://, s3://, azureml:)`);
  if (target === 'kserve') {
    if (modelUri && image) throw new InputError('modelUri', "give either 'modelUri' (served by a KServe runtime) or 'image' (a custom predictor), not both");
    if (!modelUri && !image) throw new InputError('modelUri', "target kserve needs 'modelUri' (from RegisterModel) or 'image' (a custom predictor)");
    if (modelUri && !KSERVE_STORAGE_SCHEMES.includes(scheme ?? '')) {
      throw new InputError('modelUri', `KServe cannot fetch ${scheme ?? 'this'} URIs: use one of ${KSERVE_STORAGE_SCHEMES.map((s) => `${s}://`).join(', ')} (register the model with registry oci for oci://)`);
    }
    if (modelUri && !modelFormat) throw new InputError('modelFormat', "is required with target kserve and 'modelUri': it picks the serving runtime (sklearn, onnx, mlflow, ...)");
  } else if (target === 'kubernetes') {
    if (!image) throw new InputError('image', "target kubernetes needs 'image': the serving image to run ('modelUri' is passed to it as MODEL_URI)");
  } else {
    if (!modelUri) throw new InputError('modelUri', "target azureml needs 'modelUri': a model registered in the workspace (azureml:<name>:<version>)");
    if (!AZUREML_MODEL.test(modelUri)) throw new InputError('modelUri', `Azure ML cannot serve ${scheme ?? 'this'} URIs: give azureml:<name>:<version> (register the model with registry azureml)`);
    if (!image && modelFormat.toLowerCase() !== 'mlflow') throw new InputError('image', "target azureml needs 'image' (the environment image), unless 'modelFormat' is mlflow");
  }
}

function readReplicas(inputs: InputReader, target: DeployTargetKind): { minReplicas?: number; maxReplicas?: number } {
  const text = inputs.string('replicas');
  if (!text) return {};
  const match = /^(\d{1,4})(?:\s*-\s*(\d{1,4}))?$/.exec(text);
  if (!match) throw new InputError('replicas', `'${text}' is not N or MIN-MAX (e.g. 2 or 1-3)`);
  const min = Number(match[1]);
  const max = match[2] === undefined ? min : Number(match[2]);
  if (max < min) throw new InputError('replicas', `'${text}': the maximum is below the minimum`);
  if (max < 1) throw new InputError('replicas', `'${text}': at least one replica must be allowed`);
  if (target === 'kubernetes' && max !== min) throw new InputError('replicas', `'${text}': target kubernetes runs a fixed number of replicas; give N`);
  return { minReplicas: min, maxReplicas: max };
}

function readResources(inputs: InputReader): DeploySpec['resources'] {
  const resources: DeploySpec['resources'] = {};
  for (const [key, value] of inputs.map('resources')) {
    if (key === 'cpu' || key === 'memory') {
      if (!QUANTITY.test(value)) throw new InputError('resources', `${key}=${value} is not a Kubernetes quantity (e.g. cpu=500m, memory=2Gi)`);
      resources[key] = value;
    } else if (key === 'gpu') {
      if (!/^\d{1,3}$/.test(value)) throw new InputError('resources', `gpu=${value} is not a whole number of GPUs`);
      resources.gpu = Number(value);
    } else {
      throw new InputError('resources', `'${key}' is not one of cpu, memory, gpu`);
    }
  }
  return resources;
}

function readCanary(inputs: InputReader, target: DeployTargetKind): number | undefined {
  const text = inputs.string('canaryPercent');
  if (!text) return undefined;
  if (!/^\d{1,3}$/.test(text) || Number(text) > 100) throw new InputError('canaryPercent', `'${text}' is not a whole number from 0 to 100`);
  if (target === 'kubernetes') throw new InputError('canaryPercent', 'target kubernetes replaces pods by a rolling update: a canary needs target kserve or azureml');
  return Number(text);
}

function readTimeout(inputs: InputReader): number {
  const text = inputs.string('timeoutMinutes');
  const minutes = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || minutes <= 0 || minutes > 360) throw new InputError('timeoutMinutes', `'${text}' is not a number of minutes from 1 to 360`);
  return minutes;
}

async function readPatch(inputs: InputReader, target: DeployTargetKind, name: string, namespace: string): Promise<Record<string, unknown> | undefined> {
  const text = inputs.raw('manifestPatch');
  if (!text) return undefined;
  if (target === 'azureml') throw new InputError('manifestPatch', 'applies to targets kserve and kubernetes only');
  // The YAML parser loads only when there is a patch: most steps have none.
  const { applyMergePatch, identityChange, parseManifestPatch } = await import('../../deploy/merge-patch.js');
  const patch = parseManifestPatch(text);
  if (typeof patch === 'string') throw new InputError('manifestPatch', patch);
  const kind = target === 'kserve' ? 'InferenceService' : 'Deployment';
  const apiVersion = target === 'kserve' ? 'serving.kserve.io/v1beta1' : 'apps/v1';
  const identity = { apiVersion, kind, metadata: { name, namespace } };
  const change = identityChange(identity, applyMergePatch(structuredClone(identity), patch));
  if (change) throw new InputError('manifestPatch', change);
  return patch;
}

function readCluster(inputs: InputReader, platform: Platform): ClusterInputs {
  const namespace = inputs.string('namespace') || 'default';
  const problem = namespaceProblem(namespace);
  if (problem) throw new InputError('namespace', problem);
  const access = readKubernetesAccess(inputs, platform);
  if (!access) {
    throw new InputError(platform.name === 'azure' ? 'kubernetesServiceConnection' : 'kubeconfig', 'is required to reach the cluster: give the kubeconfig content (from a secret)' + (platform.name === 'azure' ? ' or a Kubernetes service connection' : ''));
  }
  return { ...access, namespace };
}

/** Reads and checks every DeployModel input; nothing is sent anywhere until all of them pass. */
export async function readDeployInputs(platform: Platform): Promise<DeployInputs> {
  const inputs = new InputReader(declaration, platform);
  // Secrets first: they are masked before anything below can echo them.
  for (const name of ['kubeconfig', 'azureClientSecret']) inputs.raw(name);
  const target = inputs.pick<DeployTargetKind>('target');
  const name = inputs.string('name');
  checkName(target, name);
  const modelUri = inputs.string('modelUri');
  const image = inputs.string('image');
  const modelFormat = inputs.string('modelFormat');
  checkModelAndImage(target, modelUri, image, modelFormat);
  const protocol = inputs.pick<InferenceProtocol>('protocol');
  const canaryPercent = readCanary(inputs, target);
  const timeoutMinutes = readTimeout(inputs);
  const env = Object.fromEntries(inputs.map('env'));
  for (const key of Object.keys(env)) {
    if (!/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(key)) throw new InputError('env', `'${key}' is not a valid environment variable name`);
  }

  const smokeText = inputs.raw('smokeTest');
  const expectText = inputs.raw('smokeTestExpect');
  let smoke: DeployInputs['smoke'];
  if (smokeText) {
    const body = readSmokeBody(smokeText, platform.ci.workspace || process.cwd());
    if ('problem' in body) throw new InputError('smokeTest', body.problem);
    const expect = parseSmokeExpect(expectText);
    if (typeof expect === 'string') throw new InputError('smokeTestExpect', expect);
    smoke = { body: body.body, source: body.source, expect };
  } else if (expectText) {
    throw new InputError('smokeTestExpect', "is set but 'smokeTest' is empty: give the request to send");
  }

  const cluster = target === 'azureml' ? undefined : readCluster(inputs, platform);
  const manifestPatch = await readPatch(inputs, target, name, cluster?.namespace ?? '');
  const labels = Object.fromEntries(lineageTags(platform.ci, { sourceImage: image, kfpRunId: '' }));
  if (modelUri) labels['mlops-tasks.model-uri'] = modelUri;
  const spec: DeploySpec = {
    name,
    ...(modelUri ? { modelUri } : {}),
    ...(image ? { image } : {}),
    ...(modelFormat ? { modelFormat } : {}),
    protocol,
    ...readReplicas(inputs, target),
    resources: readResources(inputs),
    env,
    ...(canaryPercent !== undefined ? { canaryPercent } : {}),
    labels,
    ...(manifestPatch ? { manifestPatch } : {}),
  };
  const result: DeployInputs = { target, spec, timeoutMinutes, rollbackOnFailure: inputs.boolean('rollbackOnFailure'), ...(smoke ? { smoke } : {}), ...(cluster ? { cluster } : {}) };
  if (target === 'azureml') {
    const workspace = await readAzureMlWorkspace(inputs, platform, 'target azureml');
    const model = azureMlModel(modelUri, workspace);
    if ('problem' in model) throw new InputError('modelUri', model.problem);
    result.azureml = { ...workspace, instanceType: inputs.string('instanceType') || 'Standard_DS3_v2', authMode: inputs.pick<'key' | 'aadToken'>('endpointAuthMode') };
  }
  return result;
}
