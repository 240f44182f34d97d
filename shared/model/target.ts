/**
 * What RegisterModel hands to a model registry, and what it gets back. One implementation per
 * registry kind (azureml, mlflow, oci); the task picks one from the `registry` input.
 */

/** One file of the model, as hashed (streamed) before anything is sent. */
export interface ModelFile {
  /** Path relative to the model root, forward slashes; for a single-file model, its base name. */
  path: string;
  absolutePath: string;
  size: number;
  /** 'sha256:<hex>' of the content. */
  digest: string;
}

export interface PreparedModel {
  name: string;
  /** The version the user asked for; empty: the registry's next (or, for oci, the commit SHA). */
  requestedVersion: string;
  description: string;
  /** User tags, metadataFile keys and lineage tags, merged (lineage wins on a clash). */
  tags: ReadonlyMap<string, string>;
  /** custom_model, mlflow_model, triton_model (Azure ML), free for the others; may be empty. */
  modelType: string;
  /** True when modelPath was a single file rather than a folder. */
  singleFile: boolean;
  files: readonly ModelFile[];
  /** 'sha256:<hex>' over the sorted (path, size, digest) of all files: equal models, equal digest. */
  contentDigest: string;
}

export interface RegisteredModel {
  name: string;
  version: string;
  /** A URI DeployModel and the registry's own tools accept. */
  uri: string;
  /** True when a version with the same content digest already existed and nothing was created. */
  reused: boolean;
  /** A link a person can open, when the registry has a UI. */
  webUrl?: string;
}

/** How a target reports progress and notes; the task maps it onto the platform. */
export interface TargetLog {
  info(line: string): void;
  progress(percent: number, message: string): void;
}

export interface ModelRegistryTarget {
  /**
   * Registers the model once: reuses a version with the same content digest; fails when the
   * requested version exists with different content; leaves no version behind when an upload fails.
   */
  register(model: PreparedModel, log: TargetLog, signal: AbortSignal): Promise<RegisteredModel>;
}

/** The tag (or property, or annotation) every target records the content digest under. */
export const CONTENT_DIGEST_KEY = 'mlops-tasks.content-digest';
