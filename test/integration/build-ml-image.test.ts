import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBuildMLImage } from '../../shared/tasks/build-ml-image/run.js';
import { makeTestCa, type TestCa } from '../helpers/ca.js';
import { freePort, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { FAKE_SHA } from '../helpers/run-bundle.js';
import { runInProcess, shown } from '../helpers/in-process.js';
import { skopeoCopyToDir, skopeoInspect, skopeoListTags, type SkopeoAccess } from '../helpers/skopeo.js';
import { recordingBuildah, sampleContext } from '../helpers/tools.js';

const USER = 'ml-bot';
const PASSWORD = 'S3cret-Registry-Pa55';

const runTask = (inputs: Record<string, string>, extraEnv: Record<string, string> = {}) => runInProcess(runBuildMLImage, inputs, extraEnv);

/** Runs with a private TMPDIR, so what the step leaves behind is told apart from other tests' files. */
async function withPrivateTmpdir<T>(body: () => Promise<T>): Promise<{ result: T; leftovers: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-private-tmp-'));
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  try {
    const result = await body();
    return { result, leftovers: readdirSync(dir) };
  } finally {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
  }
}

describe('BuildMLImage against a real registry with htpasswd auth over TLS', () => {
  let ca: TestCa;
  let registry: TestRegistry;
  let skopeo: SkopeoAccess;
  let shim: ReturnType<typeof recordingBuildah>;

  beforeAll(async () => {
    ca = makeTestCa();
    registry = await startRegistry({ tls: ca, users: { [USER]: PASSWORD } });
    const certDir = mkdtempSync(join(tmpdir(), 'mlops-skopeo-certs-'));
    writeFileSync(join(certDir, 'ca.crt'), ca.caPem);
    skopeo = { tlsVerify: true, certDir, creds: `${USER}:${PASSWORD}` };
    shim = recordingBuildah();
  });
  afterAll(async () => registry?.stop());

  const inputsFor = (repository: string, context: string) => ({
    image: `${registry.host}/kubeflow/${repository}`,
    context,
    tags: 'v1\nlatest',
    buildArgs: 'STEP=training',
    labels: 'com.example.team=vision',
    username: USER,
    password: PASSWORD,
    caCertFile: ca.caCertFile,
    push: 'true',
    builder: 'buildah',
  });

  test('builds with a RUN step, pushes every tag to one digest, labels it, and keeps the password off command lines', async () => {
    const context = sampleContext();
    const { result, leftovers } = await withPrivateTmpdir(() =>
      runTask(inputsFor('training', context), { PATH: `${shim.pathDir}:${process.env.PATH}` }),
    );
    const { lines, outputs } = result;

    const name = `${registry.host}/kubeflow/training`;
    expect(outputs.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(outputs.imageRef).toBe(`${name}@${outputs.digest}`);
    expect(outputs.tags).toBe(`${name}:v1,${name}:latest`);

    const v1 = await skopeoInspect(`${name}:v1`, skopeo);
    const latest = await skopeoInspect(`${name}:latest`, skopeo);
    expect(v1.Digest).toBe(outputs.digest);
    expect(latest.Digest).toBe(outputs.digest);
    expect(v1.Labels).toMatchObject({
      'org.opencontainers.image.revision': FAKE_SHA,
      'org.opencontainers.image.source': 'https://github.com/contoso/tacos-vs-burritos',
      'com.example.team': 'vision',
    });
    const created = Date.parse(v1.Labels?.['org.opencontainers.image.created'] ?? '');
    expect(Date.now() - created).toBeLessThan(10 * 60_000);

    // The RUN step really ran, with the build argument: its output is in the pushed layers.
    const copy = mkdtempSync(join(tmpdir(), 'mlops-copy-'));
    await skopeoCopyToDir(`${name}:v1`, copy, skopeo);
    const buildInfo = v1.Layers.map((layer) => {
      try {
        return execFileSync('tar', ['-xOf', join(copy, layer.replace('sha256:', '')), '--wildcards', '*app/build-info'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      } catch {
        return '';
      }
    }).join('');
    expect(buildInfo).toContain('step=training');

    const calls = shim.calls();
    expect(calls.some((call) => call.startsWith('bud '))).toBe(true);
    expect(calls.some((call) => call.startsWith('push ') && call.includes('--authfile'))).toBe(true);
    expect(calls.join('\n')).not.toContain(PASSWORD);
    expect(shown(lines)).not.toContain(PASSWORD);
    // The auth file's folder, like every other temporary file of the step, is gone once it ends.
    expect(leftovers.filter((name) => !name.startsWith('mlops-run-'))).toEqual([]);
  });

  test('a wrong password fails before the build, names the registry and prints no secret', async () => {
    const calls = shim.calls().length;
    const wrong = 'Wrong-Pa55word-123';
    const run = runTask({ ...inputsFor('wrong-password', sampleContext()), password: wrong }, { PATH: `${shim.pathDir}:${process.env.PATH}` });
    await expect(run).rejects.toThrow(new RegExp(`^registry ${registry.host} refused the credentials from inputs 'username' and 'password'`));
    const error = (await run.catch((caught: Error & { lines: string[] }) => caught)) as Error & { lines: string[] };
    expect(error.message).not.toContain(wrong);
    expect(shown(error.lines)).not.toContain(wrong);
    expect(shim.calls().slice(calls).filter((call) => call.startsWith('bud '))).toEqual([]);
    expect(await skopeoListTags(`${registry.host}/kubeflow/wrong-password`, skopeo)).toEqual([]);
  });

  test('without credential inputs, the Docker config (DOCKER_CONFIG) gives them', async () => {
    const dockerConfig = mkdtempSync(join(tmpdir(), 'mlops-docker-config-'));
    const auth = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
    writeFileSync(join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [registry.host]: { auth } } }));
    const { username: _u, password: _p, ...inputs } = inputsFor('from-docker-config', sampleContext());
    const { outputs, lines } = await runTask({ ...inputs, tags: 'dc' }, { DOCKER_CONFIG: dockerConfig });
    expect((await skopeoInspect(`${registry.host}/kubeflow/from-docker-config:dc`, skopeo)).Digest).toBe(outputs.digest);
    expect(shown(lines)).not.toContain(PASSWORD);
  });

  test('a Docker credential helper named in credHelpers is asked, as the docker CLI does', async () => {
    const dockerConfig = mkdtempSync(join(tmpdir(), 'mlops-docker-config-'));
    writeFileSync(join(dockerConfig, 'config.json'), JSON.stringify({ credHelpers: { [registry.host]: 'mlops-test' } }));
    const helperDir = mkdtempSync(join(tmpdir(), 'mlops-cred-helper-'));
    const helper = join(helperDir, 'docker-credential-mlops-test');
    writeFileSync(helper, `#!/bin/sh\nread server\n[ "$1" = get ] && printf '{"ServerURL":"%s","Username":"${USER}","Secret":"${PASSWORD}"}' "$server"\n`, { mode: 0o755 });
    const { username: _u, password: _p, ...inputs } = inputsFor('from-helper', sampleContext());
    const { outputs } = await runTask({ ...inputs, tags: 'helper' }, { DOCKER_CONFIG: dockerConfig, PATH: `${helperDir}:${process.env.PATH}` });
    expect((await skopeoInspect(`${registry.host}/kubeflow/from-helper:helper`, skopeo)).Digest).toBe(outputs.digest);
  });

  test('a failing build pushes nothing', async () => {
    const context = sampleContext();
    writeFileSync(join(context, 'Dockerfile'), 'FROM scratch\nADD rootfs.tar /\nRUN echo "training data missing" && exit 3\n');
    await expect(runTask(inputsFor('broken', context))).rejects.toThrow(/^buildah bud failed \(exit code \d+\)/);
    expect(await skopeoListTags(`${registry.host}/kubeflow/broken`, skopeo)).toEqual([]);
  });

  test('without caCertFile the untrusted certificate is reported with what to set', async () => {
    const { caCertFile: _omitted, ...inputs } = inputsFor('no-ca', sampleContext());
    await expect(runTask(inputs)).rejects.toThrow(/registry 127\.0\.0\.1:\d+: its TLS certificate is not trusted .*set 'caCertFile'/);
  });

  test('a caCertFile that is not a certificate is an input error', async () => {
    const notCert = join(mkdtempSync(join(tmpdir(), 'mlops-bad-ca-')), 'ca.pem');
    writeFileSync(notCert, 'this is not a certificate\n');
    await expect(runTask({ ...inputsFor('bad-ca', sampleContext()), caCertFile: notCert })).rejects.toThrow(
      /^input 'caCertFile': '.*ca\.pem' is not a PEM certificate$/,
    );
  });
});

describe('BuildMLImage against a plain-HTTP registry', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(async () => registry?.stop());

  test('insecureRegistry allows plain HTTP for that registry; push=false builds without pushing', async () => {
    const image = `${registry.host}/kubeflow/preprocess`;
    const pushed = await runTask({ image, context: sampleContext(), tags: 'a1', insecureRegistry: 'true', push: 'true', builder: 'auto' });
    expect((await skopeoInspect(`${image}:a1`, { tlsVerify: false })).Digest).toBe(pushed.outputs.digest);

    const local = await runTask({ image, context: sampleContext(), tags: 'local-only', insecureRegistry: 'true', push: 'false', builder: 'buildah' });
    expect(local.outputs.imageRef).toBe('');
    expect(local.outputs.tags).toBe(`${image}:local-only`);
    expect((await skopeoListTags(image, { tlsVerify: false })).filter((tag) => !tag.startsWith('mlops-content-'))).toEqual(['a1']);
  });

  test('without insecureRegistry the plain-HTTP registry is refused, saying which input allows it', async () => {
    await expect(runTask({ image: `${registry.host}/kubeflow/x`, context: sampleContext(), tags: 't', builder: 'buildah' })).rejects.toThrow(
      /^registry 127\.0\.0\.1:\d+ does not speak TLS .*set 'insecureRegistry: true'/,
    );
  });

  test('an unreachable registry is reported by name before building', async () => {
    const port = await freePort();
    await expect(
      runTask({ image: `127.0.0.1:${port}/kubeflow/x`, context: sampleContext(), tags: 't', insecureRegistry: 'true', builder: 'buildah' }),
    ).rejects.toThrow(new RegExp(`^registry 127\\.0\\.0\\.1:${port} is unreachable: GET http`));
  });
});
