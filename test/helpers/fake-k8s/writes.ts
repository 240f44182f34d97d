import { randomUUID } from 'node:crypto';
import { jsonEqual } from './json-equal.js';
import { flag, typeFor, type Params } from './core-v1.js';
import { applyDefaults } from './defaults.js';
import { display } from './field-set.js';
import { decode, mediaType, readBody } from './http-body.js';
import { causesOf, invalidMessage, pointerValue, type Cause } from './invalid.js';
import { applyConfiguration, conflictMessage, now, recordUpdate } from './managed-fields.js';
import { mergePatch, strategicMergePatch } from './patches.js';
import { hasStatusSubresource } from './resource-types.js';
import { semanticCauses } from './semantics.js';
import type { FakeKubernetes, HttpContext } from './server.js';
import { groupVersion, type K8sObject, type ResourceType } from './store.js';

const STATUS_SCHEMA = 'io.k8s.apimachinery.pkg.apis.meta.v1.Status';
const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'];

/**
 * Writes as the API server takes them: create (POST), replace (PUT), patch (server-side apply,
 * merge and strategic merge) and delete, each with dryRun=All, the API server's defaults and
 * metadata (uid, resourceVersion, generation, managedFields) and its 409/422 answers. An object
 * that breaks its schema is answered 422 and is also a violation: the client should never send one.
 */
export function registerWrites(fake: FakeKubernetes): void {
  for (const prefix of ['/api/:version', '/apis/:group/:version']) {
    fake.http.add('POST', `${prefix}/namespaces/:namespace/:resource`, (context, params) => create(fake, context, params));
    fake.http.add('PUT', `${prefix}/namespaces/:namespace/:resource/:name`, (context, params) => replace(fake, context, params));
    fake.http.add('PATCH', `${prefix}/namespaces/:namespace/:resource/:name`, (context, params) => patch(fake, context, params));
    fake.http.add('DELETE', `${prefix}/namespaces/:namespace/:resource/:name`, (context, params) => remove(fake, context, params));
  }
}

/** GET, PUT and PATCH of …/<name>/status: how controllers (and tests) set status. */
export function registerStatusSubresource(fake: FakeKubernetes): void {
  for (const prefix of ['/api/:version', '/apis/:group/:version']) {
    const path = `${prefix}/namespaces/:namespace/:resource/:name/status`;
    fake.http.add('GET', path, (context, params) => {
      const type = typeFor(fake, context, params, 'get', 'status');
      if (!type) return;
      const live = existing(fake, context, type, params);
      if (live) fake.sendObject(context, 200, live, type.schema);
    });
    fake.http.add('PUT', path, (context, params) => replace(fake, context, params, 'status'));
    fake.http.add('PATCH', path, (context, params) => patch(fake, context, params, 'status'));
  }
}

/** The object at the URL, or undefined after answering 404. */
function existing(fake: FakeKubernetes, context: HttpContext, type: ResourceType, params: Params): K8sObject | undefined {
  const live = fake.store.get(type, params.namespace, params.name ?? '');
  if (!live) fake.sendStatus(context, 404, 'NotFound', `${qualified(type)} "${params.name}" not found`, details(type, params.name));
  return live;
}

const qualified = (type: ResourceType) => (type.group ? `${type.plural}.${type.group}` : type.plural);
const details = (type: ResourceType, name?: string) => ({ ...(name ? { name } : {}), ...(type.group ? { group: type.group } : {}), kind: type.plural });

/** A field manager for non-apply writes: the query's, else the user agent's product name, as the API server does. */
function updateManager(context: HttpContext): string {
  return context.url.searchParams.get('fieldManager') ?? (context.request.headers['user-agent'] ?? 'unknown').split('/')[0]!;
}

function dryRun(fake: FakeKubernetes, context: HttpContext): boolean | undefined {
  const values = context.url.searchParams.getAll('dryRun');
  if (values.some((value) => value !== 'All')) {
    fake.sendStatus(context, 400, 'BadRequest', `Invalid dry run value: ${values.join(', ')}`);
    return undefined;
  }
  return values.length > 0;
}

