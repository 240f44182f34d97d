import { InputError } from '../../util/errors.js';
import type { InputReader } from '../../platform/inputs.js';
import type { Platform } from '../../platform/platform.js';
import type { RegistryCredentials } from '../../registry/credentials.js';
import { parseImageName, type ImageName } from '../../registry/reference.js';
import { readGivenCredentials, type CredentialChoice } from '../registry-credentials.js';

export interface OciInputs {
  repository: ImageName;
  modelcarBase?: string;
  /** Credentials given outright: inputs or a Docker registry service connection. */
  credentials?: RegistryCredentials;
  credentialsSource: string;
  insecure: boolean;
}

function credentialsFrom(given: CredentialChoice): Pick<OciInputs, 'credentials' | 'credentialsSource'> {
  return { credentials: given.credentials, credentialsSource: given.source };
}

/** The inputs of registry `oci`. */
export function readOciInputs(inputs: InputReader, platform: Platform): OciInputs {
  const value = inputs.string('ociRepository');
  if (!value) throw new InputError('ociRepository', 'is required with registry oci: give the repository to push the model to');
  const repository = parseImageName(value);
  if (typeof repository === 'string') throw new InputError('ociRepository', repository);
  const modelcar = inputs.boolean('ociModelcar');
  const modelcarBase = inputs.string('ociModelcarBase');
  if (modelcar && !modelcarBase) throw new InputError('ociModelcarBase', 'is required with ociModelcar: true: give the image the modelcar is built on');
  if (!modelcar && modelcarBase) throw new InputError('ociModelcarBase', 'is set but ociModelcar is false: set ociModelcar to true, or leave ociModelcarBase empty');
  return {
    repository,
    modelcarBase: modelcar ? modelcarBase : undefined,
    ...credentialsFrom(readGivenCredentials(inputs, platform, repository.registry)),
    insecure: inputs.boolean('insecureRegistry'),
  };
}
