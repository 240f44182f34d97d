import { UserError } from '../util/errors.js';

export type InferenceProtocol = 'v1' | 'v2';
export type DeployTargetKind = 'kserve' | 'kubernetes' | 'azureml';

/** What to serve and how, checked already: every field is valid for the chosen target. */
export interface DeploySpec {
  /** Endpoint / InferenceService / Deployment name. */
  name: string;
  /** The model to serve (oci://, s3://, gs://, https://, pvc://, azureml:...), if any. */
  modelUri?: string;
  /** A serving image (custom predictor), if any. */
  image?: string;
  /** sklearn, xgboost, onnx, mlflow, triton, ... (KServe runtimes; azureml: mlflow means no-code). */
  modelFormat?: string;
  protocol: InferenceProtocol;
  minReplicas?: number;
  maxReplicas?: number;
  resources: { cpu?: string; memory?: string; gpu?: number };
  env: Record<string, string>;
  /** 0-100: the share of traffic the new revision gets; undefined: it replaces the old one. */
  canaryPercent?: number;
  /** Lineage labels/tags (commit, run URL, model URI) put on what is created. */
  labels: Record<string, string>;
  /** An RFC 7386 merge patch over what we would apply, for fields we do not model. */
  manifestPatch?: Record<string, unknown>;
}

/** What the step reports as it goes; `secret` masks a value (e.g. an endpoint key) before use. */
export interface DeployLog {
  info(line: string): void;
  warning(line: string): void;
  secret(value: string): void;
}

/** What apply will change, computed without changing anything (dry run where the API has one). */
export interface DeployPlan {
  /** A unified-style diff of the relevant spec, old against new ('' when created). */
  diff: string;
  /** The revision serving before this step, if the endpoint existed. */
  previousRevision?: string;
  /** True when nothing exists yet under `name`. */
  creates: boolean;
}

/** The change once applied: what rollback needs to undo it. */
export interface AppliedDeploy {
  revision: string;
  previousRevision?: string;
}

export interface ReadyDeploy {
  revision: string;
  previousRevision?: string;
  /** The new revision's share of traffic once the step is done. */
  trafficPercent: number;
  /** External URL when there is one, else the cluster-internal one. */
  endpointUrl: string;
}

/** Where the smoke test is sent: the full request URL and its headers (keys masked already). */
export interface SmokeEndpoint {
  url: string;
  headers: Record<string, string>;
  /** Closes a port-forward or whatever else was opened to reach the model. */
  close(): Promise<void>;
}

/**
 * A deploy that did not become ready: the message is one line; `diagnostics` holds what a person
 * needs to see why (failing conditions, last events, the failing pod's last log lines).
 */
export class DeployFailure extends UserError {
  constructor(message: string, readonly diagnostics: string[] = []) {
    super(message);
  }
}

/**
 * One place models are served. The run is plan → apply → waitReady → smokeEndpoint (the step sends
 * the request) → finish; on a failure after apply, rollback. Nothing is changed before apply.
 */
export interface DeployTarget {
  readonly kind: DeployTargetKind;
  plan(spec: DeploySpec, signal: AbortSignal): Promise<DeployPlan>;
  apply(spec: DeploySpec, plan: DeployPlan, signal: AbortSignal): Promise<AppliedDeploy>;
  /** Waits (watching, not busy polling where the API allows) until ready or failed for good. */
  waitReady(spec: DeploySpec, applied: AppliedDeploy, deadline: number, signal: AbortSignal): Promise<ReadyDeploy>;
  /** Where to send the smoke test request for the new revision (path per protocol included). */
  smokeEndpoint(spec: DeploySpec, ready: ReadyDeploy, signal: AbortSignal): Promise<SmokeEndpoint>;
  /** After a passed smoke test: shift traffic where that is a step of its own (Azure ML). */
  finish(spec: DeploySpec, ready: ReadyDeploy, signal: AbortSignal): Promise<ReadyDeploy>;
  /** Puts the previous revision back to 100% and removes what apply created; says what serves now. */
  rollback(spec: DeploySpec, applied: AppliedDeploy, signal: AbortSignal): Promise<string>;
  close(): Promise<void>;
}

/** The inference path of a model on a KServe-style server. */
export function inferencePath(protocol: InferenceProtocol, model: string): string {
  const name = encodeURIComponent(model);
  return protocol === 'v2' ? `/v2/models/${name}/infer` : `/v1/models/${name}:predict`;
}
