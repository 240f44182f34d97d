import type { KfpClient } from './client.js';
import type { FilePart } from './multipart.js';
import type { CreatedPipeline, KfpApi, KfpExperiment, KfpPipeline, KfpRunStatus, KfpVersion, PollOptions, RunRequest } from './api.js';
import { nameEquals, NEWEST_FIRST } from './filter.js';
import { isTerminal, normalizeState } from './states.js';
import { POLL_TIMEOUT_MS, UPLOAD_TIMEOUT_MS } from './timeouts.js';

// Wire shapes of the v2beta1 answers (snake_case, as the server marshals with proto names).
interface V2Pipeline {
  pipeline_id?: string;
  display_name?: string;
  name?: string;
}
interface V2Version {
  pipeline_id?: string;
  pipeline_version_id?: string;
  display_name?: string;
  name?: string;
  created_at?: string;
  pipeline_spec?: Record<string, unknown>;
}
interface V2Experiment {
  experiment_id?: string;
  display_name?: string;
}
interface V2Task {
  task_id?: string;
  display_name?: string;
  state?: string;
}
interface V2Run {
  run_id?: string;
  display_name?: string;
  state?: string;
  created_at?: string;
  finished_at?: string;
  error?: { message?: string };
  run_details?: { task_details?: V2Task[] };
}

const API = '/apis/v2beta1';
// `name` on pipelines and versions exists only from KFP 2.14; older 2.x servers reject it in a JSON
// body. Upload query strings are read key by key, so there both spellings are sent.

function pipelineOf(pipeline: V2Pipeline): KfpPipeline {
  return { id: pipeline.pipeline_id ?? '', name: pipeline.display_name || pipeline.name || '' };
}

function versionOf(version: V2Version, pipelineId = ''): KfpVersion {
  return {
    id: version.pipeline_version_id ?? '',
    name: version.display_name || version.name || '',
    pipelineId: version.pipeline_id || pipelineId,
    createdAt: version.created_at,
    spec: version.pipeline_spec,
  };
}

function runOf(run: V2Run): KfpRunStatus {
  const state = normalizeState(run.state);
  return {
    id: run.run_id ?? '',
    name: run.display_name ?? '',
    state,
    finished: isTerminal('v2beta1', state),
    createdAt: run.created_at,
    finishedAt: run.finished_at,
    error: run.error?.message || undefined,
    tasks: (run.run_details?.task_details ?? [])
      .filter((task) => task.display_name)
      .map((task) => ({ id: task.task_id || task.display_name || '', name: task.display_name ?? '', state: normalizeState(task.state) })),
  };
}

/** A stored spec with a platform spec comes back as {pipeline_spec, platform_spec}; without one, as the spec itself. */
export function v2SpecDocuments(spec: Record<string, unknown> | undefined): unknown[] {
  if (!spec) return [];
  if (spec.pipeline_spec && typeof spec.pipeline_spec === 'object') return [spec.pipeline_spec, spec.platform_spec].filter(Boolean);
  return [spec];
}

export class KfpV2 implements KfpApi {
  readonly version = 'v2beta1' as const;

  constructor(private readonly client: KfpClient) {}

  async findPipeline(name: string, namespace: string): Promise<KfpPipeline | undefined> {
    const { body } = await this.client.call<{ pipelines?: V2Pipeline[] }>('GET', `${API}/pipelines`, {
      query: { namespace, filter: nameEquals(this.version, 'display_name', name), page_size: 2 },
      namespace,
    });
    const found = body.pipelines?.[0];
    return found ? pipelineOf(found) : undefined;
  }

  async getPipeline(id: string): Promise<KfpPipeline> {
    return pipelineOf((await this.client.call<V2Pipeline>('GET', `${API}/pipelines/${encodeURIComponent(id)}`)).body);
  }

  async createPipeline(name: string, versionName: string, file: FilePart, namespace: string, description: string): Promise<CreatedPipeline | undefined> {
    // An empty pipeline, then the version under its own name: uploading a pipeline would make a
    // first version named after the pipeline, and a second upload would leave that one behind.
    const created = await this.client.call<V2Pipeline>('POST', `${API}/pipelines`, {
      body: { display_name: name, ...(namespace ? { namespace } : {}) },
      expect: [409],
      namespace,
    });
    if (created.status === 409) return undefined;
    const pipeline = pipelineOf(created.body);
    try {
      const version = await this.uploadVersion(pipeline, versionName, file, description);
      if (!version) throw new Error(`version '${versionName}' of the new pipeline '${name}' exists already`);
      return { pipeline, version };
    } catch (error) {
      await this.deletePipeline(pipeline.id);
      throw error;
    }
  }

