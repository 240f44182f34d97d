import type { DeploySpec } from '../target.js';

/** Container resources from the `resources` input: requests and limits alike, GPUs as limits. */
export function containerResources(resources: DeploySpec['resources']): Record<string, Record<string, string>> | undefined {
  const amounts: Record<string, string> = {};
  if (resources.cpu) amounts.cpu = resources.cpu;
  if (resources.memory) amounts.memory = resources.memory;
  const limits: Record<string, string> = { ...amounts };
  if (resources.gpu) limits['nvidia.com/gpu'] = String(resources.gpu);
  if (!Object.keys(limits).length) return undefined;
  return { ...(Object.keys(amounts).length ? { requests: amounts } : {}), limits };
}

export function envList(env: Record<string, string>): { name: string; value: string }[] {
  return Object.entries(env).map(([name, value]) => ({ name, value }));
}

/**
 * Lineage goes into annotations: label values allow neither URLs nor more than 63 characters.
 * Keys get our domain prefix so they cannot clash with anyone else's.
 */
export function lineageAnnotations(labels: Record<string, string>): Record<string, string> {
  const annotations: Record<string, string> = {};
  for (const [key, value] of Object.entries(labels)) annotations[key.startsWith('mlops-tasks.') ? `mlops-tasks.io/${key.slice('mlops-tasks.'.length)}` : key] = value;
  return annotations;
}
