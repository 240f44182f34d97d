import type { KfpClient } from './client.js';
import type { FilePart } from './multipart.js';
import type { CreatedPipeline, KfpApi, KfpExperiment, KfpPipeline, KfpRunStatus, KfpTask, KfpVersion, PollOptions, RunRequest } from './api.js';
import { nameEquals, NEWEST_FIRST } from './filter.js';
import { parseDocuments } from './package.js';
import { isTerminal, normalizeState } from './states.js';
import { POLL_TIMEOUT_MS, UPLOAD_TIMEOUT_MS } from './timeouts.js';

// Wire shapes of the v1beta1 answers.
interface V1Reference {
  key?: { type?: string; id?: string };
  relationship?: string;
}
interface V1Version {
  id?: string;
  name?: string;
  created_at?: string;
  resource_references?: V1Reference[];
}
interface V1Pipeline {
  id?: string;
  name?: string;
  default_version?: V1Version;
}
interface V1Experiment {
  id?: string;
  name?: string;
}
interface V1RunDetail {
  run?: { id?: string; name?: string; status?: string; error?: string; created_at?: string; finished_at?: string };
  pipeline_runtime?: { workflow_manifest?: string };
}
interface ArgoNode {
  id?: string;
  displayName?: string;
  type?: string;
  phase?: string;
}

const API = '/apis/v1beta1';
// Argo node types that group steps rather than run one; their phase repeats their children's.
const GROUP_NODES = new Set(['DAG', 'Steps', 'StepGroup', 'TaskGroup']);

function versionOf(version: V1Version, pipelineId = ''): KfpVersion {
  const owner = version.resource_references?.find((reference) => reference.key?.type === 'PIPELINE')?.key?.id;
  return { id: version.id ?? '', name: version.name ?? '', pipelineId: owner || pipelineId, createdAt: version.created_at };
}

/** Task states of a v1 run live in the Argo workflow the server hands back as a JSON string. */
function tasksOf(manifest: string | undefined): KfpTask[] {
  if (!manifest) return [];
  try {
    const workflow = JSON.parse(manifest) as { status?: { nodes?: Record<string, ArgoNode> } };
    return Object.entries(workflow.status?.nodes ?? {})
      .filter(([, node]) => !GROUP_NODES.has(node.type ?? ''))
      .map(([id, node]) => ({ id, name: node.displayName || id, state: normalizeState(node.phase) }));
  } catch {
    return [];
  }
}

function runOf(detail: V1RunDetail): KfpRunStatus {
  const run = detail.run ?? {};
  const state = normalizeState(run.status);
  return {
    id: run.id ?? '',
    name: run.name ?? '',
    state,
    finished: isTerminal('v1beta1', state),
    createdAt: run.created_at,
    finishedAt: run.finished_at && !run.finished_at.startsWith('1970') ? run.finished_at : undefined,
    error: run.error || undefined,
    tasks: tasksOf(detail.pipeline_runtime?.workflow_manifest),
  };
}

function namespaceKey(namespace: string): Record<string, string | undefined> {
  return namespace ? { 'resource_reference_key.type': 'NAMESPACE', 'resource_reference_key.id': namespace } : {};
}

/**
 * KFP 1.x. Pipelines are shared here (namespaced pipelines came with v2beta1); experiments and
 * runs belong to the namespace through resource references.
 */
export class KfpV1 implements KfpApi {
  readonly version = 'v1beta1' as const;

  constructor(private readonly client: KfpClient) {}

  async findPipeline(name: string): Promise<KfpPipeline | undefined> {
    const { body } = await this.client.call<{ pipelines?: V1Pipeline[] }>('GET', `${API}/pipelines`, {
      query: { filter: nameEquals(this.version, 'name', name), page_size: 2 },
    });
    const found = body.pipelines?.[0];
    return found ? { id: found.id ?? '', name: found.name ?? name } : undefined;
  }

  async getPipeline(id: string): Promise<KfpPipeline> {
    const { body } = await this.client.call<V1Pipeline>('GET', `${API}/pipelines/${encodeURIComponent(id)}`);
    return { id: body.id ?? id, name: body.name ?? '' };
  }

  async createPipeline(name: string, _versionName: string, file: FilePart, _namespace: string, description: string): Promise<CreatedPipeline | undefined> {
    // v1 cannot create an empty pipeline: the upload makes the pipeline and its first version,
    // which the server names after the pipeline. That version is the one the step uses.
    const answer = await this.client.call<V1Pipeline>('POST', `${API}/pipelines/upload`, {
      query: { name, description },
      file,
      timeoutMs: UPLOAD_TIMEOUT_MS,
      expect: [409],
    });
    if (answer.status === 409) return undefined;
    const pipeline = { id: answer.body.id ?? '', name: answer.body.name ?? name };
    const first = answer.body.default_version?.id ? versionOf(answer.body.default_version, pipeline.id) : await this.newestVersion(pipeline.id);
    if (!first) throw new Error(`KFP created pipeline '${name}' without a version`);
    return { pipeline, version: first };
  }

