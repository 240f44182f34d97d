import type { InputDeclaration } from './declaration.js';

/**
 * The registry sign-in inputs every task that pushes to an OCI registry shares; read them with
 * readGivenCredentials (registry-credentials.ts) so they mean the same everywhere.
 */
export function registryInputs(group: string): InputDeclaration[] {
  return [
    {
      name: 'containerRegistry',
      label: 'Docker registry service connection',
      description: 'Service connection with the registry credentials; the alternative to username and password.',
      type: 'connection',
      connectionType: 'dockerregistry',
      platforms: ['azure'],
      group,
    },
    {
      name: 'username',
      label: 'Registry username',
      description: 'User name for the registry.',
      type: 'string',
      group,
    },
    {
      name: 'password',
      label: 'Registry password',
      description: 'Password or token for the registry. Pass it from a secret; it is masked and never put on a command line.',
      type: 'string',
      secret: true,
      group,
    },
    {
      name: 'insecureRegistry',
      label: 'Insecure registry',
      description: 'Allow plain HTTP or an unverified certificate, for this registry only.',
      type: 'boolean',
      default: 'false',
      group,
    },
  ];
}
