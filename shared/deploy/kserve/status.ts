import type { K8sObject } from '../k8s/cluster.js';

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

interface PredictorStatus {
  latestCreatedRevision?: string;
  latestReadyRevision?: string;
  latestRolledoutRevision?: string;
  previousRolledoutRevision?: string;
  traffic?: { revisionName?: string; percent?: number; latestRevision?: boolean; tag?: string }[];
  url?: string;
}

interface ModelStatus {
  transitionStatus?: string;
  states?: { activeModelState?: string; targetModelState?: string };
  lastFailureInfo?: { reason?: string; message?: string; exitCode?: number };
}

export interface IsvcStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  url?: string;
  address?: { url?: string };
  deploymentMode?: string;
  components?: { predictor?: PredictorStatus };
  modelStatus?: ModelStatus;
  canaryStatuses?: { name?: string; ready?: boolean; trafficPercent?: number; modelStatus?: ModelStatus }[];
}

export type Isvc = K8sObject & { status?: IsvcStatus };

const DEPLOYMENT_MODE_ANNOTATION = 'serving.kserve.io/deploymentMode';

/** Knative (Serverless) revisions, or plain Deployments (RawDeployment / Standard). */
export function isKnative(isvc: Isvc | undefined): boolean | undefined {
  const mode = isvc?.status?.deploymentMode ?? isvc?.metadata?.annotations?.[DEPLOYMENT_MODE_ANNOTATION];
  if (mode) return mode === 'Serverless' || mode === 'Knative';
  if (isvc?.status?.components?.predictor?.traffic) return true;
  return undefined;
}

export function condition(isvc: Isvc | undefined, type: string): Condition | undefined {
  return isvc?.status?.conditions?.find((entry) => entry.type === type);
}

const isTrue = (entry: Condition | undefined) => entry?.status === 'True';

/** The revision that serves the current spec: Knative's latest created one, else the generation. */
export function revisionOf(isvc: Isvc): string {
  return isvc.status?.components?.predictor?.latestCreatedRevision ?? `generation-${isvc.metadata?.generation ?? 0}`;
}

/** The revision serving before a change: the last rolled-out (or ready) one. */
export function servingRevision(isvc: Isvc | undefined): string | undefined {
  if (!isvc) return undefined;
  const predictor = isvc.status?.components?.predictor;
  return predictor?.latestRolledoutRevision ?? predictor?.latestReadyRevision ?? (isTrue(condition(isvc, 'Ready')) ? revisionOf(isvc) : undefined);
}

/** The share of traffic a revision has (100 in Standard mode, where there is no split). */
export function trafficOf(isvc: Isvc, revision: string): number {
  const traffic = isvc.status?.components?.predictor?.traffic;
  if (!traffic) return 100;
  return traffic.filter((entry) => entry.revisionName === revision).reduce((sum, entry) => sum + (entry.percent ?? 0), 0);
}

export type Verdict = { state: 'waiting'; why: string } | { state: 'ready'; revision: string } | { state: 'failed'; why: string };

/** Where the applied generation stands: ready (PredictorReady and IngressReady), failed for good, or not yet. */
export function verdict(isvc: Isvc | undefined, generation: number, previousRevision: string | undefined, rawCanary: boolean): Verdict {
  if (!isvc) return { state: 'failed', why: 'the InferenceService was deleted' };
  const status = isvc.status ?? {};
  if ((status.observedGeneration ?? 0) < generation) return { state: 'waiting', why: 'KServe has not seen the change yet' };
  const model = rawCanary ? status.canaryStatuses?.[0]?.modelStatus : status.modelStatus;
  if (model?.transitionStatus === 'BlockedByFailedLoad' || model?.transitionStatus === 'InvalidSpec' || model?.states?.targetModelState === 'FailedToLoad') {
    const info = model.lastFailureInfo;
    return { state: 'failed', why: `the model failed to load${info?.reason ? ` (${info.reason})` : ''}${info?.message ? `: ${info.message}` : ''}` };
  }
  const predictor = status.components?.predictor;
  const created = predictor?.latestCreatedRevision;
  // Knative: the change is a new revision; until one is created the old one's readiness says nothing.
  if (created && created === previousRevision) return { state: 'waiting', why: 'no new revision yet' };
  if (created && predictor?.latestReadyRevision !== created) {
    const failing = status.conditions?.find((entry) => entry.status === 'False' && entry.reason === 'RevisionFailed');
    if (failing) return { state: 'failed', why: `revision ${created} failed: ${failing.message ?? failing.reason}` };
    return { state: 'waiting', why: `revision ${created} is not ready yet` };
  }
  if (rawCanary) {
    const canary = status.canaryStatuses?.[0];
    if (!canary?.ready) return { state: 'waiting', why: 'the canary is not ready yet' };
  }
  const predictorReady = condition(isvc, 'PredictorReady');
  const ingressReady = condition(isvc, 'IngressReady');
  if (isTrue(condition(isvc, 'Ready')) && isTrue(predictorReady) && (ingressReady === undefined || isTrue(ingressReady))) {
    return { state: 'ready', revision: revisionOf(isvc) };
  }
  const notReady = [predictorReady, ingressReady].filter((entry) => entry && !isTrue(entry)).map((entry) => `${entry!.type}=${entry!.status}${entry!.reason ? ` (${entry!.reason})` : ''}`);
  return { state: 'waiting', why: notReady.length ? notReady.join(', ') : 'not Ready yet' };
}

/** Conditions that are not True, one line each, for the failure report. */
export function failingConditions(isvc: Isvc | undefined): string[] {
  return (isvc?.status?.conditions ?? [])
    .filter((entry) => entry.status !== 'True')
    .map((entry) => `condition ${entry.type}=${entry.status}${entry.reason ? ` ${entry.reason}` : ''}${entry.message ? `: ${entry.message}` : ''}`);
}
