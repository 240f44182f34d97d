import { createHash } from 'node:crypto';

/**
 * How an environment value appears in a diff or summary: never itself (env often carries keys and
 * tokens), but a short hash, so a changed value still shows as a change.
 */
export function envFingerprint(value: string): string {
  return `(hidden, sha256 ${createHash('sha256').update(value).digest('hex').slice(0, 8)})`;
}

/** A copy of a Kubernetes object or spec with every container env value fingerprinted. */
export function withEnvHidden<T>(value: T): T {
  if (Array.isArray(value)) return value.map(withEnvHidden) as T;
  if (!value || typeof value !== 'object') return value;
  const copy: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    copy[key] =
      key === 'env' && Array.isArray(inner)
        ? inner.map((entry: { value?: unknown }) => (typeof entry?.value === 'string' ? { ...entry, value: envFingerprint(entry.value) } : entry))
        : withEnvHidden(inner);
  }
  return copy as T;
}
