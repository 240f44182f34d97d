/**
 * Whether the spec a server stores for a version is the package the step holds. The server does
 * not keep the uploaded bytes: it re-marshals the spec through protobuf JSON (int64 as strings,
 * default values dropped, keys reordered) and may rewrite pipelineInfo.name. So both sides are
 * brought to one canonical form that ignores exactly those differences and nothing else.
 */
export function sameSpec(stored: unknown[], local: unknown[]): boolean {
  return canonical(stored) === canonical(local);
}

function withoutPipelineName(document: unknown): unknown {
  if (!document || typeof document !== 'object' || Array.isArray(document)) return document;
  const { pipelineInfo, ...rest } = document as Record<string, unknown>;
  if (!pipelineInfo || typeof pipelineInfo !== 'object') return document;
  const { name: _name, ...info } = pipelineInfo as Record<string, unknown>;
  return { ...rest, pipelineInfo: info };
}

/** Sorted keys, scalars as text, protobuf defaults ('' 0 false [] {} null) left out. */
function normalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.length ? value.map(normalize) : undefined;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .map((key) => [key, normalize((value as Record<string, unknown>)[key])] as const)
      .filter(([, item]) => item !== undefined);
    return entries.length ? Object.fromEntries(entries) : undefined;
  }
  if (value === null || value === undefined || value === '' || value === 0 || value === false) return undefined;
  return String(value);
}

function canonical(documents: unknown[]): string {
  const [first, ...rest] = documents;
  return JSON.stringify(normalize([withoutPipelineName(first), ...rest]) ?? null);
}
