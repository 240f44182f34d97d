import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MlflowClient } from '../../shared/model/mlflow/client.js';
import { fileBody } from '../../shared/model/mlflow/upload.js';
import { runRegisterModel } from '../../shared/tasks/register-model/run.js';
import { CONTENT_DIGEST_KEY } from '../../shared/model/target.js';
import { FakeServers } from '../helpers/fake-servers.js';
import { FakeMlflow, type FakeMlflowOptions } from '../helpers/fake-mlflow/server.js';
import { runInProcess, shown } from '../helpers/in-process.js';
import { specsDir } from '../helpers/paths.js';
import { FAKE_SHA } from '../helpers/run-bundle.js';
import { writeModelFolder } from '../helpers/model-folder.js';

// RegisterModel's mlflow target, run in-process against the fake tracking server, which checks
// every request and response against MLflow's own .proto definitions.

const TOKEN = 'Mlflow-Contract-Token-77';
const specs = specsDir();
if (!specs) console.warn('SKIPPED MLflow contract tests: no MLflow protos found (set MLOPS_SPECS_DIR or provide ../shared/specs)');
const describeWithSpecs = specs ? describe : describe.skip;

const servers = new FakeServers();
const fakes: FakeMlflow[] = [];
afterEach(async () => {
  await servers.close();
  for (const fake of fakes.splice(0)) fake.close();
});

async function start(options: Partial<FakeMlflowOptions> = {}): Promise<FakeMlflow> {
  const fake = await FakeMlflow.start(servers, { specsDir: specs ?? '', tokens: [TOKEN], ...options });
  fakes.push(fake);
  return fake;
}

function modelFolder(files: Record<string, string> = { 'model.pkl': 'weights v1', 'conf/config.json': '{"layers": 3}' }): string {
  return writeModelFolder(files);
}

function register(fake: FakeMlflow, inputs: Record<string, string>) {
  return runInProcess(runRegisterModel, { registry: 'mlflow', modelName: 'tacos', mlflowTrackingUri: fake.url, mlflowToken: TOKEN, ...inputs });
}

async function failure(promise: Promise<unknown>): Promise<{ message: string; log: string }> {
  try {
    await promise;
  } catch (error) {
    return { message: (error as Error).message, log: shown((error as { lines?: string[] }).lines ?? []) };
  }
  throw new Error('expected the step to fail');
}

