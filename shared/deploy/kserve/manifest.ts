import type { DeploySpec } from '../target.js';
import type { K8sObject } from '../k8s/cluster.js';
import { containerResources, envList, lineageAnnotations } from '../k8s/pod-spec.js';

/** storageUri schemes KServe's storage initializer can fetch (oci:// through modelcars). */
export const KSERVE_STORAGE_SCHEMES = ['oci', 's3', 'gs', 'https', 'http', 'pvc', 'hdfs', 'webhdfs', 'hf'];

/** Where a new revision goes in Standard (RawDeployment) mode with a canary: `spec.canary[]`. */
export type CanaryForm = 'knative' | 'raw-canary' | 'none';

/** The predictor we own: a model with a format and storageUri, or a custom container. */
export function predictorSpec(spec: DeploySpec): Record<string, unknown> {
  const resources = containerResources(spec.resources);
  const env = envList(spec.env);
  const replicas = {
    ...(spec.minReplicas !== undefined ? { minReplicas: spec.minReplicas } : {}),
    ...(spec.maxReplicas !== undefined ? { maxReplicas: spec.maxReplicas } : {}),
  };
  if (spec.image) {
    const containerEnv = [...env, ...(spec.modelUri ? [{ name: 'STORAGE_URI', value: spec.modelUri }] : [])];
    return {
      ...replicas,
      containers: [
        {
          name: 'kserve-container',
          image: spec.image,
          ...(containerEnv.length ? { env: containerEnv } : {}),
          ...(resources ? { resources } : {}),
        },
      ],
    };
  }
  return {
    ...replicas,
    model: {
      modelFormat: { name: spec.modelFormat },
      storageUri: spec.modelUri,
      protocolVersion: spec.protocol,
      ...(env.length ? { env } : {}),
      ...(resources ? { resources } : {}),
    },
  };
}

/**
 * The InferenceService we apply. A canary in Knative mode is the new predictor with
 * canaryTrafficPercent (KServe keeps the previous revision for the rest); in Standard mode it is
 * `spec.canary[]` beside the unchanged predictor. Without a canary the predictor is replaced.
 */
export function inferenceService(spec: DeploySpec, namespace: string, canary: CanaryForm, current?: K8sObject): K8sObject {
  const predictor = predictorSpec(spec);
  let body: Record<string, unknown>;
  if (spec.canaryPercent !== undefined && canary === 'raw-canary' && current?.spec?.predictor) {
    // The CRD requires the container name in a canary's model (KServe defaults it elsewhere).
    const named = predictor.model ? { ...predictor, model: { name: 'kserve-container', ...(predictor.model as object) } } : predictor;
    body = { predictor: current.spec.predictor, canary: [{ predictor: named, trafficPercent: spec.canaryPercent }] };
  } else if (spec.canaryPercent !== undefined && canary === 'knative') {
    body = { predictor: { ...predictor, canaryTrafficPercent: spec.canaryPercent } };
  } else {
    body = { predictor };
  }
  return {
    apiVersion: 'serving.kserve.io/v1beta1',
    kind: 'InferenceService',
    metadata: { name: spec.name, namespace, annotations: lineageAnnotations(spec.labels) },
    spec: body,
  };
}
