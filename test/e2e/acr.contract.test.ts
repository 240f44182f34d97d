import { makeTestCa, type TestCa } from '../helpers/ca.js';
import { startFakeAcr, ACR_REFRESH_TOKEN_USER, type FakeAcr } from '../helpers/fake-acr.js';
import { startFakeEntra, CLIENT_ASSERTION_TYPE_JWT_BEARER, type FakeEntra } from '../helpers/fake-entra.js';
import { startFakeAzurePipelinesOidc, startFakeGithubOidc, type FakeAzurePipelinesOidc, type FakeGithubOidc } from '../helpers/fake-github-oidc.js';
import { nodeBinaries } from '../helpers/paths.js';
import { errorLines, runBundle, type BundleRun, type RunnerKind } from '../helpers/run-bundle.js';
import { skopeoInspect } from '../helpers/skopeo.js';
import { buildEnv, sampleContext } from '../helpers/tools.js';

// Contract test of Azure Container Registry sign-in without a registry password: a fake Entra
// token endpoint, the runners' OIDC endpoints and a fake ACR exchange in front of the REAL
// distribution registry (token auth), each checking the exact requests the flow must send.

const TASK = { taskName: 'BuildMLImage', actionName: 'build-ml-image' };
const CLIENT_SECRET = 'Entra-Client-Secret-42';
const ARM_SCOPE = 'https://management.azure.com/.default';
const SERVICE_CONNECTION = '0d6f2b8e-3c1a-4e5f-9a7b-8c9d0e1f2a3b';
const node = nodeBinaries().at(-1)!.path;

let ca: TestCa;
let entra: FakeEntra;
let githubOidc: FakeGithubOidc;
let pipelinesOidc: FakeAzurePipelinesOidc;
let acr: FakeAcr;

beforeAll(async () => {
  ca = makeTestCa();
  githubOidc = await startFakeGithubOidc();
  pipelinesOidc = await startFakeAzurePipelinesOidc({ ca, serviceConnectionId: SERVICE_CONNECTION });
  entra = await startFakeEntra({
    ca,
    clientSecret: CLIENT_SECRET,
    validateAssertion: (assertion) => (githubOidc.checkAssertion(assertion) === null || pipelinesOidc.checkAssertion(assertion) === null ? null : 'not a runner OIDC token'),
  });
  acr = await startFakeAcr({ ca, entra });
});
afterAll(async () => {
  await Promise.all([acr?.stop(), entra?.stop(), githubOidc?.stop(), pipelinesOidc?.stop()]);
});

/** Environment of the step: the test CA trusted by Node (for @azure/identity), as on an agent with a corporate CA. */
function stepEnv(extra: Record<string, string> = {}): Record<string, string> {
  return buildEnv({ NODE_EXTRA_CA_CERTS: ca.caCertFile, ...extra });
}

function armConnection(scheme: string, parameters: Record<string, string>): Record<string, string> {
  const key = SERVICE_CONNECTION.toUpperCase();
  return {
    [`ENDPOINT_URL_${key}`]: 'https://management.azure.com/',
    [`ENDPOINT_AUTH_${key}`]: JSON.stringify({ scheme, parameters: { tenantid: entra.tenantId, serviceprincipalid: entra.clientId, ...parameters } }),
    [`ENDPOINT_DATA_${key}_ENVIRONMENTAUTHORITYURL`]: entra.authorityHost,
    [`ENDPOINT_DATA_${key}_SUBSCRIPTIONID`]: '11111111-2222-3333-4444-555555555555',
  };
}

