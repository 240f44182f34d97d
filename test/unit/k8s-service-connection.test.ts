import { parse, stringify } from 'yaml';
import { kubeconfigSecrets, loadKubeConfig } from '../../shared/k8s/kubeconfig.js';
import { kubeconfigFromServiceConnection } from '../../shared/k8s/port-forward.js';
import type { ServiceConnection } from '../../shared/platform/platform.js';
import { InputError } from '../../shared/util/errors.js';

const TOKEN = 'eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6Y2k6Ym90In0.c2lnbmF0dXJl';
const CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUSGVsbG8tdGVzdC1jYQ==\n-----END CERTIFICATE-----\n';
const base64 = (text: string) => Buffer.from(text).toString('base64');

const KUBECONFIG = stringify({
  apiVersion: 'v1',
  kind: 'Config',
  clusters: [
    { name: 'dev', cluster: { server: 'https://dev.example.com:6443', 'certificate-authority-data': base64(CA_PEM) } },
    { name: 'prod', cluster: { server: 'https://prod.example.com:6443', 'certificate-authority-data': base64(CA_PEM) } },
  ],
  users: [{ name: 'ci', user: { token: TOKEN } }],
  contexts: [
    { name: 'dev', context: { cluster: 'dev', user: 'ci' } },
    { name: 'prod', context: { cluster: 'prod', user: 'ci' } },
  ],
  'current-context': 'dev',
});

function connection(overrides: Partial<ServiceConnection>): ServiceConnection {
  return { id: '2f3c1e0a-9d7b-4c55-8a61-0e4b1c2d3e4f', url: '', scheme: '', parameters: {}, data: {}, ...overrides };
}

function failure(value: ServiceConnection): InputError {
  try {
    kubeconfigFromServiceConnection(value);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).not.toContain(TOKEN);
    expect((error as Error).message).not.toContain(base64(TOKEN));
    return error as InputError;
  }
  throw new Error('kubeconfigFromServiceConnection accepted the connection');
}

describe('kubeconfigFromServiceConnection: Kubeconfig connections', () => {
  test('the kubeconfig as it is when no cluster context is chosen', () => {
    const result = kubeconfigFromServiceConnection(
      connection({ scheme: 'Kubernetes', parameters: { kubeconfig: KUBECONFIG }, data: { authorizationType: 'Kubeconfig' } }),
    );
    expect(result).toBe(KUBECONFIG);
  });

  test('clusterContext (an authorization parameter) becomes the current context', async () => {
    const result = kubeconfigFromServiceConnection(
      connection({ scheme: 'Kubernetes', parameters: { kubeconfig: KUBECONFIG, clusterContext: 'prod' }, data: { authorizationType: 'Kubeconfig' } }),
    );
    const loaded = await loadKubeConfig(result, 'kubernetesServiceConnection');
    expect(loaded.context).toBe('prod');
    expect(loaded.server).toBe('https://prod.example.com:6443');
  });

  test('keys as the agent passes them (upper-cased variables, read back lower-cased), context in data', async () => {
    const result = kubeconfigFromServiceConnection(
      connection({ scheme: 'Kubernetes', parameters: { kubeconfig: KUBECONFIG }, data: { authorizationtype: 'Kubeconfig', clustercontext: 'prod' } }),
    );
    expect((await loadKubeConfig(result)).context).toBe('prod');
  });

  test('acceptUntrustedCerts turns certificate checks off for the current cluster only', () => {
    const result = parse(
      kubeconfigFromServiceConnection(
        connection({
          scheme: 'Kubernetes',
          parameters: { kubeconfig: KUBECONFIG, clusterContext: 'prod' },
          data: { authorizationType: 'Kubeconfig', acceptUntrustedCerts: 'true' },
        }),
      ),
    ) as { clusters: { name: string; cluster: Record<string, unknown> }[] };
    expect(result.clusters.map((cluster) => [cluster.name, cluster.cluster['insecure-skip-tls-verify']])).toEqual([
      ['dev', undefined],
      ['prod', true],
    ]);
  });

  test('the scheme alone says Kubeconfig when data has no authorizationType', () => {
    expect(kubeconfigFromServiceConnection(connection({ scheme: 'Kubernetes', parameters: { kubeconfig: KUBECONFIG } }))).toBe(KUBECONFIG);
  });

  test('a connection without a kubeconfig, or with one that does not parse', () => {
    expect(failure(connection({ scheme: 'Kubernetes', data: { authorizationType: 'Kubeconfig' } })).message).toBe(
      "input 'kubernetesServiceConnection': is a Kubeconfig connection without a kubeconfig",
    );
    const broken = connection({ scheme: 'Kubernetes', parameters: { kubeconfig: `users: [\n token: ${TOKEN}`, clusterContext: 'prod' }, data: { authorizationType: 'Kubeconfig' } });
    expect(failure(broken).message).toBe("input 'kubernetesServiceConnection': holds a kubeconfig that does not parse as a YAML mapping");
  });
});

