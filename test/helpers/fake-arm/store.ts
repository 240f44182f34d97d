/** What the fake ARM keeps for one workspace: datastores with their secrets, models and versions. */

export type DatastoreSecret = { secretsType: 'AccountKey'; key: string } | { secretsType: 'Sas'; sasToken: string } | { secretsType: 'None' };

export interface FakeDatastore {
  name: string;
  isDefault: boolean;
  accountName: string;
  containerName: string;
  /** core.windows.net, or 127.0.0.1:port for Azurite. */
  endpoint: string;
  protocol: string;
  secret: DatastoreSecret;
}

export interface StoredVersion {
  name: string;
  createdAt: string;
  /** The ModelVersion `properties` as last PUT (readOnly ones added by the fake). */
  body: Record<string, unknown>;
}

export interface StoredContainer {
  name: string;
  createdAt: string;
  body: Record<string, unknown>;
  versions: Map<string, StoredVersion>;
}

export class ArmStore {
  readonly datastores = new Map<string, FakeDatastore>();
  readonly models = new Map<string, StoredContainer>();

  addDatastore(datastore: FakeDatastore): void {
    this.datastores.set(datastore.name, datastore);
  }

  /** Version names in creation order. */
  versionsOf(model: string): StoredVersion[] {
    return [...(this.models.get(model)?.versions.values() ?? [])];
  }

  latestInteger(model: string): number {
    return Math.max(0, ...this.versionsOf(model).map((v) => v.name).filter((v) => /^\d+$/.test(v)).map(Number));
  }
}

export function systemData(createdAt: string): Record<string, string> {
  return { createdAt, createdBy: 'fake-arm', createdByType: 'Application', lastModifiedAt: createdAt, lastModifiedBy: 'fake-arm', lastModifiedByType: 'Application' };
}
