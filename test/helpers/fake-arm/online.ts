import { randomBytes } from 'node:crypto';
import type { MatchedOperation } from './swagger.js';
import type { FakeOperations } from './operations.js';
import { systemData } from './store.js';

export type Answer = { status: number; body?: unknown; headers?: Record<string, string> };

/** What a new deployment does once created: provisions, or fails with a reason and its logs. */
export type DeploymentOutcome = 'succeeds' | { fails: string; code?: string; logs?: string[] };

export interface StoredEndpoint {
  name: string;
  createdAt: string;
  location: string;
  kind?: string;
  tags: Record<string, string>;
  identity?: Record<string, unknown>;
  /** The OnlineEndpoint properties as last PUT. */
  properties: Record<string, unknown>;
  provisioningState: string;
  keys: { primaryKey: string; secondaryKey: string };
}

export interface StoredDeployment {
  name: string;
  createdAt: string;
  location: string;
  tags: Record<string, string>;
  sku?: Record<string, unknown>;
  properties: Record<string, unknown>;
  provisioningState: string;
  logs: { InferenceServer: string[]; StorageInitializer: string[] };
}

export interface StoredEnvironment {
  name: string;
  version: string;
  createdAt: string;
  properties: Record<string, unknown>;
}

const error = (status: number, code: string, message: string): Answer => ({ status, body: { error: { code, message } } });
const notFound = (what: string) => error(404, 'UserError', `${what} was not found`);

/**
 * Online endpoints, their deployments and environment versions of one workspace, with state and
 * long-running operations. Traffic rules follow Azure ML: shares sum to 100 (or nothing), go only
 * to deployments that exist and succeeded, and a deployment with traffic cannot be deleted.
 */
export class FakeOnline {
  readonly endpoints = new Map<string, StoredEndpoint>();
  readonly deployments = new Map<string, Map<string, StoredDeployment>>();
  readonly environments = new Map<string, StoredEnvironment>();
  /** AMLTokens handed out by the token action. */
  readonly amlTokens = new Set<string>();
  private readonly outcomes: DeploymentOutcome[] = [];

  constructor(
    private readonly workspaceId: string,
    private readonly operations: FakeOperations,
    private readonly scoringUri: (endpoint: string) => string,
    private readonly deleteRetryAfterSeconds: number,
    private readonly modelExists: (id: string) => boolean,
  ) {}

  /** The outcome of the next deployment created (first in, first used); unqueued ones succeed. */
  queueDeployment(outcome: DeploymentOutcome): void {
    this.outcomes.push(outcome);
  }

  deploymentsOf(endpoint: string): Map<string, StoredDeployment> {
    let map = this.deployments.get(endpoint);
    if (!map) this.deployments.set(endpoint, (map = new Map()));
    return map;
  }

  traffic(endpoint: string): Record<string, number> {
    return (this.endpoints.get(endpoint)?.properties.traffic as Record<string, number> | null | undefined) ?? {};
  }

  private endpointResource(endpoint: StoredEndpoint) {
    return {
      id: `${this.workspaceId}/onlineEndpoints/${endpoint.name}`,
      name: endpoint.name,
      type: 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints',
      location: endpoint.location,
      ...(endpoint.kind ? { kind: endpoint.kind } : {}),
      tags: endpoint.tags,
      ...(endpoint.identity ? { identity: { ...endpoint.identity, ...(String(endpoint.identity.type).includes('SystemAssigned') ? { principalId: '11111111-2222-3333-4444-555555555555', tenantId: '66666666-7777-8888-9999-000000000000' } : {}) } } : {}),
      systemData: systemData(endpoint.createdAt),
      properties: { ...endpoint.properties, keys: null, provisioningState: endpoint.provisioningState, scoringUri: this.scoringUri(endpoint.name), swaggerUri: `${this.scoringUri(endpoint.name).replace(/\/score$/, '')}/swagger.json` },
    };
  }

  private deploymentResource(endpoint: string, deployment: StoredDeployment) {
    return {
      id: `${this.workspaceId}/onlineEndpoints/${endpoint}/deployments/${deployment.name}`,
      name: deployment.name,
      type: 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments',
      location: deployment.location,
      tags: deployment.tags,
      ...(deployment.sku ? { sku: deployment.sku } : {}),
      systemData: systemData(deployment.createdAt),
      properties: { ...deployment.properties, provisioningState: deployment.provisioningState },
    };
  }

  private environmentResource(environment: StoredEnvironment) {
    return {
      id: `${this.workspaceId}/environments/${environment.name}/versions/${environment.version}`,
      name: environment.version,
      type: 'Microsoft.MachineLearningServices/workspaces/environments/versions',
      systemData: systemData(environment.createdAt),
      properties: { isAnonymous: false, isArchived: false, ...environment.properties, environmentType: 'UserCreated', provisioningState: 'Succeeded' },
    };
  }