describe('kubeconfigFromServiceConnection: ServiceAccount and AzureSubscription connections', () => {
  const serviceAccount = (parameters: Record<string, string>, data: Record<string, string> = { authorizationType: 'ServiceAccount' }) =>
    connection({ url: 'https://aks-dns-1234.hcp.westeurope.azmk8s.io:443', scheme: 'Token', parameters, data });

  test('server, token decoded from base64 and the CA from serviceAccountCertificate', async () => {
    const result = kubeconfigFromServiceConnection(
      serviceAccount({ apiToken: base64(TOKEN), serviceAccountCertificate: base64(CA_PEM), isCreatedFromSecretYaml: 'true' }),
    );
    const loaded = await loadKubeConfig(result, 'kubernetesServiceConnection');
    expect(loaded.server).toBe('https://aks-dns-1234.hcp.westeurope.azmk8s.io:443');
    expect(loaded.kc.getCurrentUser()?.token).toBe(TOKEN);
    expect(Buffer.from(loaded.kc.getCurrentCluster()?.caData ?? '', 'base64').toString()).toBe(CA_PEM);
    expect(loaded.kc.getCurrentCluster()?.skipTLSVerify).toBe(false);
    // The decoded token is what the caller must mask: the runner only knows the base64 one.
    expect(kubeconfigSecrets(result)).toEqual([TOKEN]);
  });

  test('lower-cased keys, a token pasted as a JWT and a certificate pasted as PEM', async () => {
    const result = kubeconfigFromServiceConnection(serviceAccount({ apitoken: TOKEN, serviceaccountcertificate: CA_PEM }, { authorizationtype: 'ServiceAccount' }));
    const loaded = await loadKubeConfig(result);
    expect(loaded.kc.getCurrentUser()?.token).toBe(TOKEN);
    expect(Buffer.from(loaded.kc.getCurrentCluster()?.caData ?? '', 'base64').toString()).toBe(CA_PEM);
  });

  test('the Token scheme alone means ServiceAccount; acceptUntrustedCerts skips the CA', async () => {
    const result = kubeconfigFromServiceConnection(
      connection({ url: 'https://10.0.0.1:6443', scheme: 'Token', parameters: { apiToken: base64(TOKEN) }, data: { acceptUntrustedCerts: 'true' } }),
    );
    const cluster = (await loadKubeConfig(result)).kc.getCurrentCluster();
    expect(cluster?.skipTLSVerify).toBe(true);
    expect(cluster?.caData).toBeUndefined();
  });

  test('AzureSubscription connections carry a service-account token the same way', async () => {
    const result = kubeconfigFromServiceConnection(
      serviceAccount(
        { apiToken: base64(TOKEN), serviceAccountCertificate: base64(CA_PEM) },
        { authorizationType: 'AzureSubscription', azureSubscriptionEndpoint: 'arm-connection', clusterId: '/subscriptions/x/resourceGroups/y/providers/Microsoft.ContainerService/managedClusters/z' },
      ),
    );
    expect((await loadKubeConfig(result)).kc.getCurrentUser()?.token).toBe(TOKEN);
  });

  test.each<[string, ServiceConnection, string]>([
    [
      'no token',
      connection({ url: 'https://10.0.0.1:6443', scheme: 'None', data: { authorizationType: 'AzureSubscription' } }),
      "input 'kubernetesServiceConnection': is a AzureSubscription connection without a service-account token (apiToken); use a Kubeconfig or Service Account connection",
    ],
    [
      'no server URL',
      connection({ scheme: 'Token', parameters: { apiToken: base64(TOKEN) }, data: { authorizationType: 'ServiceAccount' } }),
      "input 'kubernetesServiceConnection': has no server URL (expected https://...)",
    ],
    [
      'a token that is not base64',
      connection({ url: 'https://10.0.0.1:6443', scheme: 'Token', parameters: { apiToken: `${TOKEN} with spaces` } }),
      "input 'kubernetesServiceConnection': has an apiToken that is neither base64 nor a JWT",
    ],
    [
      'a token that decodes to binary',
      connection({ url: 'https://10.0.0.1:6443', scheme: 'Token', parameters: { apiToken: Buffer.from([0, 1, 2, 250, 251]).toString('base64') } }),
      "input 'kubernetesServiceConnection': has an apiToken that does not decode to a token",
    ],
    [
      'a certificate that is not PEM',
      connection({ url: 'https://10.0.0.1:6443', scheme: 'Token', parameters: { apiToken: base64(TOKEN), serviceAccountCertificate: base64('not a certificate') } }),
      "input 'kubernetesServiceConnection': has a serviceAccountCertificate that is not a base64 PEM certificate",
    ],
    [
      'an authorization type we do not know',
      connection({ url: 'https://10.0.0.1:6443', scheme: 'UsernamePassword', data: { authorizationType: 'Basic' } }),
      "input 'kubernetesServiceConnection': has authorization type 'Basic'; supported are Kubeconfig, ServiceAccount and AzureSubscription",
    ],
    [
      'no authorization type at all',
      connection({ url: 'https://10.0.0.1:6443', scheme: 'None' }),
      "input 'kubernetesServiceConnection': has authorization type 'none'; supported are Kubeconfig, ServiceAccount and AzureSubscription",
    ],
  ])('%s', (_name, value, message) => {
    expect(failure(value).message).toBe(message);
  });
});
