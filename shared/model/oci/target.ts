import { CONTENT_DIGEST_KEY, type ModelFile, type ModelRegistryTarget, type PreparedModel, type RegisteredModel, type TargetLog } from '../target.js';
import { RegistryClient, type Manifest } from '../../registry/client.js';
import { OCI_MANIFEST } from '../../registry/media-types.js';
import { checkTag, type ImageName } from '../../registry/reference.js';
import { runPool } from '../../util/pool.js';
import { InputError, UserError } from '../../util/errors.js';
import { LINEAGE_KEYS } from '../lineage.js';
import { annotationsOf, manifestAnnotations, modelConfig, modelLayers, modelManifest } from './artifact.js';
import { BlobPusher, formatBytes } from './blob-pusher.js';
import { FileSource } from './file-source.js';
import { parseImageReference, type ImageReference } from './image-reference.js';
import { pushModelcar } from './modelcar.js';

export interface OciTargetOptions {
  client: RegistryClient;
  repository: ImageName;
  /** The commit SHA: the tag when model.requestedVersion is empty. */
  defaultVersion: string;
  /** An image reference; when set, a runnable modelcar image is pushed too, tagged `<version>-modelcar`. */
  modelcarBase?: string;
  /** A client for the modelcar base's registry when it is another one (default: anonymous). */
  modelcarBaseClient?: RegistryClient;
  /** Repositories of the same registry that may already hold the files: blobs are mounted from them. */
  mountFrom?: readonly string[];
  /** Bytes per PATCH, and the size up to which a blob goes in one PUT; default 16 MiB. */
  chunkSize?: number;
  /** Blobs uploaded at once; default 4. Memory is about chunkSize × concurrency. */
  concurrency?: number;
}

/** What the last register() did to the blobs, for logs and tests. */
export interface OciTarget extends ModelRegistryTarget {
  lastCounts(): { present: number; mounted: number; uploaded: number } | undefined;
}

const DEFAULT_CHUNK = 16 * 1024 * 1024;
const DEFAULT_CONCURRENCY = 4;
const CONTENT_TAG_PREFIX = 'mlops-content-';
const MODELCAR_SUFFIX = '-modelcar';

/** The tag that finds a manifest by content, whatever version it was first pushed as. */
export function contentTag(contentDigest: string): string {
  return `${CONTENT_TAG_PREFIX}${contentDigest.replace(/^sha256:/, '')}`;
}

/** The model as a CNCF ModelPack artifact (and optionally a modelcar image) in an OCI registry. */
export function createOciTarget(options: OciTargetOptions): OciTarget {
  const modelcarBase = options.modelcarBase ? parseBase(options.modelcarBase) : undefined;
  let counts: BlobPusher['counts'] | undefined;
  return {
    lastCounts: () => counts,
    async register(model, log, signal) {
      const version = model.requestedVersion || options.defaultVersion;
      const problem = checkTag(version) ?? (modelcarBase ? checkTag(`${version}${MODELCAR_SUFFIX}`) : undefined);
      if (problem) throw new InputError('modelVersion', problem);
      const pusher = new BlobPusher(options.client, options.repository.repository, {
        chunkSize: options.chunkSize ?? DEFAULT_CHUNK,
        concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
        signal,
        log,
      });
      counts = pusher.counts;
      const registered = await registerModel(options, pusher, model, version, log);
      if (!modelcarBase) return registered;
      const modelcar = await pushModelcar({
        pusher,
        base: modelcarBase,
        baseClient: modelcarBase.image.registry === options.client.registry ? options.client : options.modelcarBaseClient ?? new RegistryClient({ registry: modelcarBase.image.registry, signal }),
        files: sortedFiles(model.files),
        name: model.name,
        version,
        contentDigest: model.contentDigest,
        tag: `${version}${MODELCAR_SUFFIX}`,
      });
      log.info(`modelcar image ${modelcar.reused ? 'already there' : 'pushed'}: ${options.repository.name}:${version}${MODELCAR_SUFFIX} (${modelcar.digest})`);
      return { ...registered, reused: registered.reused && modelcar.reused };
    },
  };
}

