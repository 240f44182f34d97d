import { isMap, parseDocument, stringify } from 'yaml';
import type { ServiceConnection } from '../platform/platform.js';
import { InputError } from '../util/errors.js';

/**
 * The kubeconfig an Azure DevOps `kubernetes` service connection stands for, as the
 * KubernetesManifest and Kubernetes tasks build it:
 * - data.authorizationType Kubeconfig (scheme Kubernetes): authorization parameter `kubeconfig`,
 *   with `clusterContext` (when set) made the current context;
 * - ServiceAccount (scheme Token), and AzureSubscription (for which Azure DevOps keeps a
 *   service-account token too): the endpoint URL, `apiToken` (base64, as the secret's data.token)
 *   and `serviceAccountCertificate` (base64 PEM, as the secret's data.ca.crt).
 * data.acceptUntrustedCerts=true turns certificate checks off, as those tasks do.
 * The returned kubeconfig holds the decoded token: register kubeconfigSecrets() of it as secrets.
 */
export function kubeconfigFromServiceConnection(connection: ServiceConnection, input = 'kubernetesServiceConnection'): string {
  const parameter = (name: string) => lookup(connection.parameters, name);
  const data = (name: string) => lookup(connection.data, name);
  const scheme = connection.scheme.toLowerCase();
  const authorizationType =
    data('authorizationType') ??
    parameter('authorizationType') ??
    (scheme === 'token' ? 'ServiceAccount' : scheme === 'kubernetes' || parameter('kubeconfig') ? 'Kubeconfig' : undefined);
  const insecure = /^true$/i.test(data('acceptUntrustedCerts') ?? '');

  switch (authorizationType?.toLowerCase()) {
    case 'kubeconfig': {
      const kubeconfig = parameter('kubeconfig');
      if (!kubeconfig?.trim()) throw new InputError(input, 'is a Kubeconfig connection without a kubeconfig');
      const clusterContext = parameter('clusterContext') ?? data('clusterContext');
      if (!clusterContext && !insecure) return kubeconfig;
      const document = parseDocument(kubeconfig);
      if (document.errors.length || !isMap(document.contents)) {
        throw new InputError(input, 'holds a kubeconfig that does not parse as a YAML mapping');
      }
      if (clusterContext) document.set('current-context', clusterContext);
      if (insecure) markInsecure(document.toJS() as KubeconfigShape, document);
      return document.toString();
    }
    case 'serviceaccount':
    case 'azuresubscription': {
      const server = connection.url.trim();
      if (!/^https?:\/\/\S+$/i.test(server)) throw new InputError(input, 'has no server URL (expected https://...)');
      const apiToken = parameter('apiToken');
      if (!apiToken?.trim()) {
        throw new InputError(input, `is a ${authorizationType} connection without a service-account token (apiToken); use a Kubeconfig or Service Account connection`);
      }
      const token = decodeToken(apiToken.trim(), input);
      const certificate = parameter('serviceAccountCertificate')?.trim();
      const cluster: Record<string, unknown> = { server };
      if (insecure) cluster['insecure-skip-tls-verify'] = true;
      else if (certificate) cluster['certificate-authority-data'] = certificateData(certificate, input);
      return stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'service-connection', cluster }],
        users: [{ name: 'service-account', user: { token } }],
        contexts: [{ name: 'service-connection', context: { cluster: 'service-connection', user: 'service-account' } }],
        'current-context': 'service-connection',
      });
    }
    default:
      throw new InputError(
        input,
        `has authorization type '${authorizationType ?? 'none'}'; supported are Kubeconfig, ServiceAccount and AzureSubscription`,
      );
  }
}

interface KubeconfigShape {
  'current-context'?: string;
  contexts?: { name?: string; context?: { cluster?: string } }[];
  clusters?: { name?: string }[];
}

/** Sets insecure-skip-tls-verify on the current context's cluster. */
function markInsecure(config: KubeconfigShape, document: ReturnType<typeof parseDocument>): void {
  const current = config.contexts?.find((context) => context.name === config['current-context']);
  const index = config.clusters?.findIndex((cluster) => cluster.name === current?.context?.cluster) ?? -1;
  if (index >= 0) document.setIn(['clusters', index, 'cluster', 'insecure-skip-tls-verify'], true);
}

/** Azure DevOps keys are case-insensitive: the agent upper-cases them, the JSON keeps their case. */
function lookup(record: Record<string, string>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(record)) {
    if (key.toLowerCase() === wanted && value !== '') return value;
  }
  return undefined;
}

/** apiToken is the secret's base64 data.token; a raw JWT (three dot-separated parts) is taken as it is. */
function decodeToken(value: string, input: string): string {
  if (/^[\w-]+\.[\w-]+\.[\w-]*$/.test(value)) return value;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) throw new InputError(input, 'has an apiToken that is neither base64 nor a JWT');
  const token = Buffer.from(value, 'base64').toString('utf8').trim();
  if (!token || /[^\x21-\x7e]/.test(token)) throw new InputError(input, 'has an apiToken that does not decode to a token');
  return token;
}

/** serviceAccountCertificate is base64 PEM (the secret's data.ca.crt); a pasted PEM is accepted too. */
function certificateData(value: string, input: string): string {
  if (value.includes('-----BEGIN CERTIFICATE-----')) return Buffer.from(`${value.replace(/\r\n/g, '\n').trim()}\n`).toString('base64');
  const compact = value.replace(/\s+/g, '');
  const pem = /^[A-Za-z0-9+/]+={0,2}$/.test(compact) ? Buffer.from(compact, 'base64').toString('utf8') : '';
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new InputError(input, 'has a serviceAccountCertificate that is not a base64 PEM certificate');
  }
  return compact;
}
