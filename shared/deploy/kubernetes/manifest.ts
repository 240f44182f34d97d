import type { K8sObject } from '../k8s/cluster.js';
import { containerResources, envList, lineageAnnotations } from '../k8s/pod-spec.js';
import type { DeploySpec } from '../target.js';

/** The port the serving container listens on: KServe's convention, which most servers follow. */
export const CONTAINER_PORT = 8080;
export const SERVICE_PORT = 80;

export function selectorLabels(name: string): Record<string, string> {
  return { 'app.kubernetes.io/name': name, 'app.kubernetes.io/component': 'model-server' };
}

/** The readiness path of a V2 server, or a V1 server's model status. */
function readinessPath(spec: DeploySpec): string {
  return spec.protocol === 'v2' ? `/v2/models/${encodeURIComponent(spec.name)}/ready` : `/v1/models/${encodeURIComponent(spec.name)}`;
}

export function deployment(spec: DeploySpec, namespace: string): K8sObject {
  const labels = selectorLabels(spec.name);
  const annotations = lineageAnnotations(spec.labels);
  const resources = containerResources(spec.resources);
  // The model location reaches the server as MODEL_URI, as KServe passes STORAGE_URI.
  const env = envList({ ...spec.env, ...(spec.modelUri ? { MODEL_URI: spec.modelUri } : {}) });
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: spec.name, namespace, labels: { ...labels, 'app.kubernetes.io/managed-by': 'mlops-tasks' }, annotations },
    spec: {
      replicas: spec.minReplicas ?? 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels, annotations },
        spec: {
          containers: [
            {
              name: 'model-server',
              image: spec.image,
              ports: [{ name: 'http', containerPort: CONTAINER_PORT, protocol: 'TCP' }],
              ...(env.length ? { env } : {}),
              ...(resources ? { resources } : {}),
              readinessProbe: { httpGet: { path: readinessPath(spec), port: 'http' }, periodSeconds: 5 },
            },
          ],
        },
      },
    },
  };
}

export function service(spec: DeploySpec, namespace: string): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: spec.name, namespace, labels: { ...selectorLabels(spec.name), 'app.kubernetes.io/managed-by': 'mlops-tasks' } },
    spec: {
      selector: selectorLabels(spec.name),
      ports: [{ name: 'http', port: SERVICE_PORT, targetPort: 'http', protocol: 'TCP' }],
    },
  };
}
