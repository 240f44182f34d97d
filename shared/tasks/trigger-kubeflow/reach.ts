import { InputError } from '../../util/errors.js';
import type { Platform } from '../../platform/platform.js';
import { maskedKubeconfig } from '../kubernetes-access.js';
import type { PortForwardInputs } from './inputs.js';

/** Where the KFP API answers for this step, and how to let go of it. */
export interface Reached {
  host: string;
  close(): Promise<void>;
}

/** The port-forward module with its Kubernetes client, loaded only when a step forwards. */
type PortForwardModule = typeof import('../../k8s/port-forward.js');

export interface PreparedForward {
  forward: PortForwardModule;
  kubeconfig: string;
  target: Exclude<ReturnType<PortForwardModule['parsePortForward']>, string>;
}

/**
 * Checks the port-forward inputs and masks the kubeconfig's credentials, before anything is
 * logged or sent. The module (and @kubernetes/client-node behind it) is imported here, lazily, so
 * steps that reach the API by URL never load it.
 */
export async function prepareForward(inputs: PortForwardInputs, platform: Platform): Promise<PreparedForward> {
  const forward = await import('../../k8s/port-forward.js');
  const target = forward.parsePortForward(inputs.target);
  if (typeof target === 'string') throw new InputError('portForward', target);
  return { forward, kubeconfig: maskedKubeconfig(inputs, platform, forward), target };
}

/** The API URL: the `host` input, or a port-forward the step opens itself and closes at its end. */
export async function reachServer(host: string, prepared: PreparedForward | undefined, platform: Platform, kubeconfigInput: string): Promise<Reached> {
  if (host || !prepared) return { host, close: async () => undefined };
  // A cancel stops the opening, but must not tear down an open forward: terminating the run
  // after a cancel goes through it. The step closes it itself, at its very end.
  const opening = new AbortController();
  const stop = () => opening.abort();
  platform.signal.addEventListener('abort', stop, { once: true });
  try {
    const opened = await prepared.forward.openPortForward({
      kubeconfig: prepared.kubeconfig,
      target: prepared.target,
      signal: opening.signal,
      log: (line) => platform.info(line),
      kubeconfigInput,
    });
    return { host: opened.url, close: () => opened.close() };
  } finally {
    platform.signal.removeEventListener('abort', stop);
  }
}
