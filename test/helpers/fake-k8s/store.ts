import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';

/** One kind the fake serves: where it lives in the API and which schema its objects follow. */
export interface ResourceType {
  /** '' for the core group. */
  group: string;
  version: string;
  kind: string;
  /** The URL segment, e.g. 'services'. */
  plural: string;
  singular: string;
  namespaced: boolean;
  verbs: string[];
  shortNames?: string[];
  /** The OpenAPI schema of one object and of a list, e.g. io.k8s.api.core.v1.Service(List). */
  schema: string;
  listSchema: string;
  /** Subresources listed in discovery, e.g. [{ name: 'portforward', kind: 'PodPortForwardOptions', verbs: ['create', 'get'] }]. */
  subresources?: { name: string; kind: string; verbs: string[] }[];
}

export const CORE_V1: ResourceType[] = [
  {
    group: '',
    version: 'v1',
    kind: 'Namespace',
    plural: 'namespaces',
    singular: 'namespace',
    namespaced: false,
    verbs: ['get', 'list'],
    shortNames: ['ns'],
    schema: 'io.k8s.api.core.v1.Namespace',
    listSchema: 'io.k8s.api.core.v1.NamespaceList',
  },
  {
    group: '',
    version: 'v1',
    kind: 'Service',
    plural: 'services',
    singular: 'service',
    namespaced: true,
    verbs: ['get', 'list'],
    shortNames: ['svc'],
    schema: 'io.k8s.api.core.v1.Service',
    listSchema: 'io.k8s.api.core.v1.ServiceList',
  },
  {
    group: '',
    version: 'v1',
    kind: 'Endpoints',
    plural: 'endpoints',
    singular: 'endpoints',
    namespaced: true,
    verbs: ['get', 'list'],
    shortNames: ['ep'],
    schema: 'io.k8s.api.core.v1.Endpoints',
    listSchema: 'io.k8s.api.core.v1.EndpointsList',
  },
  {
    group: '',
    version: 'v1',
    kind: 'Pod',
    plural: 'pods',
    singular: 'pod',
    namespaced: true,
    verbs: ['get', 'list'],
    shortNames: ['po'],
    schema: 'io.k8s.api.core.v1.Pod',
    listSchema: 'io.k8s.api.core.v1.PodList',
    subresources: [{ name: 'portforward', kind: 'PodPortForwardOptions', verbs: ['create', 'get'] }],
  },
];

/** A Kubernetes object as JSON: apiVersion, kind, metadata and whatever its kind has. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [field: string]: unknown;
  };
  [field: string]: unknown;
}

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** A change as a watch replays it: the resourceVersion it made, what happened, the object after. */
export interface Change {
  revision: number;
  type: ChangeType;
  resource: ResourceType;
  object: K8sObject;
}

export interface StoreEvents {
  /** Every change, in order, for watches to come. */
  on(event: 'change', listener: (type: ChangeType, resource: ResourceType, object: K8sObject) => void): this;
}

/**
 * The objects the fake API server holds, per resource type. It stamps what the API server stamps
 * (uid, resourceVersion, creationTimestamp) and validates every object put in, so a broken test
 * fixture is reported like a broken request.
 */
export class ObjectStore extends EventEmitter implements StoreEvents {
  private readonly types = new Map<string, ResourceType>();
  private readonly objects = new Map<ResourceType, Map<string, K8sObject>>();
  private revision = 1000;
  /** Every change since the last compaction, for watches that start at a resourceVersion. */
  readonly history: Change[] = [];
  /** Watches from a resourceVersion older than this get 410 Gone (set by compact()). */
  compactedRevision = 0;

  constructor(
    private readonly validate: (schema: string, value: unknown, where: string) => void,
    types: ResourceType[] = CORE_V1,
  ) {
    super();
    for (const type of types) this.register(type);
  }

  register(type: ResourceType): void {
    this.types.set(`${groupVersion(type)}/${type.plural}`, type);
    this.types.set(`${groupVersion(type)}:${type.kind}`, type);
    this.objects.set(type, new Map());
  }

  allTypes(): ResourceType[] {
    return [...this.objects.keys()];
  }

  /** The type served at /<prefix>/<group/version>/<plural>. */
  typeFor(groupVersionText: string, plural: string): ResourceType | undefined {
    return this.types.get(`${groupVersionText}/${plural}`);
  }

  typeOf(object: Pick<K8sObject, 'apiVersion' | 'kind'>): ResourceType {
    const type = this.types.get(`${object.apiVersion}:${object.kind}`);
    if (!type) throw new Error(`the fake API server serves no ${object.apiVersion} ${object.kind}`);
    return type;
  }

  nextResourceVersion(): string {
    return String(++this.revision);
  }

