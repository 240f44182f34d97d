import { errorMessage, InputError, UserError } from '../../util/errors.js';
import { CONTENT_DIGEST_KEY, type ModelRegistryTarget, type PreparedModel, type RegisteredModel, type TargetLog } from '../target.js';
import { MlflowClient, type MlflowClientOptions } from './client.js';
import { MlflowRegistry, tagOf, type MlflowModelVersion } from './registry.js';
import { artifactFolder, uploadFiles } from './upload.js';
import { waitUntilReady } from './wait.js';

export interface MlflowTargetOptions extends MlflowClientOptions {
  /** A URI MLflow can read the model from, already uploaded; empty: upload through the artifact proxy. */
  sourceUri: string;
  /** Alias to point at the version; empty: none. */
  alias: string;
  readyTimeoutMs?: number;
}

const READY_TIMEOUT_MS = 10 * 60_000;

function modelsUri(name: string, version: string): string {
  return `models:/${name}/${version}`;
}

function webUrl(trackingUri: string, name: string, version: string): string {
  return `${trackingUri}/#/models/${encodeURIComponent(name)}/versions/${version}`;
}

/** The newest usable version holding the same content. */
function sameContent(versions: MlflowModelVersion[], digest: string): MlflowModelVersion | undefined {
  return versions
    .filter((version) => tagOf(version, CONTENT_DIGEST_KEY) === digest && version.status !== 'FAILED_REGISTRATION')
    .sort((a, b) => Number(b.version) - Number(a.version))[0];
}

/** What a step leaves behind when it fails halfway, so it can be taken back. */
interface Created {
  registeredModel?: string;
  version?: MlflowModelVersion;
  artifactFolder?: string;
}

class MlflowTarget implements ModelRegistryTarget {
  private readonly client: MlflowClient;
  private readonly registry: MlflowRegistry;
  /** Without the step's signal: a cancelled step must still take back what it made. */
  private readonly cleanupClient: MlflowClient;

  constructor(private readonly options: MlflowTargetOptions) {
    this.client = new MlflowClient(options);
    this.registry = new MlflowRegistry(this.client);
    this.cleanupClient = new MlflowClient({ ...options, signal: undefined });
  }

  /** A version the user named: reused when it holds the same content, an error otherwise. */
  private async requested(model: PreparedModel): Promise<MlflowModelVersion> {
    const found = await this.registry.getVersion(model.name, model.requestedVersion);
    if (!found) {
      throw new InputError(
        'modelVersion',
        `model '${model.name}' has no version ${model.requestedVersion}, and MLflow numbers new versions itself (1, 2, 3, ...): leave modelVersion empty to register the next one`,
      );
    }
    const digest = tagOf(found, CONTENT_DIGEST_KEY);
    if (digest !== model.contentDigest) {
      throw new InputError(
        'modelVersion',
        `version ${found.version} of model '${model.name}' exists with different content (${digest ? `content digest ${digest}` : 'no content digest'}, these files: ${model.contentDigest})`,
      );
    }
    return found;
  }

  private async create(model: PreparedModel, log: TargetLog, signal: AbortSignal, created: Created): Promise<MlflowModelVersion> {
    let source = this.options.sourceUri;
    if (!source) {
      const folder = artifactFolder(model.name, model.contentDigest);
      if (!(await this.client.hasArtifactProxy(folder))) {
        throw new UserError(
          `MLflow tracking server ${this.client.trackingUri} does not proxy artifacts (started with --no-serve-artifacts?): upload the model yourself and give its location in 'sourceUri'`,
        );
      }
      log.info(`uploading ${model.files.length} file(s) to mlflow-artifacts:/${folder}`);
      created.artifactFolder = folder;
      await uploadFiles(this.client, folder, model.files, log);
      source = `mlflow-artifacts:/${folder}`;
    }
    if (await this.registry.ensureRegisteredModel(model.name)) {
      created.registeredModel = model.name;
      log.info(`created registered model '${model.name}'`);
    }
    const tags = new Map(model.tags);
    tags.set(CONTENT_DIGEST_KEY, model.contentDigest);
    if (model.modelType) tags.set('mlops-tasks.model-type', model.modelType);
    created.version = await this.registry.createVersion({ name: model.name, source, description: model.description, tags });
    log.info(`created version ${created.version.version} of '${model.name}' from ${source}; waiting for READY`);
    return waitUntilReady(this.registry, created.version, { timeoutMs: this.options.readyTimeoutMs ?? READY_TIMEOUT_MS, signal });
  }

  /** Takes back what a failed run made, newest first; a cleanup failure is reported, not thrown. */
  private async takeBack(created: Created, log: TargetLog): Promise<void> {
    const registry = new MlflowRegistry(this.cleanupClient);
    const steps: [string, () => Promise<void>][] = [];
    if (created.version) steps.push([`version ${created.version.version}`, () => registry.deleteVersion(created.version!.name, created.version!.version)]);
    if (created.registeredModel) steps.push([`registered model '${created.registeredModel}'`, () => registry.deleteRegisteredModel(created.registeredModel!)]);
    if (created.artifactFolder) steps.push([`artifacts under ${created.artifactFolder}`, () => this.cleanupClient.deleteArtifact(created.artifactFolder!)]);
    for (const [what, step] of steps) {
      try {
        await step();
        log.info(`removed ${what} after the failure`);
      } catch (error) {
        log.info(`could not remove ${what} after the failure: ${errorMessage(error)}`);
      }
    }
  }

  async register(model: PreparedModel, log: TargetLog, signal: AbortSignal): Promise<RegisteredModel> {
    let version: MlflowModelVersion | undefined = model.requestedVersion
      ? await this.requested(model)
      : sameContent(await this.registry.searchVersions(model.name), model.contentDigest);
    const reused = !!version;
    if (version) {
      log.info(`version ${version.version} of '${model.name}' already holds these files (${model.contentDigest}): reusing it`);
      version = await waitUntilReady(this.registry, version, { timeoutMs: this.options.readyTimeoutMs ?? READY_TIMEOUT_MS, signal });
    } else {
      const created: Created = {};
      try {
        version = await this.create(model, log, signal, created);
      } catch (error) {
        await this.takeBack(created, log);
        throw error;
      }
    }
    if (this.options.alias) {
      await this.registry.setAlias(model.name, this.options.alias, version.version);
      log.info(`alias '${this.options.alias}' now points to version ${version.version}`);
    }
    return {
      name: model.name,
      version: version.version,
      uri: modelsUri(model.name, version.version),
      reused,
      webUrl: webUrl(this.client.trackingUri, model.name, version.version),
    };
  }
}

export function createMlflowTarget(options: MlflowTargetOptions): ModelRegistryTarget {
  return new MlflowTarget(options);
}