  async uploadVersion(pipeline: KfpPipeline, name: string, file: FilePart, description: string): Promise<KfpVersion | undefined> {
    const answer = await this.client.call<V1Version>('POST', `${API}/pipelines/upload_version`, {
      query: { name, pipelineid: pipeline.id, description },
      file,
      timeoutMs: UPLOAD_TIMEOUT_MS,
      expect: [409],
    });
    return answer.status === 409 ? undefined : versionOf(answer.body, pipeline.id);
  }

  private async listVersions(pipelineId: string, query: Record<string, string | number>): Promise<KfpVersion | undefined> {
    const { body } = await this.client.call<{ versions?: V1Version[] }>('GET', `${API}/pipeline_versions`, {
      query: { 'resource_key.type': 'PIPELINE', 'resource_key.id': pipelineId, ...query },
    });
    const found = body.versions?.[0];
    return found ? versionOf(found, pipelineId) : undefined;
  }

  findVersion(pipelineId: string, name: string): Promise<KfpVersion | undefined> {
    return this.listVersions(pipelineId, { filter: nameEquals(this.version, 'name', name), page_size: 2 });
  }

  newestVersion(pipelineId: string): Promise<KfpVersion | undefined> {
    return this.listVersions(pipelineId, { sort_by: NEWEST_FIRST, page_size: 1 });
  }

  async getVersion(pipelineId: string, versionId: string): Promise<KfpVersion> {
    return versionOf((await this.client.call<V1Version>('GET', `${API}/pipeline_versions/${encodeURIComponent(versionId)}`)).body, pipelineId);
  }

  async versionSpec(version: KfpVersion): Promise<unknown[]> {
    const { body } = await this.client.call<{ template?: string }>('GET', `${API}/pipeline_versions/${encodeURIComponent(version.id)}/templates`);
    const documents = await parseDocuments(body.template ?? '');
    return typeof documents === 'string' ? [] : documents;
  }

  async deletePipeline(id: string): Promise<void> {
    await this.client.call('DELETE', `${API}/pipelines/${encodeURIComponent(id)}`, { retries: 0, expect: [404] }).catch(() => undefined);
  }

  async findExperiment(name: string, namespace: string): Promise<KfpExperiment | undefined> {
    const { body } = await this.client.call<{ experiments?: V1Experiment[] }>('GET', `${API}/experiments`, {
      query: { filter: nameEquals(this.version, 'name', name), page_size: 2, ...namespaceKey(namespace) },
      namespace,
    });
    const found = body.experiments?.[0];
    return found ? { id: found.id ?? '', name: found.name ?? name } : undefined;
  }

  async createExperiment(name: string, namespace: string): Promise<KfpExperiment | undefined> {
    const references = namespace ? [{ key: { type: 'NAMESPACE', id: namespace }, relationship: 'OWNER' }] : undefined;
    const answer = await this.client.call<V1Experiment>('POST', `${API}/experiments`, {
      body: { name, ...(references ? { resource_references: references } : {}) },
      expect: [409],
      namespace,
    });
    return answer.status === 409 ? undefined : { id: answer.body.id ?? '', name: answer.body.name ?? name };
  }

  async createRun(run: RunRequest, namespace: string): Promise<KfpRunStatus> {
    const body = {
      name: run.name,
      pipeline_spec: { parameters: Object.entries(run.parameters).map(([name, value]) => ({ name, value: String(value) })) },
      resource_references: [
        { key: { type: 'EXPERIMENT', id: run.experimentId }, relationship: 'OWNER' },
        { key: { type: 'PIPELINE_VERSION', id: run.versionId }, relationship: 'CREATOR' },
      ],
    };
    return runOf((await this.client.call<V1RunDetail>('POST', `${API}/runs`, { body, namespace })).body);
  }

  async getRun(id: string, options: PollOptions = {}): Promise<KfpRunStatus> {
    const { body } = await this.client.call<V1RunDetail>('GET', `${API}/runs/${encodeURIComponent(id)}`, {
      timeoutMs: options.timeoutMs ?? POLL_TIMEOUT_MS,
      retries: options.retries,
      signal: options.signal,
    });
    return runOf(body);
  }

  async terminateRun(id: string, options: PollOptions = {}): Promise<void> {
    await this.client.call('POST', `${API}/runs/${encodeURIComponent(id)}/terminate`, {
      timeoutMs: options.timeoutMs,
      retries: options.retries,
      signal: options.signal,
    });
  }
}
