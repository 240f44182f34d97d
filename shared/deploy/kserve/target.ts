import { applyMergePatch } from '../merge-patch.js';
import { yamlDiff } from '../diff.js';
import { withEnvHidden } from '../env-values.js';
import { KINDS, type Cluster, type K8sObject } from '../k8s/cluster.js';
import { reachModel } from '../k8s/reach.js';
import { waitUntilReady } from '../k8s/wait.js';
import { inferencePath, type AppliedDeploy, type DeployLog, type DeployPlan, type DeploySpec, type DeployTarget, type ReadyDeploy } from '../target.js';
import { inferenceService, type CanaryForm } from './manifest.js';
import { failingConditions, isKnative, servingRevision, trafficOf, verdict, type Isvc } from './status.js';

/** How long a rollback waits to see the previous revision take all traffic again. */
const ROLLBACK_WAIT_MS = 60_000;

export interface KserveTargetOptions {
  cluster: Cluster;
  log: DeployLog;
}

/** What the step learned about the InferenceService before changing it. */
interface Before {
  current?: Isvc;
  canary: CanaryForm;
  manifest: K8sObject;
  generation?: number;
}

/** A KServe InferenceService (serving.kserve.io/v1beta1), applied server-side and watched until Ready. */
export function createKserveTarget({ cluster, log }: KserveTargetOptions): DeployTarget {
  const kind = KINDS.inferenceService;
  let before: Before | undefined;
  const podSelector = (spec: DeploySpec) => `serving.kserve.io/inferenceservice=${spec.name}`;

  return {
    kind: 'kserve',

    async plan(spec) {
      const current = await cluster.get<Isvc>(kind, spec.name);
      const knative = isKnative(current);
      let canary: CanaryForm = 'none';
      if (spec.canaryPercent !== undefined) {
        if (!current) log.info(`canaryPercent ${spec.canaryPercent}: ${cluster.label(kind, spec.name)} does not exist yet, so the first revision takes all traffic`);
        else canary = knative === false ? 'raw-canary' : 'knative';
      }
      let manifest = inferenceService(spec, cluster.namespace, current ? canary : 'none', current);
      if (spec.manifestPatch) manifest = applyMergePatch(manifest, spec.manifestPatch) as K8sObject;
      // A dry run is the permission and schema check: a 403 or a field the cluster's KServe lacks
      // fails here, before anything changes.
      const dryRun = await cluster.apply<Isvc>(kind, manifest, true);
      before = { current, canary, manifest };
      const plan: DeployPlan = { diff: yamlDiff(withEnvHidden(current?.spec), withEnvHidden(dryRun.spec)), creates: !current, previousRevision: servingRevision(current) };
      return plan;
    },

    async apply(spec, plan) {
      const applied = await cluster.apply<Isvc>(kind, before!.manifest);
      before!.generation = applied.metadata?.generation ?? 1;
      log.info(`applied ${cluster.label(kind, spec.name)} (generation ${before!.generation})`);
      const result: AppliedDeploy = { revision: `generation-${before!.generation}` };
      if (plan.previousRevision) result.previousRevision = plan.previousRevision;
      return result;
    },

    async waitReady(spec, applied, deadline, signal) {
      const previousCreated = before!.current?.status?.components?.predictor?.latestCreatedRevision;
      const rawCanary = before!.canary === 'raw-canary';
      const isvc = await waitUntilReady<Isvc>({
        cluster,
        kind,
        name: spec.name,
        podSelector: podSelector(spec),
        deadline,
        signal,
        log,
        judge: (object) => {
          const judged = verdict(object, before!.generation!, previousCreated, rawCanary);
          return judged.state === 'ready' ? { state: 'ready' } : judged;
        },
        explain: failingConditions,
      });
      const judged = verdict(isvc, before!.generation!, previousCreated, rawCanary);
      const revision = judged.state === 'ready' ? judged.revision : applied.revision;
      const trafficPercent = rawCanary ? (spec.canaryPercent ?? 100) : trafficOf(isvc, revision);
      const ready: ReadyDeploy = { revision, trafficPercent, endpointUrl: isvc.status?.url ?? isvc.status?.address?.url ?? '' };
      if (applied.previousRevision) ready.previousRevision = applied.previousRevision;
      return ready;
    },

    async smokeEndpoint(spec, ready, signal) {
      const knative = /-predictor-\d+$/.test(ready.revision);
      // Knative: the revision's own private Service reaches the new revision whatever the
      // traffic split; Standard mode: the predictor Service.
      const service = knative ? `${ready.revision}-private` : `${spec.name}-predictor`;
      const externalUrl = spec.canaryPercent === undefined ? ready.endpointUrl || undefined : undefined;
      return reachModel({ cluster, externalUrl, service, port: 80, path: inferencePath(spec.protocol, spec.name), signal, log });
    },

    async finish(_spec, ready) {
      return ready;
    },

    async rollback(spec, applied, signal) {
      const current = before?.current;
      if (!current) {
        await cluster.delete(kind, spec.name);
        return `deleted ${cluster.label(kind, spec.name)}, which this step had created`;
      }
      if (before!.canary === 'knative' || (isKnative(current) !== false && applied.previousRevision)) {
        // KServe's own rollback: a canary of 0% sends all traffic to the last rolled-out revision.
        const manifest = structuredClone(before!.manifest) as K8sObject & { spec: { predictor: Record<string, unknown> } };
        manifest.spec.predictor.canaryTrafficPercent = 0;
        await cluster.apply(kind, manifest);
      } else {
        // Standard mode: the previous spec goes back as it was (its predictor, and its canary if any).
        await cluster.apply(kind, { ...before!.manifest, spec: current.spec });
      }
      const previous = applied.previousRevision;
      if (previous) {
        await cluster.watchObject<Isvc>(kind, spec.name, Date.now() + ROLLBACK_WAIT_MS, signal, (object) => !!object && trafficOf(object, previous) === 100);
      }
      return `${previous ?? 'the previous revision'} serves 100% of traffic again`;
    },

    async close() {},
  };
}
