import type { SchemaNode } from './schema-node.js';

type Json = unknown;
type JsonObject = Record<string, Json>;
const isObject = (value: Json): value is JsonObject => !!value && typeof value === 'object' && !Array.isArray(value);

/** RFC 7386 JSON merge patch: objects merged, null deletes, anything else (lists too) replaces. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [name, value] of Object.entries(patch)) {
    if (value === null) delete out[name];
    else out[name] = mergePatch(out[name], value);
  }
  return out;
}

/**
 * A strategic merge patch without its directives: like a merge patch, except that lists the
 * schema marks with a merge key are merged item by item on that key. Directives ($patch,
 * $setElementOrder, ...) are reported through `unsupported`, since this fake does not apply them.
 */
export function strategicMergePatch(target: Json, patch: Json, node: SchemaNode | undefined, unsupported: (what: string) => void): Json {
  if (isObject(patch)) {
    const out: JsonObject = isObject(target) ? { ...target } : {};
    for (const [name, value] of Object.entries(patch)) {
      if (name.startsWith('$')) {
        unsupported(`strategic merge patch directive ${name}`);
        continue;
      }
      if (value === null) delete out[name];
      else out[name] = strategicMergePatch(out[name], value, node?.field(name), unsupported);
    }
    return out;
  }
  const kind = node?.listKind();
  if (Array.isArray(patch) && Array.isArray(target) && kind?.type === 'map') {
    const sameItem = (a: Json, b: Json) => isObject(a) && isObject(b) && kind.keys.every((key) => a[key] === b[key]);
    const out = structuredClone(target);
    for (const item of patch) {
      const index = out.findIndex((candidate) => sameItem(candidate, item));
      if (index >= 0) out[index] = strategicMergePatch(out[index], item, node?.items(), unsupported);
      else out.push(structuredClone(item));
    }
    return out;
  }
  return structuredClone(patch);
}
