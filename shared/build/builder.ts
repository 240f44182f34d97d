import type { ExecOptions } from '../util/exec.js';

/** Everything a build needs, already validated. */
export interface BuildSpec {
  context: string;
  dockerfile: string;
  /** Local name the image is built under: <image>:<first tag>. */
  localRef: string;
  buildArgs: ReadonlyMap<string, string>;
  labels: ReadonlyMap<string, string>;
  target: string;
  platform: string;
  /** Repositories for the remote layer cache, full names without tag. */
  cacheFrom?: string;
  cacheTo?: string;
}

/** How the tools reach the registry: credentials and TLS settings, all in temporary files. */
export interface RegistryAccess {
  /** auth.json for buildah (--authfile). */
  authFile?: string;
  /** Folder with config.json for docker (DOCKER_CONFIG). */
  dockerConfigDir?: string;
  /** Folder of *.crt CA files (buildah --cert-dir). */
  certDir?: string;
  /** A registries.conf marking only the target registry insecure. */
  registriesConf?: string;
}

export type ToolIo = Pick<ExecOptions, 'env' | 'signal' | 'onLine'>;

export interface Builder {
  readonly name: 'buildah' | 'docker';
  /** Builds the image; returns its local image id. */
  build(spec: BuildSpec, access: RegistryAccess, io: ToolIo): Promise<string>;
  /** Pushes the local image to a full reference; returns the manifest digest pushed. */
  push(localRef: string, destination: string, access: RegistryAccess, io: ToolIo): Promise<string>;
}

/** The flags docker build and buildah bud share, in the same spelling. */
export function buildFlags(spec: BuildSpec, iidFile: string): string[] {
  return [
    '--file', spec.dockerfile,
    '--tag', spec.localRef,
    '--iidfile', iidFile,
    ...[...spec.buildArgs].flatMap(([key, value]) => ['--build-arg', `${key}=${value}`]),
    ...[...spec.labels].flatMap(([key, value]) => ['--label', `${key}=${value}`]),
    ...(spec.target ? ['--target', spec.target] : []),
    ...(spec.platform ? ['--platform', spec.platform] : []),
  ];
}
