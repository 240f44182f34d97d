import { rmSync } from 'node:fs';
import { ArmClient, ArmError } from '../../shared/azure/arm.js';
import { blobServiceUrl } from '../../shared/model/azureml/datastore.js';
import { request } from '../../shared/http/request.js';
import { makeTestCa, type TestCa } from '../helpers/ca.js';
import { startFakeEntra, type FakeEntra } from '../helpers/fake-entra.js';
import { FakeServers, readBody } from '../helpers/fake-servers.js';
import { startFakeArm, type FakeArm } from '../helpers/fake-arm/server.js';
import { ArmSwagger } from '../helpers/fake-arm/swagger.js';
import { specsDir } from '../helpers/paths.js';

const specs = specsDir();
if (!specs) console.log('fake ARM contract checks skipped: no Azure ML spec (set MLOPS_SPECS_DIR or put the specs in ../shared/specs)');
const describeContract = specs ? describe : describe.skip;

const SUBSCRIPTION = '00000000-1111-2222-3333-444444444444';
const WS = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws1`;

let ca: TestCa;
beforeAll(() => {
  ca = makeTestCa();
});
afterAll(() => rmSync(ca.dir, { recursive: true, force: true }));

test('blob service URLs: account host names for clouds, path-style for an address and port', () => {
  expect(blobServiceUrl('https', 'tacosstore', 'core.windows.net')).toBe('https://tacosstore.blob.core.windows.net');
  expect(blobServiceUrl('https', 'tacosstore', 'core.usgovcloudapi.net')).toBe('https://tacosstore.blob.core.usgovcloudapi.net');
  expect(blobServiceUrl('http', 'devstoreaccount1', '127.0.0.1:10000')).toBe('http://127.0.0.1:10000/devstoreaccount1');
  expect(blobServiceUrl('https', 'acct', '[::1]:443')).toBe('https://[::1]:443/acct');
});

describeContract('fake ARM contract: it catches what breaks the 2024-04-01 spec', () => {
  let entra: FakeEntra;
  let arm: FakeArm;
  let token: string;

  beforeAll(async () => {
    entra = await startFakeEntra({ ca });
    arm = await startFakeArm({ ca, specsDir: specs!, entra, subscriptionId: SUBSCRIPTION, resourceGroup: 'rg', workspace: 'ws1' });
    const answer = await request(entra.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: entra.clientId, client_secret: entra.clientSecret!, scope: `${arm.url}/.default` }).toString(),
      tls: { ca: ca.caPem },
    });
    token = (JSON.parse(answer.body.toString()) as { access_token: string }).access_token;
  });

  afterAll(async () => {
    await arm?.stop();
    await entra?.stop();
  });

  async function call(method: string, path: string, body?: unknown, query = 'api-version=2024-04-01', bearer: string | null = token) {
    arm.violations.length = 0;
    const response = await request(`${arm.url}${path}${query ? `?${query}` : ''}`, {
      method,
      headers: { ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      tls: { ca: ca.caPem },
      retries: 0,
    });
    return { status: response.status, violations: [...arm.violations] };
  }

  test('contract: a valid container and version PUT pass without violations', async () => {
    expect(await call('PUT', `${WS}/models/m1`, { properties: { description: 'd' } })).toEqual({ status: 201, violations: [] });
    expect(await call('PUT', `${WS}/models/m1/versions/1`, { properties: { modelUri: 'azureml://x', modelType: 'custom_model', tags: { a: 'b' }, properties: { k: 'v' } } })).toEqual({ status: 201, violations: [] });
    expect(await call('GET', `${WS}/models/m1/versions`, undefined, 'api-version=2024-04-01&$orderBy=createdtime%20desc&listViewType=All')).toEqual({ status: 200, violations: [] });
  });

  test('contract: readOnly and unknown properties in a request body are violations', async () => {
    const readOnly = await call('PUT', `${WS}/models/m1/versions/2`, { properties: { modelUri: 'azureml://x', provisioningState: 'Succeeded' } });
    expect(readOnly.violations).toEqual(['ModelVersions_CreateOrUpdate: body /properties/provisioningState boolean schema is false']);
    const unknown = await call('PUT', `${WS}/models/m1/versions/3`, { properties: { modelUri: 'azureml://x', modelFormat: 'onnx' } });
    // The fake stores what it was sent, so its answer echoes the field and breaks the spec too.
    expect(unknown.violations).toEqual([
      "ModelVersions_CreateOrUpdate: body /properties must NOT have additional properties 'modelFormat'",
      "ModelVersions_CreateOrUpdate response 201: /properties must NOT have additional properties 'modelFormat'",
    ]);
    const envelope = await call('PUT', `${WS}/models/m1`, { id: '/x', properties: {} });
    expect(envelope.violations).toEqual(['ModelContainers_CreateOrUpdate: body /id boolean schema is false']);
    const missing = await call('PUT', `${WS}/models/m1`, {});
    expect(missing.violations).toEqual(["ModelContainers_CreateOrUpdate: body (root) must have required property 'properties'"]);
  });

  test('contract: query, api-version, path patterns and routes are checked; no token is a 401', async () => {
    expect((await call('GET', `${WS}/models/m1/versions`, undefined, 'api-version=2024-04-01&listViewType=Everything')).violations).toEqual([
      "ModelVersions_List: query 'listViewType' is not one of ActiveOnly, ArchivedOnly, All: 'Everything'",
    ]);
    expect((await call('GET', `${WS}/models/m1`, undefined, 'api-version=2023-10-01')).violations).toEqual(['ModelContainers_Get: api-version is \'2023-10-01\', not 2024-04-01']);
    expect((await call('GET', `${WS}/models/m1`, undefined, '')).violations).toContain("ModelContainers_Get: query parameter 'api-version' is required");
    expect((await call('PUT', `${WS}/models/-bad.name`, { properties: {} })).violations).toEqual([
      "ModelContainers_CreateOrUpdate: path 'name' does not match ^[a-zA-Z0-9][a-zA-Z0-9\\-_]{0,254}$: '-bad.name'",
    ]);
    expect((await call('GET', `${WS}/models/m1/versions`, undefined, 'api-version=2024-04-01&filter=x')).violations).toEqual(["ModelVersions_List: query parameter 'filter' is not defined"]);
    expect((await call('GET', `${WS}/nothing`)).violations).toEqual([`no operation in the spec for GET ${WS}/nothing`]);
    expect((await call('GET', `${WS}/models/m1`, undefined, undefined, null)).status).toBe(401);
    expect((await call('GET', `${WS}/models/m1`, undefined, undefined, 'not-issued')).status).toBe(401);
  });

  test('contract: response checks follow inheritance and discriminators', () => {
    const swagger = new ArmSwagger(specs!);
    const get = swagger.operations.find((operation) => operation.operationId === 'Datastores_Get')!;
    const datastore = (credentials: unknown) => JSON.stringify({ id: '/x', name: 'd', type: 't', properties: { datastoreType: 'AzureBlob', accountName: 'a', containerName: 'c', credentials } });
    expect(swagger.checkResponse(get, 200, datastore({ credentialsType: 'None' }))).toEqual([]);
    expect(swagger.checkResponse(get, 200, datastore({ credentialsType: 'AccountKey', secrets: { secretsType: 'AccountKey' } }))).toEqual([]);
    // AccountKey credentials must carry AccountKey secrets, and no field of another subtype.
    expect(swagger.checkResponse(get, 200, datastore({ credentialsType: 'AccountKey', secrets: { secretsType: 'Sas', sasToken: 'x' } }))).toEqual([
      "Datastores_Get response 200: /properties/credentials/secrets must NOT have additional properties 'sasToken'",
      'Datastores_Get response 200: /properties/credentials/secrets/secretsType must be equal to constant',
    ]);
    expect(swagger.checkResponse(get, 200, datastore({ credentialsType: 'Magic' }))).toEqual([
      'Datastores_Get response 200: /properties/credentials/credentialsType must be equal to one of the allowed values',
    ]);
    expect(swagger.checkResponse(get, 200, JSON.stringify({ properties: { datastoreType: 'AzureBlob', accountName: 'a', credentials: { credentialsType: 'None' }, colour: 'red' } }))).toEqual([
      "Datastores_Get response 200: /properties must NOT have additional properties 'colour'",
    ]);
    expect(swagger.checkResponse(get, 201, '{}')).toEqual(['Datastores_Get response 201: status is not declared']);
  });
});

describe('ArmClient: errors in one line, paging, long-running operations', () => {
  const servers = new FakeServers();
  afterAll(() => servers.close());

  async function serve(routes: (method: string, path: string, body: string, origin: string) => { status: number; body?: unknown; headers?: Record<string, string | undefined> }) {
    const seen: string[] = [];
    let origin = '';
    const running = await servers.https(ca, (req, res) => {
      void readBody(req).then((body) => {
        const url = new URL(req.url ?? '/', 'https://x');
        seen.push(`${req.method} ${url.pathname} ${url.searchParams.get('api-version')} ${req.headers.authorization}`);
        const answer = routes(req.method ?? '', url.pathname, body.toString(), origin);
        res.writeHead(answer.status, { 'content-type': 'application/json', ...(answer.headers as Record<string, string>) });
        res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
      });
    });
    origin = running.origin;
    const client = new ArmClient({ armUrl: origin, apiVersion: '2024-04-01', token: async () => 'tok', env: {}, ca: ca.caPem });
    return { client, seen };
  }

  test('an ARM error body becomes one line naming the call', async () => {
    const { client } = await serve(() => ({ status: 403, body: { error: { code: 'AuthorizationFailed', message: 'The client does not have authorization\nto perform action.' } } }));
    const error = await client.get('reading model m', '/subscriptions/s/x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArmError);
    expect((error as Error).message).toBe('reading model m failed: HTTP 403 AuthorizationFailed: The client does not have authorization to perform action.');
  });

  test('list follows nextLink; find gives undefined for 404', async () => {
    const { client, seen } = await serve((method, path, _body, origin) => {
      if (path === '/items') return { status: 200, body: { value: [1, 2], nextLink: `${origin}/items2?api-version=2024-04-01&$skip=2` } };
      if (path === '/items2') return { status: 200, body: { value: [3] } };
      return { status: 404, body: { error: { code: 'NotFound', message: 'no' } } };
    });
    expect(await client.list<number>('listing', '/items')).toEqual([1, 2, 3]);
    expect(await client.find('reading', '/missing')).toBeUndefined();
    expect(seen).toEqual(['GET /items 2024-04-01 Bearer tok', 'GET /items2 2024-04-01 Bearer tok', 'GET /missing 2024-04-01 Bearer tok']);
  });

  test('a PUT answered with Azure-AsyncOperation is polled (Retry-After) until Succeeded, then the resource is read', async () => {
    let polls = 0;
    const { client, seen } = await serve((method, path, _body, origin) => {
      if (method === 'PUT') return { status: 201, body: { name: 'r', properties: { provisioningState: 'Creating' } }, headers: { 'azure-asyncoperation': `${origin}/operations/1`, 'retry-after': '0' } };
      if (path === '/operations/1') return { status: 200, body: { status: ++polls < 2 ? 'InProgress' : 'Succeeded' }, headers: { 'retry-after': '0' } };
      return { status: 200, body: { name: 'r', properties: { provisioningState: 'Succeeded' } } };
    });
    expect(await client.put('creating r', '/r', { properties: {} })).toEqual({ name: 'r', properties: { provisioningState: 'Succeeded' } });
    expect(seen.map((line) => line.split(' ').slice(0, 2).join(' '))).toEqual(['PUT /r', 'GET /operations/1', 'GET /operations/1', 'GET /r']);
  });

  test('a failed long-running operation is one line with its error code; Location polling ends with the result', async () => {
    const failing = await serve((method, _path, _body, origin) =>
      method === 'POST'
        ? { status: 202, headers: { 'azure-asyncoperation': `${origin}/op`, 'retry-after': '0' } }
        : { status: 200, body: { status: 'Failed', error: { code: 'QuotaExceeded', message: 'Not enough quota.' } } },
    );
    await expect(failing.client.post('publishing r', '/r/publish', {})).rejects.toThrow('publishing r failed: HTTP 200 QuotaExceeded: Not enough quota.');
    let polls = 0;
    const located = await serve((method, _path, _body, origin) =>
      method === 'POST' ? { status: 202, headers: { location: `${origin}/result`, 'retry-after': '0' } } : ++polls < 2 ? { status: 202, headers: { 'retry-after': '0' } } : { status: 200, body: { done: true } },
    );
    expect(await located.client.post('packaging r', '/r/package', {})).toEqual({ done: true });
    expect(polls).toBe(2);
  });
});
