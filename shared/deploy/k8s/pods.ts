import { KINDS, type Cluster, type K8sObject } from './cluster.js';

interface ContainerStatus {
  name: string;
  ready?: boolean;
  restartCount?: number;
  state?: { waiting?: { reason?: string; message?: string }; terminated?: { reason?: string; exitCode?: number } };
  lastState?: { terminated?: { reason?: string; exitCode?: number } };
}

export type Pod = K8sObject & {
  status?: { phase?: string; containerStatuses?: ContainerStatus[]; initContainerStatuses?: ContainerStatus[] };
};

interface Event extends K8sObject {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  lastTimestamp?: string;
  eventTime?: string;
  involvedObject?: { kind?: string; name?: string };
}

/** Waiting reasons that do not get better by waiting longer. */
const STUCK_REASONS = new Set(['CrashLoopBackOff', 'ImagePullBackOff', 'ErrImagePull', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError']);

export interface StuckPod {
  pod: string;
  container: string;
  reason: string;
  message?: string;
  /** Whether the container ran before (then its previous log tells why it stopped). */
  restarted: boolean;
}

/** The first container, among the pods, stuck in a state that waiting will not fix. */
export function findStuckPod(pods: Pod[]): StuckPod | undefined {
  for (const pod of pods) {
    const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
    for (const container of statuses) {
      const waiting = container.state?.waiting;
      if (waiting?.reason && STUCK_REASONS.has(waiting.reason)) {
        return { pod: pod.metadata?.name ?? '', container: container.name, reason: waiting.reason, message: waiting.message, restarted: (container.restartCount ?? 0) > 0 };
      }
    }
  }
  return undefined;
}

export async function listPods(cluster: Cluster, selector: string): Promise<Pod[]> {
  return (await cluster.list<Pod>(KINDS.pod, { labelSelector: selector }, `GET pods ${selector} in ${cluster.namespace}`)).items;
}

function eventTime(event: Event): number {
  const time = Date.parse(event.lastTimestamp ?? event.eventTime ?? event.metadata?.creationTimestamp ?? '');
  return Number.isFinite(time) ? time : 0;
}

/** The last events about these objects, oldest first, one line each. */
export async function recentEvents(cluster: Cluster, names: string[], limit = 10): Promise<string[]> {
  const events: Event[] = [];
  for (const name of new Set(names)) {
    const { items } = await cluster.list<Event>(KINDS.event, { fieldSelector: `involvedObject.name=${name}` }, `GET events of ${name}`);
    events.push(...items);
  }
  return events
    .sort((a, b) => eventTime(a) - eventTime(b))
    .slice(-limit)
    .map((event) => `event ${event.type ?? 'Normal'} ${event.reason ?? ''} ${event.involvedObject?.kind ?? ''}/${event.involvedObject?.name ?? ''}: ${event.message ?? ''}`.replace(/\s+/g, ' ').trim());
}

/** Conditions, events and the stuck container's last log lines: what a person needs to see why. */
export async function podDiagnostics(cluster: Cluster, selector: string, objectNames: string[], logLines = 20): Promise<string[]> {
  const lines: string[] = [];
  const pods = await listPods(cluster, selector);
  const stuck = findStuckPod(pods);
  if (stuck) lines.push(`pod ${stuck.pod} container ${stuck.container}: ${stuck.reason}${stuck.message ? `: ${stuck.message}` : ''}`);
  lines.push(...(await recentEvents(cluster, [...objectNames, ...pods.map((pod) => pod.metadata?.name ?? '')].filter(Boolean))));
  if (stuck && stuck.reason !== 'ImagePullBackOff' && stuck.reason !== 'ErrImagePull') {
    const log = await cluster.logTail(stuck.pod, stuck.container, logLines, stuck.restarted);
    const logged = log.split(/\r?\n/).filter((line) => line.trim());
    if (logged.length) lines.push(`last ${logged.length} log line(s) of ${stuck.pod}/${stuck.container}:`, ...logged.map((line) => `  ${line}`));
  }
  return lines;
}
