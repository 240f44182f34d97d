import type { ModelFile, PreparedModel } from '../target.js';
import { CONTENT_DIGEST_KEY } from '../target.js';
import { OCI_MANIFEST } from '../../registry/media-types.js';
import { LINEAGE_KEYS } from '../lineage.js';
import {
  FILE_METADATA, FILEPATH, MEDIATYPE_UNTESTED, OCI_CREATED, OCI_DESCRIPTION, OCI_REVISION, OCI_SOURCE, OCI_TITLE, OCI_VERSION,
} from './annotations.js';
import { layerKindOf, MODEL_ARTIFACT_TYPE, MODEL_CONFIG } from './media-types.js';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** The ModelPack config (specs/modelpack/config.md); only fields we know are set. */
export interface ModelConfig {
  descriptor: { name: string; version: string; createdAt: string; description?: string; sourceURL?: string; revision?: string };
  config: { format?: string };
  modelfs: { type: 'layers'; diffIds: string[] };
}

/** Raw layers carry their file's attributes here; fixed values, as spec.md asks for reproducibility. */
function fileMetadata(file: ModelFile): string {
  const name = file.path.split('/').pop() ?? file.path;
  return JSON.stringify({ name, mode: 0o644, uid: 0, gid: 0, size: file.size, mtime: '1970-01-01T00:00:00Z', typeflag: 48 });
}

/** One raw layer per file, in the files' (sorted) order. */
export function modelLayers(files: readonly ModelFile[]): Descriptor[] {
  return files.map((file) => {
    const kind = layerKindOf(file.path);
    const annotations: Record<string, string> = { [FILEPATH]: file.path, [FILE_METADATA]: fileMetadata(file) };
    if (kind.untested) annotations[MEDIATYPE_UNTESTED] = 'true';
    return { mediaType: kind.mediaType, digest: file.digest, size: file.size, annotations };
  });
}

/**
 * The config names the version it was first pushed as: a later version tag that reuses the same
 * content points at this same manifest, so its config still says the first version.
 */
export function modelConfig(model: PreparedModel, version: string, layers: readonly Descriptor[], created: Date): ModelConfig {
  const source = model.tags.get(LINEAGE_KEYS.repository);
  const revision = model.tags.get(LINEAGE_KEYS.commit);
  return {
    descriptor: {
      name: model.name,
      version,
      createdAt: created.toISOString(),
      ...(model.description ? { description: model.description } : {}),
      ...(source ? { sourceURL: source } : {}),
      ...(revision ? { revision } : {}),
    },
    // ModelPack's `format` is the weights' format (pt, onnx, ...); a modelType is the nearest we know.
    config: model.modelType ? { format: model.modelType } : {},
    // Raw layers are uncompressed: each DiffID is the layer digest.
    modelfs: { type: 'layers', diffIds: layers.map((layer) => layer.digest) },
  };
}

/** Manifest annotations: every model tag (lineage included), the OCI standard keys, the content digest. */
export function manifestAnnotations(model: PreparedModel, version: string, created: Date): Record<string, string> {
  const annotations: Record<string, string> = Object.fromEntries(model.tags);
  annotations[OCI_TITLE] = model.name;
  annotations[OCI_VERSION] = version;
  annotations[OCI_CREATED] = created.toISOString();
  if (model.description) annotations[OCI_DESCRIPTION] = model.description;
  const source = model.tags.get(LINEAGE_KEYS.repository);
  if (source) annotations[OCI_SOURCE] = source;
  const revision = model.tags.get(LINEAGE_KEYS.commit);
  if (revision) annotations[OCI_REVISION] = revision;
  annotations[CONTENT_DIGEST_KEY] = model.contentDigest;
  return annotations;
}

export function modelManifest(config: Descriptor, layers: Descriptor[], annotations: Record<string, string>): ImageManifest {
  return { schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: MODEL_ARTIFACT_TYPE, config: { ...config, mediaType: MODEL_CONFIG }, layers, annotations };
}

/** The annotations of a manifest body; {} when it is not JSON or has none. */
export function annotationsOf(body: Buffer): Record<string, string> {
  try {
    return (JSON.parse(body.toString('utf8')) as { annotations?: Record<string, string> }).annotations ?? {};
  } catch {
    return {};
  }
}
