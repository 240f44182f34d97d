import { applyMergePatch } from '../merge-patch.js';
import { yamlDiff } from '../diff.js';
import { withEnvHidden } from '../env-values.js';
import { KINDS, type Cluster, type K8sObject } from '../k8s/cluster.js';
import { reachModel } from '../k8s/reach.js';
import { waitUntilReady } from '../k8s/wait.js';
import { DeployFailure, inferencePath, type AppliedDeploy, type DeployLog, type DeployTarget } from '../target.js';
import { deployment, SERVICE_PORT, selectorLabels, service } from './manifest.js';
import { failingConditions, revisionOf, rolloutStatus, type Deployment } from './rollout.js';

export interface KubernetesTargetOptions {
  cluster: Cluster;
  log: DeployLog;
}

/** How long a rollback waits for the previous template to be rolled out again. */
const ROLLBACK_WAIT_MS = 120_000;

const selectorText = (name: string) =>
  Object.entries(selectorLabels(name))
    .map(([key, value]) => `${key}=${value}`)
    .join(',');

/** A Deployment and a Service for a serving image, applied server-side, waited for like `kubectl rollout status`. */
export function createKubernetesTarget({ cluster, log }: KubernetesTargetOptions): DeployTarget {
  let current: Deployment | undefined;
  let serviceExisted = false;
  let manifest: K8sObject | undefined;
  const waitFor = (name: string) => ({
    cluster,
    kind: KINDS.deployment,
    name,
    podSelector: selectorText(name),
    judge: rolloutStatus,
    explain: failingConditions,
  });

  return {
    kind: 'kubernetes',

    async plan(spec) {
      current = await cluster.get<Deployment>(KINDS.deployment, spec.name);
      serviceExisted = !!(await cluster.get(KINDS.service, spec.name));
      manifest = deployment(spec, cluster.namespace);
      if (spec.manifestPatch) manifest = applyMergePatch(manifest, spec.manifestPatch) as K8sObject;
      // Dry runs check permission and schema for both objects before either changes.
      const dryRun = await cluster.apply<Deployment>(KINDS.deployment, manifest, true);
      await cluster.apply(KINDS.service, service(spec, cluster.namespace), true);
      const previousRevision = revisionOf(current);
      return { diff: yamlDiff(withEnvHidden(current?.spec), withEnvHidden(dryRun.spec)), creates: !current, ...(previousRevision ? { previousRevision } : {}) };
    },

    async apply(spec, plan) {
      const applied = await cluster.apply<Deployment>(KINDS.deployment, manifest!);
      await cluster.apply(KINDS.service, service(spec, cluster.namespace));
      log.info(`applied ${cluster.label(KINDS.deployment, spec.name)} (generation ${applied.metadata?.generation}) and its Service`);
      const result: AppliedDeploy = { revision: revisionOf(applied) ?? `generation-${applied.metadata?.generation ?? 1}` };
      if (plan.previousRevision) result.previousRevision = plan.previousRevision;
      return result;
    },

    async waitReady(spec, applied, deadline, signal) {
      const ready = await waitUntilReady<Deployment>({ ...waitFor(spec.name), deadline, signal, log });
      return {
        revision: revisionOf(ready) ?? applied.revision,
        ...(applied.previousRevision ? { previousRevision: applied.previousRevision } : {}),
        trafficPercent: 100,
        endpointUrl: `http://${spec.name}.${cluster.namespace}.svc.cluster.local${SERVICE_PORT === 80 ? '' : `:${SERVICE_PORT}`}`,
      };
    },

    async smokeEndpoint(spec, _ready, signal) {
      return reachModel({ cluster, service: spec.name, port: SERVICE_PORT, path: inferencePath(spec.protocol, spec.name), signal, log });
    },

    async finish(_spec, ready) {
      return ready;
    },

    async rollback(spec, applied, signal) {
      if (!current) {
        await cluster.delete(KINDS.deployment, spec.name);
        if (!serviceExisted) await cluster.delete(KINDS.service, spec.name);
        return `deleted Deployment and Service ${cluster.namespace}/${spec.name}, which this step had created`;
      }
      // The previous pod template goes back; the Deployment controller rolls it out again.
      const restored = { ...manifest!, spec: { ...(manifest!.spec ?? {}), template: current.spec?.template, replicas: current.spec?.replicas } };
      await cluster.apply(KINDS.deployment, restored);
      const what = `the previous pod template (revision ${applied.previousRevision ?? 'before this step'})`;
      try {
        await waitUntilReady<Deployment>({
          ...waitFor(spec.name),
          deadline: Date.now() + ROLLBACK_WAIT_MS,
          signal,
          log,
        });
      } catch (error) {
        if (error instanceof DeployFailure) return `${what} was applied again but is not rolled out yet: ${error.message}`;
        throw error;
      }
      return `${what} is rolled out again and serves all traffic`;
    },

    async close() {},
  };
}
