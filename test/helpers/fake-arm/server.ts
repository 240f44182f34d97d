import type http from 'node:http';
import type { TestCa } from '../ca.js';
import type { FakeEntra } from '../fake-entra.js';
import { FakeServers, readBody } from '../fake-servers.js';
import { ArmSwagger, MFE_JSON, type MatchedOperation } from './swagger.js';
import { ArmStore, systemData, type FakeDatastore, type StoredContainer } from './store.js';
import { FakeOnline, type Answer, type DeploymentOutcome } from './online.js';
import { FakeOperations, type OperationPacing } from './operations.js';
import { startFakeScoring, type FakeScoring } from './scoring.js';
import { operationStatusProblems } from './operation-status.js';

/** Workspaces themselves are in the other 2024-04-01 file. */
const WORKSPACES_JSON = MFE_JSON.replace(/mfe\.json$/, 'machineLearningServices.json');

export interface FakeArmOptions {
  ca: TestCa;
  specsDir: string;
  /** Bearer tokens must have been issued by this fake Entra for the fake's own audience. */
  entra: FakeEntra;
  subscriptionId: string;
  resourceGroup: string;
  workspace: string;
  /** The workspace's region (default westeurope). */
  location?: string;
  /** How fast long-running operations complete (default: 2 polls or 1.5 s, Retry-After 1 s). */
  pacing?: Partial<OperationPacing>;
  /** Retry-After on a deployment DELETE's 202; the spec allows 10 to 600 (default 10). */
  deleteRetryAfterSeconds?: number;
}

export interface ArmCall {
  operationId: string;
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
  body: unknown;
  /** When the fake answered (ms since the epoch). */
  at: number;
}

export interface FakeArm {
  /** https://127.0.0.1:port: pass as armUrl; tokens are asked for `${url}/.default`. */
  url: string;
  store: ArmStore;
  /** Every request and answer, in order. */
  calls: ArmCall[];
  /** Requests or answers that break the 2024-04-01 spec; a test asserts this is empty. */
  violations: string[];
  /** Makes the next call of an operation fail with this status and an ARM error body. */
  failNext(operationId: string, status: number, code?: string): void;
  addDatastore(datastore: FakeDatastore): void;
  /** Registers a model version the deployments may serve (the RegisterModel side of the fake). */
  addModelVersion(name: string, version: string): void;
  /** Online endpoints, deployments and environment versions, with state. */
  online: FakeOnline;
  /** The endpoints' data plane: scoringUri points here. */
  scoring: FakeScoring;
  /** Decides the next new deployment: provisions, or fails with a reason (FIFO; default succeeds). */
  queueDeployment(outcome: DeploymentOutcome): void;
  /** Calls that change state (PUT, DELETE). */
  writes(): ArmCall[];
  stop(): Promise<void>;
}

const notFound = (what: string): Answer => ({ status: 404, body: { error: { code: 'UserError', message: `${what} was not found` } } });

/**
 * An Azure Resource Manager endpoint for one Azure ML workspace: datastores (list, get,
 * listSecrets), model containers and versions, with state. Each request and each answer is
 * checked against the 2024-04-01 spec; what does not fit lands in `violations`.
 */
