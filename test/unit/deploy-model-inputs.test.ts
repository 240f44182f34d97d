import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDeployModel } from '../../shared/tasks/deploy-model/run.js';
import { runInProcess } from '../helpers/in-process.js';

// Every bad input ends the step with one line naming the input, before the cluster or Azure is
// contacted: the kubeconfig points to a port nobody listens on, so reaching it would fail differently.

const KUBECONFIG = `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: 'https://127.0.0.1:9', insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: Kube-Token-Secret-42}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`;

const GOOD = {
  target: 'kserve',
  name: 'tacos',
  modelUri: 'oci://registry.example.com/models/tacos@sha256:' + 'a'.repeat(64),
  modelFormat: 'sklearn',
  protocol: 'v2',
  timeoutMinutes: '15',
  rollbackOnFailure: 'true',
  namespace: 'models',
  kubeconfig: KUBECONFIG,
};

async function failure(inputs: Record<string, string>, env: Record<string, string> = {}): Promise<string> {
  try {
    await runInProcess(runDeployModel, inputs, env);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('the step did not fail');
}

describe('DeployModel input checks', () => {
  test.each([
    ['an unknown target', { target: 'sagemaker' }, /^input 'target': /],
    ['canaryPercent above 100', { canaryPercent: '101' }, /^input 'canaryPercent': '101' is not a whole number from 0 to 100$/],
    ['canaryPercent negative', { canaryPercent: '-5' }, /^input 'canaryPercent': /],
    ['canaryPercent with target kubernetes', { target: 'kubernetes', image: 'registry.example.com/serve:1', modelUri: '', canaryPercent: '10' }, /^input 'canaryPercent': target kubernetes/],
    ['a modelUri scheme KServe cannot fetch', { modelUri: 'azureml:tacos:3' }, /^input 'modelUri': KServe cannot fetch azureml URIs/],
    ['a modelUri without scheme', { modelUri: 'models/tacos' }, /^input 'modelUri': 'models\/tacos' is not a URI/],
    ['a non-azureml model for azureml', { target: 'azureml', name: 'tacos-endpoint', modelFormat: 'mlflow' }, /^input 'modelUri': Azure ML cannot serve oci URIs/],
    ['both modelUri and image for kserve', { image: 'registry.example.com/serve:1' }, /^input 'modelUri': give either 'modelUri' .* or 'image' .*, not both$/],
    ['neither modelUri nor image for kserve', { modelUri: '' }, /^input 'modelUri': target kserve needs 'modelUri'/],
    ['no image for kubernetes', { target: 'kubernetes' }, /^input 'image': target kubernetes needs 'image'/],
    ['no modelFormat with a kserve modelUri', { modelFormat: '' }, /^input 'modelFormat': is required/],
    ['a manifestPatch that is not YAML', { manifestPatch: 'spec: [unclosed' }, /^input 'manifestPatch': /],
    ['a manifestPatch changing the kind', { manifestPatch: 'kind: Deployment' }, /^input 'manifestPatch': would change kind from InferenceService to Deployment/],
    ['a manifestPatch changing the name', { manifestPatch: 'metadata:\n  name: other' }, /^input 'manifestPatch': would change metadata.name/],
    ['a smokeTest that is not JSON', { smokeTest: '{"instances": [1, 2,}' }, /^input 'smokeTest': .*line 1, column \d+/],
    ['a smokeTest file that is missing', { smokeTest: 'no-such-request.json' }, /^input 'smokeTest': /],
    ['a smokeTestExpect that does not parse', { smokeTest: '{"a": 1}', smokeTestExpect: '200\n$.x =! 3' }, /^input 'smokeTestExpect': line 2/],
    ['a kubeconfig that does not parse', { kubeconfig: 'clusters: [unclosed' }, /^input 'kubeconfig': does not parse as YAML/],
    ['no kubeconfig', { kubeconfig: '' }, /^input 'kubeconfig': is required to reach the cluster/],
    ['a namespace that is not a DNS label', { namespace: 'Models_1' }, /^input 'namespace': /],
    ['a name Kubernetes refuses', { name: 'Tacos_v2' }, /^input 'name': 'Tacos_v2' is not a DNS-1035 label/],
    ['replicas backwards', { replicas: '3-1' }, /^input 'replicas': '3-1': the maximum is below the minimum$/],
    ['an unknown resource', { resources: 'disk=10Gi' }, /^input 'resources': 'disk' is not one of cpu, memory, gpu$/],
    ['a timeout of zero', { timeoutMinutes: '0' }, /^input 'timeoutMinutes': /],
    ['azureml without workspace', { target: 'azureml', name: 'tacos-endpoint', modelUri: 'azureml:tacos:3', modelFormat: 'mlflow', kubeconfig: '' }, /^input 'azureSubscriptionId': target azureml needs the workspace/],
  ])('%s: one line naming the input, no secret', async (_what, change, message) => {
    const text = await failure({ ...GOOD, ...change });
    expect(text).toMatch(message);
    expect(text).not.toContain('\n');
    expect(text).not.toContain('Kube-Token-Secret-42');
  });

  test('a smokeTest file is read relative to the workspace, and valid inputs get as far as the cluster', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'deploy-inputs-'));
    writeFileSync(join(workspace, 'request.json'), '{"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}]}');
    const text = await failure({ ...GOOD, smokeTest: 'request.json' }, { GITHUB_WORKSPACE: workspace });
    // Past every input check: the unreachable API server is what stops it.
    expect(text).toMatch(/Kubernetes API server https:\/\/127\.0\.0\.1:9/);
    expect(text).not.toContain('Kube-Token-Secret-42');
  });
});
