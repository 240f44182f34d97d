import { inferenceService, predictorSpec } from '../../shared/deploy/kserve/manifest.js';
import { isKnative, servingRevision, trafficOf, verdict, type Isvc } from '../../shared/deploy/kserve/status.js';
import { rolloutStatus, type Deployment } from '../../shared/deploy/kubernetes/rollout.js';
import { findStuckPod } from '../../shared/deploy/k8s/pods.js';
import type { DeploySpec } from '../../shared/deploy/target.js';

const spec = (more: Partial<DeploySpec> = {}): DeploySpec => ({
  name: 'iris',
  modelUri: 'oci://registry.example.com/models/iris@sha256:abc',
  modelFormat: 'sklearn',
  protocol: 'v2',
  resources: { cpu: '1', memory: '2Gi', gpu: 1 },
  env: { LOG_LEVEL: 'debug' },
  labels: { 'mlops-tasks.source-commit': 'abc123' },
  ...more,
});

const isvc = (status: Isvc['status'], generation = 2): Isvc => ({ metadata: { name: 'iris', generation }, status: { observedGeneration: generation, ...status } });
const ready = [
  { type: 'PredictorReady', status: 'True' },
  { type: 'IngressReady', status: 'True' },
  { type: 'Ready', status: 'True' },
];

describe('the InferenceService DeployModel applies', () => {
  test('a registry model: modelFormat, storageUri, protocolVersion, resources as requests and limits, GPUs as limits', () => {
    expect(predictorSpec(spec({ minReplicas: 1, maxReplicas: 3 }))).toEqual({
      minReplicas: 1,
      maxReplicas: 3,
      model: {
        modelFormat: { name: 'sklearn' },
        storageUri: 'oci://registry.example.com/models/iris@sha256:abc',
        protocolVersion: 'v2',
        env: [{ name: 'LOG_LEVEL', value: 'debug' }],
        resources: { requests: { cpu: '1', memory: '2Gi' }, limits: { cpu: '1', memory: '2Gi', 'nvidia.com/gpu': '1' } },
      },
    });
  });

  test('an image: the kserve-container', () => {
    const predictor = predictorSpec(spec({ modelUri: undefined, modelFormat: undefined, image: 'registry.example.com/serve:1', resources: {} }));
    expect(predictor).toEqual({ containers: [{ name: 'kserve-container', image: 'registry.example.com/serve:1', env: [{ name: 'LOG_LEVEL', value: 'debug' }] }] });
  });

  test('canary: Knative gets canaryTrafficPercent; Standard mode keeps the predictor and adds spec.canary[]; lineage in annotations', () => {
    const knative = inferenceService(spec({ canaryPercent: 10 }), 'models', 'knative');
    expect((knative.spec!.predictor as Record<string, unknown>).canaryTrafficPercent).toBe(10);
    expect(knative.metadata!.annotations).toEqual({ 'mlops-tasks.io/source-commit': 'abc123' });
    const current = { spec: { predictor: { model: { modelFormat: { name: 'sklearn' }, storageUri: 's3://old' } } } };
    const raw = inferenceService(spec({ canaryPercent: 10 }), 'models', 'raw-canary', current);
    const model = (predictorSpec(spec()) as { model: object }).model;
    expect(raw.spec).toEqual({ predictor: current.spec.predictor, canary: [{ predictor: { model: { name: 'kserve-container', ...model } }, trafficPercent: 10 }] });
    expect(inferenceService(spec(), 'models', 'none').spec).toEqual({ predictor: predictorSpec(spec()) });
  });
});

