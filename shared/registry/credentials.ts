export interface RegistryCredentials {
  username: string;
  password: string;
}

/** The auths document that buildah (auth.json) and docker (config.json) both read. */
export function authDocument(registry: string, credentials: RegistryCredentials): string {
  const auth = Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
  return JSON.stringify({ auths: { [registry]: { auth } } });
}
