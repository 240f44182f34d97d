import { ControllerLoop } from './controller-loop.js';
import { jsonEqual } from './json-equal.js';
import { deletePod, ownedPods, recordEvent, shortHash, simulatePod, type PodOutcome } from './sim-pods.js';
import type { FakeKubernetes } from './server.js';
import type { K8sObject } from './store.js';

/** How a new predictor revision turns out, as a test chooses it. */
export type RevisionOutcome = 'ready' | 'failed-to-load' | 'crashloop' | 'image-pull' | 'pending';

export interface InferenceServiceControllerOptions {
  /** How long after a change the revision's outcome shows (default 10 ms). */
  delayMs?: number;
  /** The outcome of revisions the queue (`outcomes`) does not decide (default 'ready'). */
  outcome?: RevisionOutcome;
  /** KServe's deployment mode (default 'Serverless', i.e. Knative revisions). */
  mode?: 'Serverless' | 'RawDeployment';
  /** The ingress domain of status URLs (default 'example.com'). */
  domain?: string;
  /** Where port-forwards to ready predictor pods go (ports 8080 and queue-proxy's 8012): a real model server. */
  backend?: { port: number; host?: string };
  /** Log lines of the predictor container; failures get a default explanation when unset. */
  logLines?: string[];
}

interface Revision {
  name: string;
  /** The predictor spec it was made from, without canaryTrafficPercent (which is traffic, not template). */
  template: unknown;
  outcome: RevisionOutcome;
}

interface Predictor {
  canaryTrafficPercent?: number;
  containers?: { name?: string; image?: string }[];
  model?: { modelFormat?: { name?: string } };
  [field: string]: unknown;
}

const seconds = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const POD_OUTCOME: Record<RevisionOutcome, PodOutcome> = { ready: 'ready', 'failed-to-load': 'not-ready', crashloop: 'crashloop', 'image-pull': 'image-pull', pending: 'pending' };

/**
 * KServe's controller (and Knative's, in Serverless mode) simulated for InferenceServices: each
 * change of the predictor makes a revision <name>-predictor-0000N with a predictor pod in the
 * outcome the test chose, Services as KServe makes them, and the status KServe writes: conditions,
 * URLs, components.predictor revisions and traffic (canaryTrafficPercent splits it between the
 * previous rolled-out revision and the new one), and modelStatus.
 *
 * Services, Serverless: <name>-predictor (ExternalName to the Knative local gateway, as Knative
 * makes it) and <revision>-private (ClusterIP selecting that revision's pods, port 80 -> 8012).
 * RawDeployment: <name>-predictor (ClusterIP selecting app=isvc.<name>-predictor, port 80 -> 8080).
 */
export class InferenceServiceController extends ControllerLoop {
  /** Outcomes of the next new revisions, first one first; then options.outcome. */
  readonly outcomes: RevisionOutcome[] = [];
  private readonly revisionsByIsvc = new Map<string, Revision[]>();
  /** Standard mode's spec.canary[0], per InferenceService: its own pods beside the predictor's. */
  private readonly canaryByIsvc = new Map<string, { revision: Revision; count: number }>();
  private readonly mode: 'Serverless' | 'RawDeployment';
  private readonly domain: string;

  constructor(
    fake: FakeKubernetes,
    private readonly options: InferenceServiceControllerOptions = {},
  ) {
    super(fake, 'serving.kserve.io/v1beta1', 'inferenceservices', options.delayMs ?? 10);
    this.mode = options.mode ?? 'Serverless';
    this.domain = options.domain ?? 'example.com';
  }

  /** The revisions made so far for an InferenceService, oldest first. */
  revisions(namespace: string, name: string): { name: string; outcome: RevisionOutcome }[] {
    return (this.revisionsByIsvc.get(`${namespace}/${name}`) ?? []).map(({ name: revision, outcome }) => ({ name: revision, outcome }));
  }

  protected forget(isvc: K8sObject): void {
    this.revisionsByIsvc.delete(`${isvc.metadata.namespace}/${isvc.metadata.name}`);
    this.canaryByIsvc.delete(`${isvc.metadata.namespace}/${isvc.metadata.name}`);
  }

