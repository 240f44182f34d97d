import { UserError } from '../../util/errors.js';
import { ociLabels } from '../../build/labels.js';
import { prepareRegistryAccess } from '../../build/registry-access.js';
import { selectBuilder } from '../../build/select.js';
import { RegistryClient } from '../../registry/client.js';
import type { Platform } from '../../platform/platform.js';
import type { BuildSpec, ToolIo } from '../../build/builder.js';
import { readBuildInputs } from './inputs.js';
import { buildSummary } from './summary.js';

export async function runBuildMLImage(platform: Platform): Promise<void> {
  const started = Date.now();
  const inputs = readBuildInputs(platform);
  const { image } = inputs;
  const env = platform.childEnv();
  const io: ToolIo = { env, signal: platform.signal, onLine: (line) => platform.info(line) };

  const builder = await selectBuilder(inputs.builder, env);
  platform.info(`builder: ${builder.name}`);
  if (builder.name === 'docker' && inputs.insecureRegistry) {
    platform.warning("insecureRegistry: with docker the daemon's insecure-registries setting decides, not this input");
  }

  const registry = inputs.push
    ? new RegistryClient({
        registry: image.registry,
        credentials: inputs.credentials,
        credentialsSource: inputs.credentialsSource,
        insecure: inputs.insecureRegistry,
        ca: inputs.caPem,
        signal: platform.signal,
        env,
      })
    : undefined;
  // Fail on a wrong password or an unreachable registry before spending minutes on a build.
  if (registry) await platform.group(`Check access to ${image.registry}`, () => registry.checkAccess(image.repository));

  const [firstTag, ...otherTags] = inputs.tags as [string, ...string[]];
  const labels = new Map([...ociLabels(platform.ci, new Date()), ...inputs.labels]);
  const spec: BuildSpec = {
    context: inputs.context,
    dockerfile: inputs.dockerfile,
    localRef: `${image.name}:${firstTag}`,
    buildArgs: inputs.buildArgs,
    labels,
    target: inputs.target,
    platform: inputs.platform,
  };
  const access = prepareRegistryAccess(
    { registry: image.registry, credentials: inputs.credentials, insecure: inputs.insecureRegistry, caPem: inputs.caPem },
    env,
  );
  try {
    platform.progress(5, `building ${spec.localRef}`);
    const imageId = await platform.group(`Build ${spec.localRef}`, () => builder.build(spec, access, io));
    platform.info(`built image ${imageId}`);
    const references = inputs.tags.map((tag) => `${image.name}:${tag}`);

    let digest = '';
    if (registry) {
      platform.progress(60, `pushing ${spec.localRef}`);
      const pushed = await platform.group(`Push ${spec.localRef}`, () => builder.push(spec.localRef, spec.localRef, access, io));
      const manifest = await registry.getManifest(image.repository, firstTag);
      if (!manifest) throw new UserError(`registry ${image.registry}: ${spec.localRef} is missing right after the push`);
      if (manifest.digest !== pushed) platform.warning(`the registry serves ${manifest.digest}, the builder reported ${pushed}`);
      // Further tags point at the same manifest through the registry API: no second upload.
      for (const tag of otherTags) {
        platform.info(`tagging ${image.name}:${tag}`);
        await registry.putManifest(image.repository, tag, manifest);
      }
      digest = manifest.digest;
    }
    const imageRef = digest ? `${image.name}@${digest}` : '';
    platform.progress(100, 'done');

    platform.setOutput('imageRef', imageRef);
    platform.setOutput('digest', digest);
    platform.setOutput('tags', references.join(','));
    platform.info(digest ? `pushed ${imageRef}` : `built ${references.join(', ')} (not pushed)`);
    await platform.summary(
      buildSummary(
        { name: image.name, builder: builder.name, pushed: !!registry, references, digest, imageRef, seconds: (Date.now() - started) / 1000 },
        platform.ci,
      ),
    );
  } finally {
    access.dispose();
  }
}
