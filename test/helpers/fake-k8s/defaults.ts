import type { K8sObject } from './store.js';

/**
 * The defaults the API server fills in on write for the built-in kinds DeployModel writes, so what
 * a client reads back looks like a real cluster's answer (and a diff against it is honest).
 */
type Json = Record<string, any>;

let nextClusterIp = 10;

function containerDefaults(container: Json): void {
  container.terminationMessagePath ??= '/dev/termination-log';
  container.terminationMessagePolicy ??= 'File';
  container.imagePullPolicy ??= /:latest$|^[^:]*$/.test(String(container.image ?? '')) ? 'Always' : 'IfNotPresent';
  for (const port of container.ports ?? []) port.protocol ??= 'TCP';
}

function podSpecDefaults(spec: Json): void {
  spec.restartPolicy ??= 'Always';
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.securityContext ??= {};
  for (const container of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) containerDefaults(container);
}

export function applyDefaults(object: K8sObject): void {
  const spec = object.spec as Json | undefined;
  if (object.apiVersion === 'v1' && object.kind === 'Service' && spec) {
    spec.type ??= 'ClusterIP';
    if (spec.type !== 'ExternalName') {
      spec.clusterIP ??= `10.96.0.${nextClusterIp++ % 250}`;
      spec.clusterIPs ??= [spec.clusterIP];
      spec.ipFamilies ??= ['IPv4'];
      spec.ipFamilyPolicy ??= 'SingleStack';
      spec.internalTrafficPolicy ??= 'Cluster';
    }
    spec.sessionAffinity ??= 'None';
    for (const port of spec.ports ?? []) {
      port.protocol ??= 'TCP';
      port.targetPort ??= port.port;
    }
    object.status ??= { loadBalancer: {} };
  }
  if (object.apiVersion === 'apps/v1' && object.kind === 'Deployment' && spec) {
    spec.replicas ??= 1;
    spec.revisionHistoryLimit ??= 10;
    spec.progressDeadlineSeconds ??= 600;
    spec.strategy ??= { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } };
    if (spec.template?.spec) podSpecDefaults(spec.template.spec);
  }
  if (object.apiVersion === 'v1' && object.kind === 'Pod' && spec) podSpecDefaults(spec);
}
