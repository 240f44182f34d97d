import { UserError } from '../util/errors.js';
import { exec } from '../util/exec.js';
import { toolFailure } from './failure.js';
import { withOutputFile } from './output-file.js';
import { buildFlags, type Builder, type BuildSpec, type RegistryAccess, type ToolIo } from './builder.js';

function dockerEnv(access: RegistryAccess, io: ToolIo): NodeJS.ProcessEnv {
  const env = { ...(io.env ?? process.env) };
  if (access.dockerConfigDir) env.DOCKER_CONFIG = access.dockerConfigDir;
  return env;
}

/** BuildKit's registry cache; exporting it needs a buildx builder other than the default docker driver. */
function cacheArgs(spec: BuildSpec): string[] {
  return [
    ...(spec.cacheFrom ? ['--cache-from', `type=registry,ref=${spec.cacheFrom}`] : []),
    ...(spec.cacheTo ? ['--cache-to', `type=registry,ref=${spec.cacheTo},mode=max`] : []),
  ];
}

/** Builds through a Docker daemon: docker build (BuildKit) and docker push. */
export class DockerBuilder implements Builder {
  readonly name = 'docker' as const;

  build(spec: BuildSpec, access: RegistryAccess, io: ToolIo): Promise<string> {
    return withOutputFile(async (iidFile) => {
      const args = ['build', ...buildFlags(spec, iidFile), ...cacheArgs(spec), spec.context];
      const result = await exec('docker', args, { ...io, env: dockerEnv(access, io) });
      if (result.code !== 0) throw toolFailure('docker build', result);
    });
  }

  async push(localRef: string, destination: string, access: RegistryAccess, io: ToolIo): Promise<string> {
    const env = dockerEnv(access, io);
    if (localRef !== destination) {
      const tagged = await exec('docker', ['tag', localRef, destination], { ...io, env });
      if (tagged.code !== 0) throw toolFailure('docker tag', tagged);
    }
    const result = await exec('docker', ['push', destination], { ...io, env });
    if (result.code !== 0) throw toolFailure(`docker push ${destination}`, result);
    const digest = /digest: (sha256:[a-f0-9]{64})/.exec(result.stdout)?.[1];
    if (!digest) throw new UserError(`docker push ${destination} did not report a digest`);
    return digest;
  }
}
