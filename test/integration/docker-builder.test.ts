import { dockerDaemonAnswers } from '../../shared/build/select.js';
import { GitHubPlatform } from '../../shared/platform/github.js';
import { runBuildMLImage } from '../../shared/tasks/build-ml-image/run.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { FAKE_SHA } from '../helpers/run-bundle.js';
import { skopeoInspect } from '../helpers/skopeo.js';
import { buildEnv, sampleContext } from '../helpers/tools.js';

const daemon = await dockerDaemonAnswers();
if (!daemon) {
  console.warn('SKIPPED docker builder tests: no Docker daemon answers on this machine (`docker version` has no server); the buildah path is tested instead');
}
const testWithDaemon = daemon ? test : test.skip;

describe('BuildMLImage with the docker builder', () => {
  let registry: TestRegistry | undefined;
  beforeAll(async () => {
    if (daemon) registry = await startRegistry();
  });
  afterAll(async () => registry?.stop());

  testWithDaemon('builds with docker and pushes to the registry (docker treats 127.0.0.1 as insecure by default)', async () => {
    const image = `${registry!.host}/docker/preprocess`;
    const env: NodeJS.ProcessEnv = buildEnv({ GITHUB_SHA: FAKE_SHA });
    Object.assign(env, { INPUT_IMAGE: image, INPUT_CONTEXT: sampleContext(), INPUT_TAGS: 'd1', INPUT_BUILDER: 'docker', INPUT_PUSH: 'true' });
    const lines: string[] = [];
    await runBuildMLImage(new GitHubPlatform(env, (line) => lines.push(line)));
    expect(lines).toContain('builder: docker');
    const inspected = await skopeoInspect(`${image}:d1`, { tlsVerify: false });
    expect(inspected.Labels?.['org.opencontainers.image.revision']).toBe(FAKE_SHA);
  });

  (daemon ? test.skip : test)('builder docker without a daemon fails with one line that says so', async () => {
    const env: NodeJS.ProcessEnv = buildEnv({ GITHUB_SHA: FAKE_SHA });
    Object.assign(env, { INPUT_IMAGE: '127.0.0.1:9/x', INPUT_CONTEXT: sampleContext(), INPUT_BUILDER: 'docker', INPUT_PUSH: 'true' });
    await expect(runBuildMLImage(new GitHubPlatform(env, () => undefined))).rejects.toThrow(
      "input 'builder': docker was chosen but no Docker daemon answers on this agent",
    );
  });
});