  async uploadVersion(pipeline: KfpPipeline, name: string, file: FilePart, description: string): Promise<KfpVersion | undefined> {
    const answer = await this.client.call<V2Version>('POST', `${API}/pipelines/upload_version`, {
      query: { pipelineid: pipeline.id, name, display_name: name, description },
      file,
      timeoutMs: UPLOAD_TIMEOUT_MS,
      expect: [409],
    });
    return answer.status === 409 ? undefined : versionOf(answer.body, pipeline.id);
  }

  async findVersion(pipelineId: string, name: string): Promise<KfpVersion | undefined> {
    const { body } = await this.client.call<{ pipeline_versions?: V2Version[] }>('GET', `${API}/pipelines/${encodeURIComponent(pipelineId)}/versions`, {
      query: { filter: nameEquals(this.version, 'display_name', name), page_size: 2 },
    });
    const found = body.pipeline_versions?.[0];
    return found ? versionOf(found, pipelineId) : undefined;
  }

  async newestVersion(pipelineId: string): Promise<KfpVersion | undefined> {
    const { body } = await this.client.call<{ pipeline_versions?: V2Version[] }>('GET', `${API}/pipelines/${encodeURIComponent(pipelineId)}/versions`, {
      query: { sort_by: NEWEST_FIRST, page_size: 1 },
    });
    const found = body.pipeline_versions?.[0];
    return found ? versionOf(found, pipelineId) : undefined;
  }

  async getVersion(pipelineId: string, versionId: string): Promise<KfpVersion> {
    const path = `${API}/pipelines/${encodeURIComponent(pipelineId)}/versions/${encodeURIComponent(versionId)}`;
    return versionOf((await this.client.call<V2Version>('GET', path)).body, pipelineId);
  }

  async versionSpec(version: KfpVersion): Promise<unknown[]> {
    const spec = version.spec ?? (await this.getVersion(version.pipelineId, version.id)).spec;
    return v2SpecDocuments(spec as Record<string, unknown> | undefined);
  }

  async deletePipeline(id: string): Promise<void> {
    await this.client.call('DELETE', `${API}/pipelines/${encodeURIComponent(id)}`, { retries: 0, expect: [404] }).catch(() => undefined);
  }

  async findExperiment(name: string, namespace: string): Promise<KfpExperiment | undefined> {
    const { body } = await this.client.call<{ experiments?: V2Experiment[] }>('GET', `${API}/experiments`, {
      query: { namespace, filter: nameEquals(this.version, 'display_name', name), page_size: 2 },
      namespace,
    });
    const found = body.experiments?.[0];
    return found ? { id: found.experiment_id ?? '', name: found.display_name ?? name } : undefined;
  }

  async createExperiment(name: string, namespace: string): Promise<KfpExperiment | undefined> {
    const answer = await this.client.call<V2Experiment>('POST', `${API}/experiments`, {
      body: { display_name: name, ...(namespace ? { namespace } : {}) },
      expect: [409],
      namespace,
    });
    return answer.status === 409 ? undefined : { id: answer.body.experiment_id ?? '', name: answer.body.display_name ?? name };
  }

  async createRun(run: RunRequest, namespace: string): Promise<KfpRunStatus> {
    const body = {
      display_name: run.name,
      experiment_id: run.experimentId,
      pipeline_version_reference: { pipeline_id: run.pipelineId, pipeline_version_id: run.versionId },
      runtime_config: { parameters: run.parameters },
    };
    return runOf((await this.client.call<V2Run>('POST', `${API}/runs`, { body, namespace })).body);
  }

  async getRun(id: string, options: PollOptions = {}): Promise<KfpRunStatus> {
    const { body } = await this.client.call<V2Run>('GET', `${API}/runs/${encodeURIComponent(id)}`, {
      timeoutMs: options.timeoutMs ?? POLL_TIMEOUT_MS,
      retries: options.retries,
      signal: options.signal,
    });
    return runOf(body);
  }

  async terminateRun(id: string, options: PollOptions = {}): Promise<void> {
    await this.client.call('POST', `${API}/runs/${encodeURIComponent(id)}:terminate`, {
      timeoutMs: options.timeoutMs,
      retries: options.retries,
      signal: options.signal,
    });
  }
}
