import type { FakeKubernetes, HttpContext } from './server.js';
import { groupVersion, parseLabelSelector, type K8sObject, type ResourceType } from './store.js';

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

interface Params {
  group?: string;
  version?: string;
  namespace?: string;
  resource?: string;
  name?: string;
}

/** The type a request addresses, after the checks every handler makes (known, allowed). */
function typeFor(fake: FakeKubernetes, context: HttpContext, params: Params, verb: string): ResourceType | undefined {
  const groupVersionText = params.group ? `${params.group}/${params.version}` : params.version ?? '';
  const type = fake.resourceType(groupVersionText, params.resource ?? '');
  if (!type || (params.namespace !== undefined && !type.namespaced)) {
    fake.violation(`request GET ${context.url.pathname}: no resource type '${params.resource}' in ${groupVersionText || 'this API'}`);
    fake.sendStatus(context, 404, 'NotFound', 'the server could not find the requested resource');
    return undefined;
  }
  const attributes = { verb, group: type.group, resource: type.plural, namespace: params.namespace, name: params.name };
  if (!fake.authorize(context.user, attributes)) {
    fake.sendStatus(context, 403, 'Forbidden', fake.forbiddenMessage(context.user, attributes), {
      ...(params.name ? { name: params.name } : {}),
      kind: type.plural,
    });
    return undefined;
  }
  return type;
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
  const type = typeFor(fake, context, params, context.url.searchParams.get('watch') === 'true' ? 'watch' : 'list');
  if (!type) return;
  const selectorText = context.url.searchParams.get('labelSelector') ?? '';
  const matches = parseLabelSelector(selectorText);
  if (typeof matches === 'string') return fake.sendStatus(context, 400, 'BadRequest', `unable to parse requirement: ${matches}`);
  // List items carry no apiVersion and kind, as the API server sends them.
  const items = fake.store.list(type, params.namespace, matches).map(({ apiVersion: _apiVersion, kind: _kind, ...rest }) => rest as Partial<K8sObject>);
  fake.sendObject(
    context,
    200,
    { apiVersion: groupVersion(type), kind: `${type.kind}List`, metadata: { resourceVersion: fake.store.currentResourceVersion() }, items },
    type.listSchema,
  );
}
