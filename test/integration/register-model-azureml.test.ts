import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { ContainerClient, ContainerSASPermissions, StorageSharedKeyCredential, generateBlobSASQueryParameters } from '@azure/storage-blob';
import { CONTENT_DIGEST_KEY, type PreparedModel, type RegisteredModel } from '../../shared/model/target.js';
import { makeTestCa, type TestCa } from '../helpers/ca.js';
import { startAzurite, type Azurite } from '../helpers/azurite.js';
import { startFakeEntra, type FakeEntra } from '../helpers/fake-entra.js';
import { startFakeArm, type FakeArm } from '../helpers/fake-arm/server.js';
import { prepareFolder } from '../helpers/fake-arm/model-files.js';
import type { DatastoreSecret } from '../helpers/fake-arm/store.js';
import { root, specsDir } from '../helpers/paths.js';

jest.setTimeout(120_000);

const specs = specsDir();
if (!specs) console.log('register-model-azureml contract tests skipped: no Azure ML spec (set MLOPS_SPECS_DIR or put the specs in ../shared/specs)');
const describeContract = specs ? describe : describe.skip;

const SUBSCRIPTION = '00000000-1111-2222-3333-444444444444';
const RESOURCE_GROUP = 'rg-tacos';
const WORKSPACE = 'ws-tacos';

interface RunOutcome {
  result?: RegisteredModel;
  error?: { kind: string; message: string; input?: string; stack?: string };
  events: { info?: string; progress?: number; message?: string }[];
  stdout: string;
  stderr: string;
}

