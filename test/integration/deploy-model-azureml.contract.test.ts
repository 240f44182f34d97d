import { jest } from '@jest/globals';
import { azureMlModelId } from '../../shared/deploy/azureml/model-id.js';
import { shiftTraffic } from '../../shared/deploy/azureml/traffic.js';
import { DeployFailure, type DeploySpec } from '../../shared/deploy/target.js';
import { request } from '../../shared/http/request.js';
import { InputError } from '../../shared/util/errors.js';
import { startDeployFakes, type DeployFakes } from '../helpers/fake-arm/deploy-fakes.js';
import { startRemoteDeployTarget, type RemoteDeployTarget } from '../helpers/fake-arm/remote-deploy-target.js';
import { AML_DATA_PLANE_AUDIENCE } from '../helpers/fake-arm/scoring.js';
import { specsDir } from '../helpers/paths.js';

jest.setTimeout(180_000);

const specs = specsDir();
if (!specs) console.log('deploy-model-azureml contract tests skipped: no Azure ML spec (set MLOPS_SPECS_DIR or put the specs in ../shared/specs)');
const describeContract = specs ? describe : describe.skip;

const WS = { subscriptionId: '00000000-1111-2222-3333-444444444444', resourceGroup: 'rg-tacos', workspace: 'ws-tacos' };
const WS_ID = `/subscriptions/${WS.subscriptionId}/resourceGroups/${WS.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${WS.workspace}`;

describe('contract: azureml model URIs and traffic arithmetic (pure)', () => {
  test('every accepted modelUri form becomes the ARM id of the model version', () => {
    const id = `${WS_ID}/models/tacos/versions/3`;
    expect(azureMlModelId('azureml:tacos:3', WS)).toBe(id);
    expect(azureMlModelId(`azureml://subscriptions/${WS.subscriptionId}/resourceGroups/${WS.resourceGroup}/workspaces/${WS.workspace}/models/tacos/versions/3`, WS)).toBe(id);
    expect(azureMlModelId(`azureml://locations/westeurope/workspaces/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b/models/tacos/versions/3`, WS)).toBe(id);
    expect(azureMlModelId(id, WS)).toBe(id);
    expect(azureMlModelId('azureml://registries/shared/models/tacos/versions/3', WS)).toBe('azureml://registries/shared/models/tacos/versions/3');
  });

  test('other schemes and malformed references are problems that name the fix', () => {
    expect(azureMlModelId('oci://registry.example/tacos@sha256:abc', WS)).toEqual({ problem: 'azureml cannot serve oci:// models; register the model with registry azureml' });
    expect(azureMlModelId('s3://bucket/model', WS)).toEqual({ problem: 'azureml cannot serve s3:// models; register the model with registry azureml' });
    expect(azureMlModelId('azureml:tacos', WS)).toMatchObject({ problem: expect.stringContaining('azureml:<name>:<version>') });
    expect(azureMlModelId('azureml:-bad:1', WS)).toMatchObject({ problem: expect.stringContaining('not a valid Azure ML model name') });
    expect(azureMlModelId('azureml://locations/westeurope/workspaces/other-ws/models/tacos/versions/3', WS)).toMatchObject({ problem: expect.stringContaining("names workspace 'other-ws'") });
  });

  test('a canary share leaves the rest to the serving deployments in proportion, in whole percents', () => {
    expect(shiftTraffic({ blue: 100 }, 'green', 20)).toEqual({ blue: 80, green: 20 });
    expect(shiftTraffic({ a: 50, b: 50 }, 'c', 25)).toEqual({ a: 38, b: 37, c: 25 });
    expect(shiftTraffic({ a: 70, b: 30, old: 0 }, 'c', 10)).toEqual({ a: 63, b: 27, c: 10 });
    expect(shiftTraffic({ blue: 80, green: 20 }, 'next', undefined)).toEqual({ next: 100 });
    // Nothing else serves: the canary gets everything, or nobody would answer.
    expect(shiftTraffic({}, 'first', 20)).toEqual({ first: 100 });
  });
});

