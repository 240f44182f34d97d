import { stringify } from 'yaml';
import { kubeconfigSecrets, loadKubeConfig } from '../../shared/k8s/kubeconfig.js';
import { openPortForward } from '../../shared/k8s/port-forward.js';
import { InputError } from '../../shared/util/errors.js';

const TOKEN = 'kube-token-0123456789abcdef';
const KEY_DATA = Buffer.from('-----BEGIN PRIVATE KEY-----\nnot-a-real-key\n-----END PRIVATE KEY-----\n').toString('base64');

function config(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'aks', cluster: { server: 'https://aks-dns-1234.hcp.westeurope.azmk8s.io:443', 'certificate-authority-data': 'Q0E=' } }],
    users: [{ name: 'ci', user: { token: TOKEN } }],
    contexts: [{ name: 'aks', context: { cluster: 'aks', user: 'ci', namespace: 'kubeflow' } }],
    'current-context': 'aks',
    ...overrides,
  };
}

/** The InputError loadKubeConfig throws for a content; asserts it is one line without the token. */
async function problem(content: string, input?: string): Promise<string> {
  const error = await loadKubeConfig(content, input).then(
    () => {
      throw new Error('loadKubeConfig accepted the content');
    },
    (caught: Error) => caught,
  );
  expect(error).toBeInstanceOf(InputError);
  expect(error.message).not.toContain(TOKEN);
  expect(error.message).not.toContain(KEY_DATA);
  expect(error.message).not.toMatch(/[\r\n]/);
  return error.message;
}

