/** A Kubernetes Service port to forward to: what `kubectl port-forward svc/<service> <port>` names. */
export interface ServiceTarget {
  namespace: string;
  service: string;
  port: number;
}

const EXAMPLE = 'expected namespace/service:port, e.g. kubeflow/ml-pipeline:8888';
// Namespaces are DNS-1123 labels; Service names are DNS-1035 labels (they must start with a letter).
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const MAX_LABEL = 63;

/** Why a namespace is not valid, or undefined when it is. */
export function namespaceProblem(namespace: string): string | undefined {
  if (!namespace) return 'the namespace is empty';
  if (namespace.length > MAX_LABEL || !DNS1123_LABEL.test(namespace)) {
    return `namespace '${namespace}' is not a DNS-1123 label (lower-case letters, digits and '-', at most ${MAX_LABEL} characters)`;
  }
  return undefined;
}

/** Why a Service name is not valid, or undefined when it is. */
export function serviceNameProblem(service: string): string | undefined {
  if (!service) return 'the service name is empty';
  if (service.length > MAX_LABEL || !DNS1035_LABEL.test(service)) {
    return `service name '${service}' is not a DNS-1035 label (lower-case letters, digits and '-', starting with a letter, at most ${MAX_LABEL} characters)`;
  }
  return undefined;
}

export function portProblem(port: number): string | undefined {
  return Number.isInteger(port) && port >= 1 && port <= 65535 ? undefined : `port ${port} is not a number from 1 to 65535`;
}

/** The first thing wrong with a target, or undefined when it is a valid one. */
export function targetProblem(target: ServiceTarget): string | undefined {
  return namespaceProblem(target.namespace) ?? serviceNameProblem(target.service) ?? portProblem(target.port);
}

/**
 * Parses 'namespace/service:port'. Returns the reason (one line, without the input's name) when
 * the value does not parse, so the caller can word it as an InputError of its own input.
 */
export function parsePortForward(value: string): ServiceTarget | string {
  const text = value.trim();
  if (!text) return `is empty; ${EXAMPLE}`;
  const slash = text.indexOf('/');
  if (slash < 0) return `'${text}' names no namespace; ${EXAMPLE}`;
  const namespace = text.slice(0, slash);
  const rest = text.slice(slash + 1);
  if (rest.includes('/')) return `'${text}' has more than one '/'; ${EXAMPLE}`;
  const colon = rest.lastIndexOf(':');
  if (colon < 0) return `'${text}' names no port; ${EXAMPLE}`;
  const service = rest.slice(0, colon);
  const portText = rest.slice(colon + 1);
  if (!/^\d{1,5}$/.test(portText)) return `'${text}': port '${portText}' is not a number from 1 to 65535`;
  const target = { namespace, service, port: Number(portText) };
  const problem = targetProblem(target);
  return problem ? `'${text}': ${problem}` : target;
}
