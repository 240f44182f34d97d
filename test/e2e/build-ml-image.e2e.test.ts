import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestCa, type TestCa } from '../helpers/ca.js';
import { nodeBinaries } from '../helpers/paths.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { errorLines, FAKE_SHA, runBundle, type RunnerKind } from '../helpers/run-bundle.js';
import { skopeoInspect, skopeoListTags } from '../helpers/skopeo.js';
import { buildEnv, sampleContext } from '../helpers/tools.js';

const TASK = { taskName: 'BuildMLImage', actionName: 'build-ml-image' };
const KINDS: RunnerKind[] = ['github', 'azure'];

let registry: TestRegistry;
beforeAll(async () => {
  registry = await startRegistry();
});
afterAll(async () => registry?.stop());

describe.each(nodeBinaries())('bundles on $label', ({ path: node, label }) => {
  test.each(KINDS)('%s bundle builds, pushes and sets its outputs as the runner reads them', async (kind) => {
    const image = `${registry.host}/e2e/${kind}-${label.replace(/\W+/g, '-')}`;
    const run = await runBundle({
      ...TASK,
      kind,
      node,
      env: buildEnv(),
      inputs: { image, context: sampleContext(), tags: 'e2e,stable', insecureRegistry: 'true' },
    });
    expect(errorLines(run, kind)).toEqual([]);
    expect(run.code).toBe(0);
    // The builder's own output is in the step log.
    expect(run.stdout).toMatch(/^STEP 1\/\d+: FROM scratch$/m);
    const inspected = await skopeoInspect(`${image}:stable`, { tlsVerify: false });
    expect(run.outputs.digest).toBe(inspected.Digest);
    expect(run.outputs.imageRef).toBe(`${image}@${inspected.Digest}`);
    expect(run.outputs.tags).toBe(`${image}:e2e,${image}:stable`);
    expect(inspected.Labels?.['org.opencontainers.image.revision']).toBe(FAKE_SHA);
    expect(run.summary).toContain(`\`${image}@${inspected.Digest}\``);
    expect(run.summary).toMatch(/\[4242\]\(https:\/\/.*4242\)/);
  });

  test('the commit SHA is the default tag', async () => {
    const image = `${registry.host}/e2e/default-tag-${label.replace(/\W+/g, '-')}`;
    const run = await runBundle({ ...TASK, kind: 'azure', node, env: buildEnv(), inputs: { image, context: sampleContext(), insecureRegistry: 'true' } });
    expect(run.code).toBe(0);
    expect((await skopeoListTags(image, { tlsVerify: false })).filter((tag) => !tag.startsWith('mlops-content-'))).toEqual([FAKE_SHA]);
  });
});

describe('cancel', () => {
  test('SIGTERM during the build stops the tool, fails the step within 10 s and pushes nothing', async () => {
    const context = sampleContext();
    writeFileSync(join(context, 'Dockerfile'), 'FROM scratch\nADD rootfs.tar /\nRUN sleep 60\n');
    const image = `${registry.host}/e2e/cancelled`;
    let signalledAt = 0;
    const run = await runBundle({
      ...TASK,
      kind: 'github',
      node: nodeBinaries().at(-1)!.path,
      env: buildEnv(),
      inputs: { image, context, tags: 'never', insecureRegistry: 'true' },
      onSpawn: (child) => {
        // Output arrives in chunks that may split a line: look in all of it so far.
        let seen = '';
        child.stdout?.on('data', (chunk: Buffer) => {
          seen += chunk.toString();
          if (!signalledAt && seen.includes('RUN sleep 60')) {
            signalledAt = Date.now();
            child.kill('SIGTERM');
          }
        });
      },
    });
    expect(signalledAt).toBeGreaterThan(0);
    expect(Date.now() - signalledAt).toBeLessThan(10_000);
    expect(run.code).not.toBe(0);
    expect(errorLines(run, 'github')).toEqual([expect.stringMatching(/cancelled/)]);
    expect(await skopeoListTags(image, { tlsVerify: false })).toEqual([]);
  });
});

function notACertificate(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'mlops-bad-ca-')), 'ca.pem');
  writeFileSync(file, '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n');
  return file;
}

