import type { ArmClient } from '../../azure/arm.js';
import { CONTENT_DIGEST_KEY } from '../target.js';
import type { ModelContainerResource, ModelVersionResource } from './resources.js';
import { modelPath, versionPath, type AzureMlWorkspace } from './workspace.js';

export function digestOf(version: ModelVersionResource): string | undefined {
  return version.properties.properties?.[CONTENT_DIGEST_KEY] ?? undefined;
}

export function versionName(version: ModelVersionResource): string {
  return version.name ?? version.id?.split('/').pop() ?? '';
}

export function findContainer(arm: ArmClient, ws: AzureMlWorkspace, name: string): Promise<ModelContainerResource | undefined> {
  return arm.find<ModelContainerResource>(`reading model '${name}'`, modelPath(ws, name));
}

export function findVersion(arm: ArmClient, ws: AzureMlWorkspace, name: string, version: string): Promise<ModelVersionResource | undefined> {
  return arm.find<ModelVersionResource>(`reading model '${name}' version ${version}`, versionPath(ws, name, version));
}

/**
 * A version of the model already holding this content, newest first. The `properties` filter lets
 * the service do the search; the digest is checked here too, so a service that ignores the
 * filter still gives the right answer (by paging through everything).
 */
export async function findVersionByDigest(arm: ArmClient, ws: AzureMlWorkspace, name: string, contentDigest: string): Promise<ModelVersionResource | undefined> {
  const versions = await arm.list<ModelVersionResource>(`listing versions of model '${name}'`, `${modelPath(ws, name)}/versions`, {
    $orderBy: 'createdtime desc',
    properties: `${CONTENT_DIGEST_KEY}=${contentDigest}`,
  });
  return versions.find((version) => digestOf(version) === contentDigest);
}

const INTEGER = /^\d+$/;

/**
 * The next integer version: the container's nextVersion when the service gives it, else one
 * past the highest integer version there is.
 */
export async function nextVersion(arm: ArmClient, ws: AzureMlWorkspace, name: string, container: ModelContainerResource | undefined): Promise<string> {
  if (!container) return '1';
  const { nextVersion: next, latestVersion: latest } = container.properties;
  if (next && INTEGER.test(next)) return next;
  if (latest && INTEGER.test(latest)) return String(Number(latest) + 1);
  const versions = await arm.list<ModelVersionResource>(`listing versions of model '${name}'`, `${modelPath(ws, name)}/versions`, { listViewType: 'All' });
  const highest = Math.max(0, ...versions.map(versionName).filter((v) => INTEGER.test(v)).map(Number));
  return String(highest + 1);
}
