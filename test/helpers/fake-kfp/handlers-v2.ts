import { randomUUID } from 'node:crypto';
import {
  CODE,
  declaredParameters,
  iso,
  json,
  matchesFilter,
  page,
  protojsonish,
  readUpload,
  rpcError,
  taskNames,
  typeProblem,
  type HandlerContext,
  type Reply,
} from './common.js';
import type { RunState, StoredExperiment, StoredPipeline, StoredRun, StoredVersion } from './store.js';

// Answers as a KFP 2.x server built before 2.14 gives them: display_name only, no `name` or `tags`.

function pipelineJson(pipeline: StoredPipeline): Record<string, unknown> {
  return {
    pipeline_id: pipeline.id,
    display_name: pipeline.name,
    ...(pipeline.description ? { description: pipeline.description } : {}),
    created_at: iso(pipeline.createdAt),
    ...(pipeline.namespace ? { namespace: pipeline.namespace } : {}),
  };
}

function versionJson(version: StoredVersion): Record<string, unknown> {
  const [spec, platform] = version.documents.map(protojsonish);
  return {
    pipeline_id: version.pipelineId,
    pipeline_version_id: version.id,
    display_name: version.name,
    ...(version.description ? { description: version.description } : {}),
    created_at: iso(version.createdAt),
    pipeline_spec: platform ? { pipeline_spec: spec, platform_spec: platform } : spec,
  };
}

function experimentJson(experiment: StoredExperiment): Record<string, unknown> {
  return {
    experiment_id: experiment.id,
    display_name: experiment.name,
    created_at: iso(experiment.createdAt),
    ...(experiment.namespace ? { namespace: experiment.namespace } : {}),
    storage_state: 'AVAILABLE',
  };
}

const v2State = (state: RunState) => (state === 'ERROR' ? 'FAILED' : state);

function runJson(context: HandlerContext, run: StoredRun): Record<string, unknown> {
  const now = Date.now();
  const snapshot = context.store.snapshot(run, now);
  const started = run.createdAt + (run.steps.find((step) => step.state === 'RUNNING')?.atMs ?? 0);
  return {
    experiment_id: run.experimentId,
    run_id: run.id,
    display_name: run.name,
    storage_state: 'AVAILABLE',
    pipeline_version_reference: { pipeline_id: run.pipelineId, pipeline_version_id: run.versionId },
    runtime_config: { parameters: run.parameters },
    service_account: 'pipeline-runner',
    created_at: iso(run.createdAt),
    scheduled_at: iso(run.createdAt),
    ...(snapshot.finishedAt ? { finished_at: iso(snapshot.finishedAt) } : {}),
    state: v2State(snapshot.state),
    ...(snapshot.error ? { error: { code: 2, message: snapshot.error, details: [] } } : {}),
    state_history: [{ update_time: iso(now), state: v2State(snapshot.state) }],
    run_details: {
      task_details: Object.entries(snapshot.tasks).map(([name, state], index) => ({
        run_id: run.id,
        task_id: `${run.id}-task-${index}`,
        display_name: name,
        create_time: iso(started),
        start_time: iso(started),
        state: v2State(state),
      })),
    },
  };
}

function findPipeline(context: HandlerContext, id: string): StoredPipeline | Reply {
  return context.store.pipelines.get(id) ?? rpcError(404, CODE.notFound, `Pipeline ${id} not found`);
}

const isReply = (value: unknown): value is Reply => !!value && typeof value === 'object' && 'status' in value && 'body' in value;

function listPipelines(context: HandlerContext): Reply {
  const namespace = context.query.get('namespace') ?? '';
  const denied = context.forbidden(namespace);
  if (denied) return denied;
  const filter = context.query.get('filter');
  const matching = [...context.store.pipelines.values()].filter(
    (pipeline) => pipeline.namespace === namespace && matchesFilter(filter, { display_name: pipeline.name, name: pipeline.name }),
  );
  const { items } = page(matching, context.query);
  return { status: 200, body: { pipelines: items.map(pipelineJson), total_size: matching.length } };
}

function createPipeline(context: HandlerContext): Reply {
  const body = json(context);
  const namespace = String(body.namespace ?? '');
  const denied = context.forbidden(namespace);
  if (denied) return denied;
  const name = String(body.display_name ?? '');
  if (!name) return rpcError(400, CODE.invalidArgument, 'Pipeline name is empty');
  if ([...context.store.pipelines.values()].some((pipeline) => pipeline.name === name && pipeline.namespace === namespace)) {
    return rpcError(409, CODE.alreadyExists, `Pipeline with name ${name} already exists`);
  }
  return { status: 200, body: pipelineJson(context.store.addPipeline(name, namespace, String(body.description ?? ''))) };
}