  protected sync(isvc: K8sObject): void {
    const namespace = isvc.metadata.namespace ?? 'default';
    const name = isvc.metadata.name;
    const predictor = ((isvc.spec as { predictor?: Predictor } | undefined)?.predictor ?? {}) as Predictor;
    const { canaryTrafficPercent, ...template } = predictor;
    const revisions = this.revisionsByIsvc.get(`${namespace}/${name}`) ?? [];
    this.revisionsByIsvc.set(`${namespace}/${name}`, revisions);
    // Only a new template is a new revision: a canary percentage alone moves traffic.
    let latest = revisions.at(-1);
    if (!latest || !jsonEqual(latest.template, template)) {
      latest = { name: `${name}-predictor-${String(revisions.length + 1).padStart(5, '0')}`, template, outcome: this.outcomes.shift() ?? this.options.outcome ?? 'ready' };
      revisions.push(latest);
      this.makePod(isvc, latest, predictor);
    }
    // The revision a canary splits with (and canaryTrafficPercent: 0 rolls back to): the last ready one before the latest.
    const previousReady = revisions.slice(0, -1).reverse().find((revision) => revision.outcome === 'ready');
    this.services(isvc, latest);
    const stable = latest.outcome === 'ready' ? latest : previousReady;
    // Traffic: all to the latest ready revision, or split with the previous one during a canary.
    const canary = latest.outcome === 'ready' && previousReady && previousReady !== latest && canaryTrafficPercent !== undefined && canaryTrafficPercent < 100;
    const rolledOut = canary ? previousReady : stable;
    const serving = new Set([latest.outcome === 'ready' ? latest.name : undefined, canary ? previousReady.name : undefined, rolledOut?.name].filter(Boolean));
    // Knative scales revisions without traffic to zero: their pods go.
    for (const pod of ownedPods(this.fake, namespace, isvc.metadata.uid!)) {
      const revision = pod.metadata.labels?.['serving.knative.dev/revision'];
      if (revision && revision !== latest.name && !serving.has(revision)) deletePod(this.fake, pod);
    }
    const status = this.status(isvc, latest, stable, canary ? { previous: previousReady, percent: canaryTrafficPercent } : undefined, previousReady);
    const canaryStatuses = this.mode === 'RawDeployment' ? this.rawCanary(isvc) : undefined;
    this.writeStatus(isvc, canaryStatuses ? { ...status, canaryStatuses } : status);
    const ready = latest.outcome === 'ready';
    recordEvent(this.fake, isvc, ready ? 'Normal' : 'Warning', ready ? 'InferenceServiceReady' : 'InternalError', ready ? `InferenceService [${name}] is Ready` : failure(latest).message, 'v1beta1Controllers');
  }

  /**
   * Standard (RawDeployment) mode's spec.canary[0]: a predictor of its own whose pods share the
   * predictor Service's selector, so it takes part in what the Service serves; its state is in
   * status.canaryStatuses. Removing spec.canary removes its pods.
   */
  private rawCanary(isvc: K8sObject): Record<string, unknown>[] | undefined {
    const key = `${isvc.metadata.namespace}/${isvc.metadata.name}`;
    const wanted = (isvc.spec as { canary?: { predictor: Predictor; trafficPercent: number }[] } | undefined)?.canary?.[0];
    const known = this.canaryByIsvc.get(key);
    if (!wanted) {
      if (known) for (const pod of ownedPods(this.fake, isvc.metadata.namespace ?? 'default', isvc.metadata.uid!)) if (pod.metadata.name.startsWith(known.revision.name)) deletePod(this.fake, pod);
      this.canaryByIsvc.delete(key);
      return undefined;
    }
    let current = known;
    if (!current || !jsonEqual(current.revision.template, wanted.predictor)) {
      const count = (known?.count ?? 0) + 1;
      const revision: Revision = { name: `${isvc.metadata.name}-canary-${String(count).padStart(5, '0')}`, template: wanted.predictor, outcome: this.outcomes.shift() ?? this.options.outcome ?? 'ready' };
      current = { revision, count };
      this.canaryByIsvc.set(key, current);
      this.makePod(isvc, revision, wanted.predictor);
    }
    const ready = current.revision.outcome === 'ready';
    return [{ name: current.revision.name, ready, trafficPercent: ready ? wanted.trafficPercent : 0, modelStatus: modelStatus(current.revision, true, seconds()) }];
  }

  private urls(isvc: K8sObject) {
    const { name, namespace } = isvc.metadata;
    return {
      url: `http://${name}-${namespace}.${this.domain}`,
      address: `http://${name}.${namespace}.svc.cluster.local`,
      predictorUrl: `http://${name}-predictor-${namespace}.${this.domain}`,
      predictorAddress: `http://${name}-predictor.${namespace}.svc.cluster.local`,
    };
  }

