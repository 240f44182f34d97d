import type { Platform } from '../../platform/platform.js';
import { readTriggerInputs } from './inputs.js';
import { prepareForward, reachServer } from './reach.js';
import { warnAboutSecretParameters } from './run-parameters.js';

export async function runTriggerKubeflow(platform: Platform): Promise<void> {
  const started = Date.now();
  const inputs = await readTriggerInputs(platform);
  const prepared = inputs.portForward ? await prepareForward(inputs.portForward, platform) : undefined;
  if (inputs.parameters) warnAboutSecretParameters(platform, inputs.parameters);
  const kubeconfigInput = inputs.portForward?.connection ? 'kubernetesServiceConnection' : 'kubeconfig';
  const reached = await reachServer(inputs.host, prepared, platform, kubeconfigInput);
  try {
    // The HTTP layer (https, tls) is loaded once the inputs are known to be good: a step that
    // fails on an input does so in about the time Node takes to start (bench/cold-start.mjs).
    const { trigger } = await import('./trigger.js');
    await trigger(platform, inputs, reached.host, started);
  } finally {
    await reached.close();
  }
}
