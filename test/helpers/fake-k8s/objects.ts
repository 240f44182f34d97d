import type { K8sObject } from './store.js';

/** Builders for the objects tests put into the fake, shaped as a real cluster returns them. */

const seconds = (date: Date) => date.toISOString().replace(/\.\d+Z$/, 'Z');

export function namespace(name: string): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { 'kubernetes.io/metadata.name': name } },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  };
}

export interface ServicePortSpec {
  name?: string;
  port: number;
  /** A number, or the name of a container port. Defaults to the port, as the API server does. */
  targetPort?: number | string;
}

export function service(ns: string, name: string, options: { selector?: Record<string, string>; ports: ServicePortSpec[]; type?: string }): K8sObject {
  const type = options.type ?? 'ClusterIP';
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns, labels: { app: name } },
    spec: {
      type,
      ...(options.selector ? { selector: options.selector } : {}),
      ...(type === 'ExternalName' ? { externalName: `${name}.example.com` } : { clusterIP: '10.96.12.34', clusterIPs: ['10.96.12.34'] }),
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      sessionAffinity: 'None',
      internalTrafficPolicy: 'Cluster',
      ports: options.ports.map((port) => ({
        ...(port.name ? { name: port.name } : {}),
        protocol: 'TCP',
        port: port.port,
        targetPort: port.targetPort ?? port.port,
      })),
    },
    status: { loadBalancer: {} },
  };
}

export interface PodOptions {
  labels?: Record<string, string>;
  /** Container ports, e.g. [{ name: 'http', containerPort: 8888 }]. */
  ports?: { name?: string; containerPort: number }[];
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  ready?: boolean;
  /** When the pod became ready; the longest ready is preferred, as kubectl does. */
  readySince?: Date;
  /** Set to mark the pod as terminating. */
  deleting?: boolean;
  ip?: string;
}

export function pod(ns: string, name: string, options: PodOptions = {}): K8sObject {
  const phase = options.phase ?? 'Running';
  const ready = options.ready ?? phase === 'Running';
  const since = seconds(options.readySince ?? new Date(Date.now() - 60_000));
  const image = 'gcr.io/ml-pipeline/api-server:2.3.0';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: ns,
      labels: options.labels ?? {},
      ...(options.deleting ? { deletionTimestamp: seconds(new Date()), deletionGracePeriodSeconds: 30 } : {}),
    },
    spec: {
      nodeName: 'node-1',
      restartPolicy: 'Always',
      serviceAccountName: 'ml-pipeline',
      containers: [
        {
          name: 'main',
          image,
          imagePullPolicy: 'IfNotPresent',
          ports: (options.ports ?? []).map((port) => ({ ...port, protocol: 'TCP' })),
          readinessProbe: { httpGet: { path: '/apis/v2beta1/healthz', port: options.ports?.[0]?.containerPort ?? 8888 }, periodSeconds: 5 },
        },
      ],
    },
    status: {
      phase,
      ...(phase === 'Pending' ? {} : { podIP: options.ip ?? '10.244.0.10', podIPs: [{ ip: options.ip ?? '10.244.0.10' }], hostIP: '172.18.0.2' }),
      conditions: [
        { type: 'PodScheduled', status: 'True', lastTransitionTime: since },
        { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: since, ...(ready ? {} : { reason: 'ContainersNotReady' }) },
      ],
      containerStatuses:
        phase === 'Pending'
          ? []
          : [
              {
                name: 'main',
                image,
                imageID: `${image.split(':')[0]}@sha256:${'a'.repeat(64)}`,
                ready,
                started: true,
                restartCount: 0,
                state: { running: { startedAt: since } },
              },
            ],
    },
  };
}

export function endpoints(
  ns: string,
  name: string,
  options: { ready?: { pod: string; ip: string }[]; notReady?: { pod: string; ip: string }[]; ports: { name?: string; port: number }[] },
): K8sObject {
  const address = ({ pod: podName, ip }: { pod: string; ip: string }) => ({ ip, nodeName: 'node-1', targetRef: { kind: 'Pod', namespace: ns, name: podName } });
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name, namespace: ns },
    subsets: [
      {
        ...(options.ready?.length ? { addresses: options.ready.map(address) } : {}),
        ...(options.notReady?.length ? { notReadyAddresses: options.notReady.map(address) } : {}),
        ports: options.ports.map((port) => ({ ...port, protocol: 'TCP' })),
      },
    ],
  };
}
