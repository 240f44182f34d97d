import { ArmClient } from '../../azure/arm.js';
import type { AzureMlTargetOptions } from '../../model/azureml/target.js';
import { workspacePath, type AzureMlWorkspace } from '../../model/azureml/workspace.js';
import { InputError, UserError, errorMessage } from '../../util/errors.js';
import type { AppliedDeploy, DeployLog, DeployPlan, DeploySpec, DeployTarget, ReadyDeploy, SmokeEndpoint } from '../target.js';
import { armTokenSource, scoringCredential } from './credentials.js';
import { deploymentBody, deploymentSettings } from './deployment.js';
import { settingsDiff } from './diff.js';
import { AUTH_MODES, describeTraffic, endpointPutBody, newEndpointBody, trafficSettings } from './endpoint.js';
import { ensureEnvironment, environmentVersion } from './environment.js';
import { explained } from './errors.js';
import { azureMlModel, type AzureMlModel } from './model-id.js';
import { CREATED_BY, CREATED_BY_TAG, newDeploymentName } from './names.js';
import { AZURE_ML_API_VERSION, type EndpointAuthMode, type OnlineDeploymentResource, type OnlineEndpointResource, type WorkspaceResource } from './resources.js';
import { sameTraffic, servingDeployment, shiftTraffic, withTraffic, type Traffic } from './traffic.js';
import { waitForDeployment } from './wait.js';

/** The same workspace connection RegisterModel's azureml target uses, and what serving needs. */
export interface AzureMlDeployOptions extends AzureMlTargetOptions {
  /** e.g. Standard_DS3_v2 */
  instanceType: string;
  /** Auth mode of an endpoint this step creates; an existing endpoint keeps its own. */
  authMode: 'key' | 'aadToken';
  log: DeployLog;
  /** Longest pause between two polls of ARM, whatever Retry-After says (default: none). */
  maxPollMs?: number;
}

/** What plan saw, for apply and rollback: the new deployment's name and the traffic to go back to. */
interface Planned {
  deployment: string;
  traffic: Traffic;
  creates: boolean;
}

/** What apply did, for waitReady and rollback. */
interface Applied extends Planned {
  operationUrl?: string;
}

/** The model and, for a custom image, the image: checked before anything is sent. */
function servedModel(spec: DeploySpec, ws: AzureMlWorkspace): { model?: AzureMlModel; image?: string } {
  let model: AzureMlModel | undefined;
  if (spec.modelUri) {
    const found = azureMlModel(spec.modelUri, ws);
    if ('problem' in found) throw new InputError('modelUri', found.problem);
    model = found;
  }
  if (spec.modelFormat === 'mlflow') {
    if (!model) throw new InputError('modelUri', 'an mlflow model is served without code: give the registered model as azureml:<name>:<version>');
    return { model };
  }
  if (!spec.image) throw new InputError('image', `azureml serves a ${spec.modelFormat ?? 'custom'} model from a serving image: give image, or register the model in MLflow format and set modelFormat mlflow`);
  return { model, image: spec.image };
}

