import { parsePortForward } from '../../shared/k8s/port-forward.js';

describe('parsePortForward', () => {
  test.each([
    ['kubeflow/ml-pipeline:8888', { namespace: 'kubeflow', service: 'ml-pipeline', port: 8888 }],
    ['  kubeflow/ml-pipeline:8888\n', { namespace: 'kubeflow', service: 'ml-pipeline', port: 8888 }],
    ['default/a:1', { namespace: 'default', service: 'a', port: 1 }],
    ['0-team/svc-2:65535', { namespace: '0-team', service: 'svc-2', port: 65535 }],
    [`${'n'.repeat(63)}/${'s'.repeat(63)}:80`, { namespace: 'n'.repeat(63), service: 's'.repeat(63), port: 80 }],
  ])('%j parses', (value, expected) => {
    expect(parsePortForward(value)).toEqual(expected);
  });

  test.each([
    ['', 'is empty; expected namespace/service:port, e.g. kubeflow/ml-pipeline:8888'],
    ['   ', 'is empty; expected namespace/service:port, e.g. kubeflow/ml-pipeline:8888'],
    ['ml-pipeline:8888', "'ml-pipeline:8888' names no namespace; expected namespace/service:port, e.g. kubeflow/ml-pipeline:8888"],
    ['kubeflow/ml-pipeline', "'kubeflow/ml-pipeline' names no port; expected namespace/service:port, e.g. kubeflow/ml-pipeline:8888"],
    ['kubeflow/svc/ml-pipeline:8888', "'kubeflow/svc/ml-pipeline:8888' has more than one '/'; expected namespace/service:port, e.g. kubeflow/ml-pipeline:8888"],
    ['kubeflow/ml-pipeline:http', "'kubeflow/ml-pipeline:http': port 'http' is not a number from 1 to 65535"],
    ['kubeflow/ml-pipeline:', "'kubeflow/ml-pipeline:': port '' is not a number from 1 to 65535"],
    ['kubeflow/ml-pipeline:-1', "'kubeflow/ml-pipeline:-1': port '-1' is not a number from 1 to 65535"],
    ['kubeflow/ml-pipeline:8888.0', "'kubeflow/ml-pipeline:8888.0': port '8888.0' is not a number from 1 to 65535"],
    ['kubeflow/ml-pipeline:0', "'kubeflow/ml-pipeline:0': port 0 is not a number from 1 to 65535"],
    ['kubeflow/ml-pipeline:65536', "'kubeflow/ml-pipeline:65536': port 65536 is not a number from 1 to 65535"],
    ['kubeflow/ml-pipeline:123456', "'kubeflow/ml-pipeline:123456': port '123456' is not a number from 1 to 65535"],
    ['/ml-pipeline:8888', "'/ml-pipeline:8888': the namespace is empty"],
    ['kubeflow/:8888', "'kubeflow/:8888': the service name is empty"],
    ['Kubeflow/ml-pipeline:8888', "'Kubeflow/ml-pipeline:8888': namespace 'Kubeflow' is not a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters)"],
    ['kube_flow/ml-pipeline:8888', "'kube_flow/ml-pipeline:8888': namespace 'kube_flow' is not a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters)"],
    ['kubeflow-/ml-pipeline:8888', "'kubeflow-/ml-pipeline:8888': namespace 'kubeflow-' is not a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters)"],
    [`${'n'.repeat(64)}/a:1`, `'${'n'.repeat(64)}/a:1': namespace '${'n'.repeat(64)}' is not a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters)`],
    ['kubeflow/ml.pipeline:8888', "'kubeflow/ml.pipeline:8888': service name 'ml.pipeline' is not a DNS-1035 label (lower-case letters, digits and '-', starting with a letter, at most 63 characters)"],
    ['kubeflow/2pipeline:8888', "'kubeflow/2pipeline:8888': service name '2pipeline' is not a DNS-1035 label (lower-case letters, digits and '-', starting with a letter, at most 63 characters)"],
    ['kubeflow/ml-pipeline:8888:9', "'kubeflow/ml-pipeline:8888:9': service name 'ml-pipeline:8888' is not a DNS-1035 label (lower-case letters, digits and '-', starting with a letter, at most 63 characters)"],
  ])('%j gives a reason', (value, reason) => {
    expect(parsePortForward(value)).toBe(reason);
  });
});
