import type { TaskDeclaration } from '../declaration.js';
import { registryInputs } from '../registry-inputs.js';
import { azureIdentityInputs } from '../azure-identity.js';

export const declaration: TaskDeclaration = {
  id: 'e1ba257a-7726-4d4e-a5a1-ed290dd0d2ee',
  taskName: 'BuildMLImage',
  actionName: 'build-ml-image',
  friendlyName: 'Build ML image',
  description:
    'Build an ML pipeline step image with buildah (no Docker daemon needed) or docker, push it and output its immutable digest reference.',
  category: 'Build',
  instanceNameFormat: 'Build ML image $(image)',
  groups: [
    { name: 'registry', displayName: 'Registry', isExpanded: true },
    { name: 'azure', displayName: 'Azure Container Registry sign-in', isExpanded: false },
    { name: 'cache', displayName: 'Skipping and caching', isExpanded: false },
    { name: 'advanced', displayName: 'Advanced', isExpanded: false },
  ],
  inputs: [
    {
      name: 'image',
      label: 'Image repository',
      description: 'Repository to push to, without tag, e.g. `myacr.azurecr.io/kubeflow/preprocess`. Give either this or `images`.',
      type: 'string',
    },
    {
      name: 'images',
      label: 'Images',
      description:
        '`name=contextDir` lines, one image per pipeline step, each pushed to `<imagePrefix>/<name>` and built from `<contextDir>/Dockerfile`. Replaces `image`, `context` and `dockerfile`.',
      type: 'map',
    },
    {
      name: 'imagePrefix',
      label: 'Image prefix',
      description: 'Registry and path the `images` are pushed under, e.g. `myacr.azurecr.io/kubeflow`.',
      type: 'string',
    },
    {
      name: 'parallel',
      label: 'Parallel builds',
      description: 'How many of the `images` are built at once.',
      type: 'string',
      default: '2',
      group: 'advanced',
    },
    {
      name: 'context',
      label: 'Build context',
      description: 'Folder sent to the build.',
      type: 'filePath',
      default: '.',
    },
    {
      name: 'dockerfile',
      label: 'Dockerfile',
      description: 'Path of the Dockerfile. Default: `<context>/Dockerfile`.',
      type: 'filePath',
    },
    {
      name: 'tags',
      label: 'Tags',
      description: 'Tags to push, one a line or comma-separated. Default: the commit SHA of the build.',
      type: 'list',
    },
    {
      name: 'buildArgs',
      label: 'Build arguments',
      description: '`KEY=VALUE` lines passed as `--build-arg`.',
      type: 'map',
    },
    {
      name: 'labels',
      label: 'Labels',
      description:
        '`KEY=VALUE` lines added as image labels. `org.opencontainers.image.source`, `.revision` and `.created` are added from the run.',
      type: 'map',
    },
    {
      name: 'target',
      label: 'Target stage',
      description: 'Build stage to stop at, for multi-stage Dockerfiles.',
      type: 'string',
      group: 'advanced',
    },
    {
      name: 'platform',
      label: 'Platform',
      description: 'Target platform, e.g. `linux/amd64` or `linux/arm64`.',
      type: 'string',
      group: 'advanced',
    },
    {
      name: 'push',
      label: 'Push',
      description: 'Push the image. When false the image is only built locally.',
      type: 'boolean',
      default: 'true',
    },
    {
      name: 'builder',
      label: 'Builder',
      description: '`auto` uses docker where a Docker daemon answers and buildah everywhere else.',
      type: 'pickList',
      options: ['auto', 'buildah', 'docker'],
      default: 'auto',
      group: 'advanced',
    },
    {
      name: 'skipUnchanged',
      label: 'Skip unchanged builds',
      description:
        'Skip the build when the registry already holds an image built from the same context files (after .dockerignore), Dockerfile, build args, target and platform; the requested tags are then added to that image.',
      type: 'boolean',
      default: 'true',
      group: 'cache',
    },
    {
      name: 'cacheFrom',
      label: 'Cache from',
      description: 'Repository to read cached layers from (buildah `--cache-from`, docker `type=registry`).',
      type: 'string',
      group: 'cache',
    },
    {
      name: 'cacheTo',
      label: 'Cache to',
      description: 'Repository to write cached layers to (buildah `--cache-to`, docker `type=registry,mode=max`).',
      type: 'string',
      group: 'cache',
    },
    ...registryInputs('registry'),
    {
      name: 'caCertFile',
      label: 'Registry CA certificate',
      description: 'PEM file of the CA that signed the registry certificate.',
      type: 'filePath',
      group: 'registry',
    },
    ...azureIdentityInputs,
  ],
  outputs: [
    { name: 'imageRef', description: 'The pushed image as `<image>@sha256:<digest>`: the immutable reference later steps should use (single image).' },
    { name: 'digest', description: 'The manifest digest as the registry serves it (single image).' },
    { name: 'tags', description: 'The full references pushed, comma-separated (single image).' },
    { name: 'skipped', description: '`true` when no build ran because the registry already held the same content (with `images`: when every image was skipped).' },
    { name: 'contentDigest', description: 'Digest of everything the build sees, recorded in the image label `io.mlops-tasks.content-digest` (single image).' },
    { name: 'imageRefs', description: 'JSON map of image name to `imageRef`, for one image or many.' },
  ],
};
