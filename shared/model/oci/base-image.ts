import { OCI_INDEX, DOCKER_MANIFEST_LIST } from '../../registry/media-types.js';
import type { RegistryClient } from '../../registry/client.js';
import { UserError } from '../../util/errors.js';
import type { Descriptor, ImageManifest } from './artifact.js';

export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER_TAR = 'application/vnd.oci.image.layer.v1.tar';

/** Docker schema 2 media types and their OCI equivalents: the modelcar is an OCI manifest. */
const TO_OCI: Record<string, string> = {
  'application/vnd.docker.container.image.v1+json': OCI_CONFIG,
  'application/vnd.docker.image.rootfs.diff.tar.gzip': 'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.docker.image.rootfs.diff.tar': OCI_LAYER_TAR,
};

export interface BaseImage {
  /** The digest of the platform manifest used (not of an index). */
  digest: string;
  layers: Descriptor[];
  /** The image config, parsed: rootfs, history and the runtime settings are kept. */
  config: { rootfs?: { type?: string; diff_ids?: string[] }; history?: unknown[]; [key: string]: unknown };
}

/** Fetches a base image, resolving an index (or Docker manifest list) to linux/amd64. */
export async function fetchBaseImage(client: RegistryClient, repository: string, reference: string, shown: string): Promise<BaseImage> {
  let manifest = await client.getManifest(repository, reference);
  if (!manifest) throw new UserError(`modelcar base image '${shown}' was not found in ${client.registry}`);
  if (manifest.mediaType === OCI_INDEX || manifest.mediaType === DOCKER_MANIFEST_LIST) {
    const index = JSON.parse(manifest.body.toString('utf8')) as { manifests?: { digest: string; platform?: { os?: string; architecture?: string } }[] };
    const chosen = index.manifests?.find((entry) => entry.platform?.os === 'linux' && entry.platform.architecture === 'amd64');
    if (!chosen) throw new UserError(`modelcar base image '${shown}' has no linux/amd64 image`);
    manifest = await client.getManifest(repository, chosen.digest);
    if (!manifest) throw new UserError(`modelcar base image '${shown}': its linux/amd64 manifest ${chosen.digest} is missing`);
  }
  const parsed = JSON.parse(manifest.body.toString('utf8')) as Partial<ImageManifest>;
  if (!parsed.config || !Array.isArray(parsed.layers)) throw new UserError(`modelcar base image '${shown}' is not an image (${manifest.mediaType})`);
  const config = JSON.parse((await client.getBlob(repository, parsed.config.digest)).toString('utf8')) as BaseImage['config'];
  const layers = parsed.layers.map(({ mediaType, digest, size }) => ({ mediaType: TO_OCI[mediaType] ?? mediaType, digest, size }));
  return { digest: manifest.digest, layers, config };
}