function upload(context: HandlerContext): Reply {
  const uploaded = readUpload(context);
  if (isReply(uploaded)) return uploaded;
  const namespace = context.query.get('namespace') ?? '';
  const denied = context.forbidden(namespace);
  if (denied) return denied;
  const name = context.query.get('name') || context.query.get('display_name') || 'pipeline';
  if ([...context.store.pipelines.values()].some((pipeline) => pipeline.name === name && pipeline.namespace === namespace)) {
    return rpcError(409, CODE.alreadyExists, 'Failed to create a pipeline and a pipeline version');
  }
  const description = context.query.get('description') ?? '';
  const pipeline = context.store.addPipeline(name, namespace, description);
  // The first version takes the pipeline's name, as the real server does.
  context.store.addVersion(pipeline.id, name, uploaded.text, uploaded.documents, description);
  return { status: 200, body: pipelineJson(pipeline) };
}

function uploadVersion(context: HandlerContext): Reply {
  const uploaded = readUpload(context);
  if (isReply(uploaded)) return uploaded;
  const pipeline = findPipeline(context, context.query.get('pipelineid') ?? '');
  if (isReply(pipeline)) return rpcError(400, CODE.invalidArgument, 'Failed to create a pipeline version');
  const denied = context.forbidden(pipeline.namespace);
  if (denied) return denied;
  const name = context.query.get('name') || context.query.get('display_name') || 'pipeline.yaml';
  if (context.store.versionsOf(pipeline.id).some((version) => version.name === name)) {
    return rpcError(409, CODE.alreadyExists, 'Failed to create a pipeline version');
  }
  const version = context.store.addVersion(pipeline.id, name, uploaded.text, uploaded.documents, context.query.get('description') ?? '');
  return { status: 200, body: versionJson(version) };
}

function listVersions(context: HandlerContext): Reply {
  const pipeline = findPipeline(context, context.route.params.pipeline_id ?? '');
  if (isReply(pipeline)) return pipeline;
  const filter = context.query.get('filter');
  const matching = context.store.versionsOf(pipeline.id).filter((version) => matchesFilter(filter, { display_name: version.name, name: version.name }));
  const { items } = page(matching, context.query);
  return { status: 200, body: { pipeline_versions: items.map(versionJson), total_size: matching.length } };
}

function listExperiments(context: HandlerContext): Reply {
  const namespace = context.query.get('namespace') ?? '';
  if (context.multiUser && !namespace) return rpcError(400, CODE.invalidArgument, 'In multi-user mode, ListExperiment requires filtering by namespace');
  const denied = context.forbidden(namespace);
  if (denied) return denied;
  const filter = context.query.get('filter');
  const matching = [...context.store.experiments.values()].filter(
    (experiment) => experiment.namespace === namespace && matchesFilter(filter, { display_name: experiment.name }),
  );
  const { items } = page(matching, context.query);
  return { status: 200, body: { experiments: items.map(experimentJson), total_size: matching.length } };
}

function createExperiment(context: HandlerContext): Reply {
  const body = json(context);
  const namespace = String(body.namespace ?? '');
  if (context.multiUser && !namespace) return rpcError(400, CODE.invalidArgument, 'In multi-user mode, an experiment needs a namespace');
  const denied = context.forbidden(namespace);
  if (denied) return denied;
  const name = String(body.display_name ?? '');
  if ([...context.store.experiments.values()].some((experiment) => experiment.name === name && experiment.namespace === namespace)) {
    return rpcError(409, CODE.alreadyExists, `Experiment ${name} already exists`);
  }
  return { status: 200, body: experimentJson(context.store.addExperiment(name, namespace)) };
}

