import { randomUUID } from 'node:crypto';
import { CODE, declaredParameters, iso, json, matchesFilter, page, readUpload, rpcError, taskNames, type HandlerContext, type Reply } from './common.js';
import type { RunState, StoredExperiment, StoredPipeline, StoredRun, StoredVersion } from './store.js';

// Answers as a KFP 1.8 server gives them: names, resource references, Argo phases for states.

const PHASE: Record<RunState, string> = {
  PENDING: 'Pending',
  RUNNING: 'Running',
  SUCCEEDED: 'Succeeded',
  FAILED: 'Failed',
  SKIPPED: 'Skipped',
  CANCELING: 'Terminating',
  // Argo stops a terminated workflow with phase Failed ("Stopped with strategy 'Terminate'").
  CANCELED: 'Failed',
  ERROR: 'Error',
};

/** v1 upload errors are apiStatus ({error, code}), not googleRpcStatus. */
function uploadError(reply: Reply): Reply {
  const body = reply.body as { code: number; message: string };
  return { status: reply.status, body: { error: body.message, code: body.code, details: [] } };
}

function parametersOf(version: StoredVersion): { name: string; value?: string }[] {
  return [...declaredParameters(version.documents)].map(([name]) => {
    const first = version.documents[0] as Record<string, any>;
    const value = ((first.spec?.arguments?.parameters ?? []) as { name: string; value?: string }[]).find((parameter) => parameter.name === name)?.value;
    return value === undefined ? { name } : { name, value: String(value) };
  });
}

function versionJson(version: StoredVersion): Record<string, unknown> {
  return {
    id: version.id,
    name: version.name,
    created_at: iso(version.createdAt),
    parameters: parametersOf(version),
    resource_references: [{ key: { type: 'PIPELINE', id: version.pipelineId }, relationship: 'OWNER' }],
    ...(version.description ? { description: version.description } : {}),
  };
}

function pipelineJson(context: HandlerContext, pipeline: StoredPipeline): Record<string, unknown> {
  const versions = context.store.versionsOf(pipeline.id).sort((a, b) => a.createdAt - b.createdAt);
  const first = versions[0];
  return {
    id: pipeline.id,
    created_at: iso(pipeline.createdAt),
    name: pipeline.name,
    ...(pipeline.description ? { description: pipeline.description } : {}),
    ...(first ? { parameters: parametersOf(first), default_version: versionJson(first) } : {}),
  };
}

function experimentJson(experiment: StoredExperiment): Record<string, unknown> {
  return {
    id: experiment.id,
    name: experiment.name,
    created_at: iso(experiment.createdAt),
    ...(experiment.namespace ? { resource_references: [{ key: { type: 'NAMESPACE', id: experiment.namespace }, relationship: 'OWNER' }] } : {}),
    storage_state: 'STORAGESTATE_AVAILABLE',
  };
}

function runDetailJson(context: HandlerContext, run: StoredRun): Record<string, unknown> {
  const snapshot = context.store.snapshot(run);
  const nodes: Record<string, unknown> = {
    [run.id]: { id: run.id, name: run.name, displayName: run.name, type: 'DAG', phase: PHASE[snapshot.state] },
  };
  Object.entries(snapshot.tasks).forEach(([name, state], index) => {
    const id = `${run.id}-${index}`;
    nodes[id] = { id, name: `${run.name}.${name}`, displayName: name, type: 'Pod', phase: PHASE[state] };
  });
  const workflow = { metadata: { name: run.id }, status: { phase: PHASE[snapshot.state], nodes } };
  const version = context.store.versions.get(run.versionId);
  return {
    run: {
      id: run.id,
      name: run.name,
      storage_state: 'STORAGESTATE_AVAILABLE',
      pipeline_spec: {
        pipeline_id: run.pipelineId,
        pipeline_name: context.store.pipelines.get(run.pipelineId)?.name ?? '',
        parameters: Object.entries(run.parameters).map(([name, value]) => ({ name, value: String(value) })),
      },
      resource_references: [
        { key: { type: 'EXPERIMENT', id: run.experimentId }, relationship: 'OWNER' },
        { key: { type: 'PIPELINE_VERSION', id: run.versionId }, name: version?.name ?? '', relationship: 'CREATOR' },
      ],
      service_account: 'pipeline-runner',
      created_at: iso(run.createdAt),
      scheduled_at: iso(run.createdAt),
      finished_at: iso(snapshot.finishedAt ?? 0),
      status: PHASE[snapshot.state],
      ...(snapshot.error ? { error: snapshot.error } : {}),
    },
    pipeline_runtime: { workflow_manifest: JSON.stringify(workflow) },
  };
}

