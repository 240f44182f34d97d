import type { DeploySpec } from '../target.js';
import type { EndpointAuthMode, OnlineEndpointResource } from './resources.js';
import { withTraffic, type Traffic } from './traffic.js';

export const AUTH_MODES: Record<'key' | 'aadToken', EndpointAuthMode> = { key: 'Key', aadToken: 'AADToken' };

/** A new endpoint: system-assigned identity (it pulls images and models as itself), no traffic yet. */
export function newEndpointBody(spec: DeploySpec, location: string, authMode: EndpointAuthMode): OnlineEndpointResource {
  return {
    location,
    tags: { ...spec.labels },
    identity: { type: 'SystemAssigned' },
    properties: { authMode, description: `Served by mlops-tasks DeployModel`, traffic: {} },
  };
}

/**
 * An existing endpoint as a PUT body, with only the given changes: a PUT replaces the whole
 * resource, so what we do not mean to change is sent back as it was (read-only fields left out).
 */
export function endpointPutBody(
  endpoint: OnlineEndpointResource,
  changes: { traffic?: Traffic; tags?: Record<string, string>; drop?: string[] } = {},
): OnlineEndpointResource {
  const p = endpoint.properties;
  const drop = new Set(changes.drop ?? []);
  const without = (map: Traffic | null | undefined) => Object.fromEntries(Object.entries(map ?? {}).filter(([name]) => !drop.has(name)));
  const identity = endpoint.identity
    ? {
        type: endpoint.identity.type,
        ...(endpoint.identity.userAssignedIdentities ? { userAssignedIdentities: Object.fromEntries(Object.keys(endpoint.identity.userAssignedIdentities).map((id) => [id, {}])) } : {}),
      }
    : undefined;
  return {
    location: endpoint.location,
    ...(endpoint.kind ? { kind: endpoint.kind } : {}),
    tags: { ...endpoint.tags, ...changes.tags },
    ...(identity ? { identity } : {}),
    properties: {
      authMode: p.authMode,
      ...(p.description != null ? { description: p.description } : {}),
      ...(p.properties ? { properties: p.properties } : {}),
      ...(p.compute != null ? { compute: p.compute } : {}),
      ...(p.publicNetworkAccess ? { publicNetworkAccess: p.publicNetworkAccess } : {}),
      ...(p.mirrorTraffic ? { mirrorTraffic: without(p.mirrorTraffic) } : {}),
      traffic: withTraffic(without(changes.traffic ?? p.traffic)),
    },
  };
}

/** A traffic map as the diff and the log show it. */
export function trafficSettings(traffic: Traffic): [string, string][] {
  return Object.entries(traffic)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, percent]) => [name, `${percent}%`]);
}

export function describeTraffic(traffic: Traffic): string {
  const entries = trafficSettings(withTraffic(traffic));
  return entries.length ? entries.map(([name, percent]) => `${name} ${percent}`).join(', ') : 'no traffic';
}