describeWithSpecs('MLflow registry contract', () => {
  test('contract: creates the model, uploads through the artifact proxy, waits for READY and sets the alias', async () => {
    const fake = await start({ pendingPolls: 2 });
    const modelPath = modelFolder();
    const run = await register(fake, { modelPath, alias: 'champion', description: 'first cut', tags: 'team=vision', kfpRunId: 'run-42' });

    const [version] = fake.versions('tacos');
    expect(fake.versions()).toHaveLength(1);
    expect(version!.status).toBe('READY');
    expect(version!.source).toMatch(/^mlflow-artifacts:\/mlops-tasks\/models\/tacos\/[0-9a-f]{64}$/);
    expect(version!.description).toBe('first cut');
    const tags = Object.fromEntries(version!.tags.map((tag) => [tag.key, tag.value]));
    expect(tags).toMatchObject({
      team: 'vision',
      [CONTENT_DIGEST_KEY]: run.outputs.contentDigest,
      'mlops-tasks.source-commit': FAKE_SHA,
      'mlops-tasks.source-repository': 'https://github.com/contoso/tacos-vs-burritos',
      'mlops-tasks.kfp-run-id': 'run-42',
    });
    const folder = version!.source.slice('mlflow-artifacts:/'.length);
    expect(fake.artifactFiles()).toEqual([`${folder}/conf/config.json`, `${folder}/model.pkl`]);
    expect(fake.models.get('tacos')!.aliases.get('champion')).toBe('1');
    expect(run.outputs).toEqual({ modelName: 'tacos', modelVersion: '1', modelUri: 'models:/tacos/1', contentDigest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), reused: 'false' });
    expect(run.summary).toContain(`](${fake.url}/#/models/tacos/versions/1)`);
    expect(shown(run.lines)).not.toContain(TOKEN);
    expect(fake.calls.filter((call) => call === 'GET /api/2.0/mlflow/model-versions/get').length).toBeGreaterThanOrEqual(2);
    expect(fake.violations).toEqual([]);
  });

  test('contract: a re-run with the same files reuses the version: no new version, no artifact write', async () => {
    const fake = await start({ pageSize: 1 });
    const modelPath = modelFolder();
    // Another model's version first, so the search has more than one page.
    await register(fake, { modelPath: modelFolder({ 'other.bin': 'x' }) });
    const first = await register(fake, { modelPath });
    const writes = fake.artifactWrites;
    const again = await register(fake, { modelPath, alias: 'prod' });
    expect(again.outputs).toEqual({ ...first.outputs, reused: 'true' });
    expect(fake.versions('tacos')).toHaveLength(2);
    expect(fake.artifactWrites).toBe(writes);
    expect(fake.models.get('tacos')!.aliases.get('prod')).toBe(first.outputs.modelVersion);
    // Naming the version that holds the same files reuses it too.
    const named = await register(fake, { modelPath, modelVersion: first.outputs.modelVersion! });
    expect(named.outputs.reused).toBe('true');
    expect(fake.violations).toEqual([]);
  });

  test('contract: a changed file makes a new version; naming a version with other content, or one MLflow has not made, fails', async () => {
    const fake = await start();
    const modelPath = modelFolder();
    const first = await register(fake, { modelPath });
    writeFileSync(join(modelPath, 'model.pkl'), 'weights v2');
    const second = await register(fake, { modelPath });
    expect(second.outputs.modelVersion).toBe('2');
    expect(second.outputs.reused).toBe('false');
    expect(second.outputs.contentDigest).not.toBe(first.outputs.contentDigest);

    writeFileSync(join(modelPath, 'model.pkl'), 'weights v3');
    const clash = await failure(register(fake, { modelPath, modelVersion: '1' }));
    expect(clash.message).toMatch(/^input 'modelVersion': version 1 of model 'tacos' exists with different content \(content digest sha256:[0-9a-f]{64}, these files: sha256:[0-9a-f]{64}\)$/);
    const unknown = await failure(register(fake, { modelPath, modelVersion: '9' }));
    expect(unknown.message).toBe("input 'modelVersion': model 'tacos' has no version 9, and MLflow numbers new versions itself (1, 2, 3, ...): leave modelVersion empty to register the next one");
    expect(fake.versions('tacos')).toHaveLength(2);
    expect(fake.violations).toEqual([]);
  });

  test.each([
    [401, { mlflowToken: `${TOKEN}-old` }, /^MLflow tracking server http:\/\/127\.0\.0\.1:\d+ answered HTTP 401 to GET \/mlflow\/model-versions\/search: it refused the credentials from input 'mlflowToken': check them$/],
    [403, { mlflowToken: 'Read-Only-Token-1' }, /^MLflow tracking server http:\/\/127\.0\.0\.1:\d+ answered HTTP 403 to GET \/mlflow\/model-versions\/search: the credentials from input 'mlflowToken' lack the rights for this call$/],
    [401, { mlflowToken: '', mlflowUsername: 'ci', mlflowPassword: 'Wrong-Password-9' }, /answered HTTP 401 .*: it refused the credentials from inputs 'mlflowUsername' and 'mlflowPassword': check them$/],
    [404, { mlflowTrackingUri: 'WRONG' }, /^MLflow tracking server http:\/\/127\.0\.0\.1:\d+\/mlflow answered HTTP 404 to GET \/mlflow\/model-versions\/search: no MLflow REST API there for the credentials from input 'mlflowToken'; check input 'mlflowTrackingUri' \(the server's base URL\)$/],
  ] as [number, Record<string, string>, RegExp][])('contract: HTTP %i is one clear line naming the server and the credentials input, never their value', async (_status, inputs, expected) => {
    const fake = await start({ forbiddenTokens: ['Read-Only-Token-1'], users: [{ username: 'ci', password: 'Right-Password-1' }] });
    const given = { ...inputs, ...(inputs.mlflowTrackingUri ? { mlflowTrackingUri: `${fake.url}/mlflow` } : {}) };
    const { message, log } = await failure(register(fake, { modelPath: modelFolder(), ...given }));
    expect(message).toMatch(expected);
    for (const secret of [`${TOKEN}-old`, 'Read-Only-Token-1', 'Wrong-Password-9']) {
      expect(message).not.toContain(secret);
      expect(log).not.toContain(secret);
    }
    expect(fake.versions()).toEqual([]);
    expect(fake.violations).toEqual([]);
  });

  test('contract: basic auth with the right password registers', async () => {
    const fake = await start({ tokens: [], users: [{ username: 'ci', password: 'Right-Password-1' }] });
    const run = await register(fake, { modelPath: modelFolder(), mlflowToken: '', mlflowUsername: 'ci', mlflowPassword: 'Right-Password-1' });
    expect(run.outputs.modelUri).toBe('models:/tacos/1');
    expect(shown(run.lines)).not.toContain(Buffer.from('ci:Right-Password-1').toString('base64'));
    expect(fake.violations).toEqual([]);
  });

  test('contract: an upload that fails registers no version and takes back the files already sent', async () => {
    const fake = await start({ failUploadsAfter: 1 });
    const { message } = await failure(register(fake, { modelPath: modelFolder({ 'a.bin': 'a', 'b.bin': 'b', 'c.bin': 'c' }) }));
    expect(message).toMatch(/^MLflow tracking server .* answered HTTP 500 to PUT \/mlflow-artifacts\/artifacts\/mlops-tasks\/models\/tacos\/[0-9a-f]{64}\/[abc]\.bin INTERNAL_ERROR: the artifact store is not writable$/);
    expect(fake.artifactWrites).toBe(1);
    expect(fake.models.size).toBe(0);
    expect(fake.versions()).toEqual([]);
    expect(fake.artifactFiles()).toEqual([]);
    expect(fake.violations).toEqual([]);
  });

  test('contract: a file far larger than the read buffers (64 MiB) arrives intact in the artifact store', async () => {
    const fake = await start();
    const size = 64 * 1024 * 1024 + 12_345;
    const weights = randomBytes(size);
    const expected = createHash('sha256').update(weights).digest('hex');
    const modelPath = modelFolder({ 'config.json': '{"layers": 3}' });
    writeFileSync(join(modelPath, 'weights.safetensors'), weights);

    const run = await register(fake, { modelPath });
    const folder = fake.versions('tacos')[0]!.source.slice('mlflow-artifacts:/'.length);
    expect(fake.artifactFiles()).toEqual([`${folder}/config.json`, `${folder}/weights.safetensors`]);
    const stored = readFileSync(join(fake.artifactRoot, folder, 'weights.safetensors'));
    expect(stored.length).toBe(size);
    expect(createHash('sha256').update(stored).digest('hex')).toBe(expected);
    expect(run.outputs.reused).toBe('false');
    expect(fake.violations).toEqual([]);
  });

  test('contract: a file that no longer matches its digest fails its upload with a one-line error, and nothing is stored', async () => {
    const fake = await start();
    const modelPath = modelFolder({ 'model.bin': 'x'.repeat(3 * 1024 * 1024) });
    const client = new MlflowClient({ trackingUri: fake.url, auth: { kind: 'token', token: TOKEN }, authSource: "input 'mlflowToken'" });
    const file = { path: 'model.bin', absolutePath: join(modelPath, 'model.bin'), size: 3 * 1024 * 1024, digest: `sha256:${'0'.repeat(64)}` };
    const { message } = await failure(client.putArtifact('mlops-tasks/models/tacos/x/model.bin', fileBody(file)));
    expect(message).toBe("input 'modelPath': 'model.bin' changed while it was being uploaded: run the step again");
    expect(fake.artifactFiles()).toEqual([]);
    expect(fake.artifactWrites).toBe(0);
  });

  test('contract: a server without the artifact proxy is told apart; sourceUri is then used as given', async () => {
    const fake = await start({ serveArtifacts: false });
    const modelPath = modelFolder();
    const { message } = await failure(register(fake, { modelPath }));
    expect(message).toMatch(/does not proxy artifacts \(started with --no-serve-artifacts\?\): upload the model yourself and give its location in 'sourceUri'$/);
    expect(fake.models.size).toBe(0);
    const run = await register(fake, { modelPath, sourceUri: 's3://models/tacos/1' });
    expect(fake.versions('tacos')[0]!.source).toBe('s3://models/tacos/1');
    expect(run.outputs.reused).toBe('false');
    expect(fake.violations).toEqual([]);
  });

  test('the fake really checks: an unknown field and a missing required one are violations', async () => {
    const fake = await start({ tokens: [] });
    await fetch(`${fake.url}/api/2.0/mlflow/model-versions/create`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x', bogus: 1 }) });
    expect(fake.violations).toEqual(
      expect.arrayContaining([expect.stringContaining("has no field 'bogus'"), expect.stringContaining('source: required by mlflow.CreateModelVersion')]),
    );
  });
});
