import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { InputError } from '../../util/errors.js';
import { InputReader, resolveInputPath } from '../../platform/inputs.js';
import { checkTag, parseImageName, type ImageName } from '../../registry/reference.js';
import type { AzureIdentity } from '../../azure/identity.js';
import type { Platform } from '../../platform/platform.js';
import type { RegistryCredentials } from '../../registry/credentials.js';
import type { BuilderChoice } from '../../build/select.js';
import { readAzureIdentity } from '../azure-identity.js';
import { readGivenCredentials, sameRegistry } from '../registry-credentials.js';
import { declaration } from './declaration.js';

/** One image to build: from `image`, or one line of `images`. */
export interface ImageJob {
  /** Short name for logs and the imageRefs output. */
  name: string;
  image: ImageName;
  context: string;
  dockerfile: string;
}

export interface BuildInputs {
  jobs: ImageJob[];
  /** True when `images` was used: outputs and logs then speak of several images. */
  multi: boolean;
  parallel: number;
  /** All jobs push to one registry (one imagePrefix, or one image). */
  registry: string;
  tags: string[];
  buildArgs: Map<string, string>;
  labels: Map<string, string>;
  target: string;
  platform: string;
  push: boolean;
  builder: BuilderChoice;
  skipUnchanged: boolean;
  cacheFrom?: ImageName;
  cacheTo?: ImageName;
  /** Credentials given outright: inputs or a Docker registry service connection. */
  credentials?: RegistryCredentials;
  credentialsSource: string;
  azureIdentity?: AzureIdentity;
  insecureRegistry: boolean;
  caPem?: string;
}

const BUILD_ARG_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const STAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const PLATFORM = /^[a-z0-9]+\/[a-z0-9_]+(?:\/[a-z0-9]+)?$/;
const MAX_PARALLEL = 16;

function imageName(input: string, value: string): ImageName {
  const parsed = parseImageName(value);
  if (typeof parsed === 'string') throw new InputError(input, parsed);
  return parsed;
}

/** `image` (+ context, dockerfile) or `images` under `imagePrefix`: exactly one of the two. */
function readJobs(inputs: InputReader): { jobs: ImageJob[]; multi: boolean } {
  const single = inputs.string('image');
  const lines = inputs.map('images');
  if (single && lines.size) throw new InputError('images', "give either 'image' or 'images', not both");
  if (!single && !lines.size) throw new InputError('image', "is required but empty (or give 'images' with 'imagePrefix')");
  if (single) {
    const image = imageName('image', single);
    const context = inputs.path('context', 'directory');
    const dockerfile = inputs.path('dockerfile', 'file', join(inputs.string('context'), 'Dockerfile'));
    return { jobs: [{ name: basename(image.repository), image, context, dockerfile }], multi: false };
  }
  const prefix = inputs.string('imagePrefix').replace(/\/+$/, '');
  if (!prefix) throw new InputError('imagePrefix', "is required with 'images'");
  const jobs = [...lines].map(([name, contextDir]) => {
    const image = imageName('images', `${prefix}/${name}`);
    const context = resolveInputPath('images', contextDir, 'directory');
    const dockerfile = join(context, 'Dockerfile');
    if (!existsSync(dockerfile)) throw new InputError('images', `'${name}': no Dockerfile in '${contextDir}'`);
    return { name, image, context, dockerfile };
  });
  const registries = new Set(jobs.map((job) => job.image.registry));
  if (registries.size > 1) throw new InputError('imagePrefix', 'all images must go to one registry');
  return { jobs, multi: true };
}

function readCacheRepository(inputs: InputReader, name: 'cacheFrom' | 'cacheTo', registry: string, credentialed: boolean): ImageName | undefined {
  const value = inputs.string(name);
  if (!value) return undefined;
  const cache = imageName(name, value);
  // The tools log in to the target registry only: a cache elsewhere would be used anonymously.
  if (credentialed && !sameRegistry(cache.registry, registry)) {
    throw new InputError(name, `'${value}' is in registry ${cache.registry} but the credentials are for ${registry}`);
  }
  return cache;
}

/** Reads and checks every BuildMLImage input before anything is built or sent. */
export async function readBuildInputs(platform: Platform): Promise<BuildInputs> {
  const inputs = new InputReader(declaration, platform);
  const { jobs, multi } = readJobs(inputs);
  const registry = jobs[0]!.image.registry;

  const tags = inputs.list('tags');
  if (tags.length === 0) {
    if (!platform.ci.sha) throw new InputError('tags', 'is empty and the runner gives no commit SHA to tag with: set tags');
    tags.push(platform.ci.sha);
  }
  for (const tag of tags) {
    const problem = checkTag(tag);
    if (problem) throw new InputError('tags', problem);
  }

  const buildArgs = inputs.map('buildArgs');
  for (const name of buildArgs.keys()) {
    if (!BUILD_ARG_NAME.test(name)) throw new InputError('buildArgs', `'${name}' is not a valid build argument name`);
  }
  const labels = inputs.map('labels');
  for (const name of labels.keys()) {
    if (/\s/.test(name)) throw new InputError('labels', `label name '${name}' has white space`);
  }
  const target = inputs.string('target');
  if (target && !STAGE_NAME.test(target)) throw new InputError('target', `'${target}' is not a valid stage name`);
  const targetPlatform = inputs.string('platform');
  if (targetPlatform && !PLATFORM.test(targetPlatform)) {
    throw new InputError('platform', `'${targetPlatform}' is not os/arch[/variant], e.g. linux/amd64`);
  }
  const parallel = Number(inputs.string('parallel'));
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > MAX_PARALLEL) {
    throw new InputError('parallel', `must be a whole number from 1 to ${MAX_PARALLEL}`);
  }

  const given = readGivenCredentials(inputs, platform, registry);
  const credentials = { credentials: given.credentials, credentialsSource: given.source };
  const azureIdentity = await readAzureIdentity(inputs, platform);
  if (azureIdentity && credentials.credentials) {
    throw new InputError(platform.name === 'azure' ? 'azureSubscription' : 'azureClientId', 'give either Azure sign-in or registry credentials, not both');
  }
  const credentialed = !!(credentials.credentials || azureIdentity);

  return {
    jobs,
    multi,
    parallel,
    registry,
    tags: [...new Set(tags)],
    buildArgs,
    labels,
    target,
    platform: targetPlatform,
    push: inputs.boolean('push'),
    builder: inputs.pick<BuilderChoice>('builder'),
    skipUnchanged: inputs.boolean('skipUnchanged'),
    cacheFrom: readCacheRepository(inputs, 'cacheFrom', registry, credentialed),
    cacheTo: readCacheRepository(inputs, 'cacheTo', registry, credentialed),
    ...credentials,
    azureIdentity,
    insecureRegistry: inputs.boolean('insecureRegistry'),
    caPem: inputs.certificate('caCertFile'),
  };
}