describeContract('contract: azureml deploy target against fake ARM (2024-04-01 spec, real LROs) and fake Entra', () => {
  let fakes: DeployFakes;
  const targets: RemoteDeployTarget[] = [];

  beforeAll(async () => {
    fakes = await startDeployFakes({ specsDir: specs!, ...WS, models: [['tacos', '1'], ['tacos', '2'], ['tacos', '3'], ['tacos', '4']] });
  });

  afterAll(async () => {
    await Promise.all(targets.map((target) => target.close()));
    await fakes?.stop();
  });

  afterEach(() => {
    // Every request and answer of every test must fit the spec (and ARM's async operation contract).
    expect(fakes.arm.violations).toEqual([]);
  });

  function target(authMode: 'key' | 'aadToken'): RemoteDeployTarget {
    const created = startRemoteDeployTarget(
      {
        identity: { kind: 'secret', tenantId: fakes.entra.tenantId, clientId: fakes.entra.clientId, clientSecret: fakes.clientSecret, authorityHost: fakes.entra.authorityHost, source: 'test client secret' },
        ...WS,
        armUrl: fakes.arm.url,
        ca: fakes.ca.caPem,
        instanceType: 'Standard_DS3_v2',
        authMode,
        // Caps only the 10 s Retry-After the spec sets for DELETE; the fake's 1 s ones are honoured.
        maxPollMs: 1000,
      },
      fakes.ca.caCertFile,
    );
    targets.push(created);
    return created;
  }

  const spec = (fields: Partial<DeploySpec>): DeploySpec => ({
    name: 'tacos-ep',
    protocol: 'v2',
    resources: {},
    env: {},
    labels: { 'git.sha': 'abc123' },
    modelFormat: 'mlflow',
    ...fields,
  });

  /** A real request to the scoring URL with exactly the smoke headers. */
  const score = (url: string, headers: Record<string, string>) =>
    request(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '{"input_data":[[1,2]]}', tls: { ca: fakes.ca.caPem }, retries: 0 });

  async function deploy(t: RemoteDeployTarget, s: DeploySpec) {
    const plan = await t.plan(s, new AbortController().signal);
    const applied = await t.apply(s, plan, new AbortController().signal);
    const ready = await t.waitReady(s, applied, Date.now() + 60_000, new AbortController().signal);
    const smoke = await t.smokeEndpoint(s, ready, new AbortController().signal);
    const answer = await score(smoke.url, smoke.headers);
    const finished = await t.finish(s, ready, new AbortController().signal);
    return { plan, applied, ready, smoke, answer, finished };
  }

  const deployments = (endpoint = 'tacos-ep') => [...fakes.arm.online.deploymentsOf(endpoint).keys()].sort();
  let keyTarget: RemoteDeployTarget;
  let first = '';
  let second = '';
  let third = '';

  test('contract: first deploy creates the endpoint (Key auth, system identity) through its LRO and sends 100% to the new deployment', async () => {
    keyTarget = target('key');
    const run = await deploy(keyTarget, spec({ modelUri: 'azureml:tacos:1' }));
    expect(run.plan).toMatchObject({ creates: true, diff: '' });
    expect(run.plan.previousRevision).toBeUndefined();
    first = run.applied.revision;
    expect(first).toMatch(/^tacos-ep-[a-z0-9]{6}$/);
    expect(run.ready).toMatchObject({ revision: first, trafficPercent: 0, endpointUrl: `${fakes.arm.scoring.url}/tacos-ep/score` });
    expect(run.finished.trafficPercent).toBe(100);

    const endpoint = fakes.arm.online.endpoints.get('tacos-ep')!;
    expect(endpoint.properties.authMode).toBe('Key');
    expect(endpoint.identity).toEqual({ type: 'SystemAssigned' });
    expect(endpoint.properties.traffic).toEqual({ [first]: 100 });
    const stored = fakes.arm.online.deploymentsOf('tacos-ep').get(first)!;
    expect(stored.properties).toMatchObject({ endpointComputeType: 'Managed', model: `${WS_ID}/models/tacos/versions/1`, instanceType: 'Standard_DS3_v2', scaleSettings: { scaleType: 'Default' } });
    // MLflow: no-code deployment, Azure ML picks the environment.
    expect(stored.properties.environmentId).toBeUndefined();
    expect(stored.sku).toEqual({ name: 'Default', capacity: 1 });
    expect(stored.tags).toMatchObject({ 'git.sha': 'abc123', 'mlops-tasks.created-by': 'DeployModel' });

    // The endpoint PUT answered 201 with Azure-AsyncOperation; the target polled it, Retry-After (1 s) apart.
    const calls = fakes.arm.calls;
    const created = calls.findIndex((call) => call.operationId === 'OnlineEndpoints_CreateOrUpdate' && call.status === 201);
    expect(created).toBeGreaterThanOrEqual(0);
    const polls = calls.slice(created + 1).filter((call) => call.operationId === 'mfeOperationsStatus');
    expect(polls.length).toBeGreaterThanOrEqual(1);
    expect(polls[0]!.at - calls[created]!.at).toBeGreaterThanOrEqual(950);
    // The deployment is created only once the endpoint's operation is over and the endpoint read back.
    const deploymentPut = calls.findIndex((call) => call.operationId === 'OnlineDeployments_CreateOrUpdate');
    const between = calls.slice(created + 1, deploymentPut).map((call) => call.operationId);
    expect(between).toContain('mfeOperationsStatus');
    expect(between.lastIndexOf('OnlineEndpoints_Get')).toBeGreaterThan(between.lastIndexOf('mfeOperationsStatus'));
  });

  test('contract: smoke headers reach the new deployment by the azureml-model-deployment header, with the endpoint key masked first', async () => {
    const run = await deploy(keyTarget, spec({ modelUri: 'azureml:tacos:2', canaryPercent: 0 }));
    const endpoint = fakes.arm.online.endpoints.get('tacos-ep')!;
    expect(run.smoke.url).toBe(`${fakes.arm.scoring.url}/tacos-ep/score`);
    expect(run.smoke.headers).toEqual({ authorization: `Bearer ${endpoint.keys.primaryKey}`, 'azureml-model-deployment': run.applied.revision });
    expect(keyTarget.secrets).toContain(endpoint.keys.primaryKey);
    expect(run.answer.status).toBe(200);
    expect(JSON.parse(run.answer.body.toString())).toEqual({ deployment: run.applied.revision });
    const reached = fakes.arm.scoring.requests.at(-1)!;
    expect(reached).toMatchObject({ deployment: run.applied.revision, routedBy: 'header', body: '{"input_data":[[1,2]]}' });
    // canaryPercent 0: the new one takes no traffic and the old one keeps all of it.
    expect(run.finished.trafficPercent).toBe(0);
    expect(endpoint.properties.traffic).toEqual({ [first]: 100 });
    // Without the header the request goes where the traffic goes.
    const plain = await score(run.smoke.url, { authorization: run.smoke.headers.authorization! });
    expect(JSON.parse(plain.body.toString())).toEqual({ deployment: first });
    // And a wrong key is refused, so the header check above means something.
    expect((await score(run.smoke.url, { ...run.smoke.headers, authorization: 'Bearer wrong' })).status).toBe(401);
    await keyTarget.rollback(spec({}), run.applied, new AbortController().signal);
    expect(deployments()).toEqual([first]);
  });

  test('contract: second deploy with canaryPercent 20: custom image environment, autoscale settings, traffic 80/20, readable plan diff', async () => {
    const s = spec({ modelUri: 'azureml:tacos:2', modelFormat: 'sklearn', image: 'tacosacr.azurecr.io/serve:2', canaryPercent: 20, minReplicas: 1, maxReplicas: 3, env: { LOG_LEVEL: 'debug' } });
    const run = await deploy(keyTarget, s);
    second = run.applied.revision;
    expect(second).not.toBe(first);
    expect(run.plan).toMatchObject({ creates: false, previousRevision: first });
    expect(run.applied.previousRevision).toBe(first);
    const diff = run.plan.diff.split('\n');
    expect(diff).toEqual(expect.arrayContaining([`- ${first}: 100%`, `+ ${first}: 80%`, `+ ${second}: 20%`, `- model: ${WS_ID}/models/tacos/versions/1`, `+ model: ${WS_ID}/models/tacos/versions/2`, '  instanceType: Standard_DS3_v2', expect.stringMatching(/^\+ env\.LOG_LEVEL: \(hidden, sha256 [0-9a-f]{8}\)$/)]));
    expect(run.finished.trafficPercent).toBe(20);
    expect(fakes.arm.online.endpoints.get('tacos-ep')!.properties.traffic).toEqual({ [first]: 80, [second]: 20 });

    const environments = [...fakes.arm.online.environments.values()];
    expect(environments).toHaveLength(1);
    expect(environments[0]!.properties).toMatchObject({
      image: 'tacosacr.azurecr.io/serve:2',
      inferenceConfig: { livenessRoute: { path: '/v2/health/live', port: 8080 }, readinessRoute: { path: '/v2/health/ready', port: 8080 }, scoringRoute: { path: '/v2/models/tacos/infer', port: 8080 } },
    });
    const stored = fakes.arm.online.deploymentsOf('tacos-ep').get(second)!;
    expect(stored.properties).toMatchObject({
      environmentId: `${WS_ID}/environments/tacos-ep-env/versions/${environments[0]!.version}`,
      scaleSettings: { scaleType: 'TargetUtilization', minInstances: 1, maxInstances: 3 },
      environmentVariables: { LOG_LEVEL: 'debug' },
      properties: { 'git.sha': 'abc123' },
    });
  });

  test('contract: replace (no canaryPercent) moves 100% to the new deployment and deletes the ones this task made, not others', async () => {
    // A deployment someone made by hand, with no traffic: it must survive.
    const manual = fakes.arm.online.deploymentsOf('tacos-ep');
    manual.set('handmade', { ...manual.get(first)!, name: 'handmade', tags: {}, provisioningState: 'Succeeded' });
    const run = await deploy(keyTarget, spec({ modelUri: 'azureml:tacos:3' }));
    third = run.applied.revision;
    expect(run.plan.previousRevision).toBe(first);
    expect(run.plan.diff).toContain(`- deployment ${first}: removed once the new one takes all traffic`);
    expect(run.plan.diff).toContain(`- deployment ${second}: removed once the new one takes all traffic`);
    expect(run.plan.diff).not.toContain('deployment handmade');
    expect(run.finished.trafficPercent).toBe(100);
    expect(fakes.arm.online.endpoints.get('tacos-ep')!.properties.traffic).toEqual({ [third]: 100 });
    expect(deployments()).toEqual(['handmade', third].sort());
    const deletes = fakes.arm.calls.filter((call) => call.operationId === 'OnlineDeployments_Delete').map((call) => call.path.split('/').pop());
    expect(deletes).toEqual(expect.arrayContaining([first, second]));
    expect(deletes).not.toContain('handmade');
    manual.delete('handmade');
  });

  test('contract: provisioning failure is a DeployFailure with the reason and log lines; rollback leaves the previous deployment at 100% and removes the failed one', async () => {
    fakes.arm.queueDeployment({ fails: 'Container crashed with exit code 1', code: 'ResourceNotReady', logs: ['Starting server', 'ImportError: no module named tacos'] });
    const s = spec({ modelUri: 'azureml:tacos:4' });
    const plan = await keyTarget.plan(s, new AbortController().signal);
    const applied = await keyTarget.apply(s, plan, new AbortController().signal);
    const failure = await keyTarget.waitReady(s, applied, Date.now() + 60_000, new AbortController().signal).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DeployFailure);
    expect((failure as DeployFailure).message).toBe(`deployment '${applied.revision}' of endpoint 'tacos-ep' ended Failed: ResourceNotReady: Container crashed with exit code 1`);
    expect((failure as DeployFailure).diagnostics).toEqual(expect.arrayContaining(['  ImportError: no module named tacos']));
    expect(fakes.arm.calls.some((call) => call.operationId === 'OnlineDeployments_GetLogs' && (call.body as { tail?: number }).tail === 50)).toBe(true);

    const said = await keyTarget.rollback(s, applied, new AbortController().signal);
    expect(said).toBe(`endpoint 'tacos-ep' serves ${third} 100%; deployment '${applied.revision}' was removed`);
    expect(fakes.arm.online.endpoints.get('tacos-ep')!.properties.traffic).toEqual({ [third]: 100 });
    expect(deployments()).toEqual([third]);
  });

  test('contract: a 403 from ARM is one line naming the call and what to check; no key or token in any message or log', async () => {
    const endpoint = fakes.arm.online.endpoints.get('tacos-ep')!;
    fakes.arm.failNext('OnlineEndpoints_ListKeys', 403, 'AuthorizationFailed');
    const ready = { revision: third, trafficPercent: 100, endpointUrl: '' };
    const denied = (await keyTarget.smokeEndpoint(spec({}), ready, new AbortController().signal).catch((error: unknown) => error)) as Error;
    expect(denied.message).toBe(
      "listing the keys of endpoint 'tacos-ep' failed: HTTP 403 AuthorizationFailed: injected failure of OnlineEndpoints_ListKeys; give the identity a role that may manage online endpoints (AzureML Data Scientist, or Contributor) on workspace 'ws-tacos' in resource group 'rg-tacos'",
    );
    fakes.arm.failNext('OnlineEndpoints_Get', 403, 'AuthorizationFailed');
    const planDenied = (await keyTarget.plan(spec({ modelUri: 'azureml:tacos:1' }), new AbortController().signal).catch((error: unknown) => error)) as Error;
    expect(planDenied.message).toMatch(/^reading online endpoint 'tacos-ep' failed: HTTP 403 AuthorizationFailed: .*; give the identity a role/);
    expect(planDenied.message).not.toContain('\n');

    const everything = [denied.message, planDenied.message, ...keyTarget.lines, keyTarget.stderr()].join('\n');
    for (const secret of [endpoint.keys.primaryKey, endpoint.keys.secondaryKey, fakes.clientSecret, ...fakes.entra.issued.map((token) => token.token)]) {
      expect(everything).not.toContain(secret);
    }
    // The ARM tokens were handed to the runner's mask too.
    expect(keyTarget.secrets).toEqual(expect.arrayContaining(fakes.entra.issued.filter((token) => token.audience === fakes.arm.url).slice(0, 1).map((token) => token.token)));
  });

  test('contract: input problems are refused before anything is sent', async () => {
    const before = fakes.arm.calls.length;
    const oci = await keyTarget.plan(spec({ modelUri: 'oci://registry.example/tacos@sha256:abc' }), new AbortController().signal).catch((error: unknown) => error);
    expect(oci).toBeInstanceOf(InputError);
    expect((oci as Error).message).toBe("input 'modelUri': azureml cannot serve oci:// models; register the model with registry azureml");
    const noImage = await keyTarget.plan(spec({ modelUri: 'azureml:tacos:1', modelFormat: 'sklearn' }), new AbortController().signal).catch((error: unknown) => error);
    expect((noImage as Error).message).toMatch(/^input 'image': azureml serves a sklearn model from a serving image/);
    expect(fakes.arm.calls.length).toBe(before);
  });

  test('contract: aadToken mode: the endpoint takes Entra tokens for Azure ML, and the smoke headers carry one', async () => {
    const aad = target('aadToken');
    const run = await deploy(aad, spec({ name: 'tacos-aad', modelUri: 'azureml:tacos:1' }));
    const endpoint = fakes.arm.online.endpoints.get('tacos-aad')!;
    expect(endpoint.properties.authMode).toBe('AADToken');
    const token = run.smoke.headers.authorization!.replace(/^Bearer /, '');
    expect(fakes.entra.issued.find((issued) => issued.token === token)?.audience).toBe(AML_DATA_PLANE_AUDIENCE);
    expect(aad.secrets).toContain(token);
    expect(run.answer.status).toBe(200);
    expect(JSON.parse(run.answer.body.toString())).toEqual({ deployment: run.applied.revision });
    // An ARM token is not good for scoring: the fake checks the audience.
    const armToken = fakes.entra.issued.find((issued) => issued.audience === fakes.arm.url)!.token;
    expect((await score(run.smoke.url, { ...run.smoke.headers, authorization: `Bearer ${armToken}` })).status).toBe(401);
    expect(fakes.arm.calls.some((call) => call.path.endsWith('/tacos-aad/listKeys'))).toBe(false);
  });
});
