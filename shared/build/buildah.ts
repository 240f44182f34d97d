import { exec } from '../util/exec.js';
import { toolFailure } from './failure.js';
import { withOutputFile } from './output-file.js';
import { buildFlags, type Builder, type BuildSpec, type RegistryAccess, type ToolIo } from './builder.js';

// Storage driver and isolation are left to buildah's own settings (STORAGE_DRIVER,
// BUILDAH_ISOLATION, storage.conf), which differ between hosted runners and containers.

function accessArgs(access: RegistryAccess): string[] {
  return [
    ...(access.authFile ? ['--authfile', access.authFile] : []),
    ...(access.certDir ? ['--cert-dir', access.certDir] : []),
  ];
}

/** A remote cache needs layer caching on; buildah pushes and pulls the layers itself. */
function cacheArgs(spec: BuildSpec): string[] {
  if (!spec.cacheFrom && !spec.cacheTo) return [];
  return ['--layers', ...(spec.cacheFrom ? ['--cache-from', spec.cacheFrom] : []), ...(spec.cacheTo ? ['--cache-to', spec.cacheTo] : [])];
}

function toolEnv(access: RegistryAccess, io: ToolIo): NodeJS.ProcessEnv | undefined {
  return access.registriesConf ? { ...(io.env ?? process.env), CONTAINERS_REGISTRIES_CONF: access.registriesConf } : io.env;
}

/** Daemonless builds: buildah bud and buildah push. */
export class BuildahBuilder implements Builder {
  readonly name = 'buildah' as const;

  build(spec: BuildSpec, access: RegistryAccess, io: ToolIo): Promise<string> {
    return withOutputFile(async (iidFile) => {
      const args = ['bud', ...buildFlags(spec, iidFile), ...cacheArgs(spec), ...accessArgs(access), spec.context];
      const result = await exec('buildah', args, { ...io, env: toolEnv(access, io) });
      if (result.code !== 0) throw toolFailure('buildah bud', result);
    });
  }

  push(localRef: string, destination: string, access: RegistryAccess, io: ToolIo): Promise<string> {
    return withOutputFile(async (digestFile) => {
      const args = ['push', '--digestfile', digestFile, ...accessArgs(access), localRef, `docker://${destination}`];
      const result = await exec('buildah', args, { ...io, env: toolEnv(access, io) });
      if (result.code !== 0) throw toolFailure(`buildah push to ${destination}`, result);
    });
  }
}
