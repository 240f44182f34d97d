import type { ResourceType } from './store.js';

export interface Cause {
  reason: 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueNotSupported' | 'FieldValueForbidden';
  message: string;
  field: string;
}

/** 'Deployment.apps' or 'Service': how a 422 names the kind. */
export function qualifiedKind(type: ResourceType): string {
  return type.group ? `${type.kind}.${type.group}` : type.kind;
}

/** '/spec/containers/0/image' -> 'spec.containers[0].image' */
export function fieldPath(pointer: string): string {
  return pointer
    .split('/')
    .filter(Boolean)
    .map((step, index) => (/^\d+$/.test(step) ? `[${step}]` : `${index ? '.' : ''}${step.replace(/~1/g, '/').replace(/~0/g, '~')}`))
    .join('');
}

/**
 * Schema problems (as K8sSchemas words them) as the API server's 422 causes: a missing field is
 * Required, an unknown one 'field not declared in schema', an enum miss Unsupported.
 */
export function causesOf(problems: string[], valueAt: (pointer: string) => unknown): Cause[] {
  return problems.map((problem) => {
    const space = problem.indexOf(' ');
    const pointer = problem.slice(0, space) === '/' ? '' : problem.slice(0, space);
    const text = problem.slice(space + 1);
    let match: RegExpExecArray | null;
    if ((match = /^must have required property '(.+)'$/.exec(text))) {
      return { reason: 'FieldValueRequired', message: 'Required value', field: fieldPath(`${pointer}/${match[1]}`) };
    }
    if ((match = /^must NOT have additional properties '(.+)'$/.exec(text))) {
      return { reason: 'FieldValueInvalid', message: 'field not declared in schema', field: fieldPath(`${pointer}/${match[1]}`) };
    }
    const value = JSON.stringify(valueAt(pointer)) ?? 'null';
    if (/^must be equal to one of the allowed values/.test(text)) {
      return { reason: 'FieldValueNotSupported', message: `Unsupported value: ${value}`, field: fieldPath(pointer) };
    }
    return { reason: 'FieldValueInvalid', message: `Invalid value: ${value}: ${text}`, field: fieldPath(pointer) };
  });
}

/** The 422 message: 'Deployment.apps "web" is invalid: spec.replicas: Invalid value: ...' (several in brackets). */
export function invalidMessage(type: ResourceType, name: string, causes: Cause[]): string {
  const parts = causes.map((cause) => `${cause.field}: ${cause.message}`);
  return `${qualifiedKind(type)} "${name}" is invalid: ${parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`}`;
}

export function pointerValue(object: unknown, pointer: string): unknown {
  let current = object;
  for (const step of pointer.split('/').filter(Boolean)) current = current && typeof current === 'object' ? (current as Record<string, unknown>)[step] : undefined;
  return current;
}