const isReply = (value: unknown): value is Reply => !!value && typeof value === 'object' && 'status' in value && 'body' in value;

/** The namespace a v1 list call filters on: resource_reference_key of type NAMESPACE. */
function queryNamespace(context: HandlerContext): string {
  return context.query.get('resource_reference_key.type') === 'NAMESPACE' ? (context.query.get('resource_reference_key.id') ?? '') : '';
}

function createRun(context: HandlerContext): Reply {
  const body = json(context);
  const references = (body.resource_references ?? []) as { key?: { type?: string; id?: string }; relationship?: string }[];
  const experimentId = references.find((reference) => reference.key?.type === 'EXPERIMENT' && reference.relationship === 'OWNER')?.key?.id ?? '';
  const versionId = references.find((reference) => reference.key?.type === 'PIPELINE_VERSION')?.key?.id ?? '';
  const experiment = context.store.experiments.get(experimentId);
  if (!experiment) return rpcError(400, CODE.invalidArgument, 'The resource reference is empty. Please specify which experiment owns this resource');
  const denied = context.forbidden(experiment.namespace);
  if (denied) return denied;
  const version = context.store.versions.get(versionId);
  if (!version) return rpcError(404, CODE.notFound, 'Get pipelineVersionId failed');
  const given = (body.pipeline_spec?.parameters ?? []) as { name?: string; value?: unknown }[];
  const declared = declaredParameters(version.documents);
  const parameters: Record<string, unknown> = {};
  for (const parameter of given) {
    if (!declared.has(String(parameter.name))) return rpcError(400, CODE.invalidArgument, `parameter ${parameter.name} is not declared`);
    if (typeof parameter.value !== 'string') return rpcError(400, CODE.invalidArgument, `parameter ${parameter.name} must be a string`);
    parameters[String(parameter.name)] = parameter.value;
  }
  for (const [name, parameter] of declared) {
    if (parameter.required && !(name in parameters)) return rpcError(400, CODE.invalidArgument, `required parameter ${name} is missing`);
  }
  const names = taskNames(version.documents);
  const run: StoredRun = {
    id: randomUUID(),
    name: String(body.name ?? ''),
    api: 'v1beta1',
    experimentId,
    pipelineId: version.pipelineId,
    versionId,
    namespace: experiment.namespace,
    parameters,
    createdAt: context.store.now(),
    steps: context.plan(names),
    taskNames: names,
    polls: [],
  };
  context.store.runs.set(run.id, run);
  return { status: 200, body: runDetailJson(context, run) };
}