  private makePod(isvc: K8sObject, revision: Revision, predictor: Predictor): void {
    const namespace = isvc.metadata.namespace ?? 'default';
    const format = predictor.model?.modelFormat?.name ?? 'custom';
    const image = predictor.containers?.[0]?.image ?? `kserve/${format}server:v0.15.0`;
    const knative = this.mode === 'Serverless';
    const app = knative ? revision.name : `isvc.${isvc.metadata.name}-predictor`;
    simulatePod(this.fake, {
      namespace,
      name: `${revision.name}-deployment-${shortHash(revision.template, 10)}-${shortHash(revision.name, 5)}`,
      labels: {
        app,
        component: 'predictor',
        'serving.kserve.io/inferenceservice': isvc.metadata.name,
        ...(knative ? { 'serving.knative.dev/revision': revision.name, 'serving.knative.dev/configuration': `${isvc.metadata.name}-predictor` } : {}),
      },
      owner: { apiVersion: 'serving.kserve.io/v1beta1', kind: 'InferenceService', name: isvc.metadata.name, uid: isvc.metadata.uid! },
      containers: [
        { name: 'kserve-container', image, ports: [{ name: 'user-port', containerPort: 8080 }] },
        ...(knative ? [{ name: 'queue-proxy', image: 'gcr.io/knative-releases/knative.dev/serving/cmd/queue:v1.15.0', ports: [{ name: 'http-queueadm', containerPort: 8012 }] }] : []),
      ],
      outcome: POD_OUTCOME[revision.outcome],
      backend: this.options.backend,
      logLines: this.options.logLines ?? defaultLog(revision.outcome),
    });
  }

  private services(isvc: K8sObject, latest: Revision): void {
    const namespace = isvc.metadata.namespace ?? 'default';
    const name = isvc.metadata.name;
    const owner = [{ apiVersion: 'serving.kserve.io/v1beta1', kind: 'InferenceService', name, uid: isvc.metadata.uid!, controller: true, blockOwnerDeletion: true }];
    const put = (service: string, spec: Record<string, unknown>) =>
      this.fake.store.put({ apiVersion: 'v1', kind: 'Service', metadata: { name: service, namespace, labels: { 'serving.kserve.io/inferenceservice': name }, ownerReferences: owner }, spec, status: { loadBalancer: {} } });
    if (this.mode === 'Serverless') {
      put(`${name}-predictor`, { type: 'ExternalName', externalName: 'knative-local-gateway.istio-system.svc.cluster.local', sessionAffinity: 'None', ports: [{ name: 'http2', protocol: 'TCP', port: 80, targetPort: 80 }] });
      put(`${latest.name}-private`, {
        type: 'ClusterIP',
        clusterIP: '10.96.40.12',
        clusterIPs: ['10.96.40.12'],
        selector: { 'serving.knative.dev/revision': latest.name },
        sessionAffinity: 'None',
        ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8012 }],
      });
    } else {
      put(`${name}-predictor`, {
        type: 'ClusterIP',
        clusterIP: '10.96.40.13',
        clusterIPs: ['10.96.40.13'],
        selector: { app: `isvc.${name}-predictor` },
        sessionAffinity: 'None',
        ports: [{ name: `${name}-predictor`, protocol: 'TCP', port: 80, targetPort: 8080 }],
      });
    }
  }

  private status(isvc: K8sObject, latest: Revision, stable: Revision | undefined, canary: { previous: Revision; percent: number } | undefined, previousReady: Revision | undefined): Record<string, unknown> {
    const now = seconds();
    const urls = this.urls(isvc);
    const ready = latest.outcome === 'ready';
    const why = failure(latest);
    const pending = latest.outcome === 'pending' || latest.outcome === 'image-pull';
    const condition = (type: string, up: boolean, info = false) => ({
      type,
      status: up ? 'True' : pending && !info ? 'Unknown' : 'False',
      lastTransitionTime: now,
      ...(info ? { severity: 'Info' } : {}),
      ...(up ? {} : { reason: why.reason, message: why.message }),
    });
    const routed = !!stable;
    const knative = this.mode === 'Serverless';
    const conditions = knative
      ? [
          condition('IngressReady', routed),
          condition('LatestDeploymentReady', ready, true),
          condition('PredictorConfigurationReady', ready, true),
          condition('PredictorReady', ready),
          condition('PredictorRouteReady', routed, true),
          condition('Ready', ready),
          condition('RoutesReady', routed, true),
        ]
      : [condition('IngressReady', routed), condition('PredictorReady', ready), condition('Ready', ready)];
    const tagUrl = (tag: string) => `http://${tag}-${isvc.metadata.name}-predictor-${isvc.metadata.namespace}.${this.domain}`;
    const traffic = !stable
      ? undefined
      : canary
        ? [
            { revisionName: latest.name, percent: canary.percent, latestRevision: true, tag: 'latest', url: tagUrl('latest') },
            { revisionName: canary.previous.name, percent: 100 - canary.percent, latestRevision: false, tag: 'prev', url: tagUrl('prev') },
          ]
        : [{ revisionName: stable.name, percent: 100, latestRevision: true }];
    const rolledOut = canary ? canary.previous : stable;
    const previousRolledOut = canary ? canary.previous : previousReady && previousReady !== stable ? previousReady : undefined;
    const predictor = knative
      ? {
          url: urls.predictorUrl,
          address: { url: urls.predictorAddress },
          latestCreatedRevision: latest.name,
          ...(stable ? { latestReadyRevision: stable.name } : {}),
          ...(rolledOut ? { latestRolledoutRevision: rolledOut.name } : {}),
          ...(previousRolledOut ? { previousRolledoutRevision: previousRolledOut.name } : {}),
          ...(traffic ? { traffic } : {}),
        }
      : { url: urls.predictorUrl, address: { url: urls.predictorAddress } };
    return {
      observedGeneration: isvc.metadata.generation,
      deploymentMode: this.mode,
      ...(routed ? { url: urls.url, address: { url: knative ? urls.address : urls.predictorAddress } } : {}),
      conditions,
      components: { predictor },
      modelStatus: modelStatus(latest, !!previousReady, now),
    };
  }
}

