import { createHash } from 'node:crypto';
import type { FakeKubernetes } from './server.js';
import type { K8sObject } from './store.js';

/** How the pods of a rollout turn out, as a test chooses it. */
export type PodOutcome = 'ready' | 'crashloop' | 'image-pull' | 'pending' | 'not-ready';

export interface SimContainer {
  name: string;
  image: string;
  ports?: { name?: string; containerPort: number; protocol?: string }[];
}

const seconds = (date = new Date()) => date.toISOString().replace(/\.\d+Z$/, 'Z');

/** A short stable hash, like pod-template-hash: the same input gives the same name in every run. */
export function shortHash(value: unknown, length = 10): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, length);
}

function podStatus(outcome: PodOutcome, containers: SimContainer[], started: string): Record<string, unknown> {
  const ready = outcome === 'ready';
  const scheduled = outcome !== 'pending';
  const conditions = [
    scheduled
      ? { type: 'PodScheduled', status: 'True', lastTransitionTime: started }
      : { type: 'PodScheduled', status: 'False', lastTransitionTime: started, reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient cpu.' },
    ...(scheduled ? [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: started, ...(ready ? {} : { reason: 'ContainersNotReady', message: `containers with unready status: [${containers.map((c) => c.name).join(' ')}]` }) }] : []),
  ];
  if (!scheduled) return { phase: 'Pending', conditions, qosClass: 'BestEffort' };
  const statuses = containers.map((container) => {
    const base = { name: container.name, image: container.image, imageID: '', started: false, ready: false, restartCount: 0 };
    switch (outcome) {
      case 'ready':
      case 'not-ready':
        return { ...base, imageID: `${container.image.split(':')[0]}@sha256:${shortHash(container.image, 64)}`, started: true, ready, state: { running: { startedAt: started } } };
      case 'crashloop':
        return {
          ...base,
          imageID: `${container.image.split(':')[0]}@sha256:${shortHash(container.image, 64)}`,
          restartCount: 3,
          state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off 40s restarting failed container=${container.name}` } },
          lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: started, finishedAt: started } },
        };
      default:
        return { ...base, state: { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${container.image}"` } } };
    }
  });
  return {
    phase: outcome === 'image-pull' ? 'Pending' : 'Running',
    conditions,
    hostIP: '172.18.0.2',
    podIP: '10.244.1.17',
    podIPs: [{ ip: '10.244.1.17' }],
    startTime: started,
    containerStatuses: statuses,
    qosClass: 'BestEffort',
  };
}

export interface SimPodOptions {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  owner: { apiVersion: string; kind: string; name: string; uid: string };
  containers: SimContainer[];
  outcome: PodOutcome;
  /** Where port-forwards to the ready pod's container ports go. */
  backend?: { port: number; host?: string };
  /** Log lines of the main container (the first); for a crash loop, those of the run that crashed. */
  logLines?: string[];
}

/** Puts a pod shaped as the kubelet reports it, wires its port-forwards and logs, and says why it is not ready in events. */
export function simulatePod(fake: FakeKubernetes, options: SimPodOptions): K8sObject {
  const started = seconds();
  const pod = fake.store.put({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: options.name,
      namespace: options.namespace,
      labels: options.labels,
      ownerReferences: [{ ...options.owner, controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      nodeName: options.outcome === 'pending' ? undefined : 'node-1',
      restartPolicy: 'Always',
      containers: options.containers.map((container) => ({
        name: container.name,
        image: container.image,
        ...(container.ports?.length ? { ports: container.ports.map((port) => ({ protocol: 'TCP', ...port })) } : {}),
      })),
    },
    status: podStatus(options.outcome, options.containers, started),
  });
  const main = options.containers[0]!;
  if (options.outcome === 'ready' && options.backend) {
    for (const container of options.containers) for (const port of container.ports ?? []) fake.forward(options.namespace, options.name, port.containerPort, options.backend);
  }
  if (options.logLines) fake.setPodLog(options.namespace, options.name, options.logLines, { container: main.name, previous: options.outcome === 'crashloop' });
  const event = (type: 'Normal' | 'Warning', reason: string, message: string) => recordEvent(fake, pod, type, reason, message, 'kubelet');
  if (options.outcome === 'crashloop') event('Warning', 'BackOff', `Back-off restarting failed container ${main.name} in pod ${options.name}_${options.namespace}(${pod.metadata.uid})`);
  if (options.outcome === 'image-pull') {
    event('Warning', 'Failed', `Failed to pull image "${main.image}": rpc error: code = NotFound desc = failed to pull and unpack image "${main.image}": not found`);
    event('Normal', 'BackOff', `Back-off pulling image "${main.image}"`);
  }
  if (options.outcome === 'pending') recordEvent(fake, pod, 'Warning', 'FailedScheduling', '0/3 nodes are available: 3 Insufficient cpu.', 'default-scheduler');
  if (options.outcome === 'not-ready') event('Warning', 'Unhealthy', 'Readiness probe failed: HTTP probe failed with statuscode: 503');
  return pod;
}

/** A core/v1 Event about an object, as a component records it. */
export function recordEvent(fake: FakeKubernetes, about: K8sObject, type: 'Normal' | 'Warning', reason: string, message: string, component: string): K8sObject {
  const at = seconds();
  return fake.store.put({
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${about.metadata.name}.${shortHash([reason, message, fake.store.currentResourceVersion()], 16)}`, namespace: about.metadata.namespace },
    involvedObject: {
      apiVersion: about.apiVersion,
      kind: about.kind,
      name: about.metadata.name,
      namespace: about.metadata.namespace,
      uid: about.metadata.uid,
      resourceVersion: about.metadata.resourceVersion,
    },
    reason,
    message,
    type,
    source: { component },
    reportingComponent: component,
    reportingInstance: '',
    count: 1,
    firstTimestamp: at,
    lastTimestamp: at,
  });
}

/** Pods a controller made for an owner, by owner uid. */
export function ownedPods(fake: FakeKubernetes, namespace: string, ownerUid: string): K8sObject[] {
  const pods = fake.resourceType('v1', 'pods')!;
  return fake.store.list(pods, namespace).filter((pod) => ((pod.metadata.ownerReferences as { uid: string }[] | undefined) ?? []).some((owner) => owner.uid === ownerUid));
}

export function deletePod(fake: FakeKubernetes, pod: K8sObject): void {
  fake.store.delete(fake.resourceType('v1', 'pods')!, pod.metadata.namespace, pod.metadata.name);
}
