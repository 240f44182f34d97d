import { CONTENT_DIGEST_KEY, type ModelFile } from '../target.js';
import { OCI_MANIFEST } from '../../registry/media-types.js';
import { RegistryClient } from '../../registry/client.js';
import type { BlobSource } from '../../registry/blob-upload.js';
import type { Descriptor, ImageManifest } from './artifact.js';
import { annotationsOf } from './artifact.js';
import { OCI_BASE_DIGEST, OCI_BASE_NAME, OCI_CREATED, OCI_TITLE, OCI_VERSION } from './annotations.js';
import { fetchBaseImage, OCI_CONFIG, OCI_LAYER_TAR, type BaseImage } from './base-image.js';
import type { BlobPusher } from './blob-pusher.js';
import type { ImageReference } from './image-reference.js';
import { TarLayout } from './tar-layout.js';
import { runPool } from '../../util/pool.js';

/** Where KServe's modelcar storage looks for the model inside the image. */
export const MODELCAR_ROOT = 'models';

export interface ModelcarRequest {
  pusher: BlobPusher;
  base: ImageReference;
  /** A client for the base image's registry (the pusher's own when it is the same). */
  baseClient: RegistryClient;
  files: readonly ModelFile[];
  name: string;
  version: string;
  contentDigest: string;
  tag: string;
}

/** Was this modelcar tag pushed from the same content on the same base? */
export function sameModelcar(body: Buffer, contentDigest: string, baseDigest: string): boolean {
  const annotations = annotationsOf(body);
  return annotations[CONTENT_DIGEST_KEY] === contentDigest && annotations[OCI_BASE_DIGEST] === baseDigest;
}

/**
 * A runnable image: the base image plus one uncompressed tar layer holding the files under
 * /models, built without a container tool. Tagged only once every blob is in place.
 * Returns the manifest digest, and whether an existing modelcar was reused.
 */
export async function pushModelcar(request: ModelcarRequest): Promise<{ digest: string; reused: boolean }> {
  const { pusher, base, baseClient } = request;
  const { client, repository } = pusher;
  const shown = `${base.image.name}:${base.reference}`.replace(/:(sha256:)/, '@$1');
  const baseImage = await fetchBaseImage(baseClient, base.image.repository, base.reference, shown);

  const existing = await client.getManifest(repository, request.tag);
  if (existing && sameModelcar(existing.body, request.contentDigest, baseImage.digest)) return { digest: existing.digest, reused: true };

  await copyBaseLayers(request, baseImage);
  const layout = new TarLayout(
    `the modelcar layer of ${request.name}`,
    request.files.map((file) => ({ path: `${MODELCAR_ROOT}/${file.path}`, absolutePath: file.absolutePath, size: file.size })),
  );
  pusher.expect(layout.size);
  const layerDigest = await pusher.upload(layout);

  const created = new Date().toISOString();
  const config = {
    ...baseImage.config,
    created,
    // An uncompressed layer: its DiffID is its digest.
    rootfs: { type: 'layers', diff_ids: [...(baseImage.config.rootfs?.diff_ids ?? []), layerDigest] },
    history: [
      ...(baseImage.config.history ?? []),
      { created, created_by: `mlops-tasks RegisterModel: ${request.name} ${request.version} in /${MODELCAR_ROOT}`, comment: request.contentDigest },
    ],
  };
  const configBlob = await pusher.pushJson(config);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: OCI_CONFIG, ...configBlob },
    layers: [...baseImage.layers, { mediaType: OCI_LAYER_TAR, digest: layerDigest, size: layout.size }],
    annotations: {
      [OCI_TITLE]: request.name,
      [OCI_VERSION]: request.version,
      [OCI_CREATED]: created,
      [OCI_BASE_NAME]: shown,
      [OCI_BASE_DIGEST]: baseImage.digest,
      [CONTENT_DIGEST_KEY]: request.contentDigest,
    },
  };
  const body = Buffer.from(JSON.stringify(manifest), 'utf8');
  const digest = await client.putManifest(repository, request.tag, { body, mediaType: OCI_MANIFEST, digest: '' });
  return { digest, reused: false };
}

/**
 * The base layers in our repository: mounted from the base repository in the same registry,
 * otherwise copied through the registry API in ranged reads (never a whole layer in memory).
 */
async function copyBaseLayers(request: ModelcarRequest, baseImage: BaseImage): Promise<void> {
  const { pusher, baseClient, base } = request;
  const sameRegistry = baseClient === pusher.client || base.image.registry === pusher.client.registry;
  for (const layer of baseImage.layers) pusher.expect(layer.size);
  await runPool(baseImage.layers, pusher.options.concurrency, async (layer) => {
    await pusher.push(remoteBlob(baseClient, base.image.repository, layer), sameRegistry ? [base.image.repository] : []);
  });
}

function remoteBlob(client: RegistryClient, repository: string, layer: Descriptor): BlobSource & { digest: string } {
  return {
    name: `base layer ${layer.digest}`,
    size: layer.size,
    digest: layer.digest,
    read: async (buffer, length, position) => {
      const bytes = await client.getBlobRange(repository, layer.digest, position, position + length - 1);
      return bytes.copy(buffer, 0);
    },
  };
}