/** Reads and decodes the body; undefined after answering 400/415. */
async function body(fake: FakeKubernetes, context: HttpContext, allowed: string[]): Promise<Record<string, unknown> | undefined> {
  const type = mediaType(context.request);
  if (!allowed.includes(type)) {
    fake.sendStatus(context, 415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${allowed.join(', ')}`);
    return undefined;
  }
  const decoded = decode(await readBody(context.request), type.endsWith('yaml'));
  if ('error' in decoded) {
    fake.sendStatus(context, 400, 'BadRequest', decoded.error);
    return undefined;
  }
  if (!decoded.value || typeof decoded.value !== 'object') {
    fake.sendStatus(context, 400, 'BadRequest', 'the body of the request is not an object');
    return undefined;
  }
  return decoded.value as Record<string, unknown>;
}

/** The body names the object the URL names: kind, apiVersion, name, namespace; undefined after a 400. */
function sameObject(fake: FakeKubernetes, context: HttpContext, type: ResourceType, params: Params, object: Record<string, unknown>): K8sObject | undefined {
  const candidate = object as Partial<K8sObject>;
  const fail = (message: string) => {
    fake.sendStatus(context, 400, 'BadRequest', message);
    return undefined;
  };
  if (candidate.apiVersion !== groupVersion(type)) return fail(`the API version in the data (${candidate.apiVersion ?? ''}) does not match the expected API version (${groupVersion(type)})`);
  if (candidate.kind !== type.kind) return fail(`the kind in the data (${candidate.kind ?? ''}) does not match the expected kind (${type.kind})`);
  const metadata = (candidate.metadata ?? {}) as K8sObject['metadata'];
  if (params.name !== undefined && metadata.name !== params.name) return fail(`the name of the object (${metadata.name ?? ''}) does not match the name on the URL (${params.name})`);
  if (metadata.namespace !== undefined && metadata.namespace !== params.namespace) {
    return fail('the namespace of the provided object does not match the namespace sent on the request');
  }
  return { ...(candidate as K8sObject), metadata: { ...metadata, namespace: params.namespace } };
}

function staleResourceVersion(fake: FakeKubernetes, context: HttpContext, type: ResourceType, sent: K8sObject, live: K8sObject): boolean {
  const version = sent.metadata.resourceVersion;
  if (!version || version === live.metadata.resourceVersion) return false;
  fake.sendStatus(
    context,
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualified(type)} "${live.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`,
    details(type, live.metadata.name),
  );
  return true;
}

async function create(fake: FakeKubernetes, context: HttpContext, params: Params): Promise<void> {
  const type = typeFor(fake, context, params, 'create');
  if (!type) return;
  const dry = dryRun(fake, context);
  const sent = dry !== undefined && (await body(fake, context, ['application/json', 'application/yaml']));
  if (!sent || dry === undefined) return;
  const object = sameObject(fake, context, type, { ...params, name: undefined }, sent);
  if (!object) return;
  const name = object.metadata.name;
  if (fake.store.get(type, params.namespace, name)) {
    return fake.sendStatus(context, 409, 'AlreadyExists', `${qualified(type)} "${name}" already exists`, details(type, name));
  }
  if (hasStatusSubresource(type)) delete object.status;
  const recorded = recordUpdate(undefined, object, { manager: updateManager(context), node: fake.schemas.node(type.schema), statusSubresource: hasStatusSubresource(type) });
  finish(fake, context, type, undefined, recorded, 201, dry);
}

async function replace(fake: FakeKubernetes, context: HttpContext, params: Params, subresource?: 'status'): Promise<void> {
  const type = typeFor(fake, context, params, 'update', subresource);
  if (!type) return;
  const dry = dryRun(fake, context);
  const sent = dry !== undefined && (await body(fake, context, ['application/json', 'application/yaml']));
  if (!sent || dry === undefined) return;
  const object = sameObject(fake, context, type, params, sent);
  const live = object && existing(fake, context, type, params);
  if (!object || !live || staleResourceVersion(fake, context, type, object, live)) return;
  const statusSubresource = hasStatusSubresource(type);
  // The main resource leaves status alone, the status subresource everything but status.
  const next: K8sObject =
    subresource === 'status'
      ? { ...live, status: object.status }
      : { ...object, metadata: { ...object.metadata, managedFields: live.metadata.managedFields }, ...(statusSubresource ? { status: live.status } : {}) };
  if (next.status === undefined) delete next.status;
  const recorded = recordUpdate(live, next, { manager: updateManager(context), node: fake.schemas.node(type.schema), statusSubresource, subresource });
  finish(fake, context, type, live, recorded, 200, dry);
}

async function patch(fake: FakeKubernetes, context: HttpContext, params: Params, subresource?: 'status'): Promise<void> {
  const type = typeFor(fake, context, params, 'patch', subresource);
  if (!type) return;
  const dry = dryRun(fake, context);
  const sent = dry !== undefined && (await body(fake, context, PATCH_TYPES));
  if (!sent || dry === undefined) return;
  const kind = mediaType(context.request);
  const force = context.url.searchParams.get('force');
  const node = fake.schemas.node(type.schema);
  const statusSubresource = hasStatusSubresource(type);
  const live = fake.store.get(type, params.namespace, params.name ?? '');
  if (kind !== 'application/apply-patch+yaml' && force !== null) return fake.sendStatus(context, 400, 'BadRequest', 'force is only allowed for apply patch');

  if (kind === 'application/apply-patch+yaml') {
    const manager = context.url.searchParams.get('fieldManager');
    if (!manager) return fake.sendStatus(context, 400, 'BadRequest', 'PATCH, application/apply-patch+yaml: fieldManager is required for apply requests');
    const config = sameObject(fake, context, type, params, sent);
    if (!config) return;
    if (live && staleResourceVersion(fake, context, type, config, live)) return;
    const result = applyConfiguration(live, config, { manager, force: flag(context.url, 'force'), node, statusSubresource, subresource });
    if ('conflicts' in result) {
      return fake.sendStatus(context, 409, 'Conflict', conflictMessage(result.conflicts, display), {
        ...details(type, params.name),
        causes: result.conflicts.map((conflict) => ({
          reason: 'FieldManagerConflict',
          message: `conflict with "${conflict.manager}" using ${conflict.apiVersion}`,
          field: display(conflict.path),
        })),
      });
    }
    return finish(fake, context, type, live, result.object, live ? 200 : 201, dry);
  }
  if (!live) return void existing(fake, context, type, params);
  if (kind === 'application/json-patch+json') {
    fake.violation(`request PATCH ${context.url.pathname}: the fake does not implement JSON patch; add it if the client really sends one`);
    return fake.sendStatus(context, 415, 'UnsupportedMediaType', 'the fake API server does not implement application/json-patch+json');
  }
  const patched = (
    kind === 'application/merge-patch+json'
      ? mergePatch(live, sent)
      : strategicMergePatch(live, sent, node, (what) => fake.violation(`request PATCH ${context.url.pathname}: the fake does not implement ${what}`))
  ) as K8sObject;
  // Identity is not the patch's to change; status belongs to one side of the subresource split.
  patched.metadata = { ...patched.metadata, name: live.metadata.name, namespace: live.metadata.namespace, uid: live.metadata.uid, managedFields: live.metadata.managedFields };
  const next: K8sObject = subresource === 'status' ? { ...live, status: patched.status } : { ...patched, ...(statusSubresource ? { status: live.status } : {}) };
  if (next.status === undefined) delete next.status;
  const recorded = recordUpdate(live, next, { manager: updateManager(context), node, statusSubresource, subresource });
  finish(fake, context, type, live, recorded, 200, dry);
}

/** Defaults, server metadata, validation (422), then store (unless a dry run) and answer. */
function finish(fake: FakeKubernetes, context: HttpContext, type: ResourceType, live: K8sObject | undefined, object: K8sObject, code: number, dry: boolean): void {
  applyDefaults(object);
  const { metadata: _m1, status: _s1, ...before } = live ?? ({} as K8sObject);
  const { metadata: _m2, status: _s2, ...after } = object;
  object.metadata.generation = !live ? 1 : (live.metadata.generation ?? 1) + (jsonEqual(before, after) ? 0 : 1);
  object.metadata.uid = live?.metadata.uid ?? randomUUID();
  object.metadata.creationTimestamp = live?.metadata.creationTimestamp ?? now();
  object.metadata.resourceVersion = live?.metadata.resourceVersion ?? '';
  if (!object.metadata.resourceVersion) delete object.metadata.resourceVersion;

  const problems = fake.schemas.validate(type.schema, object);
  const causes: Cause[] = [...causesOf(problems, (pointer) => pointerValue(object, pointer)), ...semanticCauses(object, live)];
  if (causes.length) {
    for (const cause of causes) fake.violation(`request ${context.request.method} ${context.url.pathname}: the client sent an invalid ${type.kind}: ${cause.field}: ${cause.message}`);
    return fake.sendStatus(context, 422, 'Invalid', invalidMessage(type, object.metadata.name, causes), { name: object.metadata.name, ...(type.group ? { group: type.group } : {}), kind: type.kind, causes });
  }
  const answer = dry ? object : fake.store.put(object);
  fake.sendObject(context, code, answer, type.schema);
}

async function remove(fake: FakeKubernetes, context: HttpContext, params: Params): Promise<void> {
  const type = typeFor(fake, context, params, 'delete');
  if (!type) return;
  const dry = dryRun(fake, context);
  if (dry === undefined) return;
  const text = await readBody(context.request);
  if (text.trim()) {
    const options = JSON.parse(text) as unknown;
    fake.validate('io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions', options, `request DELETE ${context.url.pathname}`);
  }
  const live = existing(fake, context, type, params);
  if (!live) return;
  if (!dry) {
    fake.store.delete(type, params.namespace, live.metadata.name);
    if (context.url.searchParams.get('propagationPolicy') !== 'Orphan') collectGarbage(fake, live.metadata.uid!);
  }
  // Pods are deleted gracefully and answered with the object; the rest with a Status.
  if (type.kind === 'Pod') return fake.sendObject(context, 200, { ...live, metadata: { ...live.metadata, deletionTimestamp: now(), deletionGracePeriodSeconds: 30 } }, type.schema);
  const success = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { ...details(type, live.metadata.name), uid: live.metadata.uid } };
  fake.sendObject(context, 200, success, STATUS_SCHEMA);
}

/** What the garbage collector does after a delete: objects owned by the deleted one go too. */
export function collectGarbage(fake: FakeKubernetes, uid: string): void {
  for (const type of fake.store.allTypes()) {
    for (const object of fake.store.list(type, undefined)) {
      const owners = (object.metadata.ownerReferences as { uid: string }[] | undefined) ?? [];
      if (!owners.some((owner) => owner.uid === uid)) continue;
      fake.store.delete(type, object.metadata.namespace, object.metadata.name);
      collectGarbage(fake, object.metadata.uid!);
    }
  }
}