describe('bad input: one line naming the input or registry, non-zero exit, no stack, no secret', () => {
  const SECRET = 'Bad-Input-Secret-77';
  const missingDir = join(tmpdir(), 'mlops-no-such-context');
  const cases: [string, () => Record<string, string>, RegExp][] = [
    ['missing image', () => ({ image: '' }), /input 'image': is required but empty/],
    ['upper-case image', () => ({ image: 'localhost:5000/Kubeflow/Train' }), /input 'image': .*upper-case/],
    ['illegal characters in image', () => ({ image: 'localhost:5000/kube flow/tr@in!' }), /input 'image': /],
    ['tag over 128 characters', () => ({ tags: 'a'.repeat(129) }), /input 'tags': tag 'a+…' is longer than 128 characters/],
    ['tag with illegal characters', () => ({ tags: 'v1,bad tag!' }), /input 'tags': tag 'bad tag!' may hold only/],
    ['context that does not exist', () => ({ context: missingDir }), /input 'context': directory '.*mlops-no-such-context' does not exist/],
    ['missing Dockerfile', () => ({ dockerfile: join(sampleContext(), 'Dockerfile.gpu') }), /input 'dockerfile': file '.*Dockerfile\.gpu' does not exist/],
    ['buildArgs line without =', () => ({ buildArgs: `EPOCHS=3\n${SECRET}` }), /input 'buildArgs': line 2 has no '='/],
    ['username without password', () => ({ username: 'bot', password: '' }), /input 'password': is empty but 'username' is set/],
    ['unknown builder', () => ({ builder: 'kaniko' }), /input 'builder': must be one of auto, buildah, docker, got 'kaniko'/],
    ['caCertFile that is not a certificate', () => ({ caCertFile: notACertificate() }), /input 'caCertFile': '.*ca\.pem' is not a PEM certificate/],
  ];

  test.each(KINDS)('%s bundle', async (kind) => {
    for (const [what, inputs, expected] of cases) {
      const run = await runBundle({
        ...TASK,
        kind,
        node: nodeBinaries().at(-1)!.path,
        env: buildEnv(),
        inputs: { image: `${registry.host}/e2e/bad`, context: sampleContext(), tags: 'x', password: SECRET, username: 'bot', insecureRegistry: 'true', ...inputs() },
      });
      const errors = errorLines(run, kind);
      expect({ what, code: run.code }).toEqual({ what, code: 1 });
      expect({ what, errors }).toEqual({ what, errors: [expect.stringMatching(expected)] });
      const visible = run.stdout.split('\n').filter((line) => !/^(::add-mask::|##vso\[task\.setsecret\])/.test(line)).join('\n');
      expect({ what, leaked: (visible + run.stderr).includes(SECRET) }).toEqual({ what, leaked: false });
      expect({ what, stack: /\n\s+at /.test(run.stdout + run.stderr) }).toEqual({ what, stack: false });
    }
    expect(await skopeoListTags(`${registry.host}/e2e/bad`, { tlsVerify: false })).toEqual([]);
  });

  test('an unreachable registry is named, and Azure DevOps gets the failed result', async () => {
    const run = await runBundle({
      ...TASK,
      kind: 'azure',
      node: nodeBinaries().at(-1)!.path,
      env: buildEnv(),
      inputs: { image: '127.0.0.1:9/e2e/x', context: sampleContext(), tags: 'x', insecureRegistry: 'true' },
    });
    expect(run.code).toBe(1);
    expect(errorLines(run, 'azure')).toEqual([expect.stringMatching(/^BuildMLImage: registry 127\.0\.0\.1:9 is unreachable/)]);
    expect(run.stdout).toMatch(/^##vso\[task\.complete result=Failed;\]BuildMLImage: registry 127\.0\.0\.1:9 is unreachable/m);
  });

  describe('a registry with htpasswd auth over TLS', () => {
    let ca: TestCa;
    let secured: TestRegistry;
    beforeAll(async () => {
      ca = makeTestCa();
      secured = await startRegistry({ tls: ca, users: { bot: 'Right-Pa55word' } });
    });
    afterAll(async () => secured?.stop());

    test('Azure DevOps: a Docker registry service connection gives the credentials instead of username and password', async () => {
      const endpoint = '5f0c3e2a-8b1d-4c6e-9f7a-2d3b4c5e6f70';
      const key = endpoint.toUpperCase();
      const image = `${secured.host}/e2e/connection`;
      const run = await runBundle({
        ...TASK,
        kind: 'azure',
        node: nodeBinaries().at(-1)!.path,
        env: buildEnv({
          [`ENDPOINT_URL_${key}`]: `https://${secured.host}`,
          [`ENDPOINT_AUTH_${key}`]: JSON.stringify({ scheme: 'UsernamePassword', parameters: { username: 'bot', password: 'Right-Pa55word', registry: `https://${secured.host}` } }),
        }),
        inputs: { image, context: sampleContext(), tags: 'via-connection', containerRegistry: endpoint, caCertFile: ca.caCertFile },
      });
      expect(errorLines(run, 'azure')).toEqual([]);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('##vso[task.setsecret]Right-Pa55word');
      const visible = run.stdout.split('\n').filter((line) => !line.startsWith('##vso[task.setsecret]')).join('\n');
      expect(visible).not.toContain('Right-Pa55word');
      const certDir = mkdtempSync(join(tmpdir(), 'mlops-skopeo-certs-'));
      writeFileSync(join(certDir, 'ca.crt'), ca.caPem);
      const inspected = await skopeoInspect(`${image}:via-connection`, { tlsVerify: true, certDir, creds: 'bot:Right-Pa55word' });
      expect(run.outputs.digest).toBe(inspected.Digest);
    });

    test.each(KINDS)('a wrong password: %s bundle', async (kind) => {
      const run = await runBundle({
        ...TASK,
        kind,
        node: nodeBinaries().at(-1)!.path,
        env: buildEnv(),
        inputs: { image: `${secured.host}/e2e/x`, context: sampleContext(), tags: 'x', username: 'bot', password: SECRET, caCertFile: ca.caCertFile },
      });
      expect(run.code).toBe(1);
      expect(errorLines(run, kind)).toEqual([
        `BuildMLImage: registry ${secured.host} refused the credentials from inputs 'username' and 'password' (HTTP 401): check them`,
      ]);
      const visible = run.stdout.split('\n').filter((line) => !/^(::add-mask::|##vso\[task\.setsecret\])/.test(line)).join('\n');
      expect(visible + run.stderr).not.toContain(SECRET);
    });
  });
});