/** The v1beta1 operations the step uses, keyed by swagger method and path. */
export const v1Handlers: Record<string, (context: HandlerContext) => Reply> = {
  'GET /apis/v1beta1/healthz': (context) => ({ status: 200, body: { multi_user: context.multiUser } }),
  'GET /apis/v1beta1/pipelines': (context) => {
    const filter = context.query.get('filter');
    const matching = [...context.store.pipelines.values()].filter((pipeline) => matchesFilter(filter, { name: pipeline.name }));
    const { items } = page(matching, context.query);
    return { status: 200, body: { pipelines: items.map((pipeline) => pipelineJson(context, pipeline)), total_size: matching.length } };
  },
  'GET /apis/v1beta1/pipelines/{id}': (context) => {
    const pipeline = context.store.pipelines.get(context.route.params.id ?? '');
    return pipeline ? { status: 200, body: pipelineJson(context, pipeline) } : rpcError(404, CODE.notFound, 'Pipeline not found');
  },
  'DELETE /apis/v1beta1/pipelines/{id}': (context) => {
    const id = context.route.params.id ?? '';
    for (const version of context.store.versionsOf(id)) context.store.versions.delete(version.id);
    context.store.pipelines.delete(id);
    return { status: 200, body: {} };
  },
  'POST /apis/v1beta1/pipelines/upload': (context) => {
    const uploaded = readUpload(context);
    if (isReply(uploaded)) return uploadError(uploaded);
    const name = context.query.get('name') || 'pipeline';
    if ([...context.store.pipelines.values()].some((pipeline) => pipeline.name === name)) {
      return uploadError(rpcError(409, CODE.alreadyExists, 'Failed to create a pipeline and a pipeline version'));
    }
    const description = context.query.get('description') ?? '';
    const pipeline = context.store.addPipeline(name, '', description);
    context.store.addVersion(pipeline.id, name, uploaded.text, uploaded.documents, description);
    return { status: 200, body: pipelineJson(context, pipeline) };
  },
  'POST /apis/v1beta1/pipelines/upload_version': (context) => {
    const uploaded = readUpload(context);
    if (isReply(uploaded)) return uploadError(uploaded);
    const pipeline = context.store.pipelines.get(context.query.get('pipelineid') ?? '');
    if (!pipeline) return uploadError(rpcError(400, CODE.invalidArgument, 'Failed to create a pipeline version'));
    const name = context.query.get('name') || 'pipeline.yaml';
    if (context.store.versionsOf(pipeline.id).some((version) => version.name === name)) {
      return uploadError(rpcError(409, CODE.alreadyExists, 'Failed to create a pipeline version'));
    }
    const version = context.store.addVersion(pipeline.id, name, uploaded.text, uploaded.documents, context.query.get('description') ?? '');
    return { status: 200, body: versionJson(version) };
  },
  'GET /apis/v1beta1/pipeline_versions': (context) => {
    if (context.query.get('resource_key.type') !== 'PIPELINE') return rpcError(400, CODE.invalidArgument, 'resource_key.type must be PIPELINE');
    const filter = context.query.get('filter');
    const matching = context.store
      .versionsOf(context.query.get('resource_key.id') ?? '')
      .filter((version) => matchesFilter(filter, { name: version.name }));
    const { items } = page(matching, context.query);
    return { status: 200, body: { versions: items.map(versionJson), total_size: matching.length } };
  },
  'GET /apis/v1beta1/pipeline_versions/{version_id}': (context) => {
    const version = context.store.versions.get(context.route.params.version_id ?? '');
    return version ? { status: 200, body: versionJson(version) } : rpcError(404, CODE.notFound, 'Pipeline version not found');
  },
  'GET /apis/v1beta1/pipeline_versions/{version_id}/templates': (context) => {
    const version = context.store.versions.get(context.route.params.version_id ?? '');
    return version ? { status: 200, body: { template: version.text } } : rpcError(404, CODE.notFound, 'Pipeline version not found');
  },
  'GET /apis/v1beta1/experiments': (context) => {
    const namespace = queryNamespace(context);
    if (context.multiUser && !namespace) return rpcError(400, CODE.invalidArgument, 'In multi-user mode, ListExperiment requires filtering by namespace');
    const denied = context.forbidden(namespace);
    if (denied) return denied;
    const filter = context.query.get('filter');
    const matching = [...context.store.experiments.values()].filter(
      (experiment) => experiment.namespace === namespace && matchesFilter(filter, { name: experiment.name }),
    );
    const { items } = page(matching, context.query);
    return { status: 200, body: { experiments: items.map(experimentJson), total_size: matching.length } };
  },
  'POST /apis/v1beta1/experiments': (context) => {
    const body = json(context);
    const references = (body.resource_references ?? []) as { key?: { type?: string; id?: string } }[];
    const namespace = references.find((reference) => reference.key?.type === 'NAMESPACE')?.key?.id ?? '';
    if (context.multiUser && !namespace) return rpcError(400, CODE.invalidArgument, 'In multi-user mode, an experiment needs a namespace');
    const denied = context.forbidden(namespace);
    if (denied) return denied;
    const name = String(body.name ?? '');
    if ([...context.store.experiments.values()].some((experiment) => experiment.name === name && experiment.namespace === namespace)) {
      return rpcError(409, CODE.alreadyExists, `Experiment ${name} already exists`);
    }
    return { status: 200, body: experimentJson(context.store.addExperiment(name, namespace)) };
  },
  'POST /apis/v1beta1/runs': createRun,
  'GET /apis/v1beta1/runs/{run_id}': (context) => {
    const run = context.store.runs.get(context.route.params.run_id ?? '');
    if (!run) return rpcError(404, CODE.notFound, 'Run not found');
    const denied = context.forbidden(run.namespace);
    if (denied) return denied;
    const answer = runDetailJson(context, run);
    run.polls.push(Date.now());
    if (run.endSeenAt === undefined && context.store.snapshot(run).finishedAt !== undefined) run.endSeenAt = Date.now();
    return { status: 200, body: answer };
  },
  'POST /apis/v1beta1/runs/{run_id}/terminate': (context) => {
    const run = context.store.runs.get(context.route.params.run_id ?? '');
    if (!run) return rpcError(404, CODE.notFound, 'Run not found');
    if (context.store.snapshot(run).finishedAt === undefined) run.terminatedAt ??= Date.now();
    return { status: 200, body: {} };
  },
};
