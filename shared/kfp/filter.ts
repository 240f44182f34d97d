import type { ApiVersion } from './api.js';

/**
 * The `filter` query parameter for "name equals": JSON of a Filter message. v2beta1 calls the
 * comparison `operation`, v1beta1 `op`; each server rejects the other's spelling.
 */
export function nameEquals(version: ApiVersion, key: string, value: string): string {
  const comparison = version === 'v2beta1' ? { operation: 'EQUALS' } : { op: 'EQUALS' };
  return JSON.stringify({ predicates: [{ key, ...comparison, string_value: value }] });
}

/** Lists are read newest first, one page: enough to find one name or the latest version. */
export const NEWEST_FIRST = 'created_at desc';
