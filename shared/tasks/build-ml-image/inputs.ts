import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { InputError } from '../../util/errors.js';
import { InputReader } from '../../platform/inputs.js';
import { checkTag, parseImageName, type ImageName } from '../../registry/reference.js';
import type { Platform } from '../../platform/platform.js';
import type { RegistryCredentials } from '../../registry/credentials.js';
import type { BuilderChoice } from '../../build/select.js';
import { declaration } from './declaration.js';

export interface BuildInputs {
  image: ImageName;
  context: string;
  dockerfile: string;
  tags: string[];
  buildArgs: Map<string, string>;
  labels: Map<string, string>;
  target: string;
  platform: string;
  push: boolean;
  builder: BuilderChoice;
  credentials?: RegistryCredentials;
  credentialsSource: string;
  insecureRegistry: boolean;
  caPem?: string;
}

const BUILD_ARG_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const STAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const PLATFORM = /^[a-z0-9]+\/[a-z0-9_]+(?:\/[a-z0-9]+)?$/;
const DOCKER_HUB_HOSTS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

function sameRegistry(a: string, b: string): boolean {
  return a === b || (DOCKER_HUB_HOSTS.has(a) && DOCKER_HUB_HOSTS.has(b));
}

function readCaCertificate(inputs: InputReader): string | undefined {
  const file = inputs.path('caCertFile', 'file');
  if (!file) return undefined;
  const pem = readFileSync(file, 'utf8');
  try {
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error('no PEM block');
    new X509Certificate(pem);
  } catch {
    throw new InputError('caCertFile', `'${file}' is not a PEM certificate`);
  }
  return pem;
}

function readCredentials(inputs: InputReader, platform: Platform, image: ImageName): Pick<BuildInputs, 'credentials' | 'credentialsSource'> {
  const connectionId = inputs.string('containerRegistry');
  const username = inputs.string('username');
  const password = inputs.raw('password');
  if (connectionId) {
    if (username || password) throw new InputError('containerRegistry', "give either a service connection or 'username' and 'password', not both");
    const connection = platform.getServiceConnection('containerRegistry');
    if (!connection) throw new InputError('containerRegistry', `service connection '${connectionId}' is not available to this job`);
    const user = connection.parameters.username ?? '';
    const secret = connection.parameters.password ?? '';
    if (!user || !secret) throw new InputError('containerRegistry', `service connection '${connectionId}' has no username and password`);
    const registry = hostOf(connection.parameters.registry || connection.url);
    if (registry && !sameRegistry(registry, image.registry)) {
      throw new InputError('containerRegistry', `the service connection is for ${registry} but 'image' is in ${image.registry}`);
    }
    return { credentials: { username: user, password: secret }, credentialsSource: `service connection 'containerRegistry'` };
  }
  if (username && !password) throw new InputError('password', "is empty but 'username' is set");
  if (password && !username) throw new InputError('username', "is empty but 'password' is set");
  const source = platform.name === 'azure' ? "'containerRegistry' or inputs 'username' and 'password'" : "inputs 'username' and 'password'";
  return username ? { credentials: { username, password }, credentialsSource: "inputs 'username' and 'password'" } : { credentialsSource: source };
}

function hostOf(url: string): string {
  if (!url) return '';
  try {
    return new URL(url.includes('://') ? url : `https://${url}`).host;
  } catch {
    return url;
  }
}

/** Reads and checks every BuildMLImage input before anything is built or sent. */
export function readBuildInputs(platform: Platform): BuildInputs {
  const inputs = new InputReader(declaration, platform);
  const image = parseImageName(inputs.string('image'));
  if (typeof image === 'string') throw new InputError('image', image);

  const context = inputs.path('context', 'directory');
  const dockerfile = inputs.path('dockerfile', 'file', join(inputs.string('context'), 'Dockerfile'));

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

  return {
    image,
    context,
    dockerfile,
    tags: [...new Set(tags)],
    buildArgs,
    labels,
    target,
    platform: targetPlatform,
    push: inputs.boolean('push'),
    builder: inputs.pick<BuilderChoice>('builder'),
    ...readCredentials(inputs, platform, image),
    insecureRegistry: inputs.boolean('insecureRegistry'),
    caPem: readCaCertificate(inputs),
  };
}
