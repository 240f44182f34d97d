import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccountSASPermissions, AccountSASResourceTypes, AccountSASServices, ContainerSASPermissions, StorageSharedKeyCredential, generateAccountSASQueryParameters, generateBlobSASQueryParameters } from '@azure/storage-blob';
import { request } from '../../shared/http/request.js';
import type { RegisteredModel } from '../../shared/model/target.js';
import { makeTestCa, type TestCa } from '../helpers/ca.js';
import { startAzurite, type Azurite } from '../helpers/azurite.js';
import { startFakeEntra, type FakeEntra } from '../helpers/fake-entra.js';
import { startFakeArm, type FakeArm } from '../helpers/fake-arm/server.js';
import { prepareFolder } from '../helpers/fake-arm/model-files.js';
import { root, specsDir } from '../helpers/paths.js';

const specs = specsDir();
if (!specs) console.log('register-model-azureml identity contract test skipped: no Azure ML spec (set MLOPS_SPECS_DIR or put the specs in ../shared/specs)');
const describeContract = specs ? describe : describe.skip;

const SUBSCRIPTION = '00000000-1111-2222-3333-444444444444';
const CONTAINER = 'azureml-blobstore-identity';

/**
 * Identity-based datastore (credentials None): the upload uses the caller's own Entra token for
 * https://storage.azure.com. The storage SDK sends bearer tokens over TLS only, so Azurite runs
 * with the test CA's certificate and `--oauth basic`. This test process does not trust the test CA
 * in @azure/storage-blob, so it checks the blobs over the HTTP layer with a SAS instead.
 */
describeContract('azureml target contract: identity-based datastore, HTTPS Azurite with OAuth', () => {
  let ca: TestCa;
  let entra: FakeEntra;
  let azurite: Azurite;
  let arm: FakeArm;
  let work: string;
  let sas: string;

  beforeAll(async () => {
    ca = makeTestCa();
    entra = await startFakeEntra({ ca });
    azurite = await startAzurite({ tls: ca, oauth: true });
    work = mkdtempSync(join(tmpdir(), 'mlops-azureml-id-'));
    sas = generateBlobSASQueryParameters(
      { containerName: CONTAINER, permissions: ContainerSASPermissions.parse('rl'), expiresOn: new Date(Date.now() + 3600_000) },
      new StorageSharedKeyCredential(azurite.accountName, azurite.accountKey),
    ).toString();
    const created = await blobRequest('PUT', `${azurite.serviceUrl}/${CONTAINER}?restype=container&${accountSas()}`);
    expect(created.status).toBe(201);
    arm = await startFakeArm({ ca, specsDir: specs!, entra, subscriptionId: SUBSCRIPTION, resourceGroup: 'rg', workspace: 'ws1' });
    arm.addDatastore({ name: 'workspaceblobstore', isDefault: true, accountName: azurite.accountName, containerName: CONTAINER, endpoint: azurite.endpoint, protocol: 'https', secret: { secretsType: 'None' } });
  });

  afterAll(async () => {
    await arm?.stop();
    await azurite?.stop();
    await entra?.stop();
    rmSync(work, { recursive: true, force: true });
    if (ca) rmSync(ca.dir, { recursive: true, force: true });
  });

  /** An account SAS that may create containers, made from the well-known key for the set-up only. */
  function accountSas(): string {
    return generateAccountSASQueryParameters(
      { services: AccountSASServices.parse('b').toString(), resourceTypes: AccountSASResourceTypes.parse('c').toString(), permissions: AccountSASPermissions.parse('c'), expiresOn: new Date(Date.now() + 3600_000) },
      new StorageSharedKeyCredential(azurite.accountName, azurite.accountKey),
    ).toString();
  }

  function blobRequest(method: string, url: string) {
    return request(url, { method, headers: { 'x-ms-version': '2025-01-05' }, tls: { ca: ca.caPem }, retries: 0 });
  }

  function runTarget(input: unknown): Promise<{ result?: RegisteredModel; error?: { message: string } }> {
    const child = spawn(join(root, 'node_modules/.bin/tsx'), [join(root, 'test/helpers/fake-arm/run-target.ts')], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_EXTRA_CA_CERTS: ca.caCertFile },
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stdin.end(JSON.stringify(input));
    return new Promise((resolve) => child.on('close', () => resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}'))));
  }

  test('contract: the caller\'s storage token uploads the files; listSecrets is never called', async () => {
    const folder = join(work, 'model');
    mkdirSync(join(folder, 'sub'), { recursive: true });
    writeFileSync(join(folder, 'model.onnx'), Buffer.alloc(100_000, 3));
    writeFileSync(join(folder, 'sub', 'labels.txt'), 'taco\nburrito\n');
    const model = await prepareFolder(folder, { name: 'tacos' });
    const tokensBefore = entra.issued.length;
    const run = await runTarget({
      options: {
        identity: { kind: 'secret', tenantId: entra.tenantId, clientId: entra.clientId, clientSecret: entra.clientSecret, authorityHost: entra.authorityHost, source: 'test' },
        subscriptionId: SUBSCRIPTION,
        resourceGroup: 'rg',
        workspace: 'ws1',
        armUrl: arm.url,
      },
      model: { ...model, tags: [] },
    });
    expect(run.error).toBeUndefined();
    expect(run.result).toMatchObject({ version: '1', reused: false });
    expect(new Set(entra.issued.slice(tokensBefore).map((token) => token.audience))).toEqual(new Set([arm.url, 'https://storage.azure.com']));
    expect(arm.calls.map((call) => call.operationId)).not.toContain('Datastores_ListSecrets');
    const hex = model.contentDigest.slice('sha256:'.length);
    for (const file of model.files) {
      const blob = await blobRequest('GET', `${azurite.serviceUrl}/${CONTAINER}/mlops-tasks/models/tacos/${hex}/${file.path}?${sas}`);
      expect(blob.status).toBe(200);
      expect(`sha256:${createHash('sha256').update(blob.body).digest('hex')}`).toBe(file.digest);
    }
    expect(arm.violations).toEqual([]);
  });
});