describe('reading an InferenceService status', () => {
  test('ready only when the applied generation is observed, the new revision is the ready one, and PredictorReady and IngressReady hold', () => {
    const predictor = { latestCreatedRevision: 'iris-predictor-00002', latestReadyRevision: 'iris-predictor-00002' };
    expect(verdict(isvc({ conditions: ready, components: { predictor } }), 2, 'iris-predictor-00001', false)).toEqual({ state: 'ready', revision: 'iris-predictor-00002' });
    expect(verdict(isvc({ conditions: ready, components: { predictor } }, 2), 3, 'iris-predictor-00001', false).state).toBe('waiting');
    // The old revision is still the ready one: the new one is not ready yet, whatever Ready says.
    expect(verdict(isvc({ conditions: ready, components: { predictor: { ...predictor, latestReadyRevision: 'iris-predictor-00001' } } }), 2, 'iris-predictor-00001', false)).toMatchObject({ state: 'waiting', why: 'revision iris-predictor-00002 is not ready yet' });
    expect(verdict(isvc({ conditions: [{ type: 'PredictorReady', status: 'True' }, { type: 'IngressReady', status: 'False', reason: 'NoIngress' }, { type: 'Ready', status: 'False' }] }), 2, undefined, false)).toMatchObject({ state: 'waiting', why: 'IngressReady=False (NoIngress)' });
  });

  test('failed for good: a model that failed to load, a revision that failed', () => {
    const failedLoad = isvc({ modelStatus: { transitionStatus: 'BlockedByFailedLoad', lastFailureInfo: { reason: 'ModelLoadFailed', message: 'bad pickle' } } });
    expect(verdict(failedLoad, 2, undefined, false)).toEqual({ state: 'failed', why: 'the model failed to load (ModelLoadFailed): bad pickle' });
    const revisionFailed = isvc({
      conditions: [{ type: 'Ready', status: 'False', reason: 'RevisionFailed', message: 'Revision "iris-predictor-00002" failed' }],
      components: { predictor: { latestCreatedRevision: 'iris-predictor-00002', latestReadyRevision: 'iris-predictor-00001' } },
    });
    expect(verdict(revisionFailed, 2, 'iris-predictor-00001', false)).toMatchObject({ state: 'failed' });
    expect(verdict(undefined, 2, undefined, false)).toMatchObject({ state: 'failed' });
  });

  test('Standard mode canary: ready only when the canary is', () => {
    const status = { conditions: ready, canaryStatuses: [{ ready: false, trafficPercent: 10 }] };
    expect(verdict(isvc(status), 2, undefined, true)).toMatchObject({ state: 'waiting' });
    expect(verdict(isvc({ ...status, canaryStatuses: [{ ready: true, trafficPercent: 10 }] }), 2, undefined, true)).toMatchObject({ state: 'ready', revision: 'generation-2' });
  });

  test('mode, serving revision and traffic share', () => {
    const traffic = [
      { revisionName: 'iris-predictor-00001', percent: 80 },
      { revisionName: 'iris-predictor-00002', percent: 20, tag: 'latest' },
    ];
    const knative = isvc({ components: { predictor: { traffic, latestRolledoutRevision: 'iris-predictor-00001' } } });
    expect(isKnative(knative)).toBe(true);
    expect(isKnative(isvc({ deploymentMode: 'RawDeployment' }))).toBe(false);
    expect(isKnative(isvc({}))).toBeUndefined();
    expect(trafficOf(knative, 'iris-predictor-00002')).toBe(20);
    expect(servingRevision(knative)).toBe('iris-predictor-00001');
    expect(trafficOf(isvc({ deploymentMode: 'RawDeployment' }), 'generation-2')).toBe(100);
  });
});

describe('a Deployment rollout, as kubectl rollout status reads it', () => {
  const deployment = (status: NonNullable<Deployment['status']>, replicas = 2): Deployment => ({ metadata: { generation: 3 }, spec: { replicas }, status: { observedGeneration: 3, ...status } });
  test.each([
    [{ observedGeneration: 2 }, 'waiting', 'the rollout has not started yet'],
    [{ updatedReplicas: 1, replicas: 2, availableReplicas: 2 }, 'waiting', '1 of 2 new replicas updated'],
    [{ updatedReplicas: 2, replicas: 3, availableReplicas: 2 }, 'waiting', '1 old replicas are pending termination'],
    [{ updatedReplicas: 2, replicas: 2, availableReplicas: 1 }, 'waiting', '1 of 2 updated replicas are available'],
    [{ updatedReplicas: 2, replicas: 2, availableReplicas: 2 }, 'ready', undefined],
  ])('%j: %s', (status, state, why) => {
    const judged = rolloutStatus(deployment(status));
    expect(judged.state).toBe(state);
    if (why) expect(judged).toMatchObject({ why });
  });

  test('a progress deadline exceeded is a failure', () => {
    const judged = rolloutStatus(deployment({ conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'timed out' }] }));
    expect(judged).toEqual({ state: 'failed', why: 'progress deadline exceeded: timed out' });
  });

  test('stuck containers are found among the pods; a slow pull or a running one is not stuck', () => {
    const pod = (name: string, reason: string | undefined, restartCount = 0) => ({
      metadata: { name },
      status: { containerStatuses: [{ name: 'model-server', restartCount, state: reason ? { waiting: { reason } } : { running: {} } }] },
    });
    expect(findStuckPod([pod('a', undefined), pod('b', 'ContainerCreating')])).toBeUndefined();
    expect(findStuckPod([pod('a', undefined), pod('b', 'CrashLoopBackOff', 4)])).toEqual({ pod: 'b', container: 'model-server', reason: 'CrashLoopBackOff', restarted: true });
    expect(findStuckPod([pod('c', 'ImagePullBackOff')])).toMatchObject({ reason: 'ImagePullBackOff', restarted: false });
  });
});
