import { startDeployFakes, type DeployFakes } from '../helpers/fake-arm/deploy-fakes.js';
import { nodeBinaries, specsDir } from '../helpers/paths.js';
import { errorLines, runBundle, type BundleRun } from '../helpers/run-bundle.js';

// The built DeployModel bundles, run the way each runner runs them, against a fake Entra ID and a
// fake ARM that checks every call against the Azure ML 2024-04-01 spec (online endpoints and
// deployments with their long-running operations), and its real HTTPS scoring server.

const TASK = { taskName: 'DeployModel', actionName: 'deploy-model' };
const specs = specsDir();
if (!specs) console.warn('SKIPPED DeployModel azureml end-to-end tests: no Azure ML spec found (set MLOPS_SPECS_DIR or provide ../shared/specs)');
const describeWithSpecs = specs ? describe : describe.skip;
const SMOKE = '{"input_data": {"columns": ["a", "b"], "data": [[1, 2]]}}';

function visible(run: BundleRun): string {
  return run.stdout.split('\n').filter((line) => !/^(::add-mask::|##vso\[task\.setsecret\])/.test(line)).join('\n') + run.stderr;
}

describeWithSpecs('DeployModel bundles, target azureml (contract test against the Azure ML 2024-04-01 spec)', () => {
  let fakes: DeployFakes;
  const node = nodeBinaries().at(-1)!.path;

  beforeAll(async () => {
    fakes = await startDeployFakes({ specsDir: specs!, models: [['tacos', '1'], ['tacos', '2']], pacing: { polls: 1, afterMs: 300 } });
  });
  afterAll(() => fakes?.stop());

  const common = { target: 'azureml', name: 'tacos-ep', modelFormat: 'mlflow', smokeTest: SMOKE, smokeTestExpect: '200\n$.prediction exists' };

  test('GitHub bundle: creates the endpoint, smoke-tests the new deployment before traffic moves, then sends it 100%', async () => {
    fakes.arm.scoring.serve('*', ({ deployment }) => ({ body: { prediction: [3], deployment } }));
    const run = await runBundle({ ...TASK, kind: 'github', node, inputs: { ...common, ...fakes.github.inputs, modelUri: 'azureml:tacos:1' }, env: fakes.github.env });
    expect(errorLines(run, 'github')).toEqual([]);
    expect(run.code).toBe(0);
    const revision = run.outputs.revision!;
    expect(run.outputs).toEqual({ endpointUrl: `${fakes.arm.scoring.url}/tacos-ep/score`, revision: expect.stringMatching(/^tacos-ep-[a-z0-9]{6}$/), trafficPercent: '100', previousRevision: '', state: 'ready' });
    // The smoke request went to the new deployment by header, while it had no traffic yet.
    const smoke = fakes.arm.scoring.requests.at(-1)!;
    expect(smoke).toMatchObject({ deployment: revision });
    expect(JSON.parse(smoke.body)).toEqual(JSON.parse(SMOKE));
    expect(fakes.arm.online.traffic('tacos-ep')).toEqual({ [revision]: 100 });
    expect(run.summary).toContain('#### Smoke test');
    expect(run.summary).toMatch(/HTTP 200 in \d+ ms, passed/);
    expect(visible(run)).not.toContain(fakes.clientSecret);
    expect(fakes.arm.violations).toEqual([]);
  });

  test('Azure DevOps bundle: a smoke test that fails rolls back: the previous deployment keeps 100% and the new one is deleted', async () => {
    const before = fakes.arm.online.traffic('tacos-ep');
    const [previous] = Object.keys(before);
    fakes.arm.scoring.serve('*', ({ deployment }) => (deployment === previous ? { body: { prediction: [3] } } : { body: { error: 'model returned nothing' } }));
    const run = await runBundle({ ...TASK, kind: 'azure', node, inputs: { ...common, ...fakes.azure.inputs, modelUri: 'azureml:tacos:2' }, env: fakes.azure.env });
    expect(run.code).not.toBe(0);
    const errors = errorLines(run, 'azure');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/the smoke test failed: \$\.prediction: expected to exist.* \(rolled back\)$/);
    expect(run.outputs).toMatchObject({ state: 'rolled-back', previousRevision: previous, trafficPercent: '0' });
    expect(fakes.arm.online.traffic('tacos-ep')).toEqual({ [previous!]: 100 });
    expect([...fakes.arm.online.deploymentsOf('tacos-ep').keys()]).toEqual([previous]);
    expect(run.summary).toContain('failed, rolled back');
    expect(visible(run)).not.toContain(fakes.clientSecret);
    expect(fakes.arm.violations).toEqual([]);
  });

  test('GitHub bundle: a first deployment that fails to provision leaves nothing behind: the new endpoint is removed', async () => {
    fakes.arm.queueDeployment({ fails: 'the scoring container exited with code 1', logs: ['Traceback (most recent call last):', 'ModuleNotFoundError: No module named sklearn'] });
    const run = await runBundle({ ...TASK, kind: 'github', node, inputs: { ...common, ...fakes.github.inputs, name: 'pears-ep', modelUri: 'azureml:tacos:1' }, env: fakes.github.env });
    expect(run.code).toBe(1);
    expect(errorLines(run, 'github')).toEqual([expect.stringMatching(/the scoring container exited with code 1.*\(rolled back\)$/)]);
    expect(visible(run)).toContain('ModuleNotFoundError: No module named sklearn');
    expect(run.outputs.state).toBe('rolled-back');
    expect(fakes.arm.online.endpoints.has('pears-ep')).toBe(false);
    expect(fakes.arm.violations).toEqual([]);
  });
});
