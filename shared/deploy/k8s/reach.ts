import { request } from '../../http/request.js';
import type { DeployLog, SmokeEndpoint } from '../target.js';
import type { Cluster } from './cluster.js';

/** A quick look at the external URL: an ingress CI agents cannot reach should not cost minutes. */
const PROBE_TIMEOUT_MS = 3_000;

export interface ReachRequest {
  cluster: Cluster;
  /** The model's external (ingress) base URL, when the cluster gives one. */
  externalUrl?: string;
  /** The Service (and its port) that reaches the very revision to test. */
  service: string;
  port: number;
  /** The inference path, e.g. /v2/models/<name>/infer. */
  path: string;
  signal: AbortSignal;
  log: DeployLog;
}

/**
 * Where the smoke test is sent: the external URL when it answers from here, else a port-forward
 * (the one TriggerKubeflow uses) to the Service, closed when the test is done.
 */
export async function reachModel(reach: ReachRequest): Promise<SmokeEndpoint> {
  const { cluster, externalUrl, log } = reach;
  if (externalUrl && (await answers(externalUrl, cluster.env, reach.signal))) {
    log.info(`smoke test through ${externalUrl}`);
    return { url: `${externalUrl.replace(/\/+$/, '')}${reach.path}`, headers: {}, close: async () => undefined };
  }
  if (externalUrl) log.info(`${externalUrl} does not answer from this agent: port-forwarding to service ${cluster.namespace}/${reach.service}:${reach.port}`);
  const { openPortForward } = await import('../../k8s/port-forward.js');
  const forward = await openPortForward({
    kubeconfig: cluster.kubeconfig,
    kubeconfigInput: cluster.config.input,
    target: { namespace: cluster.namespace, service: reach.service, port: reach.port },
    signal: reach.signal,
    env: cluster.env,
    log: (line) => log.info(line),
  });
  return { url: `${forward.url}${reach.path}`, headers: {}, close: () => forward.close() };
}

async function answers(url: string, env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<boolean> {
  try {
    await request(url, { method: 'GET', timeoutMs: PROBE_TIMEOUT_MS, retries: 0, env, signal });
    return true;
  } catch {
    return false;
  }
}
