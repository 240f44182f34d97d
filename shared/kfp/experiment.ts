import { UserError } from '../util/errors.js';
import type { KfpApi, KfpExperiment } from './api.js';

/**
 * The experiment of that name, created when missing. A 409 on create means a parallel job made it
 * first: it is looked up again rather than failing the step.
 */
export async function ensureExperiment(
  api: KfpApi,
  name: string,
  namespace: string,
  found?: KfpExperiment,
): Promise<{ experiment: KfpExperiment; created: boolean }> {
  if (found) return { experiment: found, created: false };
  const created = await api.createExperiment(name, namespace);
  if (created) return { experiment: created, created: true };
  const existing = await api.findExperiment(name, namespace);
  if (existing) return { experiment: existing, created: false };
  throw new UserError(`experiment '${name}': the server says it exists (409) but does not list it${namespace ? ` in namespace '${namespace}'` : ''}`);
}
