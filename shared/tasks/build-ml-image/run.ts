import { ociLabels } from '../../build/labels.js';
import { prepareRegistryAccess } from '../../build/registry-access.js';
import { selectBuilder } from '../../build/select.js';
import { RegistryClient } from '../../registry/client.js';
import { runPool } from '../../util/pool.js';
import { errorMessage, UserError } from '../../util/errors.js';
import type { Platform } from '../../platform/platform.js';
import type { Builder } from '../../build/builder.js';
import { resolveRegistryCredentials } from '../registry-credentials.js';
import { buildImage, type BuildSession, type ImageLog, type ImageResult } from './build-image.js';
import { readBuildInputs, type ImageJob } from './inputs.js';
import { buildSummary } from './summary.js';

function imageLog(platform: Platform, job: ImageJob, multi: boolean): ImageLog {
  if (!multi) return { info: (line) => platform.info(line), section: (title, body) => platform.group(title, body) };
  const prefix = `[${job.name}] `;
  return {
    info: (line) => platform.info(prefix + line),
    section: (title, body) => {
      platform.info(prefix + title);
      return body();
    },
  };
}

function setOutputs(platform: Platform, results: ImageResult[], multi: boolean): void {
  const single = multi ? undefined : results[0];
  platform.setOutput('imageRef', single?.imageRef ?? '');
  platform.setOutput('digest', single?.digest ?? '');
  platform.setOutput('tags', single?.references.join(',') ?? '');
  platform.setOutput('contentDigest', single?.contentDigest ?? '');
  platform.setOutput('skipped', String(results.every((result) => result.skipped)));
  platform.setOutput('imageRefs', JSON.stringify(Object.fromEntries(results.map((result) => [result.name, result.imageRef]))));
}

export async function runBuildMLImage(platform: Platform): Promise<void> {
  const started = Date.now();
  const inputs = await readBuildInputs(platform);
  const env = platform.childEnv();
  const io = { env, signal: platform.signal };

  let chosen: Promise<Builder> | undefined;
  const builder = () =>
    (chosen ??= selectBuilder(inputs.builder, env).then((selected) => {
      platform.info(`builder: ${selected.name}`);
      if (selected.name === 'docker' && inputs.insecureRegistry) {
        platform.warning("insecureRegistry: with docker the daemon's insecure-registries setting decides, not this input");
      }
      return selected;
    }));
  // Probing for a daemon costs time a skipped build need not spend; an explicit choice, or a
  // build that is certain to run, is checked first so a missing builder fails early.
  if (inputs.builder !== 'auto' || !inputs.push || !inputs.skipUnchanged) await builder();

  const clientOptions = { registry: inputs.registry, insecure: inputs.insecureRegistry, ca: inputs.caPem, signal: platform.signal, env };
  let credentials = inputs.credentials;
  let registry: RegistryClient | undefined;
  if (inputs.push) {
    const choice = await resolveRegistryCredentials(platform, { credentials, source: inputs.credentialsSource }, inputs.azureIdentity, clientOptions);
    credentials = choice.credentials;
    const client = new RegistryClient({ ...clientOptions, credentials, credentialsSource: choice.source });
    // Fail on a wrong password or an unreachable registry before spending minutes on a build.
    await platform.group(`Check access to ${inputs.registry}`, async () => {
      for (const job of inputs.jobs) await client.checkAccess(job.image.repository);
    });
    registry = client;
  }

  const access = prepareRegistryAccess({ registry: inputs.registry, credentials, insecure: inputs.insecureRegistry, caPem: inputs.caPem }, env);
  try {
    const session: BuildSession = { inputs, builder, registry, access, io, baseLabels: ociLabels(platform.ci, new Date()), signal: platform.signal };
    let done = 0;
    const results = await runPool(inputs.jobs, inputs.parallel, async (job) => {
      const log = imageLog(platform, job, inputs.multi);
      try {
        const result = await buildImage(job, session, log);
        platform.progress((++done / inputs.jobs.length) * 100, `${job.name}: ${result.skipped ? 'skipped' : 'done'}`);
        log.info(result.imageRef ? `${result.skipped ? 'reused' : 'pushed'} ${result.imageRef}` : `built ${result.references.join(', ')} (not pushed)`);
        return result;
      } catch (error) {
        // With several images, say which one failed; the others finish first (runPool waits).
        throw inputs.multi && error instanceof UserError ? new UserError(`image '${job.name}': ${errorMessage(error)}`) : error;
      }
    });
    setOutputs(platform, results, inputs.multi);
    const builderName = chosen ? (await chosen).name : 'none needed';
    await platform.summary(buildSummary(results, { builder: builderName, pushed: !!registry, seconds: (Date.now() - started) / 1000 }, platform.ci));
  } finally {
    access.dispose();
  }
}
