import { parseFieldSelector } from './field-selector.js';
import type { FakeKubernetes, HttpContext } from './server.js';
import { groupVersion, parseLabelSelector, type K8sObject, type ResourceType } from './store.js';
import { watch } from './watch.js';

/**
 * Discovery (/api, /apis, /api/v1, /apis/<group>/<version>) and get/list of every resource type in
 * the store, core and grouped alike: /api/v1/namespaces/:namespace/:resource[/:name],
 * /api/v1/:resource (all namespaces), and the same under /apis/:group/:version.
 */
export function registerCoreV1(fake: FakeKubernetes): void {
  fake.http.add('GET', '/api', (context) =>
    fake.sendObject(
      context,
      200,
      {
        kind: 'APIVersions',
        versions: ['v1'],
        serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: new URL(fake.origin).host }],
      },
      'io.k8s.apimachinery.pkg.apis.meta.v1.APIVersions',
    ),
  );
  fake.http.add('GET', '/apis', (context) => {
    const groups = new Map<string, string[]>();
    for (const type of fake.store.allTypes()) {
      if (!type.group) continue;
      const versions = groups.get(type.group) ?? [];
      if (!versions.includes(type.version)) versions.push(type.version);
      groups.set(type.group, versions);
    }
    const groupVersionOf = (group: string, version: string) => ({ groupVersion: `${group}/${version}`, version });
    fake.sendObject(
      context,
      200,
      {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: [...groups].map(([name, versions]) => ({
          name,
          versions: versions.map((version) => groupVersionOf(name, version)),
          preferredVersion: groupVersionOf(name, versions[0]!),
        })),
      },
      'io.k8s.apimachinery.pkg.apis.meta.v1.APIGroupList',
    );
  });
  fake.http.add('GET', '/api/v1', (context) => resourceList(fake, context, 'v1'));
  fake.http.add('GET', '/apis/:group/:version', (context, { group, version }) => resourceList(fake, context, `${group}/${version}`));

  for (const prefix of ['/api/:version', '/apis/:group/:version']) {
    fake.http.add('GET', `${prefix}/namespaces/:namespace/:resource/:name`, (context, params) => getOne(fake, context, params));
    fake.http.add('GET', `${prefix}/namespaces/:namespace/:resource`, (context, params) => list(fake, context, params));
    fake.http.add('GET', `${prefix}/:resource/:name`, (context, params) => getOne(fake, context, params));
    fake.http.add('GET', `${prefix}/:resource`, (context, params) => list(fake, context, params));
  }
}

function resourceList(fake: FakeKubernetes, context: HttpContext, groupVersionText: string): void {
  const types = fake.store.allTypes().filter((type) => groupVersion(type) === groupVersionText);
  if (!types.length) return fake.sendStatus(context, 404, 'NotFound', 'the server could not find the requested resource');
  const resources = types.flatMap((type) => [
    {
      name: type.plural,
      singularName: type.singular,
      namespaced: type.namespaced,
      kind: type.kind,
      verbs: type.verbs,
      ...(type.shortNames ? { shortNames: type.shortNames } : {}),
    },
    ...(type.subresources ?? []).map((subresource) => ({
      name: `${type.plural}/${subresource.name}`,
      singularName: '',
      namespaced: type.namespaced,
      kind: subresource.kind,
      verbs: subresource.verbs,
    })),
  ]);
  fake.sendObject(
    context,
    200,
    { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersionText, resources },
    'io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList',
  );
}

export interface Params {
  group?: string;
  version?: string;
  namespace?: string;
  resource?: string;
  name?: string;
}

/**
 * The type a request addresses, after the checks every handler makes: known (else 404 and a
 * violation), the verb one the type serves, and allowed for the user (else 403).
 */
