import { jsonEqual } from './json-equal.js';
import { fieldsOf, fromFieldsV1, isItem, mergeInto, removeAt, split, toFieldsV1, valueAt, type FieldPath } from './field-set.js';
import type { SchemaNode } from './schema-node.js';
import type { K8sObject } from './store.js';

/** One metadata.managedFields entry, as the API server writes it. */
export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

export interface Conflict {
  manager: string;
  apiVersion: string;
  path: FieldPath;
}

/** Metadata the API server owns: never part of anyone's field set. */
const SERVER_METADATA = ['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields', 'selfLink', 'deletionTimestamp', 'deletionGracePeriodSeconds'];

export const now = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/** The part of an object a manager can own: no apiVersion/kind, no server metadata, status only when asked. */
export function ownable(object: K8sObject, part: 'main' | 'status', statusSubresource: boolean): Record<string, unknown> {
  const { apiVersion: _a, kind: _k, metadata, status, ...rest } = structuredClone(object);
  if (part === 'status') return status === undefined ? {} : { status };
  const ownMetadata = Object.fromEntries(Object.entries(metadata ?? {}).filter(([name]) => !SERVER_METADATA.includes(name)));
  return {
    ...(Object.keys(ownMetadata).length ? { metadata: ownMetadata } : {}),
    ...rest,
    ...(statusSubresource || status === undefined ? {} : { status }),
  };
}

function entries(object: K8sObject | undefined): ManagedFieldsEntry[] {
  return structuredClone((object?.metadata.managedFields as ManagedFieldsEntry[] | undefined) ?? []);
}

const sameSlot = (a: ManagedFieldsEntry, b: Pick<ManagedFieldsEntry, 'manager' | 'operation' | 'subresource'>) =>
  a.manager === b.manager && a.operation === b.operation && (a.subresource ?? '') === (b.subresource ?? '');

function withEntry(list: ManagedFieldsEntry[], entry: ManagedFieldsEntry, paths: Set<FieldPath>): ManagedFieldsEntry[] {
  const rest = list.filter((candidate) => !sameSlot(candidate, entry));
  return paths.size ? [...rest, { ...entry, fieldsV1: toFieldsV1(paths) }] : rest;
}

/** Removes paths from other managers' entries (dropping entries left empty). */
function disown(list: ManagedFieldsEntry[], paths: Set<FieldPath>, except: Pick<ManagedFieldsEntry, 'manager' | 'operation' | 'subresource'>): ManagedFieldsEntry[] {
  return list.flatMap((entry) => {
    if (sameSlot(entry, except)) return [entry];
    const owned = fromFieldsV1(entry.fieldsV1);
    let changed = false;
    for (const path of paths) changed = owned.delete(path) || changed;
    if (!changed) return [entry];
    return owned.size ? [{ ...entry, fieldsV1: toFieldsV1(owned) }] : [];
  });
}

export interface ApplyOptions {
  manager: string;
  force: boolean;
  /** The schema of the whole object, for list and map semantics. */
  node: SchemaNode | undefined;
  /** Whether status belongs to the status subresource (and apply to the main resource leaves it alone). */
  statusSubresource: boolean;
  subresource?: 'status';
}

/**
 * Server-side apply, simplified from structured-merge-diff: the applied configuration's fields
 * replace what this manager applied before; fields it applied before and no longer does are
 * removed unless another manager owns them; fields of other managers stay. A field another
 * manager owns with a different value is a conflict, unless forced, which takes it over.
 */
export function applyConfiguration(live: K8sObject | undefined, config: K8sObject, options: ApplyOptions): { object: K8sObject } | { conflicts: Conflict[] } {
  const part = options.subresource === 'status' ? 'status' : 'main';
  const applied = ownable(config, part, options.statusSubresource);
  const base = live ? ownable(live, part, options.statusSubresource) : {};
  const slot = { manager: options.manager, operation: 'Apply' as const, subresource: options.subresource };
  let managed = entries(live);
  const appliedFields = fieldsOf(applied, options.node);
  const conflicts: Conflict[] = [];
  for (const entry of managed) {
    if (sameSlot(entry, slot) || (entry.subresource ?? '') !== (options.subresource ?? '')) continue;
    for (const path of fromFieldsV1(entry.fieldsV1)) {
      if (!appliedFields.has(path) || isItem(path)) continue;
      if (!jsonEqual(valueAt(base, path), valueAt(applied, path))) conflicts.push({ manager: entry.manager, apiVersion: entry.apiVersion, path });
    }
  }
  if (conflicts.length && !options.force) return { conflicts };
  if (conflicts.length) managed = disown(managed, new Set(conflicts.map((conflict) => conflict.path)), slot);

  const previous = fromFieldsV1(managed.find((entry) => sameSlot(entry, slot))?.fieldsV1 ?? {});
  const ownedByOthers = new Set(managed.filter((entry) => !sameSlot(entry, slot)).flatMap((entry) => [...fromFieldsV1(entry.fieldsV1)]));
  let merged = mergeInto(base, applied, options.node) as Record<string, unknown>;
  for (const path of previous) {
    if (appliedFields.has(path)) continue;
    // An item stays while anyone else owns a field inside it.
    const prefix = `${path}\n`;
    if (ownedByOthers.has(path) || [...ownedByOthers].some((other) => other.startsWith(prefix))) continue;
    removeAt(merged, path);
  }
  merged = dropEmptyParents(merged, previous);
  managed = withEntry(managed, { ...slot, ...(options.subresource ? {} : { subresource: undefined }), apiVersion: config.apiVersion, time: now(), fieldsType: 'FieldsV1', fieldsV1: {} }, appliedFields);
  return { object: assemble(live, config, merged, part, managed) };
}

