import { DeployFailure, type DeployLog } from '../target.js';
import type { Cluster, K8sObject, ResourceKind } from './cluster.js';
import { findStuckPod, listPods, podDiagnostics } from './pods.js';

export type Judged = { state: 'waiting'; why: string } | { state: 'ready' } | { state: 'failed'; why: string };

/** Pods are looked at after 2 s of a quiet watch, then less often, up to every 10 s. */
const FIRST_POD_CHECK_MS = 2_000;
const POD_CHECK_MS = 10_000;

export interface WaitRequest<T extends K8sObject> {
  cluster: Cluster;
  kind: ResourceKind;
  name: string;
  /** Labels of the pods that serve it, for crash-loop detection and diagnostics. */
  podSelector: string;
  deadline: number;
  signal: AbortSignal;
  log: DeployLog;
  judge(object: T | undefined): Judged;
  /** Extra diagnostics of the object itself (its failing conditions). */
  explain(object: T | undefined): string[];
}

/**
 * Watches the object until it is ready or failed for good. The object's own status is followed by
 * a watch; its pods are looked at every few seconds in between, because a crash-looping container
 * often leaves the object's status unchanged. A failure carries conditions, events and log lines.
 */
export async function waitUntilReady<T extends K8sObject>(request: WaitRequest<T>): Promise<T> {
  const { cluster, kind, name, deadline, signal, log } = request;
  let latest: T | undefined;
  // An object, not a let: the watch callback sets it, which narrowing does not follow.
  const seen: { verdict: Judged } = { verdict: { state: 'waiting', why: 'not looked at yet' } };
  let said = '';
  for (let quiet = FIRST_POD_CHECK_MS; ; quiet = Math.min(quiet * 2, POD_CHECK_MS)) {
    const windowEnd = Math.min(deadline, Date.now() + quiet);
    await cluster.watchObject<T>(kind, name, windowEnd, signal, (object) => {
      latest = object;
      const verdict = request.judge(object);
      seen.verdict = verdict;
      if (verdict.state === 'waiting' && verdict.why !== said) {
        said = verdict.why;
        log.info(`waiting for ${cluster.label(kind, name)}: ${verdict.why}`);
      }
      return verdict.state !== 'waiting';
    });
    const verdict = seen.verdict;
    if (verdict.state === 'ready') return latest!;
    const stuck = findStuckPod(await listPods(cluster, request.podSelector));
    const podWhy = stuck ? `pod ${stuck.pod} is in ${stuck.reason}` : '';
    // The pod's state is the cause a person can act on; the object's status is often its echo.
    if (verdict.state === 'failed') throw await failure(request, latest, podWhy ? `${verdict.why}; ${podWhy}` : verdict.why);
    if (stuck) throw await failure(request, latest, podWhy);
    if (Date.now() >= deadline) throw await failure(request, latest, `not ready in time (last: ${verdict.why})`);
  }
}

async function failure<T extends K8sObject>(request: WaitRequest<T>, object: T | undefined, why: string): Promise<DeployFailure> {
  const { cluster, kind, name } = request;
  const diagnostics = [...request.explain(object), ...(await podDiagnostics(cluster, request.podSelector, [name]))];
  return new DeployFailure(`${cluster.label(kind, name)} did not become ready: ${why}`, diagnostics);
}
