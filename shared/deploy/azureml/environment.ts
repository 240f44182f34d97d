import { createHash } from 'node:crypto';
import type { ArmClient } from '../../azure/arm.js';
import { workspacePath, type AzureMlWorkspace } from '../../model/azureml/workspace.js';
import { inferencePath, type DeploySpec } from '../target.js';
import type { EnvironmentVersionResource, Route } from './resources.js';

/** The port a custom serving image listens on (KServe's convention, which our images follow). */
export const SERVING_PORT = 8080;

/** Liveness, readiness and scoring routes of a KServe-style server for one model. */
export function inferenceRoutes(protocol: DeploySpec['protocol'], model: string): { livenessRoute: Route; readinessRoute: Route; scoringRoute: Route } {
  const route = (path: string): Route => ({ path, port: SERVING_PORT });
  if (protocol === 'v2') {
    return { livenessRoute: route('/v2/health/live'), readinessRoute: route('/v2/health/ready'), scoringRoute: route(inferencePath('v2', model)) };
  }
  // The v1 protocol has no server-wide health route Azure ML accepts ('/' alone is refused): the
  // model's status route answers once the server is up and the model loaded.
  const status = `/v1/models/${encodeURIComponent(model)}`;
  return { livenessRoute: route(status), readinessRoute: route(status), scoringRoute: route(inferencePath('v1', model)) };
}

/** Where the environment version for this image and protocol lives (its name and version too). */
export function environmentVersion(ws: AzureMlWorkspace, spec: DeploySpec, image: string, modelName: string) {
  const name = `${spec.name}-env`;
  const inferenceConfig = inferenceRoutes(spec.protocol, modelName);
  const version = createHash('sha256').update(JSON.stringify({ image, inferenceConfig })).digest('hex').slice(0, 12);
  return { name, version, inferenceConfig, path: `${workspacePath(ws)}/environments/${encodeURIComponent(name)}/versions/${version}` };
}

/**
 * The environment version a custom image is served from: named after the endpoint, versioned by
 * what it holds, so an unchanged image and protocol reuse the version (versions are immutable).
 */
export async function ensureEnvironment(
  arm: ArmClient,
  ws: AzureMlWorkspace,
  spec: DeploySpec,
  image: string,
  modelName: string,
  log: (line: string) => void,
): Promise<string> {
  const { name, version, inferenceConfig, path } = environmentVersion(ws, spec, image, modelName);
  const existing = await arm.find<EnvironmentVersionResource>(`reading environment '${name}' version ${version}`, path);
  if (existing) {
    log(`environment '${name}' version ${version} already holds image ${image}: reused`);
    return existing.id ?? path;
  }
  const body: EnvironmentVersionResource = {
    properties: { image, osType: 'Linux', inferenceConfig, description: `Serving image for endpoint ${spec.name}`, tags: { ...spec.labels } },
  };
  const created = await arm.put<EnvironmentVersionResource>(`creating environment '${name}' version ${version}`, path, body);
  log(`created environment '${name}' version ${version} for image ${image}`);
  return created.id ?? path;
}