export async function startFakeArm(options: FakeArmOptions): Promise<FakeArm> {
  const swagger = new ArmSwagger(options.specsDir);
  const workspaces = new ArmSwagger(options.specsDir, WORKSPACES_JSON);
  const location = options.location ?? 'westeurope';
  const store = new ArmStore();
  const calls: ArmCall[] = [];
  const violations: string[] = [];
  const failures = new Map<string, { status: number; code: string }>();
  const servers = new FakeServers();
  let origin = '';
  const workspaceId = `/subscriptions/${options.subscriptionId}/resourceGroups/${options.resourceGroup}/providers/Microsoft.MachineLearningServices/workspaces/${options.workspace}`;
  const operationsPath = `/subscriptions/${options.subscriptionId}/providers/Microsoft.MachineLearningServices/locations/${location}`;
  const operations = new FakeOperations(() => `${origin}${operationsPath}`, { polls: 2, afterMs: 1500, retryAfterSeconds: 1, ...options.pacing });
  const online = new FakeOnline(
    workspaceId,
    operations,
    (endpoint) => `${scoringOrigin}/${endpoint}/score`,
    options.deleteRetryAfterSeconds ?? 10,
    (id) => {
      const found = /\/models\/([^/]+)\/versions\/([^/]+)$/.exec(id);
      return !!found && id.toLowerCase().startsWith(workspaceId.toLowerCase()) && !!store.models.get(decodeURIComponent(found[1]!))?.versions.has(decodeURIComponent(found[2]!));
    },
  );
  let scoringOrigin = '';

  const datastoreResource = (datastore: FakeDatastore) => ({
    id: `${workspaceId}/datastores/${datastore.name}`,
    name: datastore.name,
    type: 'Microsoft.MachineLearningServices/workspaces/datastores',
    systemData: systemData('2026-01-01T00:00:00Z'),
    properties: {
      datastoreType: 'AzureBlob',
      isDefault: datastore.isDefault,
      accountName: datastore.accountName,
      containerName: datastore.containerName,
      endpoint: datastore.endpoint,
      protocol: datastore.protocol,
      serviceDataAccessAuthIdentity: 'None',
      // As the upstream example answers: the secrets' type, never their value (that is listSecrets' job).
      credentials: datastore.secret.secretsType === 'None' ? { credentialsType: 'None' } : { credentialsType: datastore.secret.secretsType, secrets: { secretsType: datastore.secret.secretsType } },
      tags: {},
      properties: {},
    },
  });

  const containerResource = (model: StoredContainer) => {
    const latest = [...model.versions.values()].pop()?.name ?? null;
    return {
      id: `${workspaceId}/models/${model.name}`,
      name: model.name,
      type: 'Microsoft.MachineLearningServices/workspaces/models',
      systemData: systemData(model.createdAt),
      properties: { ...model.body, isArchived: false, latestVersion: latest, nextVersion: String(store.latestInteger(model.name) + 1), provisioningState: 'Succeeded' },
    };
  };

  const versionResource = (model: string, version: { name: string; createdAt: string; body: Record<string, unknown> }) => ({
    id: `${workspaceId}/models/${model}/versions/${version.name}`,
    name: version.name,
    type: 'Microsoft.MachineLearningServices/workspaces/models/versions',
    systemData: systemData(version.createdAt),
    properties: { isAnonymous: false, isArchived: false, ...version.body, provisioningState: 'Succeeded' },
  });

  function handle(operation: MatchedOperation, query: URLSearchParams, body: unknown): Answer {
    const { name = '', version = '' } = operation.params;
    switch (operation.operationId) {
      case 'Datastores_List': {
        let all = [...store.datastores.values()];
        if (query.get('isDefault') === 'true') all = all.filter((d) => d.isDefault);
        return { status: 200, body: { value: all.map(datastoreResource) } };
      }
      case 'Datastores_Get': {
        const datastore = store.datastores.get(name);
        return datastore ? { status: 200, body: datastoreResource(datastore) } : notFound(`datastore ${name}`);
      }
      case 'Datastores_ListSecrets': {
        const datastore = store.datastores.get(name);
        if (!datastore) return notFound(`datastore ${name}`);
        if (datastore.secret.secretsType === 'None') return { status: 400, body: { error: { code: 'UserError', message: 'datastore has no secrets' } } };
        return { status: 200, body: datastore.secret };
      }
      case 'ModelContainers_Get': {
        const model = store.models.get(name);
        return model ? { status: 200, body: containerResource(model) } : notFound(`model container ${name}`);
      }
      case 'ModelContainers_CreateOrUpdate': {
        const existing = store.models.get(name);
        const properties = (body as { properties: Record<string, unknown> }).properties;
        const model = existing ?? { name, createdAt: new Date().toISOString(), body: {}, versions: new Map() };
        model.body = properties;
        store.models.set(name, model);
        return { status: existing ? 200 : 201, body: containerResource(model) };
      }
      case 'ModelContainers_Delete': {
        if (!store.models.delete(name)) return { status: 204 };
        return { status: 200 };
      }
      case 'ModelVersions_List': {
        const model = store.models.get(name);
        if (!model) return notFound(`model container ${name}`);
        let versions = [...model.versions.values()];
        // properties=key=value[,key2]: only versions with those properties.
        const wanted = query.get('properties');
        if (wanted) {
          const filters = wanted.split(',').map((part) => {
            const at = part.indexOf('=');
            return at < 0 ? { key: part, value: undefined } : { key: part.slice(0, at), value: part.slice(at + 1) };
          });
          versions = versions.filter((v) => {
            const props = (v.body.properties ?? {}) as Record<string, string>;
            return filters.every(({ key, value }) => key in props && (value === undefined || props[key] === value));
          });
        }
        if (/^createdtime desc$/i.test(query.get('$orderBy') ?? '')) versions.reverse();
        const top = Number(query.get('$top') ?? 2);
        const skip = Number(query.get('$skip') ?? 0);
        const page = versions.slice(skip, skip + top);
        const next = new URL(`${origin}${workspaceId}/models/${name}/versions`);
        query.forEach((value, key) => next.searchParams.set(key, value));
        next.searchParams.set('$skip', String(skip + top));
        // Small pages by default, so callers must follow nextLink.
        return { status: 200, body: { value: page.map((v) => versionResource(name, v)), ...(skip + top < versions.length ? { nextLink: next.href } : {}) } };
      }
      case 'ModelVersions_Get': {
        const stored = store.models.get(name)?.versions.get(version);
        return stored ? { status: 200, body: versionResource(name, stored) } : notFound(`model ${name} version ${version}`);
      }
      case 'ModelVersions_CreateOrUpdate': {
        const model = store.models.get(name);
        if (!model) return notFound(`model container ${name}`);
        const properties = (body as { properties: Record<string, unknown> }).properties;
        const existing = model.versions.get(version);
        // Azure ML versions are immutable in what they point to.
        if (existing && existing.body.modelUri !== properties.modelUri) {
          return { status: 409, body: { error: { code: 'UserError', message: `model ${name} version ${version} exists with another modelUri` } } };
        }
        const stored = existing ?? { name: version, createdAt: new Date().toISOString(), body: {} };
        stored.body = properties;
        model.versions.set(version, stored);
        return { status: existing ? 200 : 201, body: versionResource(name, stored) };
      }
      case 'ModelVersions_Delete': {
        const model = store.models.get(name);
        return { status: model?.versions.delete(version) ? 200 : 204 };
      }
      case 'Workspaces_Get':
        return {
          status: 200,
          body: { id: workspaceId, name: options.workspace, type: 'Microsoft.MachineLearningServices/workspaces', location, identity: { type: 'SystemAssigned' }, properties: { friendlyName: options.workspace, provisioningState: 'Succeeded' } },
        };
      default:
        return online.handle(operation, body) ?? { status: 400, body: { error: { code: 'NotImplemented', message: `the fake ARM does not implement ${operation.operationId}` } } };
    }
  }

  const audience = () => origin;

  function authorizedRequest(req: http.IncomingMessage): boolean {
    const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const issued = bearer ? options.entra.issued.find((token) => token.token === bearer) : undefined;
    return !!bearer && options.entra.isIssued(bearer) && issued?.audience === audience();
  }

  /** A poll of a long-running operation: its status document, or its result (202 until done). */
  function operationAnswer(kind: string, id: string): Answer {
    const operation = operations.poll(id);
    if (!operation) return { status: 404, body: { error: { code: 'NotFound', message: `operation ${id} was not found` } } };
    const retry = { 'retry-after': String(options.pacing?.retryAfterSeconds ?? 1) };
    if (kind === 'mfeOperationsStatus') return { status: 200, body: operations.document(operation), headers: operation.status === 'InProgress' ? retry : {} };
    if (operation.status === 'InProgress') return { status: 202, headers: { ...retry, location: `${origin}${operationsPath}/mfeOperationResults/${id}?api-version=2024-04-01` } };
    if (operation.status === 'Failed') return { status: 400, body: { error: operation.error } };
    return { status: 204 };
  }

  async function serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const raw = (await readBody(req)).toString('utf8');
    const url = new URL(req.url ?? '/', 'https://fake');
    const method = req.method ?? 'GET';
    const send = (operationId: string, answer: Answer, checked?: MatchedOperation) => {
      const text = answer.body === undefined ? '' : JSON.stringify(answer.body);
      if (checked) {
        const spec = checked.operationId === 'Workspaces_Get' ? workspaces : swagger;
        violations.push(...spec.checkResponse(checked, answer.status, text), ...spec.checkResponseHeaders(checked, answer.status, answer.headers ?? {}));
      }
      calls.push({ operationId, method, path: url.pathname, query: Object.fromEntries(url.searchParams), status: answer.status, body: raw ? JSON.parse(raw) : undefined, at: Date.now() });
      res.writeHead(answer.status, { ...(text ? { 'content-type': 'application/json; charset=utf-8' } : {}), 'x-ms-request-id': crypto.randomUUID(), ...answer.headers });
      res.end(text);
    };
    const operationCall = /\/(mfeOperationsStatus|mfeOperationResults)\/([^/]+)$/.exec(url.pathname);
    if (operationCall && url.pathname.startsWith(operationsPath)) {
      if (!authorizedRequest(req)) {
        send(operationCall[1]!, { status: 401, body: { error: { code: 'InvalidAuthenticationToken', message: 'The access token is missing, expired or not for this audience.' } } });
        return;
      }
      const answer = operationAnswer(operationCall[1]!, operationCall[2]!);
      if (answer.status === 200 && operationCall[1] === 'mfeOperationsStatus') violations.push(...operationStatusProblems(swagger, answer.body));
      send(operationCall[1]!, answer);
      return;
    }
    const operation = swagger.match(method, url.pathname) ?? workspaces.match(method, url.pathname);
    if (!operation) {
      violations.push(`no operation in the spec for ${method} ${url.pathname}`);
      send('(none)', { status: 404, body: { error: { code: 'NoRoute', message: `no route ${method} ${url.pathname}` } } });
      return;
    }
    violations.push(...(operation.operationId === 'Workspaces_Get' ? workspaces : swagger).checkRequest(operation, url.searchParams, req.headers['content-type'] ?? '', raw));
    if (!authorizedRequest(req)) {
      send(operation.operationId, { status: 401, body: { error: { code: 'InvalidAuthenticationToken', message: 'The access token is missing, expired or not for this audience.' } } }, operation);
      return;
    }
    const { subscriptionId, resourceGroupName, workspaceName } = operation.params;
    if (subscriptionId !== options.subscriptionId || resourceGroupName?.toLowerCase() !== options.resourceGroup.toLowerCase() || workspaceName !== options.workspace) {
      send(operation.operationId, { status: 404, body: { error: { code: 'ResourceNotFound', message: `workspace ${workspaceName} not found` } } }, operation);
      return;
    }
    const failure = failures.get(operation.operationId);
    if (failure) {
      failures.delete(operation.operationId);
      send(operation.operationId, { status: failure.status, body: { error: { code: failure.code, message: `injected failure of ${operation.operationId}` } } }, operation);
      return;
    }
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      send(operation.operationId, { status: 400, body: { error: { code: 'InvalidRequestContent', message: 'body is not JSON' } } }, operation);
      return;
    }
    send(operation.operationId, handle(operation, url.searchParams, body), operation);
  }

  const running = await servers.https(options.ca, (req, res) => {
    serve(req, res).catch((error: unknown) => {
      violations.push(`fake ARM crashed: ${String(error)}`);
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  origin = running.origin;
  const scoring = await startFakeScoring(servers, options.ca, online, options.entra);
  scoringOrigin = scoring.url;

  return {
    url: origin,
    store,
    calls,
    violations,
    failNext: (operationId, status, code = 'InternalServerError') => void failures.set(operationId, { status, code }),
    addDatastore: (datastore) => store.addDatastore(datastore),
    addModelVersion: (name, version) => {
      const now = new Date().toISOString();
      const model = store.models.get(name) ?? { name, createdAt: now, body: {}, versions: new Map() };
      model.versions.set(version, { name: version, createdAt: now, body: { modelType: 'mlflow_model', modelUri: `azureml://subscriptions/${options.subscriptionId}/resourceGroups/${options.resourceGroup}/workspaces/${options.workspace}/datastores/workspaceblobstore/paths/models/${name}/${version}/` } });
      store.models.set(name, model);
    },
    online,
    scoring,
    queueDeployment: (outcome) => online.queueDeployment(outcome),
    writes: () => calls.filter((call) => call.method === 'PUT' || call.method === 'DELETE' || call.method === 'PATCH'),
    stop: () => servers.close(),
  };
}
