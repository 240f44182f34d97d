/** The parts of the 2024-04-01 ARM resources this target reads and writes (mfe.json). */

export interface ModelContainerResource {
  id?: string;
  name?: string;
  properties: {
    description?: string | null;
    tags?: Record<string, string | null> | null;
    properties?: Record<string, string | null> | null;
    isArchived?: boolean;
    latestVersion?: string | null;
    nextVersion?: string | null;
  };
}

export interface ModelVersionResource {
  id?: string;
  name?: string;
  properties: {
    description?: string | null;
    tags?: Record<string, string | null> | null;
    properties?: Record<string, string | null> | null;
    modelType?: string | null;
    modelUri?: string | null;
    isArchived?: boolean;
  };
}

export type CredentialsType = 'AccountKey' | 'Certificate' | 'None' | 'Sas' | 'ServicePrincipal';

export interface DatastoreResource {
  id?: string;
  name?: string;
  properties: {
    datastoreType: string;
    isDefault?: boolean;
    accountName?: string | null;
    containerName?: string | null;
    endpoint?: string | null;
    protocol?: string | null;
    credentials: { credentialsType: CredentialsType };
  };
}

export type DatastoreSecrets = { secretsType: 'AccountKey'; key?: string | null } | { secretsType: 'Sas'; sasToken?: string | null } | { secretsType: string };