export function typeFor(fake: FakeKubernetes, context: HttpContext, params: Params, verb: string, subresource?: string): ResourceType | undefined {
  const groupVersionText = params.group ? `${params.group}/${params.version}` : params.version ?? '';
  const type = fake.resourceType(groupVersionText, params.resource ?? '');
  const served = subresource ? type?.subresources?.find((candidate) => candidate.name === subresource)?.verbs : type?.verbs;
  if (!type || (params.namespace !== undefined && !type.namespaced) || !served) {
    const what = subresource ? `${params.resource}/${subresource}` : params.resource;
    fake.violation(`request ${context.request.method} ${context.url.pathname}: no resource type '${what}' in ${groupVersionText || 'this API'}`);
    fake.sendStatus(context, 404, 'NotFound', 'the server could not find the requested resource');
    return undefined;
  }
  if (!served.includes(verb)) {
    fake.violation(`request ${context.request.method} ${context.url.pathname}: the fake serves no '${verb}' of ${type.plural}`);
    fake.sendStatus(context, 405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    return undefined;
  }
  const attributes = { verb, group: type.group, resource: type.plural, subresource, namespace: params.namespace, name: params.name };
  if (!fake.authorize(context.user, attributes)) {
    fake.sendStatus(context, 403, 'Forbidden', fake.forbiddenMessage(context.user, attributes), {
      ...(params.name ? { name: params.name } : {}),
      ...(type.group ? { group: type.group } : {}),
      kind: type.plural,
    });
    return undefined;
  }
  return type;
}

/** Whether a query flag is set, read as Go's strconv.ParseBool reads it. */
export function flag(url: URL, name: string): boolean {
  return /^(1|t|T|TRUE|true|True)$/.test(url.searchParams.get(name) ?? '');
}

function getOne(fake: FakeKubernetes, context: HttpContext, params: Params): void {
  const type = typeFor(fake, context, params, 'get');
  if (!type) return;
  const object = fake.store.get(type, params.namespace, params.name ?? '');
  if (!object) {
    return fake.sendStatus(context, 404, 'NotFound', `${type.plural} "${params.name}" not found`, { name: params.name, kind: type.plural });
  }
  fake.sendObject(context, 200, object, type.schema);
}

function list(fake: FakeKubernetes, context: HttpContext, params: Params): void {
  const watching = flag(context.url, 'watch');
  const type = typeFor(fake, context, params, watching ? 'watch' : 'list');
  if (!type) return;
  const filter = selectors(fake, context, type);
  if (!filter) return;
  if (watching) return watch(fake, context, type, params.namespace, filter);
  const builtIn = !type.listSchema.includes(':');
  // Built-in list items carry no apiVersion and kind, as the API server sends them; custom resources' do.
  const items = fake.store
    .list(type, params.namespace)
    .filter(filter)
    .map((object) => {
      if (!builtIn) return object;
      const { apiVersion: _apiVersion, kind: _kind, ...rest } = object;
      return rest as Partial<K8sObject>;
    });
  fake.sendObject(
    context,
    200,
    { apiVersion: groupVersion(type), kind: `${type.kind}List`, metadata: { resourceVersion: fake.store.currentResourceVersion() }, items },
    type.listSchema,
  );
}

/** The labelSelector and fieldSelector of a request as one predicate; undefined after answering 400. */
export function selectors(fake: FakeKubernetes, context: HttpContext, type: ResourceType): ((object: K8sObject) => boolean) | undefined {
  const labels = parseLabelSelector(context.url.searchParams.get('labelSelector') ?? '');
  if (typeof labels === 'string') {
    fake.sendStatus(context, 400, 'BadRequest', `unable to parse requirement: ${labels}`);
    return undefined;
  }
  const fields = parseFieldSelector(context.url.searchParams.get('fieldSelector') ?? '', type);
  if (typeof fields === 'string') {
    fake.sendStatus(context, 400, 'BadRequest', fields);
    return undefined;
  }
  return (object) => labels(object.metadata.labels ?? {}) && fields(object);
}
