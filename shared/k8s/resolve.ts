import { UserError } from '../util/errors.js';
import { K8sApiError, type K8sApi } from './api.js';
import type { ServiceTarget } from './target.js';

// The few fields of core/v1 objects the resolution reads (raw JSON as the API server sends it).
interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: string;
}
interface Service {
  spec?: { type?: string; selector?: Record<string, string>; ports?: ServicePort[] };
}
interface Pod {
  metadata?: { name?: string; deletionTimestamp?: string };
  spec?: { containers?: { ports?: { name?: string; containerPort: number; protocol?: string }[] }[] };
  status?: { phase?: string; conditions?: { type: string; status: string; lastTransitionTime?: string }[] };
}
interface Endpoints {
  subsets?: {
    addresses?: { targetRef?: { kind?: string; name?: string; namespace?: string } }[];
    ports?: { name?: string; port: number; protocol?: string }[];
  }[];
}

/** The pod and container port a Service port leads to. */
export interface PodTarget {
  namespace: string;
  pod: string;
  port: number;
}

const enc = encodeURIComponent;

/**
 * Resolves a Service port to one ready pod and the port on it, as `kubectl port-forward svc/...`
 * does: the Service's selector lists its pods, the ready ones are candidates (ready longest first),
 * and a named targetPort is looked up in the pod's container ports. A Service without a selector
 * (its Endpoints managed by hand or by a controller) is resolved through its Endpoints: a ready
 * address whose targetRef is a Pod, with the port the Endpoints give.
 */
export async function resolveServicePod(api: K8sApi, target: ServiceTarget, serverForLog: string): Promise<PodTarget> {
  const { namespace, service: name, port } = target;
  const label = `${namespace}/${name}`;
  let service: Service;
  try {
    service = await api.get<Service>(`/api/v1/namespaces/${enc(namespace)}/services/${enc(name)}`, `GET service ${label}`);
  } catch (error) {
    if (error instanceof K8sApiError && error.status === 404) {
      throw new UserError(`service ${label} was not found on the Kubernetes API server ${serverForLog}: check 'portForward' and the namespace`);
    }
    throw error;
  }
  if (service.spec?.type === 'ExternalName') {
    throw new UserError(`service ${label} is an ExternalName service: there is no pod to forward to`);
  }
  const ports = service.spec?.ports ?? [];
  const servicePort = ports.find((candidate) => candidate.port === port && (candidate.protocol ?? 'TCP') === 'TCP');
  if (!servicePort) {
    const known = ports.map((candidate) => `${candidate.port}/${candidate.protocol ?? 'TCP'}`).join(', ') || 'none';
    throw new UserError(`service ${label} has no TCP port ${port} (its ports: ${known}): check 'portForward'`);
  }

  const selector = service.spec?.selector ?? {};
  if (Object.keys(selector).length === 0) return viaEndpoints(api, target, servicePort, ports.length);

  const labelSelector = Object.entries(selector)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
  const list = await api.get<{ items?: Pod[] }>(
    `/api/v1/namespaces/${enc(namespace)}/pods?labelSelector=${enc(labelSelector)}`,
    `GET pods of service ${label}`,
  );
  const pods = list.items ?? [];
  const ready = pods.filter(isReady).sort((a, b) => readySince(a) - readySince(b));
  if (ready.length === 0) {
    const states = pods.slice(0, 3).map(describe).join(', ');
    const more = pods.length > 3 ? `, and ${pods.length - 3} more` : '';
    throw new UserError(
      pods.length
        ? `service ${label} has no ready pod (${pods.length} match its selector ${labelSelector}: ${states}${more})`
        : `service ${label} has no ready pod (no pod matches its selector ${labelSelector})`,
    );
  }
  const targetPort = servicePort.targetPort ?? servicePort.port;
  if (typeof targetPort === 'number') return { namespace, pod: podName(ready[0]!), port: targetPort };
  // A named targetPort: the first ready pod that declares a container port of that name.
  for (const pod of ready) {
    const declared = (pod.spec?.containers ?? [])
      .flatMap((container) => container.ports ?? [])
      .find((candidate) => candidate.name === targetPort && (candidate.protocol ?? 'TCP') === 'TCP');
    if (declared) return { namespace, pod: podName(pod), port: declared.containerPort };
  }
  throw new UserError(`service ${label} port ${port} targets the port named '${targetPort}', which no ready pod of the service declares`);
}

async function viaEndpoints(api: K8sApi, target: ServiceTarget, servicePort: ServicePort, servicePorts: number): Promise<PodTarget> {
  const { namespace, service: name } = target;
  const label = `${namespace}/${name}`;
  let endpoints: Endpoints;
  try {
    endpoints = await api.get<Endpoints>(`/api/v1/namespaces/${enc(namespace)}/endpoints/${enc(name)}`, `GET endpoints ${label}`);
  } catch (error) {
    if (error instanceof K8sApiError && error.status === 404) {
      throw new UserError(`service ${label} has no ready pod (it has no selector and no Endpoints)`);
    }
    throw error;
  }
  for (const subset of endpoints.subsets ?? []) {
    // Endpoints ports carry the Service port's name (none when the Service has a single port).
    const endpointPort = (subset.ports ?? []).find(
      (candidate) => (candidate.protocol ?? 'TCP') === 'TCP' && (servicePorts === 1 || candidate.name === servicePort.name),
    );
    const address = (subset.addresses ?? []).find((candidate) => candidate.targetRef?.kind === 'Pod' && candidate.targetRef.name);
    if (endpointPort && address) return { namespace, pod: address.targetRef!.name!, port: endpointPort.port };
  }
  throw new UserError(`service ${label} has no ready pod (it has no selector, and its Endpoints list no ready address backed by a pod)`);
}

function isReady(pod: Pod): boolean {
  return (
    !pod.metadata?.deletionTimestamp &&
    pod.status?.phase === 'Running' &&
    (pod.status.conditions ?? []).some((condition) => condition.type === 'Ready' && condition.status === 'True')
  );
}

function readySince(pod: Pod): number {
  const since = pod.status?.conditions?.find((condition) => condition.type === 'Ready')?.lastTransitionTime;
  const time = since ? Date.parse(since) : NaN;
  return Number.isFinite(time) ? time : Number.MAX_SAFE_INTEGER;
}

function podName(pod: Pod): string {
  return pod.metadata?.name ?? '';
}

function describe(pod: Pod): string {
  const phase = pod.status?.phase ?? 'Unknown';
  const state = pod.metadata?.deletionTimestamp ? 'Terminating' : phase === 'Running' ? 'Running but not ready' : phase;
  return `${podName(pod)} ${state}`;
}
