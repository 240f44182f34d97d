import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Ajv as AjvClass, ValidateFunction } from 'ajv';
import { SchemaNode } from './schema-node.js';

// Both are CommonJS packages whose class is their `default` export.
const require = createRequire(import.meta.url);
const Ajv: typeof AjvClass = require('ajv').default;
const addFormats: (ajv: AjvClass) => AjvClass = require('ajv-formats').default;

/** The per-group-version OpenAPI v3 documents under <specs>/k8s, as the API server publishes them. */
const DOCUMENTS = ['api__v1_openapi.json', 'apis__apps__v1_openapi.json'];
const ROOT_ID = 'k8s';

interface Operation {
  parameters?: Parameter[];
}
interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: { type?: string };
}
type PathItem = Partial<Record<'get' | 'put' | 'post' | 'delete' | 'patch' | 'head' | 'options', Operation>> & { parameters?: Parameter[] };

/**
 * Discovery documents outside the per-group-version files we have (/api, /apis), written from the
 * meta/v1 Go types (APIVersions, APIGroupList) so their answers are checked too.
 */
const HAND_WRITTEN: Record<string, object> = {
  'io.k8s.apimachinery.pkg.apis.meta.v1.APIVersions': {
    type: 'object',
    required: ['versions', 'serverAddressByClientCIDRs'],
    additionalProperties: false,
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string', enum: ['APIVersions'] },
      versions: { type: 'array', items: { type: 'string' } },
      serverAddressByClientCIDRs: {
        type: 'array',
        items: {
          type: 'object',
          required: ['clientCIDR', 'serverAddress'],
          additionalProperties: false,
          properties: { clientCIDR: { type: 'string' }, serverAddress: { type: 'string' } },
        },
      },
    },
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.APIGroupList': {
    type: 'object',
    required: ['groups'],
    additionalProperties: false,
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string', enum: ['APIGroupList'] },
      groups: {
        type: 'array',
        items: {
          type: 'object',
          required: ['name', 'versions'],
          additionalProperties: false,
          properties: {
            name: { type: 'string' },
            versions: { type: 'array', items: { $ref: '#/definitions/groupVersion' } },
            preferredVersion: { $ref: '#/definitions/groupVersion' },
          },
        },
      },
    },
    definitions: {
      groupVersion: {
        type: 'object',
        required: ['groupVersion', 'version'],
        additionalProperties: false,
        properties: { groupVersion: { type: 'string' }, version: { type: 'string' } },
      },
    },
  },
};

/**
 * The Kubernetes OpenAPI v3 schemas, compiled with ajv. Object schemas are closed
 * (additionalProperties: false where the spec lists properties and says nothing else), which is
 * what the API server's strict field validation does: a misspelt field is a violation, not a
 * silently dropped value.
 */
export class K8sSchemas {
  private readonly ajv: AjvClass;
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly paths: { pattern: RegExp; template: string; item: PathItem }[] = [];
  private readonly definitions: Record<string, unknown> = {};
  /** Schemas compiled elsewhere (custom resources), by name. */
  private readonly external = new Map<string, { validate: (value: unknown) => string[]; node?: SchemaNode }>();
  /** URL prefixes of custom resources and the built-in collection whose request parameters they share. */
  private readonly aliases: { prefix: string; as: string }[] = [];
  private readonly aliasPlurals = new Map<string, string>();
  readonly names: Set<string>;

  constructor(readonly dir: string) {
    const definitions = this.definitions;
    for (const file of DOCUMENTS) {
      const path = join(dir, file);
      if (!existsSync(path)) continue;
      const document = JSON.parse(readFileSync(path, 'utf8')) as {
        paths: Record<string, PathItem>;
        components: { schemas: Record<string, unknown> };
      };
      for (const [name, schema] of Object.entries(document.components.schemas)) definitions[name] ??= rewrite(schema);
      for (const [template, item] of Object.entries(document.paths)) {
        const pattern = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+')}$`);
        this.paths.push({ pattern, template, item });
      }
    }
    // The most literal template first: /namespaces/{namespace}/pods before /namespaces/{name}/...
    const parameterCount = (template: string) => template.split('{').length;
    this.paths.sort((a, b) => parameterCount(a.template) - parameterCount(b.template));
    this.names = new Set(Object.keys(definitions));
    this.ajv = addFormats(new Ajv({ allErrors: true, strict: false, unicodeRegExp: false }));
    addIntegerFormats(this.ajv);
    this.ajv.addFormat('int-or-string', true);
    this.ajv.addSchema({ $id: ROOT_ID, definitions });
    for (const [name, schema] of Object.entries(HAND_WRITTEN)) {
      this.ajv.addSchema({ $id: name, ...schema });
      this.names.add(name);
    }
  }

  static load(specs: string): K8sSchemas {
    return new K8sSchemas(join(specs, 'k8s'));
  }

  /** Adds a schema compiled elsewhere (a CRD's), validated by name like the built-in ones. */
  register(name: string, validate: (value: unknown) => string[], node?: SchemaNode): void {
    this.external.set(name, { validate, node });
    this.names.add(name);
  }

