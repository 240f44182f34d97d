import { CORE_V1, type ResourceType } from './store.js';

/** What the API server lets one do with a writable resource, as discovery lists it. */
export const WRITE_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

const STATUS = { name: 'status', verbs: ['get', 'patch', 'update'] };

/** Core v1 as DeployModel uses it: services and pods writable and watchable, plus events and pod logs. */
export const CORE_V1_WRITABLE: ResourceType[] = [
  ...CORE_V1.map((type) => {
    if (type.plural === 'services') return { ...type, verbs: WRITE_VERBS, subresources: [{ ...STATUS, kind: 'Service' }] };
    if (type.plural === 'pods') {
      return {
        ...type,
        verbs: WRITE_VERBS,
        subresources: [...(type.subresources ?? []), { name: 'log', kind: 'Pod', verbs: ['get'] }, { ...STATUS, kind: 'Pod' }],
      };
    }
    return type;
  }),
  {
    group: '',
    version: 'v1',
    kind: 'Event',
    plural: 'events',
    singular: 'event',
    namespaced: true,
    verbs: WRITE_VERBS,
    shortNames: ['ev'],
    schema: 'io.k8s.api.core.v1.Event',
    listSchema: 'io.k8s.api.core.v1.EventList',
  },
];

export const APPS_V1: ResourceType[] = [
  {
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
    plural: 'deployments',
    singular: 'deployment',
    namespaced: true,
    verbs: WRITE_VERBS,
    shortNames: ['deploy'],
    schema: 'io.k8s.api.apps.v1.Deployment',
    listSchema: 'io.k8s.api.apps.v1.DeploymentList',
    subresources: [{ ...STATUS, kind: 'Deployment' }],
  },
  {
    group: 'apps',
    version: 'v1',
    kind: 'ReplicaSet',
    plural: 'replicasets',
    singular: 'replicaset',
    namespaced: true,
    verbs: WRITE_VERBS,
    shortNames: ['rs'],
    schema: 'io.k8s.api.apps.v1.ReplicaSet',
    listSchema: 'io.k8s.api.apps.v1.ReplicaSetList',
    subresources: [{ ...STATUS, kind: 'ReplicaSet' }],
  },
];

/** Whether writes to the main resource leave status alone (true for every type with a status subresource). */
export function hasStatusSubresource(type: ResourceType): boolean {
  return (type.subresources ?? []).some((subresource) => subresource.name === 'status');
}
