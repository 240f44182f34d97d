/** The parts of the 2024-04-01 resources the azureml deploy target reads and writes. */

// Its own constant, so the deploy bundle does not pull in the model registry's upload code.
export const AZURE_ML_API_VERSION = '2024-04-01';

export type EndpointAuthMode = 'Key' | 'AADToken' | 'AMLToken';

export interface ArmIdentity {
  type: string;
  userAssignedIdentities?: Record<string, unknown>;
}

export interface OnlineEndpointResource {
  id?: string;
  name?: string;
  location: string;
  kind?: string;
  tags?: Record<string, string>;
  identity?: ArmIdentity & { principalId?: string; tenantId?: string };
  properties: {
    authMode: EndpointAuthMode;
    description?: string | null;
    properties?: Record<string, string | null> | null;
    traffic?: Record<string, number> | null;
    mirrorTraffic?: Record<string, number> | null;
    publicNetworkAccess?: string;
    compute?: string | null;
    /** Read only. */
    scoringUri?: string | null;
    provisioningState?: string;
  };
}

export type ScaleSettings = { scaleType: 'Default' } | { scaleType: 'TargetUtilization'; minInstances: number; maxInstances: number };

export interface OnlineDeploymentResource {
  id?: string;
  name?: string;
  location: string;
  tags?: Record<string, string>;
  sku?: { name: string; capacity?: number };
  properties: {
    endpointComputeType: 'Managed';
    description?: string | null;
    model?: string | null;
    environmentId?: string | null;
    environmentVariables?: Record<string, string | null> | null;
    properties?: Record<string, string | null> | null;
    instanceType?: string | null;
    scaleSettings?: ScaleSettings | null;
    /** Read only. */
    provisioningState?: string;
  };
}

export interface Route {
  path: string;
  port: number;
}

export interface EnvironmentVersionResource {
  id?: string;
  properties: {
    image?: string;
    description?: string | null;
    tags?: Record<string, string | null> | null;
    osType?: 'Linux';
    inferenceConfig?: { livenessRoute: Route; readinessRoute: Route; scoringRoute: Route };
  };
}

export interface WorkspaceResource {
  location?: string;
}