/** Why a revision is not ready, in KServe's and Knative's words. */
function failure(revision: Revision): { reason: string; message: string } {
  switch (revision.outcome) {
    case 'failed-to-load':
      return { reason: 'RevisionFailed', message: `Revision "${revision.name}" failed with message: Container failed to load the model: model "${revision.name}" could not be loaded.` };
    case 'crashloop':
      return { reason: 'RevisionFailed', message: `Revision "${revision.name}" failed with message: Container failed with: ValueError: the model file is not a valid model.` };
    case 'image-pull':
      return { reason: 'RevisionMissing', message: `Revision "${revision.name}" failed with message: Back-off pulling image.` };
    case 'pending':
      return { reason: 'RevisionMissing', message: `Configuration "${revision.name.replace(/-\d+$/, '')}" is waiting for a Revision to become ready.` };
    default:
      return { reason: '', message: '' };
  }
}

function modelStatus(latest: Revision, previousLoaded: boolean, now: string): Record<string, unknown> {
  const active = previousLoaded ? 'Loaded' : '';
  switch (latest.outcome) {
    case 'ready':
      return { states: { activeModelState: 'Loaded', targetModelState: 'Loaded' }, transitionStatus: 'UpToDate', copies: { failedCopies: 0, totalCopies: 1 } };
    case 'failed-to-load':
    case 'crashloop':
      return {
        states: { activeModelState: active, targetModelState: 'FailedToLoad' },
        transitionStatus: 'BlockedByFailedLoad',
        lastFailureInfo: {
          reason: 'ModelLoadFailed',
          message: latest.outcome === 'crashloop' ? 'container kserve-container exited with code 1' : 'Failed to load model: the model file is not a valid model',
          modelRevisionName: latest.name,
          time: now,
          ...(latest.outcome === 'crashloop' ? { exitCode: 1 } : {}),
        },
        copies: { failedCopies: 1, totalCopies: 1 },
      };
    default:
      return { states: { activeModelState: active, targetModelState: 'Pending' }, transitionStatus: 'InProgress' };
  }
}

function defaultLog(outcome: RevisionOutcome): string[] | undefined {
  if (outcome === 'failed-to-load') return ['INFO: Loading model from /mnt/models', 'ERROR: Failed to load model: the model file is not a valid model'];
  if (outcome === 'crashloop') return ['INFO: Loading model from /mnt/models', 'Traceback (most recent call last):', 'ValueError: the model file is not a valid model'];
  return undefined;
}
