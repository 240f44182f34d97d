import { RegistryClient } from '../../registry/client.js';
import type { Platform } from '../../platform/platform.js';
import type { ModelRegistryTarget } from '../../model/target.js';
import { resolveRegistryCredentials } from '../registry-credentials.js';
import type { RegisterInputs } from './inputs.js';

/**
 * The target the `registry` input names. Each is imported only when chosen: the Azure and OCI
 * code is large, and a step that registers to MLflow should not pay for loading it.
 */
export async function chooseTarget(inputs: RegisterInputs, platform: Platform): Promise<ModelRegistryTarget> {
  const env = platform.childEnv();
  if (inputs.mlflow) {
    const { createMlflowTarget } = await import('../../model/mlflow/target.js');
    if (inputs.mlflow.auth.kind === 'basic') {
      // The header value carries the password too, only encoded.
      platform.setSecret(Buffer.from(`${inputs.mlflow.auth.username}:${inputs.mlflow.auth.password}`).toString('base64'));
    }
    return createMlflowTarget({ ...inputs.mlflow, ca: inputs.caPem, env, signal: platform.signal });
  }
  if (inputs.oci) {
    const { repository, credentials, credentialsSource, azureIdentity, insecure, modelcarBase } = inputs.oci;
    const clientOptions = { registry: repository.registry, insecure, ca: inputs.caPem, signal: platform.signal, env };
    const choice = await resolveRegistryCredentials(platform, { credentials, source: credentialsSource }, azureIdentity, clientOptions);
    const client = new RegistryClient({ ...clientOptions, credentials: choice.credentials, credentialsSource: choice.source });
    // A wrong password or an unreachable registry fails here, before any blob is sent.
    await client.checkAccess(repository.repository);
    const { createOciTarget } = await import('../../model/oci/target.js');
    return createOciTarget({ client, repository, defaultVersion: platform.ci.sha, modelcarBase });
  }
  const azureml = inputs.azureml!;
  const { createAzureMlTarget } = await import('../../model/azureml/target.js');
  return createAzureMlTarget({ ...azureml, env, ca: inputs.caPem });
}
