import { UserError } from '../util/errors.js';
import type { KfpApi, KfpPipeline, KfpVersion } from './api.js';
import type { FilePart } from './multipart.js';
import type { PipelinePackage } from './package.js';
import { sameSpec } from './same-spec.js';

/** Publish a local package under a pipeline name and version name. */
export interface PackageSource {
  kind: 'package';
  pkg: PipelinePackage;
  pipelineName: string;
  versionName: string;
  /** Stored with uploads: where the package came from. */
  description: string;
}

/** Run what the server holds already, found by ID or by name. */
export interface ServerSource {
  kind: 'server';
  pipelineId: string;
  versionId: string;
  pipelineName: string;
  /** Empty: the newest version. */
  versionName: string;
}

export type PipelineSource = PackageSource | ServerSource;

/** What publishing will do, decided from lookups alone so that a refusal leaves nothing behind. */
export type PipelinePlan =
  | { kind: 'ready'; pipeline: KfpPipeline; version: KfpVersion; reused: boolean }
  | { kind: 'upload-version'; pipeline: KfpPipeline; source: PackageSource }
  | { kind: 'create-pipeline'; source: PackageSource };

export interface Published {
  pipeline: KfpPipeline;
  version: KfpVersion;
  /** What happened, for the log: reused, uploaded, created. */
  action: string;
}

const filePart = (pkg: PipelinePackage): FilePart => ({ field: 'uploadfile', filename: 'pipeline.yaml', content: pkg.content });

async function checkSameContent(api: KfpApi, pipeline: KfpPipeline, version: KfpVersion, pkg: PipelinePackage): Promise<void> {
  if (sameSpec(await api.versionSpec(version), pkg.documents)) return;
  throw new UserError(
    `version '${version.name}' of pipeline '${pipeline.name}' exists on the server with different content: ` +
      `versions never change, so give the changed package a new 'pipelineVersion' (default: the commit SHA)`,
  );
}

async function planPackage(api: KfpApi, source: PackageSource, namespace: string): Promise<PipelinePlan> {
  const pipeline = await api.findPipeline(source.pipelineName, namespace);
  if (!pipeline) return { kind: 'create-pipeline', source };
  const version = await api.findVersion(pipeline.id, source.versionName);
  if (version) {
    await checkSameContent(api, pipeline, version, source.pkg);
    return { kind: 'ready', pipeline, version, reused: true };
  }
  // On v1 the first version of a pipeline bears the pipeline's name (see KfpV1.createPipeline):
  // a re-run of the job that created it finds its package there, not under the version name.
  if (api.version === 'v1beta1' && source.versionName !== pipeline.name) {
    const first = await api.findVersion(pipeline.id, pipeline.name);
    if (first && sameSpec(await api.versionSpec(first), source.pkg.documents)) return { kind: 'ready', pipeline, version: first, reused: true };
  }
  return { kind: 'upload-version', pipeline, source };
}

async function planServer(api: KfpApi, source: ServerSource, namespace: string): Promise<PipelinePlan> {
  if (source.versionId) {
    if (!source.pipelineId && api.version === 'v2beta1') {
      throw new UserError("input 'pipelineId': KFP 2.x (v2beta1) needs the pipeline's ID along with 'pipelineVersionId'");
    }
    const version = await api.getVersion(source.pipelineId, source.versionId);
    const pipeline = await api.getPipeline(version.pipelineId || source.pipelineId);
    return { kind: 'ready', pipeline, version, reused: true };
  }
  const pipeline = source.pipelineId ? await api.getPipeline(source.pipelineId) : await api.findPipeline(source.pipelineName, namespace);
  if (!pipeline) {
    const where = namespace && api.version === 'v2beta1' ? ` in namespace '${namespace}'` : '';
    throw new UserError(`input 'pipelineName': the server has no pipeline '${source.pipelineName}'${where}; give 'pipelineFile' to upload it`);
  }
  const version = source.versionName ? await api.findVersion(pipeline.id, source.versionName) : await api.newestVersion(pipeline.id);
  if (!version) {
    throw new UserError(
      source.versionName
        ? `input 'pipelineVersion': pipeline '${pipeline.name}' has no version '${source.versionName}'`
        : `pipeline '${pipeline.name}' has no versions to run`,
    );
  }
  return { kind: 'ready', pipeline, version, reused: true };
}

/** Decides what to publish or run, by name or ID; only reads from the server. */
export function planPipeline(api: KfpApi, source: PipelineSource, namespace: string): Promise<PipelinePlan> {
  return source.kind === 'package' ? planPackage(api, source, namespace) : planServer(api, source, namespace);
}

/**
 * Carries out a plan. Another job may publish the same name between plan and upload: a 409 then
 * means "look again", and the version found is reused when its content is the same.
 */
export async function applyPipelinePlan(api: KfpApi, plan: PipelinePlan, namespace: string, attempt = 0): Promise<Published> {
  if (plan.kind === 'ready') return { pipeline: plan.pipeline, version: plan.version, action: 'reused' };
  const { source } = plan;
  const file = filePart(source.pkg);
  if (plan.kind === 'create-pipeline') {
    const created = await api.createPipeline(source.pipelineName, source.versionName, file, namespace, source.description);
    if (created) return { ...created, action: 'created' };
  } else {
    const version = await api.uploadVersion(plan.pipeline, source.versionName, file, source.description);
    if (version) return { pipeline: plan.pipeline, version, action: 'uploaded' };
  }
  if (attempt > 0) throw new UserError(`pipeline '${source.pipelineName}' version '${source.versionName}' keeps changing on the server while it is published`);
  return applyPipelinePlan(api, await planPipeline(api, source, namespace), namespace, attempt + 1);
}
