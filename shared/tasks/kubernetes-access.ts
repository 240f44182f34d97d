import { InputError } from '../util/errors.js';
import type { InputReader } from '../platform/inputs.js';
import type { Platform, ServiceConnection } from '../platform/platform.js';

/** How a step reaches a cluster: kubeconfig content, or an Azure DevOps Kubernetes service connection. */
export interface KubernetesAccess {
  /** Kubeconfig content; empty when it comes from `connection`. */
  kubeconfig: string;
  connection?: ServiceConnection;
}

/** The `kubeconfig` and `kubernetesServiceConnection` inputs (one of them, not both); undefined when neither is given. */
export function readKubernetesAccess(inputs: InputReader, platform: Platform): KubernetesAccess | undefined {
  const kubeconfig = inputs.raw('kubeconfig');
  const connectionId = inputs.string('kubernetesServiceConnection');
  if (kubeconfig && connectionId) throw new InputError('kubeconfig', "give either 'kubeconfig' or 'kubernetesServiceConnection', not both");
  if (kubeconfig) return { kubeconfig };
  if (!connectionId) return undefined;
  const connection = platform.getServiceConnection('kubernetesServiceConnection');
  if (!connection) throw new InputError('kubernetesServiceConnection', `service connection '${connectionId}' is not available to this job`);
  return { kubeconfig: '', connection };
}

/** The parts of the (lazily loaded) port-forward module that read kubeconfigs. */
interface KubeconfigReaders {
  kubeconfigFromServiceConnection(connection: ServiceConnection): string;
  kubeconfigSecrets(content: string): string[];
}

/** The kubeconfig content, with every credential in it masked before anything can log it. */
export function maskedKubeconfig(access: KubernetesAccess, platform: Platform, readers: KubeconfigReaders): string {
  const kubeconfig = access.connection ? readers.kubeconfigFromServiceConnection(access.connection) : access.kubeconfig;
  if (access.connection) platform.setSecret(kubeconfig);
  for (const secret of readers.kubeconfigSecrets(kubeconfig)) platform.setSecret(secret);
  return kubeconfig;
}
