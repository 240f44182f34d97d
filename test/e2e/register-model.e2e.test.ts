import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeServers } from '../helpers/fake-servers.js';
import { FakeMlflow } from '../helpers/fake-mlflow/server.js';
import { nodeBinaries, specsDir } from '../helpers/paths.js';
import { errorLines, FAKE_SHA, runBundle, type BundleRun, type RunnerKind } from '../helpers/run-bundle.js';
import { writeModelFolder } from '../helpers/model-folder.js';

// The built bundles, run the way each runner runs them, against the fake MLflow tracking server
// (which checks every call against MLflow's .proto definitions).

const TASK = { taskName: 'RegisterModel', actionName: 'register-model' };
const KINDS: RunnerKind[] = ['github', 'azure'];
const SECRET = 'E2e-Mlflow-Token-31';
const specs = specsDir();
if (!specs) console.warn('SKIPPED RegisterModel end-to-end tests: no MLflow protos found (set MLOPS_SPECS_DIR or provide ../shared/specs)');
const describeWithSpecs = specs ? describe : describe.skip;

const servers = new FakeServers();
const fakes: FakeMlflow[] = [];
afterEach(async () => {
  await servers.close();
  for (const fake of fakes.splice(0)) fake.close();
});

async function start(): Promise<FakeMlflow> {
  const fake = await FakeMlflow.start(servers, { specsDir: specs ?? '', tokens: [SECRET] });
  fakes.push(fake);
  return fake;
}

function modelFolder(files: Record<string, string> = { 'model.onnx': 'onnx weights', 'params.json': '{"epochs": 5, "optimizer": {"lr": 0.01}}' }): string {
  return writeModelFolder(files);
}

/** The log as a person sees it: the runner swallows mask commands. */
function visible(run: BundleRun): string {
  return run.stdout.split('\n').filter((line) => !/^(::add-mask::|##vso\[task\.setsecret\])/.test(line)).join('\n') + run.stderr;
}

describeWithSpecs.each(nodeBinaries())('RegisterModel bundles on $label', ({ path: node }) => {
  test.each(KINDS)('%s bundle registers to MLflow, then reuses on a re-run; outputs as the runner reads them', async (kind) => {
    const fake = await start();
    const modelPath = modelFolder();
    const inputs = {
      registry: 'mlflow',
      modelPath,
      modelName: 'tacos-vs-burritos',
      metadataFile: join(modelPath, 'params.json'),
      mlflowTrackingUri: fake.url,
      mlflowToken: SECRET,
      alias: 'champion',
      sourceImage: 'myacr.azurecr.io/kubeflow/training@sha256:0123',
      kfpRunId: 'run-7',
    };
    const run = await runBundle({ ...TASK, kind, node, inputs });
    expect(errorLines(run, kind)).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.outputs).toEqual({
      modelName: 'tacos-vs-burritos',
      modelVersion: '1',
      modelUri: 'models:/tacos-vs-burritos/1',
      contentDigest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      reused: 'false',
    });
    const [version] = fake.versions();
    const tags = Object.fromEntries(version!.tags.map((tag) => [tag.key, tag.value]));
    expect(tags).toMatchObject({
      epochs: '5',
      'optimizer.lr': '0.01',
      'mlops-tasks.source-commit': FAKE_SHA,
      'mlops-tasks.source-image': 'myacr.azurecr.io/kubeflow/training@sha256:0123',
      'mlops-tasks.kfp-run-id': 'run-7',
      'mlops-tasks.content-digest': run.outputs.contentDigest,
    });
    expect(run.summary).toContain(`](${fake.url}/#/models/tacos-vs-burritos/versions/1)`);
    expect(visible(run)).not.toContain(SECRET);

    const writes = fake.artifactWrites;
    const again = await runBundle({ ...TASK, kind, node, inputs });
    expect(errorLines(again, kind)).toEqual([]);
    expect(again.outputs).toEqual({ ...run.outputs, reused: 'true' });
    expect(fake.versions()).toHaveLength(1);
    expect(fake.artifactWrites).toBe(writes);
    expect(fake.violations).toEqual([]);
  });
});

function escapingFolder(): string {
  const outside = join(mkdtempSync(join(tmpdir(), 'mlops-outside-')), 'secret.txt');
  writeFileSync(outside, 'not part of the model');
  const dir = modelFolder({ 'model.onnx': 'w' });
  symlinkSync(outside, join(dir, 'leak.txt'));
  return dir;
}

describeWithSpecs('bad input: one line naming the input, exit 1, no secret, nothing registered', () => {
  const cases: [string, () => Record<string, string>, RegExp][] = [
    ['a modelPath that does not exist', () => ({ modelPath: join(tmpdir(), 'no-such-model-dir') }), /^RegisterModel: input 'modelPath': '.*no-such-model-dir' does not exist$/],
    ['an empty model folder', () => ({ modelPath: mkdtempSync(join(tmpdir(), 'mlops-empty-')) }), /^RegisterModel: input 'modelPath': folder '.*' holds no files: /],
    [
      'a metadataFile that is not JSON',
      () => {
        const dir = modelFolder({ 'model.onnx': 'w', 'params.yaml': 'epochs: 5' });
        return { modelPath: dir, metadataFile: join(dir, 'params.yaml') };
      },
      /^RegisterModel: input 'metadataFile': '.*params\.yaml' is not JSON: /,
    ],
    [
      'a modelName Azure ML refuses',
      () => ({ registry: 'azureml', modelName: 'tacos vs burritos', azureSubscriptionId: '00000000-0000-0000-0000-000000000001', resourceGroup: 'rg', workspace: 'ws' }),
      /^RegisterModel: input 'modelName': 'tacos vs burritos' is not a name Azure ML accepts: /,
    ],
    ['an unknown registry', () => ({ registry: 'sagemaker' }), /^RegisterModel: input 'registry': must be one of azureml, mlflow, oci, got 'sagemaker'$/],
    [
      'missing workspace inputs for azureml',
      () => ({ registry: 'azureml', azureSubscriptionId: '00000000-0000-0000-0000-000000000001' }),
      /^RegisterModel: input '(azureSubscription|resourceGroup)': registry azureml needs the workspace: .*'resourceGroup', 'workspace' are empty$/,
    ],
    ['a symlink escaping modelPath', () => ({ modelPath: escapingFolder() }), /^RegisterModel: input 'modelPath': symlink 'leak\.txt' points outside the model folder: /],
  ];

  test.each(KINDS)('%s bundle', async (kind) => {
    const fake = await start();
    for (const [what, inputs, expected] of cases) {
      const run = await runBundle({
        ...TASK,
        kind,
        node: nodeBinaries().at(-1)!.path,
        inputs: { registry: 'mlflow', modelPath: modelFolder(), modelName: 'tacos', mlflowTrackingUri: fake.url, mlflowToken: SECRET, ...inputs() },
      });
      expect({ what, code: run.code }).toEqual({ what, code: 1 });
      expect({ what, errors: errorLines(run, kind) }).toEqual({ what, errors: [expect.stringMatching(expected)] });
      expect({ what, leaked: visible(run).includes(SECRET) }).toEqual({ what, leaked: false });
      expect({ what, stack: /\n\s+at /.test(run.stdout + run.stderr) }).toEqual({ what, stack: false });
    }
    expect(fake.calls).toEqual([]);
    expect(fake.versions()).toEqual([]);
    expect(fake.violations).toEqual([]);
  });
});
