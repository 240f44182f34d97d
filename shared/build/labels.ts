import type { CiContext } from '../platform/platform.js';

/** OCI annotations that tie an image to the commit and repository it was built from. */
export function ociLabels(ci: CiContext, created: Date): Map<string, string> {
  const labels = new Map<string, string>();
  if (ci.repositoryUrl) labels.set('org.opencontainers.image.source', ci.repositoryUrl);
  if (ci.sha) labels.set('org.opencontainers.image.revision', ci.sha);
  labels.set('org.opencontainers.image.created', created.toISOString());
  return labels;
}
