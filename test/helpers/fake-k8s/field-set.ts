import { jsonEqual } from './json-equal.js';
import type { SchemaNode } from './schema-node.js';

/**
 * Field paths as server-side apply records them (structured-merge-diff's FieldsV1): each step is
 * `f:<field>`, `k:<json of the key fields>` for an item of a map-list, or `v:<json value>` for an
 * item of a set. A path names a leaf (a scalar, an atomic list or map, an empty object) or, when it
 * ends in `k:`, the list item itself. Paths are kept as their steps joined by newlines.
 */
export type FieldPath = string;
type Json = unknown;
type JsonObject = Record<string, Json>;

const isObject = (value: Json): value is JsonObject => !!value && typeof value === 'object' && !Array.isArray(value);

export const join = (steps: string[]): FieldPath => steps.join('\n');
export const split = (path: FieldPath): string[] => (path ? path.split('\n') : []);

/** The key step of a map-list item: k:{"name":"main"} (keys sorted, as Go marshals a map). */
function itemKey(item: JsonObject, keys: string[]): string {
  const picked: JsonObject = {};
  for (const key of [...keys].sort()) if (key in item) picked[key] = item[key];
  return `k:${JSON.stringify(picked)}`;
}

/** Every field path set in a value, read with list and map semantics from its schema. */
export function fieldsOf(value: Json, node: SchemaNode | undefined, prefix: string[] = [], out = new Set<FieldPath>()): Set<FieldPath> {
  if (isObject(value) && Object.keys(value).length && !node?.atomicMap()) {
    for (const [name, inner] of Object.entries(value)) fieldsOf(inner, node?.field(name), [...prefix, `f:${name}`], out);
  } else if (Array.isArray(value) && node) {
    const kind = node.listKind();
    if (kind.type === 'map') {
      for (const item of value) {
        if (!isObject(item)) continue;
        const steps = [...prefix, itemKey(item, kind.keys)];
        out.add(join(steps));
        fieldsOf(item, node.items(), steps, out);
      }
    } else if (kind.type === 'set') {
      for (const item of value) out.add(join([...prefix, `v:${JSON.stringify(item)}`]));
    } else out.add(join(prefix));
  } else if (prefix.length) out.add(join(prefix));
  return out;
}

/** The value at a path, or undefined. */
export function valueAt(value: Json, path: FieldPath): Json {
  let current = value;
  for (const step of split(path)) {
    if (step.startsWith('f:')) current = isObject(current) ? current[step.slice(2)] : undefined;
    else if (step.startsWith('k:')) {
      const key = JSON.parse(step.slice(2)) as JsonObject;
      current = Array.isArray(current) ? current.find((item) => isObject(item) && Object.entries(key).every(([k, v]) => jsonEqual(item[k], v))) : undefined;
    } else if (step.startsWith('v:')) {
      const wanted = JSON.parse(step.slice(2));
      current = Array.isArray(current) && current.some((item) => jsonEqual(item, wanted)) ? wanted : undefined;
    } else return undefined;
    if (current === undefined) return undefined;
  }
  return current;
}

/** Removes the field, item or set member at a path (in place). */
export function removeAt(value: Json, path: FieldPath): void {
  const steps = split(path);
  const last = steps.pop();
  if (!last) return;
  const parent = valueAt(value, join(steps));
  if (last.startsWith('f:') && isObject(parent)) delete parent[last.slice(2)];
  else if (Array.isArray(parent)) {
    const target = valueAt(parent, join([last]));
    const index = parent.findIndex((item) => item === target || jsonEqual(item, target));
    if (index >= 0 && target !== undefined) parent.splice(index, 1);
  }
}

/** Whether a path is a list item (its own existence is owned, its fields decide its value). */
export const isItem = (path: FieldPath): boolean => split(path).at(-1)?.startsWith('k:') ?? false;

/** A path as kubectl shows it in a conflict: .spec.containers[name="main"].image */
export function display(path: FieldPath): string {
  return split(path)
    .map((step) => {
      if (step.startsWith('f:')) return `.${step.slice(2)}`;
      if (step.startsWith('k:')) {
        const key = JSON.parse(step.slice(2)) as JsonObject;
        return `[${Object.entries(key).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}]`;
      }
      return `[=${step.slice(2)}]`;
    })
    .join('');
}

/** A field set as the FieldsV1 JSON stored in metadata.managedFields. */
export function toFieldsV1(paths: Iterable<FieldPath>): JsonObject {
  const root: JsonObject = {};
  for (const path of paths) {
    let node = root;
    for (const step of split(path)) node = (node[step] ??= {}) as JsonObject;
    if (isItem(path)) node['.'] = {};
  }
  return root;
}

export function fromFieldsV1(tree: JsonObject, prefix: string[] = [], out = new Set<FieldPath>()): Set<FieldPath> {
  for (const [step, inner] of Object.entries(tree)) {
    if (step === '.') continue;
    const steps = [...prefix, step];
    const children = isObject(inner) ? Object.keys(inner) : [];
    if (!children.length || children.includes('.')) out.add(join(steps));
    if (isObject(inner)) fromFieldsV1(inner, steps, out);
  }
  return out;
}

/**
 * Merges an applied or patched value into a live one, field by field: objects recursively,
 * map-lists item by item on their keys, sets as a union; scalars and atomic lists replaced.
 */
export function mergeInto(live: Json, applied: Json, node: SchemaNode | undefined): Json {
  if (isObject(applied) && isObject(live) && !node?.atomicMap()) {
    const out: JsonObject = { ...live };
    for (const [name, inner] of Object.entries(applied)) out[name] = mergeInto(live[name], inner, node?.field(name));
    return out;
  }
  if (Array.isArray(applied) && Array.isArray(live) && node) {
    const kind = node.listKind();
    if (kind.type === 'map') {
      const out = structuredClone(live);
      for (const item of applied) {
        if (!isObject(item)) continue;
        const key = itemKey(item, kind.keys);
        const index = out.findIndex((candidate) => isObject(candidate) && itemKey(candidate, kind.keys) === key);
        if (index >= 0) out[index] = mergeInto(out[index], item, node.items());
        else out.push(structuredClone(item));
      }
      return out;
    }
    if (kind.type === 'set') return [...live, ...applied.filter((item) => !live.some((existing) => jsonEqual(existing, item)))];
  }
  return structuredClone(applied);
}
