import type { ApiVersion } from './api.js';

// A run is over in any of these; waiting on anything else (CANCELING, PAUSED, Terminating) would
// hang, which is what the Python SDK's wait does on a cancelled run.
const TERMINAL: Record<ApiVersion, ReadonlySet<string>> = {
  v2beta1: new Set(['SUCCEEDED', 'SKIPPED', 'FAILED', 'CANCELED']),
  v1beta1: new Set(['SUCCEEDED', 'SKIPPED', 'FAILED', 'ERROR']),
};

/** v1 reports Argo phases (Succeeded, Running); v2 upper-case states. Outputs use one spelling. */
export function normalizeState(state: string | undefined): string {
  return (state ?? '').trim().toUpperCase() || 'PENDING';
}

export function isTerminal(version: ApiVersion, state: string): boolean {
  return TERMINAL[version].has(state);
}

export const SUCCEEDED = 'SUCCEEDED';