/** Managed online endpoints and blue/green deployments in an Azure ML workspace, over ARM 2024-04-01. */
export function createAzureMlDeployTarget(options: AzureMlDeployOptions): DeployTarget {
  const ws: AzureMlWorkspace = { subscriptionId: options.subscriptionId, resourceGroup: options.resourceGroup, workspace: options.workspace };
  const armUrl = options.armUrl.replace(/\/+$/, '');
  const log = options.log;
  const armToken = armTokenSource(options.identity, armUrl, (token) => log.secret(token));
  const planned = new WeakMap<DeployPlan, Planned>();
  const applied = new Map<string, Applied>();

  const client = (signal: AbortSignal) =>
    new ArmClient({ armUrl, apiVersion: AZURE_ML_API_VERSION, token: () => armToken(signal), env: options.env, ca: options.ca, signal, maxPollMs: options.maxPollMs });
  const endpointPath = (name: string) => `${workspacePath(ws)}/onlineEndpoints/${encodeURIComponent(name)}`;
  const deploymentPath = (endpoint: string, deployment: string) => `${endpointPath(endpoint)}/deployments/${encodeURIComponent(deployment)}`;
  const readEndpoint = (arm: ArmClient, name: string) => arm.find<OnlineEndpointResource>(`reading online endpoint '${name}'`, endpointPath(name));
  const listDeployments = (arm: ArmClient, name: string) => arm.list<OnlineDeploymentResource>(`listing the deployments of endpoint '${name}'`, `${endpointPath(name)}/deployments`);

  /** Every ArmError leaves with what to check; everything else as it is. */
  async function explaining<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw explained(error, ws, armUrl);
    }
  }

  function newDeployment(spec: DeploySpec, location: string, served: { model?: AzureMlModel; image?: string }): OnlineDeploymentResource {
    const environmentId = served.image ? environmentVersion(ws, spec, served.image, served.model?.name ?? spec.name).path : undefined;
    return deploymentBody(spec, { location, instanceType: options.instanceType, modelId: served.model?.id, environmentId });
  }

  async function plan(spec: DeploySpec, signal: AbortSignal): Promise<DeployPlan> {
    const served = servedModel(spec, ws);
    const arm = client(signal);
    const endpoint = await readEndpoint(arm, spec.name);
    const deployments = endpoint ? await listDeployments(arm, spec.name) : [];
    const deployment = newDeploymentName(spec.name, deployments.map((d) => d.name ?? ''));
    const traffic = withTraffic(endpoint?.properties.traffic);
    const previousRevision = servingDeployment(traffic);
    const result: DeployPlan = { creates: !endpoint, previousRevision, diff: '' };
    planned.set(result, { deployment, traffic, creates: !endpoint });
    if (!endpoint) return result;

    if (endpoint.properties.authMode !== AUTH_MODES[options.authMode]) {
      log.warning(`endpoint '${spec.name}' uses auth mode ${endpoint.properties.authMode}, which an existing endpoint keeps; authMode ${options.authMode} applies to new endpoints only`);
    }
    const next = shiftTraffic(traffic, deployment, spec.canaryPercent);
    const removed = spec.canaryPercent === undefined ? deployments.filter((d) => d.name && d.tags?.[CREATED_BY_TAG] === CREATED_BY && !next[d.name]) : [];
    result.diff = [
      settingsDiff(`endpoint ${spec.name} traffic`, `endpoint ${spec.name} traffic after this step`, trafficSettings(traffic), trafficSettings(next)),
      settingsDiff(
        `deployment ${previousRevision ?? '(none serving)'}`,
        `deployment ${deployment} (new)`,
        deploymentSettings(deployments.find((d) => d.name === previousRevision)),
        deploymentSettings(newDeployment(spec, endpoint.location, served)),
      ),
      ...removed.map((d) => `- deployment ${d.name}: removed once the new one takes all traffic`),
    ].join('\n');
    return result;
  }

  async function apply(spec: DeploySpec, plan: DeployPlan, signal: AbortSignal): Promise<AppliedDeploy> {
    const served = servedModel(spec, ws);
    const arm = client(signal);
    const endpoint = await readEndpoint(arm, spec.name);
    const known = planned.get(plan) ?? { deployment: newDeploymentName(spec.name, (endpoint ? await listDeployments(arm, spec.name) : []).map((d) => d.name ?? '')), traffic: withTraffic(endpoint?.properties.traffic), creates: !endpoint };

    let location = endpoint?.location;
    if (!location) {
      const workspace = await arm.get<WorkspaceResource>(`reading workspace '${ws.workspace}'`, workspacePath(ws));
      if (!workspace.location) throw new UserError(`workspace '${ws.workspace}' has no location: check it in the Azure portal`);
      location = workspace.location;
    }
    // Traffic stays where it is until the smoke test passed: finish moves it.
    const body = endpoint ? endpointPutBody(endpoint, { tags: spec.labels }) : newEndpointBody(spec, location, AUTH_MODES[options.authMode]);
    await arm.put<OnlineEndpointResource>(`${endpoint ? 'updating' : 'creating'} online endpoint '${spec.name}'`, endpointPath(spec.name), body);
    log.info(`${endpoint ? 'updated' : 'created'} online endpoint '${spec.name}' in workspace '${ws.workspace}'`);

    const deployment = known.deployment;
    let started: Awaited<ReturnType<typeof arm.start<OnlineDeploymentResource>>>;
    try {
      if (served.image) await ensureEnvironment(arm, ws, spec, served.image, served.model?.name ?? spec.name, (line) => log.info(line));
      started = await arm.start<OnlineDeploymentResource>('PUT', `creating deployment '${deployment}' of endpoint '${spec.name}'`, deploymentPath(spec.name, deployment), newDeployment(spec, location, served));
    } catch (error) {
      // An endpoint made for a deployment that was refused would be left half-made: remove it.
      if (!endpoint) await arm.delete(`removing online endpoint '${spec.name}', which this step had created`, endpointPath(spec.name)).catch(() => undefined);
      throw error;
    }
    applied.set(deployment, { ...known, operationUrl: started.operationUrl });
    log.info(`creating deployment '${deployment}' (${served.model ? `model ${served.model.name}:${served.model.version}` : `image ${served.image}`}, ${options.instanceType})`);
    return { revision: deployment, previousRevision: plan.previousRevision };
  }

  async function scoringEndpoint(arm: ArmClient, name: string): Promise<{ scoringUri: string; authMode: EndpointAuthMode }> {
    const endpoint = await arm.get<OnlineEndpointResource>(`reading online endpoint '${name}'`, endpointPath(name));
    if (!endpoint.properties.scoringUri) throw new UserError(`online endpoint '${name}' has no scoring URI yet (provisioning state ${endpoint.properties.provisioningState ?? 'unknown'})`);
    return { scoringUri: endpoint.properties.scoringUri, authMode: endpoint.properties.authMode };
  }

  async function waitReady(spec: DeploySpec, done: AppliedDeploy, deadline: number, signal: AbortSignal): Promise<ReadyDeploy> {
    const arm = client(signal);
    await waitForDeployment({
      arm,
      deploymentPath: deploymentPath(spec.name, done.revision),
      deployment: done.revision,
      endpoint: spec.name,
      operationUrl: applied.get(done.revision)?.operationUrl,
      deadline,
      signal,
      log: (line) => log.info(line),
    });
    const { scoringUri } = await scoringEndpoint(arm, spec.name);
    return { revision: done.revision, previousRevision: done.previousRevision, trafficPercent: 0, endpointUrl: scoringUri };
  }

  async function smokeEndpoint(spec: DeploySpec, ready: ReadyDeploy, signal: AbortSignal): Promise<SmokeEndpoint> {
    const arm = client(signal);
    const { scoringUri, authMode } = await scoringEndpoint(arm, spec.name);
    const credential = await scoringCredential(arm, endpointPath(spec.name), spec.name, authMode, options.identity, signal);
    log.secret(credential);
    return {
      url: scoringUri,
      // The header routes the request to the new deployment, which has no traffic yet.
      headers: { authorization: `Bearer ${credential}`, 'azureml-model-deployment': ready.revision },
      close: async () => undefined,
    };
  }

  async function finish(spec: DeploySpec, ready: ReadyDeploy, signal: AbortSignal): Promise<ReadyDeploy> {
    const arm = client(signal);
    const endpoint = await arm.get<OnlineEndpointResource>(`reading online endpoint '${spec.name}'`, endpointPath(spec.name));
    const traffic = shiftTraffic(endpoint.properties.traffic, ready.revision, spec.canaryPercent);
    const replaced =
      spec.canaryPercent === undefined
        ? (await listDeployments(arm, spec.name)).filter((d) => d.name && d.name !== ready.revision && d.tags?.[CREATED_BY_TAG] === CREATED_BY && !traffic[d.name])
        : [];
    await arm.put<OnlineEndpointResource>(`moving the traffic of endpoint '${spec.name}'`, endpointPath(spec.name), endpointPutBody(endpoint, { traffic, drop: replaced.map((d) => d.name!) }));
    log.info(`endpoint '${spec.name}' traffic: ${describeTraffic(traffic)}`);
    for (const old of replaced) {
      try {
        await arm.delete(`removing replaced deployment '${old.name}'`, deploymentPath(spec.name, old.name!));
        log.info(`removed replaced deployment '${old.name}'`);
      } catch (error) {
        // The new deployment serves already: a leftover costs money, it does not fail the step.
        log.warning(`${errorMessage(explained(error, ws, armUrl))}: remove deployment '${old.name}' by hand, it keeps costing compute`);
      }
    }
    return { ...ready, trafficPercent: traffic[ready.revision] ?? 0 };
  }

  async function rollback(spec: DeploySpec, done: AppliedDeploy, signal: AbortSignal): Promise<string> {
    const arm = client(signal);
    const record = applied.get(done.revision);
    const endpoint = await readEndpoint(arm, spec.name);
    if (endpoint && record?.creates) {
      // Nothing served here before this step: the endpoint goes, its deployments with it.
      await arm.delete(`removing online endpoint '${spec.name}', which this step had created`, endpointPath(spec.name));
      applied.delete(done.revision);
      return `online endpoint '${spec.name}' was removed: this step had created it`;
    }
    if (endpoint) {
      const existing = new Set((await listDeployments(arm, spec.name)).map((d) => d.name));
      const before = record ? record.traffic : done.previousRevision ? { [done.previousRevision]: 100 } : {};
      const traffic = record?.creates ? {} : Object.fromEntries(Object.entries(before).filter(([name]) => name !== done.revision && existing.has(name)));
      if (!sameTraffic(endpoint.properties.traffic, traffic) || endpoint.properties.mirrorTraffic?.[done.revision] !== undefined) {
        await arm.put<OnlineEndpointResource>(`putting the traffic of endpoint '${spec.name}' back`, endpointPath(spec.name), endpointPutBody(endpoint, { traffic, drop: [done.revision] }));
      }
      await arm.delete(`removing deployment '${done.revision}'`, deploymentPath(spec.name, done.revision));
      applied.delete(done.revision);
      const serving = Object.keys(withTraffic(traffic)).length ? describeTraffic(traffic) : 'nothing (no deployment has traffic)';
      return `endpoint '${spec.name}' serves ${serving}; deployment '${done.revision}' was removed`;
    }
    return `endpoint '${spec.name}' no longer exists; nothing serves`;
  }

  return {
    kind: 'azureml',
    plan: (spec, signal) => explaining(() => plan(spec, signal)),
    apply: (spec, p, signal) => explaining(() => apply(spec, p, signal)),
    waitReady: (spec, done, deadline, signal) => explaining(() => waitReady(spec, done, deadline, signal)),
    smokeEndpoint: (spec, ready, signal) => explaining(() => smokeEndpoint(spec, ready, signal)),
    finish: (spec, ready, signal) => explaining(() => finish(spec, ready, signal)),
    rollback: (spec, done, signal) => explaining(() => rollback(spec, done, signal)),
    close: async () => undefined,
  };
}