describeContract('azureml target contract: fake ARM (2024-04-01 spec) + fake Entra + real Azurite', () => {
  let ca: TestCa;
  let entra: FakeEntra;
  let azurite: Azurite;
  let arm: FakeArm;
  let work: string;
  let containerName: string;
  let counter = 0;

  beforeAll(async () => {
    ca = makeTestCa();
    entra = await startFakeEntra({ ca });
    azurite = await startAzurite();
    work = mkdtempSync(join(tmpdir(), 'mlops-azureml-'));
  });

  afterAll(async () => {
    await azurite?.stop();
    await entra?.stop();
    rmSync(work, { recursive: true, force: true });
    if (ca) rmSync(ca.dir, { recursive: true, force: true });
  });

  const container = () => new ContainerClient(`${azurite.serviceUrl}/${containerName}`, new StorageSharedKeyCredential(azurite.accountName, azurite.accountKey));

  async function startArm(secret: (containerName: string) => DatastoreSecret): Promise<void> {
    containerName = `azureml-blobstore-${++counter}`;
    await container().create();
    arm = await startFakeArm({ ca, specsDir: specs!, entra, subscriptionId: SUBSCRIPTION, resourceGroup: RESOURCE_GROUP, workspace: WORKSPACE });
    arm.addDatastore({ name: 'workspaceartifactstore', isDefault: false, accountName: 'other', containerName: 'other', endpoint: 'core.windows.net', protocol: 'https', secret: { secretsType: 'AccountKey', key: 'unused' } });
    arm.addDatastore({ name: 'workspaceblobstore', isDefault: true, accountName: azurite.accountName, containerName, endpoint: azurite.endpoint, protocol: 'http', secret: secret(containerName) });
  }

  afterEach(async () => {
    await arm?.stop();
    // Every request and answer of the test must fit the spec.
    expect(arm.violations).toEqual([]);
  });

  function modelFolder(name: string, files: Record<string, string | Buffer>): string {
    const folder = join(work, name);
    rmSync(folder, { recursive: true, force: true });
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(join(folder, path, '..'), { recursive: true });
      writeFileSync(join(folder, path), content);
    }
    return folder;
  }

  function runTarget(model: PreparedModel): Promise<RunOutcome> {
    const options = {
      identity: { kind: 'secret', tenantId: entra.tenantId, clientId: entra.clientId, clientSecret: entra.clientSecret, authorityHost: entra.authorityHost, source: 'test client secret' },
      subscriptionId: SUBSCRIPTION,
      resourceGroup: RESOURCE_GROUP,
      workspace: WORKSPACE,
      armUrl: arm.url,
    };
    const child = spawn(join(root, 'node_modules/.bin/tsx'), [join(root, 'test/helpers/fake-arm/run-target.ts')], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_EXTRA_CA_CERTS: ca.caCertFile },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin.end(JSON.stringify({ options, model: { ...model, tags: [...model.tags] } }));
    return new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('close', () => {
        const events = stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as RunOutcome['events'][number] & Pick<RunOutcome, 'result' | 'error'>);
        const last = events.at(-1);
        resolve({ result: last?.result, error: last?.error, events, stdout, stderr });
      });
    });
  }

  async function blobs(): Promise<Map<string, { etag: string; sha256?: string }>> {
    const out = new Map<string, { etag: string; sha256?: string }>();
    for await (const blob of container().listBlobsFlat({ includeMetadata: true })) out.set(blob.name, { etag: blob.properties.etag ?? '', sha256: blob.metadata?.sha256 });
    return out;
  }

  async function blobDigest(name: string): Promise<string> {
    const content = await container().getBlobClient(name).downloadToBuffer();
    return `sha256:${createHash('sha256').update(content).digest('hex')}`;
  }

  const sampleFiles = () => ({ 'model.pkl': Buffer.alloc(300_000, 7), 'conda.yaml': 'name: tacos\n', 'code/score.py': 'def run(x):\n    return x\n' });
  const keySecret = (): DatastoreSecret => ({ secretsType: 'AccountKey', key: azurite.accountKey });

  test('contract: account-key datastore: uploads into Azurite by digest, registers the version, re-run reuses, changed file makes version 2', async () => {
    await startArm(keySecret);
    const tokensBefore = entra.issued.length;
    const model = await prepareFolder(modelFolder('tacos', sampleFiles()), {
      name: 'tacos-classifier',
      description: 'tacos vs burritos',
      tags: new Map([['git.sha', 'abc123'], ['accuracy', '0.93']]),
      modelType: 'mlflow_model',
    });
    const first = await runTarget(model);
    expect(first.error).toBeUndefined();
    expect(first.result).toEqual({
      name: 'tacos-classifier',
      version: '1',
      uri: 'azureml:tacos-classifier:1',
      reused: false,
      webUrl: `https://ml.azure.com/models/tacos-classifier/version/1?wsid=/subscriptions/${SUBSCRIPTION}/resourceGroups/${RESOURCE_GROUP}/workspaces/${WORKSPACE}`,
    });
    // Tokens: one for ARM (the fake's own audience), none for storage (key datastore).
    expect(entra.issued.slice(tokensBefore).map((token) => token.audience)).toEqual([arm.url]);
    expect(first.events.some((event) => event.progress === 100)).toBe(true);

    // The blobs are in Azurite, under the content digest, byte for byte.
    const hex = model.contentDigest.slice('sha256:'.length);
    const stored = await blobs();
    expect([...stored.keys()].sort()).toEqual(model.files.map((file) => `mlops-tasks/models/tacos-classifier/${hex}/${file.path}`).sort());
    for (const file of model.files) expect(await blobDigest(`mlops-tasks/models/tacos-classifier/${hex}/${file.path}`)).toBe(file.digest);

    // The version as the fake ARM holds it.
    const version = arm.store.models.get('tacos-classifier')!.versions.get('1')!.body;
    expect(version).toEqual({
      description: 'tacos vs burritos',
      tags: { 'git.sha': 'abc123', accuracy: '0.93' },
      properties: { [CONTENT_DIGEST_KEY]: model.contentDigest },
      modelType: 'mlflow_model',
      modelUri: `azureml://subscriptions/${SUBSCRIPTION}/resourceGroups/${RESOURCE_GROUP}/workspaces/${WORKSPACE}/datastores/workspaceblobstore/paths/mlops-tasks/models/tacos-classifier/${hex}/`,
    });
    expect(arm.calls.map((call) => call.operationId)).toEqual([
      'ModelContainers_Get',
      'Datastores_List',
      'Datastores_ListSecrets',
      'ModelContainers_CreateOrUpdate',
      'ModelVersions_CreateOrUpdate',
    ]);

    // Re-run: nothing written anywhere.
    const writesBefore = arm.writes().length;
    const second = await runTarget(model);
    expect(second.result).toMatchObject({ version: '1', uri: 'azureml:tacos-classifier:1', reused: true });
    expect(arm.writes().length).toBe(writesBefore);
    expect(await blobs()).toEqual(stored);

    // One changed file: a new version in a new folder; the old blobs stay as they were.
    writeFileSync(join(work, 'tacos', 'conda.yaml'), 'name: tacos\ndependencies: [python=3.12]\n');
    const changed = await prepareFolder(join(work, 'tacos'), { name: 'tacos-classifier' });
    const third = await runTarget(changed);
    expect(third.result).toMatchObject({ version: '2', uri: 'azureml:tacos-classifier:2', reused: false });
    const after = await blobs();
    for (const [name, blob] of stored) expect(after.get(name)).toEqual(blob);
    expect(after.size).toBe(stored.size * 2);
    expect(arm.store.models.get('tacos-classifier')!.versions.get('2')!.body.modelType).toBe('custom_model');
  });

  test('contract: an interrupted upload is completed by the re-run, which skips the blobs already there', async () => {
    await startArm(keySecret);
    const model = await prepareFolder(modelFolder('skip', sampleFiles()), { name: 'skip-model' });
    const hex = model.contentDigest.slice('sha256:'.length);
    // As if a previous run died after one file: that blob is there with its digest.
    const done = model.files.find((file) => file.path === 'model.pkl')!;
    await container().getBlockBlobClient(`mlops-tasks/models/skip-model/${hex}/model.pkl`).uploadFile(done.absolutePath, { metadata: { sha256: done.digest.slice(7) } });
    const before = (await blobs()).get(`mlops-tasks/models/skip-model/${hex}/model.pkl`);
    const run = await runTarget(model);
    expect(run.result).toMatchObject({ version: '1', reused: false });
    expect((await blobs()).get(`mlops-tasks/models/skip-model/${hex}/model.pkl`)).toEqual(before);
    expect(run.events.some((event) => event.info?.includes('1 of 3 files are already in datastore'))).toBe(true);
  });

  test('contract: SAS datastore: the SAS from listSecrets uploads into Azurite; the version points at the blobs', async () => {
    await startArm((name) => {
      const sasToken = generateBlobSASQueryParameters(
        { containerName: name, permissions: ContainerSASPermissions.parse('racwl'), expiresOn: new Date(Date.now() + 3600_000) },
        new StorageSharedKeyCredential(azurite.accountName, azurite.accountKey),
      ).toString();
      return { secretsType: 'Sas', sasToken };
    });
    const model = await prepareFolder(modelFolder('sas', sampleFiles()), { name: 'burrito_detector' });
    const run = await runTarget(model);
    expect(run.error).toBeUndefined();
    expect(run.result).toMatchObject({ name: 'burrito_detector', version: '1', reused: false });
    const hex = model.contentDigest.slice('sha256:'.length);
    for (const file of model.files) expect(await blobDigest(`mlops-tasks/models/burrito_detector/${hex}/${file.path}`)).toBe(file.digest);
    expect(arm.store.models.get('burrito_detector')!.versions.get('1')!.body.modelUri).toMatch(/\/datastores\/workspaceblobstore\/paths\/mlops-tasks\/models\/burrito_detector\/[0-9a-f]{64}\/$/);
    // The SAS signature never reaches the output.
    const sas = arm.store.datastores.get('workspaceblobstore')!.secret as { sasToken: string };
    expect(run.stdout + run.stderr).not.toContain(new URLSearchParams(sas.sasToken).get('sig')!);
  });

  test('contract: a requested version that exists with other content is an error, and nothing is created', async () => {
    await startArm(keySecret);
    const first = await prepareFolder(modelFolder('v', sampleFiles()), { name: 'tacos', requestedVersion: '7' });
    expect((await runTarget(first)).result).toMatchObject({ version: '7', reused: false });
    // Same content, same version: reused.
    expect((await runTarget(first)).result).toMatchObject({ version: '7', reused: true });
    const blobsBefore = await blobs();
    const writesBefore = arm.writes().length;
    writeFileSync(join(work, 'v', 'model.pkl'), 'other weights');
    const other = await prepareFolder(join(work, 'v'), { name: 'tacos', requestedVersion: '7' });
    const run = await runTarget(other);
    expect(run.error?.kind).toBe('UserError');
    expect(run.error?.message).toMatch(/^model 'tacos' version 7 already exists in workspace 'ws-tacos' with different content/);
    expect(arm.writes().length).toBe(writesBefore);
    expect(await blobs()).toEqual(blobsBefore);
  });

  test('contract: a failed upload (listSecrets hands out a wrong key) registers nothing and prints no key', async () => {
    const wrongKey = Buffer.alloc(64, 9).toString('base64');
    await startArm(() => ({ secretsType: 'AccountKey', key: wrongKey }));
    const model = await prepareFolder(modelFolder('bad-key', sampleFiles()), { name: 'tacos' });
    const run = await runTarget(model);
    expect(run.error?.kind).toBe('UserError');
    expect(run.error?.message).toMatch(/blob devstoreaccount1\/azureml-blobstore-\d+\/mlops-tasks\/models\/tacos\/.* \(datastore 'workspaceblobstore'\) failed: HTTP 403/);
    expect(run.error?.message.split('\n')).toHaveLength(1);
    expect(run.stdout + run.stderr).not.toContain(wrongKey);
    expect(arm.writes()).toEqual([]);
    expect(arm.store.models.size).toBe(0);
    expect(await blobs()).toEqual(new Map());
  });

  test('contract: when the version cannot be created, the model container made for it is removed again', async () => {
    await startArm(keySecret);
    arm.failNext('ModelVersions_CreateOrUpdate', 400, 'UserError');
    const model = await prepareFolder(modelFolder('rollback', sampleFiles()), { name: 'tacos' });
    const run = await runTarget(model);
    expect(run.error?.message).toBe("creating model 'tacos' version 1 failed: HTTP 400 UserError: injected failure of ModelVersions_CreateOrUpdate");
    expect(arm.calls.slice(-3).map((call) => `${call.operationId} ${call.status}`)).toEqual([
      'ModelContainers_CreateOrUpdate 201',
      'ModelVersions_CreateOrUpdate 400',
      'ModelContainers_Delete 200',
    ]);
    expect(arm.store.models.size).toBe(0);
  });

  test('contract: a model name Azure ML refuses is an InputError before any request', async () => {
    await startArm(keySecret);
    const tokensBefore = entra.tokenRequests().length;
    const model = await prepareFolder(modelFolder('bad-name', { 'a.txt': 'a' }), { name: '-tacos.v1' });
    const run = await runTarget(model);
    expect(run.error).toMatchObject({ kind: 'InputError', input: 'modelName' });
    expect(run.error?.message).toMatch(/^input 'modelName': '-tacos\.v1' is not a valid Azure ML model name/);
    expect(arm.calls).toEqual([]);
    expect(entra.tokenRequests().length).toBe(tokensBefore);
    expect(await blobs()).toEqual(new Map());
  });
});
