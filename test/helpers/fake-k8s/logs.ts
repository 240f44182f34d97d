import { typeFor } from './core-v1.js';
import type { FakeKubernetes, HttpContext } from './server.js';

/** Lines by 'namespace/pod/container/current|previous' ('' container: the pod's only one). */
export type PodLogs = Map<string, string[]>;

interface ContainerStatus {
  name: string;
  state?: { waiting?: { reason?: string } };
  lastState?: { terminated?: object };
}

/**
 * GET /api/v1/namespaces/:namespace/pods/:name/log as the kubelet answers through the API server:
 * text/plain, the lines a test set (FakeKubernetes.setPodLog), with container, tailLines, previous
 * and limitBytes, and the API server's 400s for a missing container choice, a container still
 * waiting to start, or no previous run.
 */
export function registerPodLogs(fake: FakeKubernetes): void {
  fake.http.add('GET', '/api/:version/namespaces/:namespace/:resource/:name/log', (context, params) => podLog(fake, context, params));
}

function podLog(fake: FakeKubernetes, context: HttpContext, params: Record<string, string>): void {
  const type = typeFor(fake, context, params, 'get', 'log');
  if (!type) return;
  const { namespace = '', name = '' } = params;
  const pod = fake.store.get(type, namespace, name);
  if (!pod) return fake.sendStatus(context, 404, 'NotFound', `pods "${name}" not found`, { name, kind: 'pods' });
  const query = context.url.searchParams;
  const containers = ((pod.spec as { containers?: { name: string }[] } | undefined)?.containers ?? []).map((container) => container.name);
  const bad = (message: string) => fake.sendStatus(context, 400, 'BadRequest', message);
  let container = query.get('container') ?? '';
  if (!container) {
    if (containers.length !== 1) return bad(`a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`);
    container = containers[0]!;
  }
  if (!containers.includes(container)) return bad(`container ${container} is not valid for pod ${name}`);
  const previous = /^(1|t|true|True|TRUE)$/.test(query.get('previous') ?? '');
  const status = ((pod.status as { containerStatuses?: ContainerStatus[] } | undefined)?.containerStatuses ?? []).find((candidate) => candidate.name === container);
  const lines = fake.podLogs.get(`${namespace}/${name}/${container}/${previous ? 'previous' : 'current'}`) ?? (containers.length === 1 ? fake.podLogs.get(`${namespace}/${name}//${previous ? 'previous' : 'current'}`) : undefined);
  if (previous && !status?.lastState?.terminated && !lines) return bad(`previous terminated container "${container}" in pod "${name}" not found`);
  const waiting = status?.state?.waiting?.reason ?? (status ? undefined : 'ContainerCreating');
  if (!previous && waiting && !lines) {
    const why = waiting === 'ImagePullBackOff' || waiting === 'ErrImagePull' ? 'trying and failing to pull image' : waiting;
    return bad(`container "${container}" in pod "${name}" is waiting to start: ${why}`);
  }
  const tail = query.get('tailLines');
  let selected = lines ?? [];
  if (tail !== null) selected = Number(tail) > 0 ? selected.slice(-Number(tail)) : [];
  let text = selected.map((line) => `${line}\n`).join('');
  const limit = query.get('limitBytes');
  if (limit !== null) text = Buffer.from(text).subarray(0, Number(limit)).toString();
  context.response.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) });
  context.response.end(text);
  fake.record(context.request)!.status = 200;
}
