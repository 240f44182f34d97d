import { ControllerLoop } from './controller-loop.js';
import { deletePod, ownedPods, recordEvent, shortHash, simulatePod, type PodOutcome, type SimContainer } from './sim-pods.js';
import type { FakeKubernetes } from './server.js';
import type { K8sObject } from './store.js';

export interface DeploymentControllerOptions {
  /** How long after a change the rollout's outcome shows (default 10 ms). */
  delayMs?: number;
  /** The outcome of rollouts the queue (`outcomes`) does not decide (default 'ready'). */
  outcome?: PodOutcome;
  /** Where port-forwards to the ready pods' container ports go: a real local server. */
  backend?: { port: number; host?: string };
  /** Log lines of each new pod's first container (for a crash loop, those of the run that crashed). */
  logLines?: string[];
}

interface DeploymentSpec {
  replicas?: number;
  template: { metadata?: { labels?: Record<string, string> }; spec: { containers: SimContainer[] } };
}

const seconds = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/**
 * The Deployment controller and kubelets, simulated without ReplicaSet objects: on a template
 * change it makes `replicas` pods named <deployment>-<template hash>-<n> with the template's
 * labels, in the outcome the test chose; a ready rollout replaces the old pods, a failed one keeps
 * them and ends in ProgressDeadlineExceeded, as a real one does once its deadline passes. Status,
 * conditions and events read as kubectl and client libraries expect them.
 */
const REVISION = 'deployment.kubernetes.io/revision';

export class DeploymentController extends ControllerLoop {
  /** Outcomes of the next rollouts, first one first; then options.outcome. */
  readonly outcomes: PodOutcome[] = [];
  /** Per Deployment uid: the newest template hash and its revision, as the ReplicaSets record them. */
  private readonly revisions = new Map<string, { hash: string; revision: number }>();

  constructor(
    fake: FakeKubernetes,
    private readonly options: DeploymentControllerOptions = {},
  ) {
    super(fake, 'apps/v1', 'deployments', options.delayMs ?? 10);
  }

  protected forget(deployment: K8sObject): void {
    // Pods go with the Deployment through the fake's garbage collection.
    this.revisions.delete(deployment.metadata.uid!);
  }

  private annotateRevision(deployment: K8sObject, revision: number): void {
    const live = this.get(deployment.metadata.namespace ?? 'default', deployment.metadata.name);
    if (!live || live.metadata.annotations?.[REVISION] === String(revision)) return;
    this.fake.store.put({ ...live, metadata: { ...live.metadata, annotations: { ...(live.metadata.annotations ?? {}), [REVISION]: String(revision) } } });
  }

  protected sync(deployment: K8sObject): void {
    const namespace = deployment.metadata.namespace ?? 'default';
    const spec = deployment.spec as DeploymentSpec;
    const replicas = spec.replicas ?? 1;
    const hash = shortHash(spec.template);
    const replicaSet = `${deployment.metadata.name}-${hash}`;
    const pods = ownedPods(this.fake, namespace, deployment.metadata.uid!);
    const current = pods.filter((pod) => pod.metadata.labels?.['pod-template-hash'] === hash);
    const old = pods.filter((pod) => pod.metadata.labels?.['pod-template-hash'] !== hash);
    // A new template is a new rollout with its own outcome; a scale keeps the current pods' outcome.
    const outcome = current.length ? outcomeOf(current[0]!) : this.outcomes.shift() ?? this.options.outcome ?? 'ready';
    for (let index = current.length; index < replicas; index++) {
      simulatePod(this.fake, {
        namespace,
        name: `${replicaSet}-${shortHash([hash, index], 5)}`,
        labels: { ...(spec.template.metadata?.labels ?? {}), 'pod-template-hash': hash },
        owner: { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: replicaSet, uid: deployment.metadata.uid! },
        containers: spec.template.spec.containers,
        outcome,
        backend: this.options.backend,
        logLines: this.options.logLines,
      });
    }
    for (const pod of current.slice(replicas)) deletePod(this.fake, pod);
    if (!current.length) recordEvent(this.fake, deployment, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${replicaSet} from 0 to ${replicas}`, 'deployment-controller');

    // Each new template (a rollback to an old one too) gets the next revision, as kubectl shows it.
    const uid = deployment.metadata.uid!;
    const latest = this.revisions.get(uid);
    const revision = !latest ? 1 : latest.hash === hash ? latest.revision : latest.revision + 1;
    this.revisions.set(uid, { hash, revision });
    this.annotateRevision(deployment, revision);

    const now = seconds();
    const ready = outcome === 'ready';
    if (ready) {
      for (const pod of old) deletePod(this.fake, pod);
      this.writeStatus(deployment, {
        observedGeneration: deployment.metadata.generation,
        replicas,
        updatedReplicas: replicas,
        readyReplicas: replicas,
        availableReplicas: replicas,
        conditions: [
          { type: 'Available', status: 'True', lastUpdateTime: now, lastTransitionTime: now, reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' },
          { type: 'Progressing', status: 'True', lastUpdateTime: now, lastTransitionTime: now, reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${replicaSet}" has successfully progressed.` },
        ],
      });
      return;
    }
    const oldReady = old.filter((pod) => outcomeOf(pod) === 'ready').length;
    this.writeStatus(deployment, {
      observedGeneration: deployment.metadata.generation,
      replicas: replicas + old.length,
      updatedReplicas: replicas,
      ...(oldReady ? { readyReplicas: oldReady, availableReplicas: oldReady } : {}),
      unavailableReplicas: replicas,
      conditions: [
        oldReady
          ? { type: 'Available', status: 'True', lastUpdateTime: now, lastTransitionTime: now, reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }
          : { type: 'Available', status: 'False', lastUpdateTime: now, lastTransitionTime: now, reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' },
        { type: 'Progressing', status: 'False', lastUpdateTime: now, lastTransitionTime: now, reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${replicaSet}" has timed out progressing.` },
      ],
    });
  }
}

/** The outcome a simulated pod was made with, read back from its status. */
export function outcomeOf(pod: K8sObject): PodOutcome {
  const status = pod.status as { phase?: string; conditions?: { type: string; status: string }[]; containerStatuses?: { state?: { waiting?: { reason?: string } } }[] };
  const waiting = status.containerStatuses?.[0]?.state?.waiting?.reason;
  if (waiting === 'CrashLoopBackOff') return 'crashloop';
  if (waiting === 'ImagePullBackOff') return 'image-pull';
  if (!status.containerStatuses) return 'pending';
  return status.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') ? 'ready' : 'not-ready';
}