  /**
   * Checks requests under a custom resource's URLs with the parameters of a built-in collection:
   * the API server serves custom resources through the same handlers, so they take the same query.
   * E.g. ('/apis/serving.kserve.io/v1beta1', 'inferenceservices') as apps/v1 deployments.
   */
  aliasPaths(groupVersionPrefix: string, plural: string, builtIn = { prefix: '/apis/apps/v1', plural: 'deployments' }): void {
    this.aliases.push({ prefix: `${groupVersionPrefix}/`, as: `${builtIn.prefix}/` });
    this.aliasPlurals.set(plural, builtIn.plural);
  }

  /** The schema named, to walk beside an object (for server-side apply's list and map semantics). */
  node(schemaName: string): SchemaNode | undefined {
    const external = this.external.get(schemaName);
    if (external) return external.node;
    if (!(schemaName in this.definitions)) return undefined;
    const lookup = (ref: string) => this.definitions[ref.replace(`${ROOT_ID}#/definitions/`, '')] as Record<string, unknown> | undefined;
    return new SchemaNode({ $ref: `${ROOT_ID}#/definitions/${schemaName}` }, lookup);
  }

  /** Violations of one object against a named schema, e.g. io.k8s.api.core.v1.Service. */
  validate(schemaName: string, value: unknown): string[] {
    const external = this.external.get(schemaName);
    if (external) return external.validate(value);
    if (!this.names.has(schemaName)) return [`no schema named ${schemaName} in the specs`];
    let validate = this.compiled.get(schemaName);
    if (!validate) {
      validate = HAND_WRITTEN[schemaName]
        ? this.ajv.getSchema(schemaName)!
        : this.ajv.compile({ $ref: `${ROOT_ID}#/definitions/${schemaName}` });
      this.compiled.set(schemaName, validate);
    }
    return validate(value) ? [] : formatErrors(validate.errors);
  }

  /**
   * Problems with a request line against the spec's paths: an unknown path or method, a query
   * parameter the operation does not declare, a value of the wrong type. Undefined when the path
   * is in none of the documents at hand (e.g. /api, /apis).
   */
  checkRequest(method: string, pathname: string, query: URLSearchParams): string[] | undefined {
    const alias = this.aliases.find((candidate) => pathname.startsWith(candidate.prefix));
    if (alias) {
      const rest = pathname.slice(alias.prefix.length).split('/');
      const at = rest[0] === 'namespaces' ? 2 : 0;
      const plural = this.aliasPlurals.get(rest[at] ?? '');
      if (!plural) return undefined;
      rest[at] = plural;
      pathname = alias.as + rest.join('/');
    }
    const match = this.paths.find((candidate) => candidate.pattern.test(pathname));
    if (!match) return undefined;
    const operation = match.item[method.toLowerCase() as 'get'];
    if (!operation) return [`${method} is not an operation of ${match.template}`];
    const parameters = [...(match.item.parameters ?? []), ...(operation.parameters ?? [])].filter((p) => p.in === 'query');
    const problems: string[] = [];
    for (const name of new Set(query.keys())) {
      const declared = parameters.find((parameter) => parameter.name === name);
      if (!declared) {
        problems.push(`query parameter '${name}' is not declared for ${method} ${match.template}`);
        continue;
      }
      for (const value of query.getAll(name)) {
        const type = declared.schema?.type;
        if (type === 'integer' && !/^-?\d+$/.test(value)) problems.push(`query parameter '${name}' must be an integer, got '${value}'`);
        // What Go's strconv.ParseBool accepts, as the API server's query decoding does.
        if (type === 'boolean' && !/^(1|t|T|TRUE|true|True|0|f|F|FALSE|false|False)$/.test(value)) {
          problems.push(`query parameter '${name}' must be true or false, got '${value}'`);
        }
      }
    }
    for (const parameter of parameters) {
      if (parameter.required && !query.has(parameter.name)) problems.push(`required query parameter '${parameter.name}' is missing`);
    }
    return problems;
  }
}

/** ajv's errors as one line each: where, what, and the unknown field's name. */
export function formatErrors(errors: ValidateFunction['errors']): string[] {
  return (errors ?? []).map((error) => {
    const extra = error.keyword === 'additionalProperties' ? ` '${(error.params as { additionalProperty: string }).additionalProperty}'` : '';
    return `${error.instancePath || '/'} ${error.message ?? error.keyword}${extra}`;
  });
}

/** Kubernetes' integer formats: an integer within the bits. */
export function addIntegerFormats(ajv: AjvClass): void {
  const int = (bits: number) => ({
    type: 'number' as const,
    validate: (value: number) => Number.isInteger(value) && Math.abs(value) <= 2 ** (bits - 1),
  });
  ajv.addFormat('int32', int(32));
  ajv.addFormat('int64', int(64));
}

/** '#/components/schemas/X' -> 'k8s#/definitions/X', and object schemas closed. */
function rewrite(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(rewrite);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$ref' && typeof value === 'string') out[key] = value.replace('#/components/schemas/', `${ROOT_ID}#/definitions/`);
    else if (key === 'properties' && value && typeof value === 'object') {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, inner]) => [name, rewrite(inner)]));
    } else out[key] = rewrite(value);
  }
  if (out.properties && out.additionalProperties === undefined && !out.allOf && !out.oneOf && !out.anyOf) out.additionalProperties = false;
  return out;
}
