import { execFileSync } from 'node:child_process';
import { ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { makeTestCa, type TestCa } from '../helpers/ca.js';
import { startAzurite, type Azurite } from '../helpers/azurite.js';
import { startFakeArm, type FakeArm } from '../helpers/fake-arm/server.js';
import { startFakeEntra, type FakeEntra } from '../helpers/fake-entra.js';
import { nodeBinaries, specsDir } from '../helpers/paths.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { errorLines, FAKE_SHA, runBundle, type BundleRun, type RunnerKind } from '../helpers/run-bundle.js';
import { buildEnv } from '../helpers/tools.js';
import { writeModelFolder } from '../helpers/model-folder.js';

// RegisterModel's oci and azureml targets run through both built bundles, as the runners run them.
const TASK = { taskName: 'RegisterModel', actionName: 'register-model' };
const node = nodeBinaries().at(-1)!.path;

function modelFolder(content: string): string {
  return writeModelFolder({
    'weights/model.safetensors': `weights ${content}`.repeat(4096),
    'config.json': '{"classes": ["taco", "burrito"]}\n',
    'README.md': '# tacos vs burritos\n',
  });
}

function visible(run: BundleRun): string {
  return run.stdout.split('\n').filter((line) => !/^(::add-mask::|##vso\[task\.setsecret\])/.test(line)).join('\n') + run.stderr;
}

describe('RegisterModel registry oci, both bundles, against a real registry', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(async () => registry?.stop());

  test('the GitHub bundle pushes a ModelPack artifact; the Azure DevOps bundle re-run reuses it', async () => {
    const repository = `${registry.host}/models/tacos`;
    const inputs = { registry: 'oci', modelPath: modelFolder('v1'), modelName: 'tacos', ociRepository: repository, insecureRegistry: 'true', kfpRunId: 'run-42' };
    const first = await runBundle({ ...TASK, kind: 'github', node, env: buildEnv(), inputs });
    expect(errorLines(first, 'github')).toEqual([]);
    expect(first.outputs).toMatchObject({ modelName: 'tacos', modelVersion: FAKE_SHA, reused: 'false' });
    expect(first.outputs.modelUri).toMatch(new RegExp(`^oci://${repository.replace(/\./g, '\\.')}@sha256:[a-f0-9]{64}$`));
    const raw = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${repository}:${FAKE_SHA}`], { encoding: 'utf8' }));
    expect(raw.artifactType).toBe('application/vnd.cncf.model.manifest.v1+json');
    expect(raw.annotations).toMatchObject({ 'mlops-tasks.content-digest': first.outputs.contentDigest, 'mlops-tasks.kfp-run-id': 'run-42' });

    const again = await runBundle({ ...TASK, kind: 'azure', node, env: buildEnv(), inputs });
    expect(errorLines(again, 'azure')).toEqual([]);
    expect(again.outputs).toMatchObject({ reused: 'true', modelUri: first.outputs.modelUri, contentDigest: first.outputs.contentDigest });
  });
});

const specs = specsDir();
if (!specs) console.warn('SKIPPED RegisterModel azureml end-to-end contract test: no Azure ML spec (set MLOPS_SPECS_DIR or provide ../shared/specs)');

(specs ? describe : describe.skip)('RegisterModel registry azureml, both bundles: contract test against fake ARM and Entra, real Azurite', () => {
  const SUBSCRIPTION = '00000000-1111-2222-3333-444444444444';
  const CLIENT_SECRET = 'Register-Model-Secret-7';
  const CONNECTION = '7a1b2c3d-4e5f-4a6b-8c9d-0e1f2a3b4c5d';
  let ca: TestCa;
  let entra: FakeEntra;
  let azurite: Azurite;
  let arm: FakeArm;

  beforeAll(async () => {
    ca = makeTestCa();
    entra = await startFakeEntra({ ca, clientSecret: CLIENT_SECRET });
    azurite = await startAzurite();
    await new ContainerClient(`${azurite.serviceUrl}/azureml-blobstore`, new StorageSharedKeyCredential(azurite.accountName, azurite.accountKey)).create();
    arm = await startFakeArm({ ca, specsDir: specs!, entra, subscriptionId: SUBSCRIPTION, resourceGroup: 'rg-ml', workspace: 'ws-ml' });
    arm.addDatastore({
      name: 'workspaceblobstore', isDefault: true, accountName: azurite.accountName, containerName: 'azureml-blobstore',
      endpoint: azurite.endpoint, protocol: 'http', secret: { secretsType: 'AccountKey', key: azurite.accountKey },
    });
  });
  afterAll(async () => {
    await Promise.all([arm?.stop(), azurite?.stop(), entra?.stop()]);
    expect(arm.violations).toEqual([]);
  });

  const common = { registry: 'azureml', modelName: 'tacos-classifier', resourceGroup: 'rg-ml', workspace: 'ws-ml', modelType: 'custom_model' };
  const env = (extra: Record<string, string> = {}) => buildEnv({ NODE_EXTRA_CA_CERTS: ca.caCertFile, ...extra });

  test.each<RunnerKind>(['github', 'azure'])('%s bundle registers once, and a re-run reuses the version', async (kind) => {
    const modelPath = modelFolder(kind);
    const github = {
      inputs: { azureClientId: entra.clientId, azureTenantId: entra.tenantId, azureClientSecret: CLIENT_SECRET, azureSubscriptionId: SUBSCRIPTION, azureResourceManagerUrl: arm.url },
      env: { AZURE_AUTHORITY_HOST: entra.authorityHost },
    };
    const key = CONNECTION.toUpperCase();
    const azure = {
      inputs: { azureSubscription: CONNECTION },
      env: {
        [`ENDPOINT_URL_${key}`]: arm.url,
        [`ENDPOINT_AUTH_${key}`]: JSON.stringify({ scheme: 'ServicePrincipal', parameters: { tenantid: entra.tenantId, serviceprincipalid: entra.clientId, serviceprincipalkey: CLIENT_SECRET, authenticationType: 'spnKey' } }),
        [`ENDPOINT_DATA_${key}_SUBSCRIPTIONID`]: SUBSCRIPTION,
        [`ENDPOINT_DATA_${key}_ENVIRONMENTAUTHORITYURL`]: entra.authorityHost,
      },
    };
    const side = kind === 'github' ? github : azure;
    const writesBefore = arm.writes().length;
    const first = await runBundle({ ...TASK, kind, node, env: env(side.env), inputs: { ...common, ...side.inputs, modelPath } });
    expect(errorLines(first, kind)).toEqual([]);
    expect(first.outputs.reused).toBe('false');
    expect(first.outputs.modelUri).toBe(`azureml:tacos-classifier:${first.outputs.modelVersion}`);
    expect(visible(first)).not.toContain(CLIENT_SECRET);
    expect(arm.writes().length).toBeGreaterThan(writesBefore);

    const writesAfterFirst = arm.writes().length;
    const again = await runBundle({ ...TASK, kind, node, env: env(side.env), inputs: { ...common, ...side.inputs, modelPath } });
    expect(errorLines(again, kind)).toEqual([]);
    expect(again.outputs).toMatchObject({ reused: 'true', modelVersion: first.outputs.modelVersion });
    expect(arm.writes().length).toBe(writesAfterFirst);
  });
});
