import { InputError, UserError } from '../../util/errors.js';
import type { CiContext, Platform } from '../../platform/platform.js';
import { KfpAuth } from '../../kfp/auth.js';
import { KfpClient } from '../../kfp/client.js';
import { connectApi } from '../../kfp/connect.js';
import { ensureExperiment } from '../../kfp/experiment.js';
import { applyPipelinePlan, planPipeline } from '../../kfp/publish.js';
import { SUCCEEDED } from '../../kfp/states.js';
import { runUrl } from '../../kfp/ui.js';
import { followRun } from './follow.js';
import type { TriggerInputs } from './inputs.js';
import { typeServerParameters, warnAboutSecretParameters } from './run-parameters.js';
import { triggerSummary, type TriggerResult } from './summary.js';

function defaultRunName(pipelineName: string, ci: CiContext): string {
  return `${pipelineName} ${ci.runNumber || new Date().toISOString()}`;
}

/** How the run ended, as the one line that fails the step; undefined when it succeeded. */
function failure(result: TriggerResult, timeoutMinutes: number): string | undefined {
  const name = `run '${result.status.name || result.status.id}'`;
  const fate = result.terminated ? 'terminated it' : 'left it running';
  if (result.outcome === 'timeout') return `${name} did not end within ${timeoutMinutes} min; ${fate}: ${result.url}`;
  if (result.outcome === 'cancelled') return `cancelled while waiting for ${name}; ${fate}: ${result.url}`;
  if (result.outcome === 'not waited' || result.status.state === SUCCEEDED) return undefined;
  return `${name} ended ${result.status.state}${result.status.error ? ` (${result.status.error})` : ''}: ${result.url}`;
}

/** Everything after the inputs: reach the API, publish, run, wait, report. */
export async function trigger(platform: Platform, inputs: TriggerInputs, host: string, started: number): Promise<void> {
  const auth = new KfpAuth(inputs.auth, (secret) => platform.setSecret(secret));
  const client = new KfpClient({ host, auth, tls: inputs.caPem ? { ca: inputs.caPem } : undefined, env: platform.childEnv(), signal: platform.signal });
  const { api, multiUser } = await connectApi(client, inputs.apiVersion);
  platform.info(`KFP API ${api.version} at ${host}${multiUser ? ' (multi-user)' : ''}`);
  const namespace = inputs.namespace;
  if (multiUser && !namespace) throw new InputError('namespace', 'is empty, and this Kubeflow is multi-user: give the profile namespace to run in');
  const { source } = inputs;
  if (source.kind === 'package' && source.pkg.kind === 'v2' && api.version === 'v1beta1') {
    throw new UserError(
      inputs.apiVersion === 'auto'
        ? `the server speaks only the v1beta1 API (KFP 1.x), which cannot run the KFP v2 package in 'pipelineFile'`
        : "input 'apiVersion': v1beta1 cannot run the KFP v2 package in 'pipelineFile'; use v2beta1 or auto",
    );
  }

  // Look everything up before creating anything: a refusal leaves nothing behind on the server.
  const plan = await planPipeline(api, source, namespace);
  const parameters = inputs.parameters ?? (plan.kind === 'ready' ? await typeServerParameters(api, plan.version, inputs.given) : {});
  if (!inputs.parameters) warnAboutSecretParameters(platform, parameters);
  const foundExperiment = await api.findExperiment(inputs.experiment, namespace);

  platform.progress(20, 'publishing the pipeline');
  const published = await applyPipelinePlan(api, plan, namespace);
  const { pipeline, version } = published;
  const requested = source.kind === 'package' ? source.versionName : version.name;
  const firstOfV1 = requested !== version.name ? ` (KFP v1 names a pipeline's first version after the pipeline; it holds version '${requested}')` : '';
  platform.info(`pipeline '${pipeline.name}' (${pipeline.id}), version '${version.name}' (${version.id}): ${published.action}${firstOfV1}`);
  const { experiment, created } = await ensureExperiment(api, inputs.experiment, namespace, foundExperiment);
  platform.info(`experiment '${experiment.name}' (${experiment.id})${created ? ': created' : ''}`);

  const runName = inputs.runName || defaultRunName(pipeline.name, platform.ci);
  const run = await api.createRun({ name: runName, experimentId: experiment.id, pipelineId: pipeline.id, versionId: version.id, parameters }, namespace);
  const url = runUrl(inputs.uiUrl || host, run.id);
  // The forward ends with the step: a link to it would lead nowhere afterwards.
  if (!inputs.host && !inputs.uiUrl) platform.warning("run links point at this step's port-forward: set 'uiUrl' to the Kubeflow Pipelines UI for links that work later");
  platform.setOutput('runId', run.id);
  platform.setOutput('runUrl', url);
  platform.setOutput('pipelineId', pipeline.id);
  platform.setOutput('pipelineVersionId', version.id);
  platform.setOutput('experimentId', experiment.id);
  platform.info(`started run '${runName}': ${url}`);
  platform.progress(40, `run ${run.id} started`);

  const followed = inputs.wait ? await followRun(api, run, inputs, platform) : undefined;
  const result: TriggerResult = {
    url,
    pipeline,
    version,
    action: published.action,
    experiment,
    apiVersion: api.version,
    parameters,
    status: followed?.status ?? run,
    outcome: followed?.outcome ?? 'not waited',
    terminated: followed?.terminated,
    seconds: (Date.now() - started) / 1000,
  };
  platform.setOutput('runState', result.status.state);
  platform.progress(100, `run ${result.status.state}`);
  await platform.summary(triggerSummary(result, (text) => platform.redact(text)));
  const failed = failure(result, inputs.timeoutMinutes);
  if (failed) throw new UserError(failed);
  platform.info(inputs.wait ? `run '${runName}' succeeded: ${url}` : `not waiting for run '${runName}' (wait is false)`);
}