describe('loadKubeConfig', () => {
  test('loads a kubeconfig and reports its current cluster', async () => {
    const loaded = await loadKubeConfig(stringify(config()));
    expect(loaded.server).toBe('https://aks-dns-1234.hcp.westeurope.azmk8s.io:443');
    expect(loaded.context).toBe('aks');
    expect(loaded.input).toBe('kubeconfig');
    expect(loaded.kc.getCurrentUser()?.token).toBe(TOKEN);
    expect(loaded.redact(`Bearer ${TOKEN}`)).toBe('Bearer ***');
  });

  test('JSON is YAML too, and a server path prefix is kept without its trailing slash', async () => {
    const content = JSON.stringify(config({ clusters: [{ name: 'aks', cluster: { server: 'https://rancher.example.com/k8s/clusters/c-m-x7/' } }] }));
    expect((await loadKubeConfig(content)).server).toBe('https://rancher.example.com/k8s/clusters/c-m-x7');
  });

  test.each([
    ['', "input 'kubeconfig': is empty; give the content of a kubeconfig file"],
    ['  \n ', "input 'kubeconfig': is empty; give the content of a kubeconfig file"],
    ['~/.kube/config', "input 'kubeconfig': is a single word, not a kubeconfig: give the content of the file, not its path"],
    ['- a\n- b\n', "input 'kubeconfig': is not a kubeconfig: expected a YAML mapping with clusters, contexts, users and current-context"],
    ['just some words', "input 'kubeconfig': is not a kubeconfig: expected a YAML mapping with clusters, contexts, users and current-context"],
  ])('%j is refused', async (content, message) => {
    expect(await problem(content)).toBe(message);
  });

  test('YAML that does not parse: where, but not the text (it may hold a token)', async () => {
    const message = await problem(`apiVersion: v1\nusers:\n- name: ci\n  user:\n    token: ${TOKEN}\n   bad: [\n`);
    expect(message).toMatch(/^input 'kubeconfig': does not parse as YAML \([A-Z_]+ at line \d+, column \d+\)$/);
  });

  test('duplicate keys do not parse either', async () => {
    expect(await problem(`${stringify(config())}current-context: other\n`)).toMatch(/^input 'kubeconfig': does not parse as YAML \(DUPLICATE_KEY/);
  });

  test('entries client-node refuses', async () => {
    const noServer = config({ clusters: [{ name: 'aks', cluster: { 'certificate-authority-data': 'Q0E=' } }] });
    expect(await problem(stringify(noServer))).toBe("input 'kubeconfig': is not a valid kubeconfig: clusters[0].cluster.server is missing");
    const noUserName = config({ users: [{ user: { token: TOKEN, 'client-key-data': KEY_DATA } }] });
    expect(await problem(stringify(noUserName))).toBe("input 'kubeconfig': is not a valid kubeconfig: users[0].name is missing");
  });

  test('no current context, or one that leads nowhere', async () => {
    const { ['current-context']: _omitted, ...noCurrent } = config();
    expect(await problem(stringify(noCurrent))).toBe("input 'kubeconfig': has no current-context (contexts: aks)");
    expect(await problem(stringify(config({ contexts: [], 'current-context': '' })))).toBe("input 'kubeconfig': has no current-context (contexts: none)");
    expect(await problem(stringify(config({ 'current-context': 'prod' })))).toBe("input 'kubeconfig': current-context 'prod' is not among its contexts (aks)");
    expect(await problem(stringify(config({ contexts: [{ name: 'aks', context: { cluster: 'gke', user: 'ci' } }] })))).toBe(
      "input 'kubeconfig': context 'aks' names cluster 'gke', which is not among its clusters (aks)",
    );
    expect(await problem(stringify(config({ contexts: [{ name: 'aks', context: { cluster: 'aks', user: 'admin' } }] })))).toBe(
      "input 'kubeconfig': context 'aks' names user 'admin', which is not among its users",
    );
  });

  test('a server that is not an http(s) URL', async () => {
    expect(await problem(stringify(config({ clusters: [{ name: 'aks', cluster: { server: 'aks-dns-1234:443' } }] })))).toBe(
      "input 'kubeconfig': cluster 'aks' has a server that is not an http(s) URL (scheme aks-dns-1234:)",
    );
    expect(await problem(stringify(config({ clusters: [{ name: 'aks', cluster: { server: 'not a url' } }] })))).toBe(
      "input 'kubeconfig': cluster 'aks' has a server that is not a URL",
    );
  });

  test('errors name the input the kubeconfig came from', async () => {
    expect(await problem('', 'kubernetesServiceConnection')).toBe("input 'kubernetesServiceConnection': is empty; give the content of a kubeconfig file");
  });
});

describe('kubeconfigSecrets', () => {
  test('finds tokens, passwords, client keys, auth-provider secrets and exec env values', () => {
    const content = stringify(
      config({
        users: [
          { name: 'ci', user: { token: TOKEN } },
          { name: 'basic', user: { username: 'admin', password: 'basic-password-1' } },
          { name: 'cert', user: { 'client-certificate-data': 'Q0VSVA==', 'client-key-data': KEY_DATA } },
          { name: 'oidc', user: { 'auth-provider': { name: 'oidc', config: { 'client-secret': 'oidc-client-secret', 'id-token': 'oidc-id-token', 'refresh-token': 'oidc-refresh' } } } },
          { name: 'exec', user: { exec: { command: 'kubelogin', apiVersion: 'client.authentication.k8s.io/v1beta1', env: [{ name: 'AAD_SERVICE_PRINCIPAL_CLIENT_SECRET', value: 'spn-secret-value' }] } } },
        ],
      }),
    );
    expect(kubeconfigSecrets(content).sort()).toEqual(
      [TOKEN, 'basic-password-1', KEY_DATA, 'oidc-client-secret', 'oidc-id-token', 'oidc-refresh', 'spn-secret-value'].sort(),
    );
  });

  test('nothing for content that does not parse', () => {
    expect(kubeconfigSecrets('users: [')).toEqual([]);
  });
});

describe('openPortForward refuses bad input before any network call', () => {
  const target = { namespace: 'kubeflow', service: 'ml-pipeline', port: 8888 };

  test('a kubeconfig that does not parse', async () => {
    const error = await openPortForward({ kubeconfig: 'clusters: [', target }).catch((caught: Error) => caught);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).input).toBe('kubeconfig');
  });

  test('a target that is not valid, whatever the kubeconfig', async () => {
    const error = await openPortForward({ kubeconfig: '', target: { ...target, port: 70000 } }).catch((caught: Error) => caught);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toBe("input 'portForward': port 70000 is not a number from 1 to 65535");
  });
});
