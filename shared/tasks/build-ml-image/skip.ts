import type { ContentDigest } from '../../context/content-digest.js';
import type { Manifest, RegistryClient } from '../../registry/client.js';
import { OCI_MANIFEST, DOCKER_MANIFEST } from '../../registry/media-types.js';

export const CONTENT_LABEL = 'io.mlops-tasks.content-digest';
/** One label per part, so a later build can say which input changed. */
const PART_LABELS: Record<keyof ContentDigest['parts'], string> = {
  files: 'io.mlops-tasks.content.files',
  dockerfile: 'io.mlops-tasks.content.dockerfile',
  buildArgs: 'io.mlops-tasks.content.build-args',
  target: 'io.mlops-tasks.content.target',
  platform: 'io.mlops-tasks.content.platform',
};
const PART_NAMES: Record<keyof ContentDigest['parts'], string> = {
  files: 'the context files',
  dockerfile: 'the Dockerfile',
  buildArgs: "'buildArgs'",
  target: "'target'",
  platform: "'platform'",
};

/** The tag that marks, in the image's own repository, the image built from this content. */
export function contentTag(content: ContentDigest): string {
  return `mlops-content-${content.digest.replace(/^sha256:/, '')}`;
}

export function contentLabels(content: ContentDigest): Map<string, string> {
  const labels = new Map([[CONTENT_LABEL, content.digest]]);
  for (const [part, label] of Object.entries(PART_LABELS)) labels.set(label, content.parts[part as keyof ContentDigest['parts']]);
  return labels;
}

/** The manifest already built from this content, if the registry has one. */
export async function findBuiltContent(registry: RegistryClient, repository: string, content: ContentDigest): Promise<Manifest | undefined> {
  return registry.getManifest(repository, contentTag(content));
}

async function labelsOf(registry: RegistryClient, repository: string, manifest: Manifest): Promise<Record<string, string> | undefined> {
  if (manifest.mediaType !== OCI_MANIFEST && manifest.mediaType !== DOCKER_MANIFEST) return undefined;
  const { config } = JSON.parse(manifest.body.toString('utf8')) as { config?: { digest?: string } };
  if (!config?.digest) return undefined;
  const image = JSON.parse((await registry.getBlob(repository, config.digest)).toString('utf8')) as { config?: { Labels?: Record<string, string> } };
  return image.config?.Labels ?? undefined;
}

/**
 * Why a build is needed: compares the content parts with those recorded on an image already
 * under one of the requested tags (or `latest`), when there is one to compare with.
 */
export async function explainRebuild(registry: RegistryClient, repository: string, tags: readonly string[], content: ContentDigest): Promise<string> {
  for (const tag of new Set([...tags, 'latest'])) {
    const manifest = await registry.getManifest(repository, tag);
    const labels = manifest && (await labelsOf(registry, repository, manifest));
    if (!labels?.[CONTENT_LABEL]) continue;
    const changed = Object.entries(PART_LABELS)
      .filter(([part, label]) => labels[label] !== content.parts[part as keyof ContentDigest['parts']])
      .map(([part]) => PART_NAMES[part as keyof ContentDigest['parts']]);
    return changed.length ? `${changed.join(', ')} changed since the image tagged '${tag}'` : `the image tagged '${tag}' has other content`;
  }
  return `no image in the repository was built from this content, and none under ${[...new Set([...tags, 'latest'])].join(', ')} to compare with`;
}
