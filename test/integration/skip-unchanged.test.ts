import { appendFileSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBuildMLImage } from '../../shared/tasks/build-ml-image/run.js';
import { makeTestCa } from '../helpers/ca.js';
import { runInProcess, shown } from '../helpers/in-process.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { skopeoInspect, skopeoListTags } from '../helpers/skopeo.js';
import { sampleContext } from '../helpers/tools.js';

const PLAIN = { tlsVerify: false };
let registry: TestRegistry;
beforeAll(async () => {
  registry = await startRegistry();
});
afterAll(async () => registry?.stop());

const build = (inputs: Record<string, string>, env: Record<string, string> = {}) =>
  runInProcess(runBuildMLImage, { insecureRegistry: 'true', builder: 'buildah', ...inputs }, env);

/** A sample step context with a .dockerignore that leaves out notes/ and the Dockerfile itself. */
function contextWithIgnores(): string {
  const context = sampleContext();
  mkdirSync(join(context, 'notes'));
  writeFileSync(join(context, 'notes/todo.md'), 'try a bigger learning rate\n');
  writeFileSync(join(context, 'params.json'), '{"epochs": 3}\n');
  writeFileSync(join(context, '.dockerignore'), 'notes/\nDockerfile\n');
  return context;
}

describe('skipUnchanged against a real registry', () => {
  test('a second run on the same context skips the build and adds the new tag to the same digest', async () => {
    const image = `${registry.host}/skip/same`;
    const context = contextWithIgnores();
    const first = await build({ image, context, tags: 'first,latest' });
    expect(first.outputs.skipped).toBe('false');
    expect(first.outputs.contentDigest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(shown(first.lines)).toMatch(/building: no image in the repository was built from this content, and none under first, latest to compare with/);

    const second = await build({ image, context, tags: 'second' });
    expect(second.outputs.skipped).toBe('true');
    expect(second.outputs.contentDigest).toBe(first.outputs.contentDigest);
    expect(second.outputs.digest).toBe(first.outputs.digest);
    expect(shown(second.lines)).toMatch(/skipped the build: the registry already holds an image built from the same content/);
    expect(shown(second.lines)).not.toMatch(/^STEP \d/m);
    expect((await skopeoInspect(`${image}:second`, PLAIN)).Digest).toBe(first.outputs.digest);
    expect(second.summary).toMatch(/reused \(build skipped\)/);

    const inspected = await skopeoInspect(`${image}:first`, PLAIN);
    expect(inspected.Labels?.['io.mlops-tasks.content-digest']).toBe(first.outputs.contentDigest);
    expect(await skopeoListTags(image, PLAIN)).toEqual(expect.arrayContaining(['first', 'latest', 'second', `mlops-content-${first.outputs.contentDigest!.slice(7)}`]));
  });

  test('a change in an ignored file does not rebuild; a one-byte change in a kept file does, and says what changed', async () => {
    const image = `${registry.host}/skip/changes`;
    const context = contextWithIgnores();
    const first = await build({ image, context, tags: 'latest' });

    appendFileSync(join(context, 'notes/todo.md'), 'x');
    const ignored = await build({ image, context, tags: 'latest' });
    expect(ignored.outputs.skipped).toBe('true');

    appendFileSync(join(context, 'params.json'), ' ');
    const changed = await build({ image, context, tags: 'latest' });
    expect(changed.outputs.skipped).toBe('false');
    expect(changed.outputs.contentDigest).not.toBe(first.outputs.contentDigest);
    expect(changed.outputs.digest).not.toBe(first.outputs.digest);
    expect(shown(changed.lines)).toMatch(/building: the context files changed since the image tagged 'latest'/);
  });

  test('a Dockerfile excluded by .dockerignore still counts: changing it rebuilds', async () => {
    const image = `${registry.host}/skip/dockerfile`;
    const context = contextWithIgnores();
    await build({ image, context, tags: 'latest' });
    appendFileSync(join(context, 'Dockerfile'), 'LABEL stage=training\n');
    const changed = await build({ image, context, tags: 'latest' });
    expect(changed.outputs.skipped).toBe('false');
    expect(shown(changed.lines)).toMatch(/building: the Dockerfile changed since the image tagged 'latest'/);
  });

  test('a build argument change rebuilds and is named', async () => {
    const image = `${registry.host}/skip/args`;
    const context = sampleContext();
    await build({ image, context, tags: 'latest', buildArgs: 'STEP=preprocess' });
    const changed = await build({ image, context, tags: 'latest', buildArgs: 'STEP=training' });
    expect(shown(changed.lines)).toMatch(/building: 'buildArgs' changed since the image tagged 'latest'/);
  });

  test('skipUnchanged: false always builds', async () => {
    const image = `${registry.host}/skip/off`;
    const context = sampleContext();
    await build({ image, context, tags: 'a' });
    const again = await build({ image, context, tags: 'b', skipUnchanged: 'false' });
    expect(again.outputs.skipped).toBe('false');
    expect(again.outputs.contentDigest).toBe('');
  });

  test('several images: each has its own skip decision, and imageRefs maps names to references', async () => {
    const root = mkdtempSync(join(tmpdir(), 'mlops-steps-'));
    const steps = { preprocess: sampleContext(), training: sampleContext() };
    appendFileSync(join(steps.training, 'preprocess.sh'), '# training differs\n');
    const images = Object.entries(steps).map(([name, dir]) => `${name}=${dir}`).join('\n');
    const inputs = { images, imagePrefix: `${registry.host}/steps`, parallel: '2' };
    const first = await build({ ...inputs, tags: 'v1,latest', context: root });
    const refs = JSON.parse(first.outputs.imageRefs!) as Record<string, string>;
    expect(Object.keys(refs).sort()).toEqual(['preprocess', 'training']);
    for (const [name, ref] of Object.entries(refs)) {
      expect(ref).toMatch(new RegExp(`^${registry.host.replace(/\./g, '\\.')}/steps/${name}@sha256:[a-f0-9]{64}$`));
      expect((await skopeoInspect(`${registry.host}/steps/${name}:v1`, PLAIN)).Digest).toBe(ref.split('@')[1]);
    }
    expect(first.outputs.imageRef).toBe('');

    appendFileSync(join(steps.training, 'preprocess.sh'), '# and changes again\n');
    const second = await build({ ...inputs, tags: 'v2' });
    expect(second.outputs.skipped).toBe('false');
    const log = shown(second.lines);
    expect(log).toMatch(/\[preprocess\] skipped the build/);
    expect(log).toMatch(/\[training\] building: the context files changed since the image tagged 'latest'/);
    expect(log).toMatch(/^\[training\] STEP 1\/\d+: FROM scratch$/m);
    expect(second.summary).toMatch(/\| preprocess \|.*reused \(build skipped\)/);
  });

  test('cacheTo pushes the layer cache to its repository', async () => {
    const image = `${registry.host}/cached/step`;
    const cache = `${registry.host}/cached/layers`;
    await build({ image, context: sampleContext(), tags: 'c1', cacheTo: cache, cacheFrom: cache, skipUnchanged: 'false' });
    expect((await skopeoListTags(cache, PLAIN)).length).toBeGreaterThan(0);
  });
});

describe('bad input for skipping and caching', () => {
  test('a symlink pointing outside the context is refused before anything is built', async () => {
    const context = sampleContext();
    symlinkSync('/etc/hostname', join(context, 'leak'));
    await expect(build({ image: `${registry.host}/bad/symlink`, context, tags: 't' })).rejects.toThrow(
      /^input 'context': symlink 'leak' points outside the build context/,
    );
    expect(await skopeoListTags(`${registry.host}/bad/symlink`, PLAIN)).toEqual([]);
  });

  test('a cache repository in another registry than the credentials cover is an input error', async () => {
    const ca = makeTestCa();
    await expect(
      build({ image: `${registry.host}/bad/cache`, context: sampleContext(), tags: 't', username: 'u', password: 'Pa55-word-x', cacheTo: 'other.example.com/cache', caCertFile: ca.caCertFile }),
    ).rejects.toThrow(`input 'cacheTo': 'other.example.com/cache' is in registry other.example.com but the credentials are for ${registry.host}`);
  });

  test("'image' and 'images' together are refused", async () => {
    await expect(build({ image: `${registry.host}/x`, images: 'a=.', imagePrefix: `${registry.host}/p` })).rejects.toThrow(
      "input 'images': give either 'image' or 'images', not both",
    );
  });
});
