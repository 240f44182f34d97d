import { jsonEqual } from './json-equal.js';
import type { Cause } from './invalid.js';
import type { K8sObject } from './store.js';

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/**
 * The checks the API server makes beyond the schema, for the kinds DeployModel writes: names,
 * a Deployment's selector against its template and its immutability, a Service's ports.
 */
export function semanticCauses(object: K8sObject, live: K8sObject | undefined): Cause[] {
  const causes: Cause[] = [];
  const name = object.metadata.name;
  if (object.kind === 'Service' && object.apiVersion === 'v1') {
    if (!LABEL_1035.test(name) || name.length > 63) {
      causes.push({ reason: 'FieldValueInvalid', field: 'metadata.name', message: `Invalid value: "${name}": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')` });
    }
    const spec = object.spec as { type?: string; ports?: unknown[] } | undefined;
    if (spec?.type !== 'ExternalName' && !spec?.ports?.length) causes.push({ reason: 'FieldValueRequired', field: 'spec.ports', message: 'Required value' });
  } else if (!SUBDOMAIN.test(name) || name.length > 253) {
    causes.push({ reason: 'FieldValueInvalid', field: 'metadata.name', message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')` });
  }
  if (object.kind === 'Deployment' && object.apiVersion === 'apps/v1') {
    const spec = object.spec as { selector?: { matchLabels?: Record<string, string> }; template?: { metadata?: { labels?: Record<string, string> } } } | undefined;
    const selector = spec?.selector?.matchLabels ?? {};
    const labels = spec?.template?.metadata?.labels ?? {};
    if (spec?.selector && !Object.entries(selector).every(([key, value]) => labels[key] === value)) {
      causes.push({ reason: 'FieldValueInvalid', field: 'spec.template.metadata.labels', message: `Invalid value: ${JSON.stringify(labels)}: \`selector\` does not match template \`labels\`` });
    }
    const before = (live?.spec as { selector?: unknown } | undefined)?.selector;
    if (before && !jsonEqual(before, spec?.selector)) {
      causes.push({ reason: 'FieldValueInvalid', field: 'spec.selector', message: `Invalid value: ${JSON.stringify(spec?.selector)}: field is immutable` });
    }
  }
  return causes;
}
