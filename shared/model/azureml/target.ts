import type { TokenCredential } from '@azure/identity';
import { ArmClient } from '../../azure/arm.js';
import { entraAccessToken, type AzureIdentity } from '../../azure/identity.js';
import { tokenExpiryMs } from '../../azure/token-expiry.js';
import { UserError } from '../../util/errors.js';
import { Redactor } from '../../util/redact.js';
import { CONTENT_DIGEST_KEY, type ModelRegistryTarget, type PreparedModel, type RegisteredModel, type TargetLog } from '../target.js';
import { findBlobDestination } from './datastore.js';
import type { ModelContainerResource, ModelVersionResource } from './resources.js';
import { uploadModelFiles } from './upload.js';
import { findContainer, findVersion, findVersionByDigest, digestOf, nextVersion, versionName } from './versions.js';
import { blobFolder, checkModelName, datastoreUri, modelAssetUri, modelPath, studioUrl, versionPath, type AzureMlWorkspace } from './workspace.js';

export interface AzureMlTargetOptions {
  identity: AzureIdentity;
  subscriptionId: string;
  resourceGroup: string;
  workspace: string;
  /** e.g. https://management.azure.com */
  armUrl: string;
  env: NodeJS.ProcessEnv;
  /** Extra CA PEM for the HTTP layer (ARM calls). */
  ca?: string;
}

export const AZURE_ML_API_VERSION = '2024-04-01';
const STORAGE_SCOPE = 'https://storage.azure.com/.default';
const DEFAULT_MODEL_TYPE = 'custom_model';

/** A TokenCredential over our own identity, so the storage SDK refreshes through entraAccessToken. */
function storageCredential(identity: AzureIdentity, redactor: Redactor): TokenCredential {
  return {
    getToken: async (_scopes, options) => {
      const token = await entraAccessToken(identity, STORAGE_SCOPE, options?.abortSignal as AbortSignal | undefined);
      redactor.add(token);
      return { token, expiresOnTimestamp: tokenExpiryMs(token) ?? Date.now() + 30 * 60_000 };
    },
  };
}

/** The Azure ML workspace model registry, over the ARM REST API 2024-04-01. */
export function createAzureMlTarget(options: AzureMlTargetOptions): ModelRegistryTarget {
  const ws: AzureMlWorkspace = { subscriptionId: options.subscriptionId, resourceGroup: options.resourceGroup, workspace: options.workspace };
  const armUrl = options.armUrl.replace(/\/+$/, '');

  return {
    async register(model: PreparedModel, log: TargetLog, signal: AbortSignal): Promise<RegisteredModel> {
      checkModelName(model.name);
      const redactor = new Redactor();
      let armToken: Promise<string> | undefined;
      const arm = new ArmClient({
        armUrl,
        apiVersion: AZURE_ML_API_VERSION,
        // One token serves the whole registration; it outlives any upload we would wait for.
        token: () => (armToken ??= entraAccessToken(options.identity, `${armUrl}/.default`, signal).then((token) => (redactor.add(token), token))),
        env: options.env,
        ca: options.ca,
        signal,
      });
      const registered = (version: string, reused: boolean): RegisteredModel => ({
        name: model.name,
        version,
        uri: modelAssetUri(model.name, version),
        reused,
        webUrl: studioUrl(ws, model.name, version),
      });

      const container = await findContainer(arm, ws, model.name);
      if (container) {
        if (model.requestedVersion) {
          const existing = await findVersion(arm, ws, model.name, model.requestedVersion);
          if (existing) {
            if (digestOf(existing) === model.contentDigest) {
              log.info(`model '${model.name}' version ${model.requestedVersion} already holds this content: reused`);
              return registered(model.requestedVersion, true);
            }
            throw new UserError(`model '${model.name}' version ${model.requestedVersion} already exists in workspace '${ws.workspace}' with different content (${digestOf(existing) ?? 'no content digest'}, this model is ${model.contentDigest}): choose another modelVersion or leave it empty`);
          }
        } else {
          const same = await findVersionByDigest(arm, ws, model.name, model.contentDigest);
          if (same) {
            log.info(`model '${model.name}' version ${versionName(same)} already holds this content: reused`);
            return registered(versionName(same), true);
          }
        }
      }

      const destination = await findBlobDestination(arm, ws, (secret) => redactor.add(secret));
      const folder = blobFolder(model.name, model.contentDigest);
      const upload = await uploadModelFiles({
        destination,
        folder,
        files: model.files,
        storageCredential: () => storageCredential(options.identity, redactor),
        redactor,
        log,
        signal,
      });
      log.info(`uploaded ${upload.uploadedFiles} files (${upload.uploadedBytes} bytes) to datastore '${destination.datastore}' at ${folder}`);

      const version = model.requestedVersion || (await nextVersion(arm, ws, model.name, container));
      // A single-file model points at the file itself, as `az ml model create --path file` does.
      const path = model.singleFile && model.files.length === 1 ? `${folder}/${model.files[0]!.path}` : `${folder}/`;
      const created = !container;
      if (created) {
        const body: ModelContainerResource = { properties: { description: model.description || undefined } };
        await arm.put(`creating model '${model.name}'`, modelPath(ws, model.name), body);
      }
      const body: ModelVersionResource = {
        properties: {
          description: model.description || undefined,
          tags: Object.fromEntries(model.tags),
          properties: { [CONTENT_DIGEST_KEY]: model.contentDigest },
          modelType: model.modelType || DEFAULT_MODEL_TYPE,
          modelUri: datastoreUri(ws, destination.datastore, path),
        },
      };
      try {
        await arm.put(`creating model '${model.name}' version ${version}`, versionPath(ws, model.name, version), body);
      } catch (error) {
        // No empty model left behind when its first version could not be made.
        if (created) await arm.delete(`removing empty model '${model.name}'`, modelPath(ws, model.name)).catch(() => undefined);
        throw error;
      }
      log.info(`registered model '${model.name}' version ${version} in workspace '${ws.workspace}'`);
      return registered(version, false);
    },
  };
}
