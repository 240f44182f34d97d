import { isIP } from 'node:net';
import type { ArmClient } from '../../azure/arm.js';
import { UserError } from '../../util/errors.js';
import type { DatastoreResource, DatastoreSecrets } from './resources.js';
import { workspacePath, type AzureMlWorkspace } from './workspace.js';

/** How the blob upload proves itself to the storage account. */
export type BlobAuth =
  | { kind: 'account-key'; accountName: string; accountKey: string }
  | { kind: 'sas'; sasToken: string }
  /** Identity-based datastore: the caller's own Entra token for https://storage.azure.com. */
  | { kind: 'entra' };

export interface BlobDestination {
  datastore: string;
  accountName: string;
  containerName: string;
  /** https://<account>.blob.<endpoint>/<container>, or path-style for an IP:port endpoint. */
  containerUrl: string;
  auth: BlobAuth;
}

/** The name Azure ML gives every workspace's default blob datastore. */
const WORKSPACE_BLOB_STORE = 'workspaceblobstore';

async function defaultDatastore(arm: ArmClient, ws: AzureMlWorkspace): Promise<DatastoreResource> {
  const path = `${workspacePath(ws)}/datastores`;
  const defaults = await arm.list<DatastoreResource>(`listing the default datastore of workspace '${ws.workspace}'`, path, { isDefault: 'true' }, 1);
  const found = defaults.find((datastore) => datastore.properties.isDefault !== false) ??
    (await arm.find<DatastoreResource>(`reading datastore '${WORKSPACE_BLOB_STORE}'`, `${path}/${WORKSPACE_BLOB_STORE}`));
  if (!found) throw new UserError(`workspace '${ws.workspace}' has no default datastore: set one in Azure ML studio (Data > Datastores)`);
  return found;
}

/** Storage endpoints that are an address and port (Azure Stack, emulators) take the account in the path. */
export function blobServiceUrl(protocol: string, accountName: string, endpoint: string): string {
  const host = endpoint.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  const pathStyle = isIP(host) !== 0 || host === 'localhost';
  return pathStyle ? `${protocol}://${endpoint}/${accountName}` : `${protocol}://${accountName}.blob.${endpoint}`;
}

/**
 * The workspace's default datastore as a place to upload to, with the credentials to do it:
 * listSecrets for key and SAS datastores, the caller's identity for identity-based ones.
 */
export async function findBlobDestination(arm: ArmClient, ws: AzureMlWorkspace, onSecret: (value: string) => void): Promise<BlobDestination> {
  const datastore = await defaultDatastore(arm, ws);
  const name = datastore.name ?? WORKSPACE_BLOB_STORE;
  const { properties } = datastore;
  if (properties.datastoreType !== 'AzureBlob') {
    throw new UserError(`the default datastore '${name}' of workspace '${ws.workspace}' is ${properties.datastoreType}, not AzureBlob: make a blob datastore the default`);
  }
  const accountName = properties.accountName ?? '';
  const containerName = properties.containerName ?? '';
  if (!accountName || !containerName) throw new UserError(`datastore '${name}' names no storage account or container`);
  const containerUrl = `${blobServiceUrl(properties.protocol || 'https', accountName, properties.endpoint || 'core.windows.net')}/${encodeURIComponent(containerName)}`;
  const destination = { datastore: name, accountName, containerName, containerUrl };
  const credentialsType = properties.credentials.credentialsType;
  if (credentialsType === 'None') return { ...destination, auth: { kind: 'entra' } };
  if (credentialsType !== 'AccountKey' && credentialsType !== 'Sas') {
    throw new UserError(`datastore '${name}' uses ${credentialsType} credentials, which RegisterModel cannot upload with: use an account key, SAS or identity-based datastore`);
  }
  const secrets = await arm.post<DatastoreSecrets>(`listSecrets of datastore '${name}'`, `${workspacePath(ws)}/datastores/${encodeURIComponent(name)}/listSecrets`);
  if (secrets.secretsType === 'AccountKey' && 'key' in secrets && secrets.key) {
    onSecret(secrets.key);
    return { ...destination, auth: { kind: 'account-key', accountName, accountKey: secrets.key } };
  }
  if (secrets.secretsType === 'Sas' && 'sasToken' in secrets && secrets.sasToken) {
    const sasToken = secrets.sasToken.replace(/^\?/, '');
    onSecret(sasToken);
    return { ...destination, auth: { kind: 'sas', sasToken } };
  }
  throw new UserError(`listSecrets of datastore '${name}' returned no ${credentialsType === 'Sas' ? 'SAS token' : 'account key'}: the caller may lack the listSecrets permission on the workspace`);
}
