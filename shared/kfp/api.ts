import type { FilePart } from './multipart.js';

/** The two REST APIs a KFP server may speak: v2beta1 (KFP 2.x, which also serves v1beta1) and v1beta1 (KFP 1.x). */
export type ApiVersion = 'v2beta1' | 'v1beta1';

export interface KfpPipeline {
  id: string;
  name: string;
}

export interface KfpVersion {
  id: string;
  name: string;
  pipelineId: string;
  createdAt?: string;
  /** The stored spec when the answer carried it (v2 does; v1 needs a templates call). */
  spec?: unknown;
}

export interface KfpExperiment {
  id: string;
  name: string;
}

export interface KfpTask {
  id: string;
  name: string;
  /** In upper case, as v2 spells states (v1 phases are upper-cased). */
  state: string;
}

export interface KfpRunStatus {
  id: string;
  name: string;
  /** v2 states as the server says them; v1 states upper-cased (SUCCEEDED, FAILED, ERROR, ...). */
  state: string;
  finished: boolean;
  createdAt?: string;
  finishedAt?: string;
  /** The server's error message for a failed run, if any. */
  error?: string;
  tasks: KfpTask[];
}

export interface RunRequest {
  name: string;
  experimentId: string;
  pipelineId: string;
  versionId: string;
  /** v2: JSON values by parameter name; v1: strings by compiled parameter name. */
  parameters: Record<string, unknown>;
}

export interface PollOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  retries?: number;
}

/** A new pipeline and the version the step asked for. */
export interface CreatedPipeline {
  pipeline: KfpPipeline;
  version: KfpVersion;
}

/**
 * What the task needs from either API version. Every implementation sends only fields its API
 * defines, and fields every server of that API knows (the server rejects unknown request fields).
 */
export interface KfpApi {
  readonly version: ApiVersion;
  findPipeline(name: string, namespace: string): Promise<KfpPipeline | undefined>;
  getPipeline(id: string): Promise<KfpPipeline>;
  /**
   * Creates a pipeline whose only version holds the package, named `versionName` where the API
   * allows it. Undefined when the server says a pipeline of that name appeared meanwhile (409).
   */
  createPipeline(name: string, versionName: string, file: FilePart, namespace: string, description: string): Promise<CreatedPipeline | undefined>;
  /** Undefined when the server says a version of that name appeared meanwhile (409). */
  uploadVersion(pipeline: KfpPipeline, name: string, file: FilePart, description: string): Promise<KfpVersion | undefined>;
  findVersion(pipelineId: string, name: string): Promise<KfpVersion | undefined>;
  newestVersion(pipelineId: string): Promise<KfpVersion | undefined>;
  getVersion(pipelineId: string, versionId: string): Promise<KfpVersion>;
  /**
   * The spec the server stores for a version as documents (pipeline spec, then any platform spec,
   * or the Argo workflow): what a package is compared with and what parameters are read from.
   */
  versionSpec(version: KfpVersion): Promise<unknown[]>;
  /** Best effort: removes a pipeline this step created and could not finish. */
  deletePipeline(id: string): Promise<void>;
  findExperiment(name: string, namespace: string): Promise<KfpExperiment | undefined>;
  /** Undefined when the server says it exists already (409: another job created it first). */
  createExperiment(name: string, namespace: string): Promise<KfpExperiment | undefined>;
  createRun(run: RunRequest, namespace: string): Promise<KfpRunStatus>;
  getRun(id: string, options?: PollOptions): Promise<KfpRunStatus>;
  terminateRun(id: string, options?: PollOptions): Promise<void>;
}