  currentResourceVersion(): string {
    return String(this.revision);
  }

  /** Adds or replaces an object (validated), as the API server would store it. */
  put(input: K8sObject): K8sObject {
    const type = this.typeOf(input);
    const objects = this.objects.get(type)!;
    const key = keyOf(type, input.metadata.namespace, input.metadata.name);
    const existing = objects.get(key);
    const object: K8sObject = structuredClone(input);
    object.metadata = {
      ...object.metadata,
      ...(type.namespaced ? { namespace: object.metadata.namespace ?? 'default' } : {}),
      uid: existing?.metadata.uid ?? object.metadata.uid ?? randomUUID(),
      resourceVersion: this.nextResourceVersion(),
      creationTimestamp: existing?.metadata.creationTimestamp ?? object.metadata.creationTimestamp ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    };
    this.validate(type.schema, object, `stored ${type.kind} ${key}`);
    objects.set(key, object);
    this.changed(existing ? 'MODIFIED' : 'ADDED', type, object);
    return structuredClone(object);
  }

  get(type: ResourceType, namespace: string | undefined, name: string): K8sObject | undefined {
    const object = this.objects.get(type)?.get(keyOf(type, namespace, name));
    return object && structuredClone(object);
  }

  /** Objects of a type, in one namespace or all, that match a parsed label selector. */
  list(type: ResourceType, namespace: string | undefined, matches: (labels: Record<string, string>) => boolean = () => true): K8sObject[] {
    return [...(this.objects.get(type)?.values() ?? [])]
      .filter((object) => !type.namespaced || !namespace || object.metadata.namespace === namespace)
      .filter((object) => matches(object.metadata.labels ?? {}))
      .sort((a, b) => keyOf(type, a.metadata.namespace, a.metadata.name).localeCompare(keyOf(type, b.metadata.namespace, b.metadata.name)))
      .map((object) => structuredClone(object));
  }

  delete(type: ResourceType, namespace: string | undefined, name: string): boolean {
    const objects = this.objects.get(type)!;
    const key = keyOf(type, namespace, name);
    const existing = objects.get(key);
    if (!existing) return false;
    objects.delete(key);
    existing.metadata.resourceVersion = this.nextResourceVersion();
    this.changed('DELETED', type, existing);
    return true;
  }

  /** Forgets the history so far, as etcd compaction does: older resourceVersions are then too old to watch from. */
  compact(): void {
    this.compactedRevision = this.revision;
    this.history.length = 0;
  }

  private changed(type: ChangeType, resource: ResourceType, object: K8sObject): void {
    this.history.push({ revision: Number(object.metadata.resourceVersion), type, resource, object: structuredClone(object) });
    this.emit('change', type, resource, structuredClone(object));
  }
}

export function groupVersion(type: Pick<ResourceType, 'group' | 'version'>): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}

function keyOf(type: ResourceType, namespace: string | undefined, name: string): string {
  return type.namespaced ? `${namespace ?? 'default'}/${name}` : name;
}

/**
 * Parses a label selector as the API server does (equality- and set-based):
 * `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, joined by commas.
 * Returns a predicate, or the reason it does not parse.
 */
export function parseLabelSelector(text: string): ((labels: Record<string, string>) => boolean) | string {
  const requirements: ((labels: Record<string, string>) => boolean)[] = [];
  // Split on commas outside parentheses.
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of text) {
    if (char === '(') depth++;
    if (char === ')') depth--;
    if (char === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += char;
  }
  if (current.trim() || parts.length) parts.push(current);
  const KEY = '([A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?)';
  const VALUE = '(([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?)';
  for (const raw of parts) {
    const part = raw.trim();
    let match: RegExpExecArray | null;
    if ((match = new RegExp(`^${KEY}\\s*(==|=|!=)\\s*${VALUE}$`).exec(part))) {
      const [, key = '', , operator, value = ''] = match;
      requirements.push(operator === '!=' ? (labels) => labels[key] !== value : (labels) => labels[key] === value);
    } else if ((match = new RegExp(`^${KEY}\\s+(in|notin)\\s*\\(([^)]*)\\)$`).exec(part))) {
      const [, key = '', , operator, list = ''] = match;
      const values = new Set(list.split(',').map((value) => value.trim()));
      requirements.push(
        operator === 'in' ? (labels) => key in labels && values.has(labels[key]!) : (labels) => !(key in labels) || !values.has(labels[key]!),
      );
    } else if ((match = new RegExp(`^(!?)${KEY}$`).exec(part))) {
      const [, not, key = ''] = match;
      requirements.push(not ? (labels) => !(key in labels) : (labels) => key in labels);
    } else {
      return `unable to parse requirement: '${part}'`;
    }
  }
  return (labels) => requirements.every((requirement) => requirement(labels));
}
