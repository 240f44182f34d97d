/**
 * Image names as the distribution spec defines them: [registry/]path, lower-case path
 * components separated by '/', tags of at most 128 word characters, dots and dashes.
 */
export interface ImageName {
  /** host[:port] as written by the user, or docker.io. */
  registry: string;
  /** The path inside the registry, e.g. kubeflow/preprocess (library/x for Docker Hub). */
  repository: string;
  /** The name as users write it, without tag: registry/repository. */
  name: string;
}

const DOCKER_HUB = 'docker.io';
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const HOST = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?$|^\[[0-9a-fA-F:]+\](?::[0-9]+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const MAX_NAME_LENGTH = 255;

/** Parses a repository reference without tag or digest; returns a reason when it is not one. */
export function parseImageName(image: string): ImageName | string {
  if (!image) return 'is empty';
  if (image.includes('@')) return `'${image}' has a digest: give the repository only`;
  const slash = image.indexOf('/');
  const first = slash < 0 ? '' : image.slice(0, slash);
  const hasRegistry = first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('['));
  const registry = hasRegistry ? first : DOCKER_HUB;
  const path = hasRegistry ? image.slice(slash + 1) : image;
  if (hasRegistry && !HOST.test(registry)) return `'${registry}' is not a valid registry host`;
  const lastComponent = path.split('/').pop() ?? '';
  if (lastComponent.includes(':')) return `'${image}' has a tag: give the repository only and put tags in 'tags'`;
  if (/[A-Z]/.test(path)) return `'${image}' has upper-case letters: repository names must be lower case`;
  for (const component of path.split('/')) {
    if (!PATH_COMPONENT.test(component)) {
      return `'${image}' is not a valid repository name: '${component}' may hold only a-z, 0-9 and single separators . _ __ -`;
    }
  }
  if (image.length > MAX_NAME_LENGTH) return `is longer than ${MAX_NAME_LENGTH} characters`;
  const repository = registry === DOCKER_HUB && !path.includes('/') ? `library/${path}` : path;
  return { registry, repository, name: `${registry}/${path}` };
}

/** Returns a reason when the tag is not one a registry accepts. */
export function checkTag(tag: string): string | undefined {
  if (tag.length > 128) return `tag '${tag.slice(0, 20)}…' is longer than 128 characters`;
  if (!TAG.test(tag)) return `tag '${tag}' may hold only letters, digits, _ . - and must not start with . or -`;
  return undefined;
}

/** The host the registry's HTTP API answers on. */
export function apiHost(registry: string): string {
  return registry === DOCKER_HUB ? 'registry-1.docker.io' : registry;
}
