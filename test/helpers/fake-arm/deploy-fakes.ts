import { rmSync } from 'node:fs';
import { makeTestCa, type TestCa } from '../ca.js';
import { startFakeEntra, type FakeEntra } from '../fake-entra.js';
import type { OperationPacing } from './operations.js';
import { startFakeArm, type FakeArm } from './server.js';

export interface DeployFakesOptions {
  specsDir: string;
  subscriptionId?: string;
  resourceGroup?: string;
  workspace?: string;
  /** Model versions the workspace holds already, e.g. [['tacos', '1']]. */
  models?: [name: string, version: string][];
  pacing?: Partial<OperationPacing>;
  deleteRetryAfterSeconds?: number;
}

export interface DeployFakes {
  ca: TestCa;
  entra: FakeEntra;
  arm: FakeArm;
  subscriptionId: string;
  resourceGroup: string;
  workspace: string;
  clientSecret: string;
  /** Sign-in on GitHub: INPUT_* values and the environment the bundle runs with. */
  github: { inputs: Record<string, string>; env: Record<string, string> };
  /** Sign-in on Azure DevOps: the azureSubscription service connection as the agent passes it. */
  azure: { inputs: Record<string, string>; env: Record<string, string> };
  stop(): Promise<void>;
}

const CONNECTION = '7a1b2c3d-4e5f-4a6b-8c9d-0e1f2a3b4c5d';

/**
 * A fake Entra ID and a fake ARM (Azure ML 2024-04-01, online endpoints included) over TLS with a
 * throwaway CA, and what a bundled DeployModel needs to sign in to them on either runner. Every
 * env map carries NODE_EXTRA_CA_CERTS; the inputs carry the workspace and the ARM URL.
 */
export async function startDeployFakes(options: DeployFakesOptions): Promise<DeployFakes> {
  const subscriptionId = options.subscriptionId ?? '00000000-1111-2222-3333-444444444444';
  const resourceGroup = options.resourceGroup ?? 'rg-ml';
  const workspace = options.workspace ?? 'ws-ml';
  const clientSecret = 'Deploy-Model-Secret-7';
  const ca = makeTestCa();
  const entra = await startFakeEntra({ ca, clientSecret });
  const arm = await startFakeArm({ ca, specsDir: options.specsDir, entra, subscriptionId, resourceGroup, workspace, pacing: options.pacing, deleteRetryAfterSeconds: options.deleteRetryAfterSeconds });
  for (const [name, version] of options.models ?? []) arm.addModelVersion(name, version);
  const workspaceInputs = { resourceGroup, workspace };
  const key = CONNECTION.toUpperCase();
  return {
    ca,
    entra,
    arm,
    subscriptionId,
    resourceGroup,
    workspace,
    clientSecret,
    github: {
      inputs: { ...workspaceInputs, azureClientId: entra.clientId, azureTenantId: entra.tenantId, azureClientSecret: clientSecret, azureSubscriptionId: subscriptionId, azureResourceManagerUrl: arm.url },
      env: { NODE_EXTRA_CA_CERTS: ca.caCertFile, AZURE_AUTHORITY_HOST: entra.authorityHost },
    },
    azure: {
      inputs: { ...workspaceInputs, azureSubscription: CONNECTION },
      env: {
        NODE_EXTRA_CA_CERTS: ca.caCertFile,
        [`ENDPOINT_URL_${key}`]: arm.url,
        [`ENDPOINT_AUTH_${key}`]: JSON.stringify({ scheme: 'ServicePrincipal', parameters: { tenantid: entra.tenantId, serviceprincipalid: entra.clientId, serviceprincipalkey: clientSecret, authenticationType: 'spnKey' } }),
        [`ENDPOINT_DATA_${key}_SUBSCRIPTIONID`]: subscriptionId,
        [`ENDPOINT_DATA_${key}_ENVIRONMENTAUTHORITYURL`]: entra.authorityHost,
      },
    },
    stop: async () => {
      await Promise.all([arm.stop(), entra.stop()]);
      rmSync(ca.dir, { recursive: true, force: true });
    },
  };
}
