import { LineCounter, parseDocument } from 'yaml';

/**
 * Reads a manifest patch written as YAML or JSON (JSON is YAML). It must be one mapping; empty
 * text (or comments only) is the empty patch. A problem is one line with line and column, and
 * never quotes the text.
 */
export function parseManifestPatch(text: string): Record<string, unknown> | string {
  const lineCounter = new LineCounter();
  // prettyErrors off: the pretty form appends the offending source lines to the message.
  const doc = parseDocument(text, { prettyErrors: false, lineCounter, uniqueKeys: true });
  const error = doc.errors[0];
  if (error) {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    const message = error.code === 'MULTIPLE_DOCS' ? 'holds more than one document (---); give one mapping' : error.message;
    return `line ${line}, column ${col}: ${message}`;
  }
  if (doc.contents === null) return {};
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (caught) {
    // Too many aliases (a "billion laughs" document) and the like.
    return `cannot be read: ${(caught as Error).message}`;
  }
  if (!isObject(value)) return `must be a mapping of fields (such as 'spec: ...'), not ${kindOf(value)}`;
  return value;
}

/**
 * RFC 7386 JSON Merge Patch: null deletes a field, objects merge recursively, everything else
 * (arrays included) replaces. Neither argument is changed.
 */
export function applyMergePatch(target: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown>;
export function applyMergePatch(target: unknown, patch: unknown): unknown;
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete result[key];
    } else {
      // defineProperty, not assignment: a '__proto__' key must stay a field, not swap the prototype.
      Object.defineProperty(result, key, { value: applyMergePatch(field(result, key), value), enumerable: true, writable: true, configurable: true });
    }
  }
  return result;
}

const IDENTITY: [string, (manifest: unknown) => unknown][] = [
  ['apiVersion', (m) => field(m, 'apiVersion')],
  ['kind', (m) => field(m, 'kind')],
  ['metadata.name', (m) => field(field(m, 'metadata'), 'name')],
  ['metadata.namespace', (m) => field(field(m, 'metadata'), 'namespace')],
];

/**
 * Says what a patch would change about which object a manifest is (a patch must tune the
 * object, not make the step deploy something else), e.g. "would change kind from
 * InferenceService to Deployment"; undefined when it changes none of that.
 */
export function identityChange(before: unknown, after: unknown): string | undefined {
  const changes: string[] = [];
  for (const [name, get] of IDENTITY) {
    const was = get(before);
    const now = get(after);
    if (was === now) continue;
    if (now === undefined) changes.push(`remove ${name} (was ${show(was)})`);
    else if (was === undefined) changes.push(`set ${name} to ${show(now)} (it was not set)`);
    else changes.push(`change ${name} from ${show(was)} to ${show(now)}`);
  }
  return changes.length ? `would ${changes.join(', and ')}` : undefined;
}

function field(value: unknown, key: string): unknown {
  return isObject(value) && Object.hasOwn(value, key) ? value[key] : undefined;
}

function show(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'a list';
  return `a ${typeof value}`;
}