  /** Why a traffic map cannot be set on an endpoint, if it cannot. */
  private trafficProblem(endpoint: string, traffic: Record<string, number>): string | undefined {
    const shares = Object.entries(traffic);
    const total = shares.reduce((sum, [, percent]) => sum + percent, 0);
    if (shares.some(([, percent]) => !Number.isInteger(percent) || percent < 0 || percent > 100)) return 'traffic values must be whole percents from 0 to 100';
    if (total !== 100 && total !== 0) return `traffic values must sum to 100, not ${total}`;
    for (const [name, percent] of shares) {
      const deployment = this.deploymentsOf(endpoint).get(name);
      if (!deployment) return `traffic names deployment '${name}', which does not exist`;
      if (percent > 0 && deployment.provisioningState !== 'Succeeded') return `deployment '${name}' is ${deployment.provisioningState}: it cannot take traffic`;
    }
    return undefined;
  }

  /** The answer for an online or environment operation; undefined when it is none of those. */
  handle(operation: MatchedOperation, body: unknown): Answer | undefined {
    this.operations.tick();
    const { endpointName = '', deploymentName = '', name = '', version = '' } = operation.params;
    switch (operation.operationId) {
      case 'OnlineEndpoints_List':
        return { status: 200, body: { value: [...this.endpoints.values()].map((e) => this.endpointResource(e)) } };
      case 'OnlineEndpoints_Get': {
        const endpoint = this.endpoints.get(endpointName);
        return endpoint ? { status: 200, body: this.endpointResource(endpoint) } : notFound(`online endpoint ${endpointName}`);
      }
      case 'OnlineEndpoints_CreateOrUpdate': {
        const resource = body as { location: string; kind?: string; tags?: Record<string, string>; identity?: Record<string, unknown>; properties: Record<string, unknown> };
        const existing = this.endpoints.get(endpointName);
        if (existing && existing.properties.authMode !== resource.properties.authMode) return error(400, 'BadArgument', 'the auth mode of an endpoint cannot be changed');
        const traffic = (resource.properties.traffic as Record<string, number> | null | undefined) ?? {};
        const problem = this.trafficProblem(endpointName, traffic);
        if (problem) return error(400, 'BadArgument', problem);
        const endpoint: StoredEndpoint = existing ?? {
          name: endpointName,
          createdAt: new Date().toISOString(),
          location: resource.location,
          provisioningState: 'Creating',
          tags: {},
          properties: {},
          keys: { primaryKey: `key1-${randomBytes(16).toString('hex')}`, secondaryKey: `key2-${randomBytes(16).toString('hex')}` },
        };
        endpoint.kind = resource.kind;
        endpoint.tags = resource.tags ?? {};
        endpoint.identity = resource.identity;
        endpoint.properties = { ...resource.properties };
        endpoint.provisioningState = existing ? 'Updating' : 'Creating';
        this.endpoints.set(endpointName, endpoint);
        const lro = this.operations.start(() => {
          endpoint.provisioningState = 'Succeeded';
          return { status: 'Succeeded' };
        });
        return { status: existing ? 200 : 201, body: this.endpointResource(endpoint), headers: this.operations.headers(lro) };
      }
      case 'OnlineEndpoints_Delete': {
        if (!this.endpoints.delete(endpointName)) return { status: 204 };
        this.deployments.delete(endpointName);
        return { status: 200 };
      }
      case 'OnlineEndpoints_ListKeys': {
        const endpoint = this.endpoints.get(endpointName);
        if (!endpoint) return notFound(`online endpoint ${endpointName}`);
        if (endpoint.properties.authMode !== 'Key') return error(400, 'BadArgument', `endpoint ${endpointName} does not use keys (auth mode ${String(endpoint.properties.authMode)})`);
        return { status: 200, body: endpoint.keys };
      }
      case 'OnlineEndpoints_GetToken': {
        const endpoint = this.endpoints.get(endpointName);
        if (!endpoint) return notFound(`online endpoint ${endpointName}`);
        if (endpoint.properties.authMode !== 'AMLToken') return error(400, 'BadArgument', `endpoint ${endpointName} does not use AML tokens (auth mode ${String(endpoint.properties.authMode)})`);
        const accessToken = `amltoken-${randomBytes(24).toString('hex')}`;
        this.amlTokens.add(accessToken);
        const now = Math.floor(Date.now() / 1000);
        return { status: 200, body: { accessToken, tokenType: 'Bearer', expiryTimeUtc: now + 3600, refreshAfterTimeUtc: now + 1800 } };
      }
      case 'OnlineDeployments_List': {
        if (!this.endpoints.has(endpointName)) return notFound(`online endpoint ${endpointName}`);
        return { status: 200, body: { value: [...this.deploymentsOf(endpointName).values()].map((d) => this.deploymentResource(endpointName, d)) } };
      }
      case 'OnlineDeployments_Get': {
        const deployment = this.deploymentsOf(endpointName).get(deploymentName);
        if (!deployment) return notFound(`deployment ${deploymentName}`);
        const settled = ['Succeeded', 'Failed', 'Canceled'].includes(deployment.provisioningState);
        // While it provisions, ARM says when to look again.
        return { status: 200, body: this.deploymentResource(endpointName, deployment), headers: settled ? {} : { 'retry-after': '1' } };
      }
      case 'OnlineDeployments_CreateOrUpdate':
        return this.createDeployment(endpointName, deploymentName, body);
      case 'OnlineDeployments_Delete': {
        const deployment = this.deploymentsOf(endpointName).get(deploymentName);
        if (!deployment) return { status: 204 };
        if ((this.traffic(endpointName)[deploymentName] ?? 0) > 0) return error(400, 'BadArgument', `deployment ${deploymentName} still gets traffic: set it to 0 first`);
        deployment.provisioningState = 'Deleting';
        const lro = this.operations.start(() => {
          this.deploymentsOf(endpointName).delete(deploymentName);
          return { status: 'Succeeded' };
        });
        return { status: 202, headers: { ...this.operations.headers(lro, { location: true, retryAfterSeconds: this.deleteRetryAfterSeconds }), 'x-ms-async-operation-timeout': 'PT1H' } };
      }
      case 'OnlineDeployments_GetLogs': {
        const deployment = this.deploymentsOf(endpointName).get(deploymentName);
        if (!deployment) return notFound(`deployment ${deploymentName}`);
        const request = body as { containerType?: 'InferenceServer' | 'StorageInitializer'; tail?: number | null };
        const lines = deployment.logs[request.containerType ?? 'InferenceServer'];
        return { status: 200, body: { content: (request.tail ? lines.slice(-request.tail) : lines).join('\n') } };
      }
      case 'EnvironmentVersions_Get': {
        const environment = this.environments.get(`${name}/${version}`);
        return environment ? { status: 200, body: this.environmentResource(environment) } : notFound(`environment ${name} version ${version}`);
      }
      case 'EnvironmentVersions_CreateOrUpdate': {
        const properties = (body as { properties: Record<string, unknown> }).properties;
        const existing = this.environments.get(`${name}/${version}`);
        // Environment versions are immutable in what they run.
        if (existing && existing.properties.image !== properties.image) return error(409, 'UserError', `environment ${name} version ${version} exists with another image`);
        const environment = existing ?? { name, version, createdAt: new Date().toISOString(), properties };
        this.environments.set(`${name}/${version}`, environment);
        return { status: existing ? 200 : 201, body: this.environmentResource(environment) };
      }
      default:
        return undefined;
    }
  }

