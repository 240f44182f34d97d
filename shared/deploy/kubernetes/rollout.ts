import type { K8sObject } from '../k8s/cluster.js';
import type { Judged } from '../k8s/wait.js';

interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  availableReplicas?: number;
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
}

export type Deployment = K8sObject & { spec?: { replicas?: number; template?: unknown }; status?: DeploymentStatus };

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';

export function revisionOf(deployment: Deployment | undefined): string | undefined {
  return deployment?.metadata?.annotations?.[REVISION_ANNOTATION];
}

/** `kubectl rollout status`, as one judgement of the Deployment's current status. */
export function rolloutStatus(deployment: Deployment | undefined): Judged {
  if (!deployment) return { state: 'failed', why: 'the Deployment was deleted' };
  const status = deployment.status ?? {};
  if ((status.observedGeneration ?? 0) < (deployment.metadata?.generation ?? 0)) return { state: 'waiting', why: 'the rollout has not started yet' };
  const progressing = status.conditions?.find((condition) => condition.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') return { state: 'failed', why: `progress deadline exceeded${progressing.message ? `: ${progressing.message}` : ''}` };
  const wanted = deployment.spec?.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  if (updated < wanted) return { state: 'waiting', why: `${updated} of ${wanted} new replicas updated` };
  if ((status.replicas ?? 0) > updated) return { state: 'waiting', why: `${(status.replicas ?? 0) - updated} old replicas are pending termination` };
  if ((status.availableReplicas ?? 0) < updated) return { state: 'waiting', why: `${status.availableReplicas ?? 0} of ${updated} updated replicas are available` };
  return { state: 'ready' };
}

export function failingConditions(deployment: Deployment | undefined): string[] {
  return (deployment?.status?.conditions ?? [])
    .filter((condition) => condition.status !== 'True' || condition.reason === 'ProgressDeadlineExceeded')
    .map((condition) => `condition ${condition.type}=${condition.status}${condition.reason ? ` ${condition.reason}` : ''}${condition.message ? `: ${condition.message}` : ''}`);
}
