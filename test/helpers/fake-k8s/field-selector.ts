import type { K8sObject, ResourceType } from './store.js';

/** The field labels the API server accepts per kind (every kind takes metadata.name and metadata.namespace). */
const FIELDS: Record<string, string[]> = {
  Event: [
    'involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion',
    'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type',
  ],
  Pod: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'status.phase', 'status.podIP', 'status.nominatedNodeName'],
};

/**
 * Parses a fieldSelector (`a=b`, `a==b`, `a!=b`, comma-joined) for a type, as the API server does:
 * a field it does not index is a 400, not an empty list. Returns a predicate or the error message.
 */
export function parseFieldSelector(text: string, type: ResourceType): ((object: K8sObject) => boolean) | string {
  const allowed = ['metadata.name', 'metadata.namespace', ...(FIELDS[type.kind] ?? [])];
  const requirements: ((object: K8sObject) => boolean)[] = [];
  for (const part of text.split(',').map((item) => item.trim()).filter(Boolean)) {
    const match = /^([^=!]+)(==|=|!=)(.*)$/.exec(part);
    if (!match) return `invalid selector: '${part}'; can't understand '${part}'`;
    const [, field = '', operator, value = ''] = match;
    if (!allowed.includes(field)) return `field label not supported: ${field}`;
    const read = (object: K8sObject) => {
      if (type.kind === 'Event' && field === 'source') return String(((object.source as { component?: string } | undefined)?.component) ?? '');
      let current: unknown = object;
      for (const step of field.split('.')) current = current && typeof current === 'object' ? (current as Record<string, unknown>)[step] : undefined;
      return current === undefined ? '' : String(current);
    };
    requirements.push(operator === '!=' ? (object) => read(object) !== value : (object) => read(object) === value);
  }
  return (object) => requirements.every((requirement) => requirement(object));
}