  private createDeployment(endpointName: string, deploymentName: string, body: unknown): Answer {
    if (!this.endpoints.has(endpointName)) return notFound(`online endpoint ${endpointName}`);
    const resource = body as { location: string; tags?: Record<string, string>; sku?: Record<string, unknown>; properties: Record<string, unknown> };
    const model = resource.properties.model as string | undefined;
    if (model && model.startsWith('/subscriptions/') && !this.modelExists(model)) return error(400, 'UserError', `model ${model} was not found`);
    const environmentId = resource.properties.environmentId as string | undefined;
    if (environmentId) {
      const found = /\/environments\/([^/]+)\/versions\/([^/]+)$/.exec(environmentId);
      if (!found || !this.environments.has(`${found[1]}/${found[2]}`)) return error(400, 'UserError', `environment ${environmentId} was not found`);
    }
    const existing = this.deploymentsOf(endpointName).get(deploymentName);
    if (existing) return error(409, 'Conflict', `the fake creates deployments only; ${deploymentName} exists`);
    const deployment: StoredDeployment = {
      name: deploymentName,
      createdAt: new Date().toISOString(),
      location: resource.location,
      tags: resource.tags ?? {},
      sku: resource.sku,
      properties: resource.properties,
      provisioningState: 'Creating',
      logs: { InferenceServer: [], StorageInitializer: [`Downloading model ${model ?? '(in image)'}`] },
    };
    this.deploymentsOf(endpointName).set(deploymentName, deployment);
    const outcome = this.outcomes.shift() ?? 'succeeds';
    const lro = this.operations.start(() => {
      if (outcome === 'succeeds') {
        deployment.provisioningState = 'Succeeded';
        deployment.logs.InferenceServer.push('Starting server on port 8080', 'Model loaded, ready');
        return { status: 'Succeeded' };
      }
      deployment.provisioningState = 'Failed';
      deployment.logs.InferenceServer.push(...(outcome.logs ?? ['Starting server on port 8080', 'Traceback (most recent call last):', 'RuntimeError: model failed to load']));
      return { status: 'Failed', error: { code: outcome.code ?? 'ResourceNotReady', message: outcome.fails } };
    });
    return { status: 201, body: this.deploymentResource(endpointName, deployment), headers: { ...this.operations.headers(lro), 'x-ms-async-operation-timeout': 'PT1H' } };
  }
}