function createRun(context: HandlerContext): Reply {
  const body = json(context);
  const experiment = context.store.experiments.get(String(body.experiment_id ?? ''));
  if (!experiment) return rpcError(404, CODE.notFound, 'Experiment not found');
  const denied = context.forbidden(experiment.namespace);
  if (denied) return denied;
  const reference = body.pipeline_version_reference ?? {};
  const version = context.store.versions.get(String(reference.pipeline_version_id ?? ''));
  if (!version || version.pipelineId !== reference.pipeline_id) return rpcError(400, CODE.invalidArgument, 'Pipeline version not found in the pipeline');
  const parameters = (body.runtime_config?.parameters ?? {}) as Record<string, unknown>;
  const declared = declaredParameters(version.documents);
  for (const [name, value] of Object.entries(parameters)) {
    const parameter = declared.get(name);
    if (!parameter) return rpcError(400, CODE.invalidArgument, `parameter ${name} is not declared by the pipeline`);
    const problem = typeProblem(parameter.type, value);
    if (problem) return rpcError(400, CODE.invalidArgument, `input parameter ${name} requires type ${parameter.type}: ${problem}`);
  }
  for (const [name, parameter] of declared) {
    if (parameter.required && !(name in parameters)) return rpcError(400, CODE.invalidArgument, `required parameter ${name} is missing`);
  }
  const names = taskNames(version.documents);
  const run: StoredRun = {
    id: randomUUID(),
    name: String(body.display_name ?? ''),
    api: 'v2beta1',
    experimentId: experiment.id,
    pipelineId: version.pipelineId,
    versionId: version.id,
    namespace: experiment.namespace,
    parameters,
    createdAt: context.store.now(),
    steps: context.plan(names),
    taskNames: names,
    polls: [],
  };
  context.store.runs.set(run.id, run);
  return { status: 200, body: runJson(context, run) };
}

function getRun(context: HandlerContext): Reply {
  const run = context.store.runs.get(context.route.params.run_id ?? '');
  if (!run) return rpcError(404, CODE.notFound, 'Run not found');
  const denied = context.forbidden(run.namespace);
  if (denied) return denied;
  const answer = runJson(context, run);
  run.polls.push(Date.now());
  if (run.endSeenAt === undefined && context.store.snapshot(run).finishedAt !== undefined) run.endSeenAt = Date.now();
  return { status: 200, body: answer };
}

function terminateRun(context: HandlerContext): Reply {
  const run = context.store.runs.get(context.route.params.run_id ?? '');
  if (!run) return rpcError(404, CODE.notFound, 'Run not found');
  if (context.store.snapshot(run).finishedAt === undefined) run.terminatedAt ??= Date.now();
  return { status: 200, body: {} };
}

/** The v2beta1 operations the step uses, keyed by swagger method and path. */
export const v2Handlers: Record<string, (context: HandlerContext) => Reply> = {
  'GET /apis/v2beta1/healthz': (context) => ({ status: 200, body: { multi_user: context.multiUser } }),
  'GET /apis/v2beta1/pipelines': listPipelines,
  'POST /apis/v2beta1/pipelines': createPipeline,
  'GET /apis/v2beta1/pipelines/{pipeline_id}': (context) => {
    const pipeline = findPipeline(context, context.route.params.pipeline_id ?? '');
    return isReply(pipeline) ? pipeline : { status: 200, body: pipelineJson(pipeline) };
  },
  'DELETE /apis/v2beta1/pipelines/{pipeline_id}': (context) => {
    const id = context.route.params.pipeline_id ?? '';
    if (context.store.versionsOf(id).length && context.query.get('cascade') !== 'true') {
      return rpcError(400, CODE.invalidArgument, 'Pipeline has versions; delete them first or set cascade');
    }
    context.store.pipelines.delete(id);
    return { status: 200, body: {} };
  },
  'POST /apis/v2beta1/pipelines/upload': upload,
  'POST /apis/v2beta1/pipelines/upload_version': uploadVersion,
  'GET /apis/v2beta1/pipelines/{pipeline_id}/versions': listVersions,
  'GET /apis/v2beta1/pipelines/{pipeline_id}/versions/{pipeline_version_id}': (context) => {
    const version = context.store.versions.get(context.route.params.pipeline_version_id ?? '');
    if (!version || version.pipelineId !== context.route.params.pipeline_id) return rpcError(404, CODE.notFound, 'Pipeline version not found');
    return { status: 200, body: versionJson(version) };
  },
  'GET /apis/v2beta1/experiments': listExperiments,
  'POST /apis/v2beta1/experiments': createExperiment,
  'POST /apis/v2beta1/runs': createRun,
  'GET /apis/v2beta1/runs/{run_id}': getRun,
  'POST /apis/v2beta1/runs/{run_id}:terminate': terminateRun,
};