/**
 * Records a non-apply write (create, update, patch) by a manager: the fields it changed become
 * its own and leave other managers; fields that are gone leave everyone.
 */
export function recordUpdate(
  old: K8sObject | undefined,
  updated: K8sObject,
  options: { manager: string; node: SchemaNode | undefined; statusSubresource: boolean; subresource?: 'status' },
): K8sObject {
  const part = options.subresource === 'status' ? 'status' : 'main';
  const before = old ? ownable(old, part, options.statusSubresource) : {};
  const after = ownable(updated, part, options.statusSubresource);
  const oldFields = fieldsOf(before, options.node);
  const newFields = fieldsOf(after, options.node);
  const changed = new Set([...newFields].filter((path) => !oldFields.has(path) || !jsonEqual(valueAt(before, path), valueAt(after, path))));
  const gone = new Set([...oldFields].filter((path) => !newFields.has(path)));
  const slot = { manager: options.manager, operation: 'Update' as const, subresource: options.subresource };
  let managed = disown(entries(old), new Set([...changed, ...gone]), slot);
  const mine = fromFieldsV1(managed.find((entry) => sameSlot(entry, slot))?.fieldsV1 ?? {});
  for (const path of gone) mine.delete(path);
  for (const path of changed) mine.add(path);
  if (changed.size || gone.size) {
    managed = withEntry(managed, { ...slot, apiVersion: updated.apiVersion, time: now(), fieldsType: 'FieldsV1', fieldsV1: {} }, mine);
  }
  const object = structuredClone(updated);
  object.metadata.managedFields = managed.map(clean);
  return object;
}

/** Puts the merged part back with what the server keeps: identity metadata, and status or spec of the other part. */
function assemble(live: K8sObject | undefined, config: K8sObject, merged: Record<string, unknown>, part: 'main' | 'status', managed: ManagedFieldsEntry[]): K8sObject {
  const identity = { ...(live?.metadata ?? {}), name: config.metadata.name, ...(config.metadata.namespace ? { namespace: config.metadata.namespace } : {}) };
  let object: K8sObject;
  if (part === 'status') {
    object = { ...structuredClone(live ?? config), status: merged.status ?? {} };
  } else {
    const { metadata, ...rest } = merged as { metadata?: Record<string, unknown> };
    const keep = Object.fromEntries(Object.entries(identity).filter(([name]) => SERVER_METADATA.includes(name)));
    object = { apiVersion: config.apiVersion, kind: config.kind, ...rest, metadata: { ...keep, ...(metadata ?? {}) } as K8sObject['metadata'] };
    if (live?.status !== undefined && !('status' in rest)) object.status = structuredClone(live.status);
  }
  object.metadata.managedFields = managed.map(clean);
  return object;
}

/** Maps a removed field leaves empty (labels: {} after its last label went) go too. */
function dropEmptyParents(value: Record<string, unknown>, removed: Set<FieldPath>): Record<string, unknown> {
  for (const path of removed) {
    const steps = split(path);
    for (let length = steps.length - 1; length > 0; length--) {
      const parentPath = steps.slice(0, length).join('\n');
      const parent = valueAt(value, parentPath);
      if (parent && typeof parent === 'object' && !Array.isArray(parent) && !Object.keys(parent).length) removeAt(value, parentPath);
      else break;
    }
  }
  return value;
}

function clean(entry: ManagedFieldsEntry): ManagedFieldsEntry {
  const { subresource, ...rest } = entry;
  return subresource ? { ...rest, subresource } : rest;
}

/** The API server's conflict message: 'Apply failed with 1 conflict: conflict with "x" using apps/v1: .spec.replicas'. */
export function conflictMessage(conflicts: Conflict[], display: (path: FieldPath) => string): string {
  const byManager = new Map<string, Conflict[]>();
  for (const conflict of conflicts) {
    const key = `"${conflict.manager}" using ${conflict.apiVersion}`;
    byManager.set(key, [...(byManager.get(key) ?? []), conflict]);
  }
  const parts = [...byManager].map(([who, list]) =>
    list.length === 1 ? `conflict with ${who}: ${display(list[0]!.path)}` : `conflicts with ${who}:\n${list.map((conflict) => `- ${display(conflict.path)}`).join('\n')}`,
  );
  const count = conflicts.length;
  return `Apply failed with ${count} conflict${count === 1 ? '' : 's'}: ${parts.join('\n')}`;
}
