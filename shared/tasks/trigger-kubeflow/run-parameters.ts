import { InputError, UserError } from '../../util/errors.js';
import type { Platform } from '../../platform/platform.js';
import type { KfpApi, KfpVersion } from '../../kfp/api.js';
import { interpretDocuments } from '../../kfp/package.js';
import { typeParameters, type GivenParameter } from '../../kfp/parameters.js';

/**
 * Types the parameters of a pipeline the server holds, by the spec of the version that will run:
 * the same checks as for a local package, before the run is created.
 */
export async function typeServerParameters(api: KfpApi, version: KfpVersion, given: GivenParameter[]): Promise<Record<string, unknown>> {
  const definition = interpretDocuments(await api.versionSpec(version));
  if (typeof definition === 'string') {
    if (given.length === 0) return {};
    throw new UserError(`cannot check 'parameters': the stored spec of version '${version.name}' ${definition}`);
  }
  if (definition.kind === 'v2' && api.version === 'v1beta1') {
    throw new UserError(`version '${version.name}' is a KFP v2 pipeline, which the v1beta1 API cannot run: use apiVersion v2beta1 or auto`);
  }
  const typed = typeParameters(definition.parameters, given, definition.kind);
  if (typeof typed === 'string') throw new InputError('parameters', typed);
  return typed;
}

/** Parameters are shown in the Kubeflow UI to everyone with access to the namespace. */
export function warnAboutSecretParameters(platform: Platform, parameters: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(parameters)) {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    if (platform.redact(text) !== text) {
      platform.warning(`parameter '${name}' holds a secret value: it will be visible in the Kubeflow UI; pass secrets as Kubernetes secrets instead`);
    }
  }
}
