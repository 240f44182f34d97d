import { MlflowApiError, type MlflowClient } from './client.js';

/** A model version as the REST API returns it (the fields this project reads). */
export interface MlflowModelVersion {
  name: string;
  version: string;
  status?: 'PENDING_REGISTRATION' | 'FAILED_REGISTRATION' | 'READY';
  status_message?: string;
  source?: string;
  tags?: { key: string; value?: string }[];
}

export interface NewModelVersion {
  name: string;
  source: string;
  description: string;
  tags: ReadonlyMap<string, string>;
}

/** Versions asked for per page; the server may return fewer. */
const PAGE_SIZE = 500;

export function tagOf(version: MlflowModelVersion, key: string): string | undefined {
  return version.tags?.find((tag) => tag.key === key)?.value;
}

/** MLflow filter strings quote with single quotes and know no escape for them. */
export function nameFilter(name: string): string {
  return `name='${name}'`;
}

/** The Model Registry calls of MLflow's REST API 2.0 (model_registry.proto) this project makes. */
export class MlflowRegistry {
  constructor(readonly client: MlflowClient) {}

  async searchVersions(name: string): Promise<MlflowModelVersion[]> {
    const versions: MlflowModelVersion[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.client.call<{ model_versions?: MlflowModelVersion[]; next_page_token?: string }>('GET', '/mlflow/model-versions/search', {
        filter: nameFilter(name),
        max_results: PAGE_SIZE,
        page_token: pageToken,
      });
      versions.push(...(page.model_versions ?? []).filter((version) => version.name === name));
      pageToken = page.next_page_token || undefined;
    } while (pageToken);
    return versions;
  }

  /** The version, or undefined when the model or the version does not exist. */
  async getVersion(name: string, version: string): Promise<MlflowModelVersion | undefined> {
    try {
      const answer = await this.client.call<{ model_version?: MlflowModelVersion }>('GET', '/mlflow/model-versions/get', { name, version });
      return answer.model_version;
    } catch (error) {
      if (error instanceof MlflowApiError && error.errorCode === 'RESOURCE_DOES_NOT_EXIST') return undefined;
      throw error;
    }
  }

  /** Creates the registered model; false when it existed already. */
  async ensureRegisteredModel(name: string): Promise<boolean> {
    try {
      await this.client.call('POST', '/mlflow/registered-models/create', { name });
      return true;
    } catch (error) {
      if (error instanceof MlflowApiError && error.errorCode === 'RESOURCE_ALREADY_EXISTS') return false;
      throw error;
    }
  }

  async createVersion(version: NewModelVersion): Promise<MlflowModelVersion> {
    const answer = await this.client.call<{ model_version?: MlflowModelVersion }>('POST', '/mlflow/model-versions/create', {
      name: version.name,
      source: version.source,
      description: version.description || undefined,
      tags: [...version.tags].map(([key, value]) => ({ key, value })),
    });
    if (!answer.model_version?.version) throw new MlflowApiError('MLflow POST /mlflow/model-versions/create answered without a model version', 200, '');
    return answer.model_version;
  }

  async setAlias(name: string, alias: string, version: string): Promise<void> {
    await this.client.call('POST', '/mlflow/registered-models/alias', { name, alias, version });
  }

  async deleteVersion(name: string, version: string): Promise<void> {
    await this.client.call('DELETE', '/mlflow/model-versions/delete', { name, version });
  }

  async deleteRegisteredModel(name: string): Promise<void> {
    await this.client.call('DELETE', '/mlflow/registered-models/delete', { name });
  }
}