function visible(run: BundleRun): string {
  return run.stdout.split('\n').filter((line) => !/^(::add-mask::|##vso\[task\.setsecret\])/.test(line)).join('\n') + run.stderr;
}

/** The exchange and the pushed image, checked against what the fakes recorded. */
async function expectPushedThroughExchange(run: BundleRun, kind: RunnerKind, repository: string, exchangesBefore: number) {
  expect(errorLines(run, kind)).toEqual([]);
  expect(run.code).toBe(0);
  const exchanges = acr.exchangeRequests().slice(exchangesBefore);
  expect(exchanges).toHaveLength(1);
  expect(exchanges[0]!.method).toBe('POST');
  expect(exchanges[0]!.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
  expect(Object.keys(exchanges[0]!.form).sort()).toEqual(['access_token', 'grant_type', 'service', 'tenant']);
  expect(exchanges[0]!.form).toMatchObject({ grant_type: 'access_token', service: acr.host, tenant: entra.tenantId });
  expect(entra.isIssued(exchanges[0]!.form.access_token!)).toBe(true);
  const refreshToken = acr.refreshTokens.at(-1)!.token;
  expect(visible(run)).not.toContain(refreshToken);
  expect(visible(run)).not.toContain(exchanges[0]!.form.access_token!);
  const inspected = await skopeoInspect(`${acr.host}/${repository}:acr`, { tlsVerify: true, certDir: acr.certDir, creds: `${ACR_REFRESH_TOKEN_USER}:${refreshToken}` });
  expect(run.outputs.digest).toBe(inspected.Digest);
}

const build = (kind: RunnerKind, repository: string, inputs: Record<string, string>, env: Record<string, string>) =>
  runBundle({ ...TASK, kind, node, env: stepEnv(env), inputs: { image: `${acr.host}/${repository}`, context: sampleContext(), tags: 'acr', caCertFile: ca.caCertFile, ...inputs } });

describe('ACR sign-in contract: GitHub bundle', () => {
  test('workload identity federation: the job OIDC token is the client assertion, exchanged for an ACR refresh token', async () => {
    const before = { exchanges: acr.exchangeRequests().length, entra: entra.tokenRequests().length, oidc: githubOidc.requests.length };
    const run = await build('github', 'ml/federated', { azureClientId: entra.clientId, azureTenantId: entra.tenantId }, {
      ...githubOidc.env,
      AZURE_AUTHORITY_HOST: entra.authorityHost,
    });
    await expectPushedThroughExchange(run, 'github', 'ml/federated', before.exchanges);
    const oidcRequests = githubOidc.requests.slice(before.oidc);
    expect(oidcRequests.length).toBeGreaterThan(0);
    expect(oidcRequests[0]!.query.audience).toBe('api://AzureADTokenExchange');
    expect(oidcRequests[0]!.bearer).toBe(githubOidc.requestToken);
    const tokenRequest = entra.tokenRequests().slice(before.entra).at(-1)!;
    expect(tokenRequest.form).toMatchObject({ grant_type: 'client_credentials', client_id: entra.clientId, scope: ARM_SCOPE, client_assertion_type: CLIENT_ASSERTION_TYPE_JWT_BEARER });
    expect(githubOidc.issued.map((token) => token.token)).toContain(tokenRequest.form.client_assertion);
    expect(tokenRequest.form.client_secret).toBeUndefined();
  });

  test('client secret: the secret goes to Entra only and never to the log', async () => {
    const before = { exchanges: acr.exchangeRequests().length, entra: entra.tokenRequests().length };
    const run = await build('github', 'ml/secret', { azureClientId: entra.clientId, azureTenantId: entra.tenantId, azureClientSecret: CLIENT_SECRET }, {
      AZURE_AUTHORITY_HOST: entra.authorityHost,
    });
    await expectPushedThroughExchange(run, 'github', 'ml/secret', before.exchanges);
    expect(entra.tokenRequests().slice(before.entra).at(-1)!.form).toMatchObject({ client_id: entra.clientId, client_secret: CLIENT_SECRET, scope: ARM_SCOPE });
    expect(visible(run)).not.toContain(CLIENT_SECRET);
  });

  test('federation without the id-token permission says exactly that', async () => {
    const run = await build('github', 'ml/no-oidc', { azureClientId: entra.clientId, azureTenantId: entra.tenantId }, { AZURE_AUTHORITY_HOST: entra.authorityHost });
    expect(run.code).toBe(1);
    expect(errorLines(run, 'github')).toEqual([
      "BuildMLImage: workload identity federation needs the job's OIDC token and this job has none: add 'permissions: id-token: write' to the job",
    ]);
  });

  test('a tenant id that is not a GUID is an input error, before any request', async () => {
    const before = entra.requests.length;
    const run = await build('github', 'ml/bad-tenant', { azureClientId: entra.clientId, azureTenantId: 'contoso.onmicrosoft' }, githubOidc.env);
    expect(errorLines(run, 'github')).toEqual(["BuildMLImage: input 'azureTenantId': 'contoso.onmicrosoft' is not a GUID: give the directory (tenant) id"]);
    expect(entra.requests.length).toBe(before);
  });

  test('a registry that refuses the token exchange is named, with what to check', async () => {
    acr.refuseExchange(true);
    try {
      const run = await build('github', 'ml/refused', { azureClientId: entra.clientId, azureTenantId: entra.tenantId, azureClientSecret: CLIENT_SECRET }, {
        AZURE_AUTHORITY_HOST: entra.authorityHost,
      });
      expect(run.code).toBe(1);
      expect(errorLines(run, 'github')).toEqual([
        `BuildMLImage: registry ${acr.host} refused the Azure token exchange (HTTP 401): check that the identity has the AcrPush role on it`,
      ]);
      expect(visible(run)).not.toContain(CLIENT_SECRET);
    } finally {
      acr.refuseExchange(false);
    }
  });

  test('a wrong client secret is reported as Entra refusing the credential, without the secret', async () => {
    const run = await build('github', 'ml/wrong-secret', { azureClientId: entra.clientId, azureTenantId: entra.tenantId, azureClientSecret: 'Not-The-Secret-99' }, {
      AZURE_AUTHORITY_HOST: entra.authorityHost,
    });
    expect(run.code).toBe(1);
    expect(errorLines(run, 'github')).toEqual([expect.stringMatching(/^BuildMLImage: Microsoft Entra ID refused the secret credential from inputs 'azureClientId' and 'azureClientSecret': .*AADSTS7000215/)]);
    expect(visible(run)).not.toContain('Not-The-Secret-99');
  });
});

describe('ACR sign-in contract: Azure DevOps bundle', () => {
  test('an Azure Resource Manager connection with a service principal secret', async () => {
    const before = { exchanges: acr.exchangeRequests().length, entra: entra.tokenRequests().length };
    const run = await build('azure', 'ml/ado-spn', { azureSubscription: SERVICE_CONNECTION }, armConnection('ServicePrincipal', { authenticationType: 'spnKey', serviceprincipalkey: CLIENT_SECRET }));
    await expectPushedThroughExchange(run, 'azure', 'ml/ado-spn', before.exchanges);
    expect(entra.tokenRequests().slice(before.entra).at(-1)!.form).toMatchObject({ client_id: entra.clientId, client_secret: CLIENT_SECRET, scope: ARM_SCOPE });
    expect(visible(run)).not.toContain(CLIENT_SECRET);
  });

  test('an Azure Resource Manager connection with workload identity federation (AzurePipelinesCredential)', async () => {
    const before = { exchanges: acr.exchangeRequests().length, entra: entra.tokenRequests().length, oidc: pipelinesOidc.requests.length };
    const run = await build('azure', 'ml/ado-wif', { azureSubscription: SERVICE_CONNECTION }, {
      ...armConnection('WorkloadIdentityFederation', {}),
      ...pipelinesOidc.env,
      ENDPOINT_AUTH_SYSTEMVSSCONNECTION: JSON.stringify({ scheme: 'OAuth', parameters: { AccessToken: pipelinesOidc.systemAccessToken } }),
    });
    await expectPushedThroughExchange(run, 'azure', 'ml/ado-wif', before.exchanges);
    const oidcRequest = pipelinesOidc.requests.slice(before.oidc).at(-1)!;
    expect(oidcRequest.query.serviceConnectionId).toBe(SERVICE_CONNECTION);
    expect(oidcRequest.bearer).toBe(pipelinesOidc.systemAccessToken);
    const tokenRequest = entra.tokenRequests().slice(before.entra).at(-1)!;
    expect(tokenRequest.form.client_assertion_type).toBe(CLIENT_ASSERTION_TYPE_JWT_BEARER);
    expect(pipelinesOidc.issued.map((token) => token.token)).toContain(tokenRequest.form.client_assertion);
  });
});
