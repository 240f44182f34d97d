import type { Platform } from '../../platform/platform.js';
import type { DeployLog, DeployTarget } from '../../deploy/target.js';
import { maskedKubeconfig } from '../kubernetes-access.js';
import type { DeployInputs } from './inputs.js';

/**
 * The target the `target` input names, with what it needs to reach its platform. Each is imported
 * only when chosen: the Kubernetes client and the Azure SDKs are large.
 */
export async function chooseTarget(inputs: DeployInputs, platform: Platform, log: DeployLog): Promise<DeployTarget> {
  const env = platform.childEnv();
  if (inputs.azureml) {
    const { createAzureMlDeployTarget } = await import('../../deploy/azureml/target.js');
    return createAzureMlDeployTarget({ ...inputs.azureml, env, log });
  }
  const cluster = inputs.cluster!;
  const kubeconfig = maskedKubeconfig(cluster, platform, await import('../../k8s/port-forward.js'));
  const { Cluster } = await import('../../deploy/k8s/cluster.js');
  const input = cluster.connection ? 'kubernetesServiceConnection' : 'kubeconfig';
  const connected = await Cluster.connect(kubeconfig, input, cluster.namespace, env, platform.signal);
  if (inputs.target === 'kserve') {
    const { createKserveTarget } = await import('../../deploy/kserve/target.js');
    return createKserveTarget({ cluster: connected, log });
  }
  const { createKubernetesTarget } = await import('../../deploy/kubernetes/target.js');
  return createKubernetesTarget({ cluster: connected, log });
}
