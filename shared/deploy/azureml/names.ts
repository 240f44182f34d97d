import { randomBytes } from 'node:crypto';

/** Tag on what this step creates, so it removes only its own deployments. */
export const CREATED_BY_TAG = 'mlops-tasks.created-by';
export const CREATED_BY = 'DeployModel';

// Azure ML's own rule for online endpoint and deployment names, stricter than the spec's pattern
// (^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$): 3 to 32 characters, a letter first, letters, digits, '-'.
const ONLINE_NAME = /^[a-zA-Z][a-zA-Z0-9-]{1,30}[a-zA-Z0-9]$/;
const MAX_NAME = 32;
const SUFFIX = 6;

/** The problem with an endpoint name, or undefined when Azure ML accepts it. */
export function endpointNameProblem(name: string): string | undefined {
  return ONLINE_NAME.test(name) ? undefined : `'${name}' is not a valid Azure ML online endpoint name: 3 to 32 letters, digits and '-', starting with a letter and not ending with '-'`;
}

/**
 * A fresh deployment name for blue/green: the endpoint's name cut to fit, then a short random
 * suffix; never one of `taken`.
 */
export function newDeploymentName(specName: string, taken: Iterable<string> = []): string {
  const used = new Set([...taken].map((name) => name.toLowerCase()));
  let base = specName.toLowerCase().replace(/[^a-z0-9-]+/g, '-').slice(0, MAX_NAME - SUFFIX - 1).replace(/-+$/, '');
  if (!/^[a-z]/.test(base)) base = `d${base}`.slice(0, MAX_NAME - SUFFIX - 1);
  for (;;) {
    // base36 of random bytes: letters and digits only.
    const suffix = BigInt(`0x${randomBytes(8).toString('hex')}`).toString(36).slice(-SUFFIX).padStart(SUFFIX, '0');
    const name = `${base}-${suffix}`;
    if (!used.has(name)) return name;
  }
}