async function registerModel(options: OciTargetOptions, pusher: BlobPusher, model: PreparedModel, version: string, log: TargetLog): Promise<RegisteredModel> {
  const { client } = options;
  const repository = options.repository.repository;
  const result = (digest: string, reused: boolean): RegisteredModel => ({
    name: model.name,
    version,
    uri: `oci://${options.repository.name}@${digest}`,
    reused,
  });

  const existing = await client.getManifest(repository, version);
  if (existing) {
    if (annotationsOf(existing.body)[CONTENT_DIGEST_KEY] === model.contentDigest) {
      log.info(`${options.repository.name}:${version} already holds this model (${model.contentDigest}): reusing it`);
      return result(existing.digest, true);
    }
    throw new UserError(
      `registry ${client.registry}: version '${version}' of ${options.repository.name} already exists with other content: choose another 'modelVersion', or leave it empty to use the commit SHA`,
    );
  }

  const byContent = await client.getManifest(repository, contentTag(model.contentDigest));
  if (byContent && annotationsOf(byContent.body)[CONTENT_DIGEST_KEY] === model.contentDigest) {
    await client.putManifest(repository, version, byContent);
    log.info(`${options.repository.name} already holds this model (${model.contentDigest}): tagged it '${version}'`);
    return result(byContent.digest, true);
  }

  const files = sortedFiles(model.files);
  const layers = modelLayers(files);
  const totalBytes = files.reduce((sum, file) => sum + file.size, 0);
  log.info(`pushing ${files.length} file(s), ${formatBytes(totalBytes)}, to ${options.repository.name}:${version}`);
  pusher.expect(totalBytes);
  await runPool(uniqueByDigest(files), pusher.options.concurrency, async (file) => {
    const source = new FileSource(file);
    try {
      await pusher.push(source, mountCandidates(options, model));
    } finally {
      await source.close();
    }
  });

  const created = new Date();
  const config = await pusher.pushJson(modelConfig(model, version, layers, created));
  const manifest = modelManifest({ mediaType: '', ...config }, layers, manifestAnnotations(model, version, created));
  const body: Manifest = { body: Buffer.from(JSON.stringify(manifest), 'utf8'), mediaType: OCI_MANIFEST, digest: '' };
  // Tags only now that every blob is in place: a failed upload leaves no tag behind.
  const digest = await client.putManifest(repository, version, body);
  await client.putManifest(repository, contentTag(model.contentDigest), body);
  const { present, mounted, uploaded } = pusher.counts;
  log.info(`pushed ${options.repository.name}:${version} (${digest}): ${uploaded} blob(s) uploaded, ${mounted} mounted, ${present} already there`);
  return result(digest, false);
}

/** Code-unit order, as the content digest sorts: the same layers in the same order everywhere. */
function sortedFiles(files: readonly ModelFile[]): ModelFile[] {
  return [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Two files with the same content are one blob: upload it once. */
function uniqueByDigest(files: readonly ModelFile[]): ModelFile[] {
  const seen = new Set<string>();
  return files.filter((file) => !seen.has(file.digest) && seen.add(file.digest));
}

/** Repositories to mount from: those given, and the training image's when it lives in the same registry. */
function mountCandidates(options: OciTargetOptions, model: PreparedModel): string[] {
  const candidates = new Set(options.mountFrom ?? []);
  for (const image of (model.tags.get(LINEAGE_KEYS.sourceImage) ?? '').split(/[\s,]+/).filter(Boolean)) {
    const parsed = parseImageReference(image);
    if (typeof parsed !== 'string' && parsed.image.registry === options.client.registry) candidates.add(parsed.image.repository);
  }
  candidates.delete(options.repository.repository);
  return [...candidates];
}

function parseBase(text: string): ImageReference {
  const parsed = parseImageReference(text);
  if (typeof parsed === 'string') throw new InputError('ociModelcarBase', parsed);
  return parsed;
}
