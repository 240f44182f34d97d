import { envFingerprint } from '../env-values.js';
import type { DeploySpec } from '../target.js';
import { CREATED_BY, CREATED_BY_TAG } from './names.js';
import type { OnlineDeploymentResource, ScaleSettings } from './resources.js';

export interface DeploymentInputs {
  location: string;
  instanceType: string;
  /** ARM id of the model version; undefined when the image holds the model. */
  modelId?: string;
  /** undefined for an MLflow model (no-code deployment: Azure ML picks the environment). */
  environmentId?: string;
}

/** Instance count and scaling: a fixed count, or autoscale between min and max replicas. */
export function scaleOf(spec: DeploySpec): { instanceCount: number; scaleSettings: ScaleSettings } {
  const min = spec.minReplicas ?? 1;
  if (spec.maxReplicas !== undefined && spec.maxReplicas > min) {
    return { instanceCount: min, scaleSettings: { scaleType: 'TargetUtilization', minInstances: min, maxInstances: spec.maxReplicas } };
  }
  return { instanceCount: min, scaleSettings: { scaleType: 'Default' } };
}

/** The body of a new managed online deployment (instance count travels as sku capacity). */
export function deploymentBody(spec: DeploySpec, inputs: DeploymentInputs): OnlineDeploymentResource {
  const { instanceCount, scaleSettings } = scaleOf(spec);
  return {
    location: inputs.location,
    tags: { ...spec.labels, [CREATED_BY_TAG]: CREATED_BY },
    sku: { name: 'Default', capacity: instanceCount },
    properties: {
      endpointComputeType: 'Managed',
      description: `Deployed by mlops-tasks DeployModel for endpoint ${spec.name}`,
      ...(inputs.modelId ? { model: inputs.modelId } : {}),
      ...(inputs.environmentId ? { environmentId: inputs.environmentId } : {}),
      environmentVariables: { ...spec.env },
      properties: { ...spec.labels },
      instanceType: inputs.instanceType,
      scaleSettings,
    },
  };
}

/** A deployment's settings as the plan's diff shows them. */
export function deploymentSettings(deployment: OnlineDeploymentResource | undefined): [string, string | undefined][] {
  if (!deployment) return [];
  const p = deployment.properties;
  const scale = p.scaleSettings?.scaleType === 'TargetUtilization' ? `${p.scaleSettings.minInstances}-${p.scaleSettings.maxInstances} instances (autoscale)` : `${deployment.sku?.capacity ?? 1} instances`;
  return [
    ['model', p.model ?? undefined],
    ['environment', p.environmentId ?? (p.model ? '(no-code, chosen by Azure ML)' : undefined)],
    ['instanceType', p.instanceType ?? undefined],
    ['scale', scale],
    ...Object.entries(p.environmentVariables ?? {})
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, value]): [string, string | undefined] => [`env.${key}`, envFingerprint(value ?? '')]),
  ];
}
