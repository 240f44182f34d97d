import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type { Ajv as AjvClass, ValidateFunction } from 'ajv';

// Both are CommonJS packages whose export is their `default`.
const require = createRequire(import.meta.url);
const Ajv: typeof AjvClass = require('ajv').default;
const addFormats: (ajv: AjvClass) => AjvClass = require('ajv-formats').default;

export type KfpApiVersion = 'v2beta1' | 'v1beta1';

interface SwaggerParameter {
  name: string;
  in: 'path' | 'query' | 'body' | 'formData' | 'header';
  required?: boolean;
  type?: string;
  enum?: string[];
  schema?: Record<string, unknown>;
}

interface SwaggerOperation {
  operationId: string;
  parameters?: SwaggerParameter[];
  responses: Record<string, { schema?: Record<string, unknown> }>;
  consumes?: string[];
}

interface SwaggerFile {
  paths: Record<string, Record<string, SwaggerOperation>>;
  definitions: Record<string, unknown>;
}

export interface Route {
  version: KfpApiVersion;
  method: string;
  template: string;
  operation: SwaggerOperation;
  params: Record<string, string>;
}

export interface SeenRequest {
  method: string;
  /** Path below the server's prefix, without query. */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/**
 * Swagger 2 request bodies are checked as the server's protobuf JSON parser reads them: a field
 * the message does not define is an error. So every object schema with properties gets
 * additionalProperties: false; open objects (google.protobuf.Struct, Any) stay open.
 */
function strict(schema: unknown, id: string): unknown {
  if (Array.isArray(schema)) return schema.map((item) => strict(item, id));
  if (!schema || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$ref' && typeof value === 'string') out[key] = value.replace(/^#\/definitions\//, `${id}#/definitions/`);
    else if (key === 'properties' && value && typeof value === 'object') {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, property]) => [name, strict(property, id)]));
    } else out[key] = strict(value, id);
  }
  if (out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

const FILTER_DEFINITION: Record<KfpApiVersion, string> = { v2beta1: 'v2beta1Filter', v1beta1: 'apiFilter' };

/** One API version's swagger: finds the operation of a request and checks requests and answers against it. */
export class SwaggerContract {
  private readonly routes: { method: string; template: string; pattern: RegExp; names: string[]; operation: SwaggerOperation }[] = [];
  private readonly ajv: AjvClass;
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly id: string;

  constructor(specsDir: string, readonly version: KfpApiVersion) {
    const read = (file: string) => JSON.parse(readFileSync(join(specsDir, 'kfp', version, file), 'utf8')) as SwaggerFile;
    const spec = read('kfp_api_single_file.swagger.json');
    // The filter query parameter is a JSON Filter message; its definitions live in their own file.
    const definitions = { ...read('filter.swagger.json').definitions, ...spec.definitions };
    this.id = `kfp-${version}`;
    this.ajv = addFormats(new Ajv({ allErrors: true, strict: false }));
    // protobuf JSON spells int64 as a string and double as a number; ajv-formats checks number formats only on numbers.
    this.ajv.addFormat('int64', { type: 'string', validate: (text: string) => /^-?\d+$/.test(text) });
    this.ajv.addSchema({ $id: this.id, definitions: strict(definitions, this.id) });
    for (const [template, methods] of Object.entries(spec.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const names: string[] = [];
        const source = template
          .split(/(\{[^}]+\})/)
          .map((part) => {
            const name = /^\{([^}]+)\}$/.exec(part)?.[1];
            if (!name) return part.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
            names.push(name);
            return '([^/:]+)';
          })
          .join('');
        this.routes.push({ method: method.toUpperCase(), template, pattern: new RegExp(`^${source}$`), names, operation });
      }
    }
    // Literal paths win over templated ones (/pipelines/upload over /pipelines/{id}).
    this.routes.sort((a, b) => a.names.length - b.names.length);
  }

  route(method: string, path: string): Route | undefined {
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const match = route.pattern.exec(path);
      if (!match) continue;
      const params = Object.fromEntries(route.names.map((name, index) => [name, decodeURIComponent(match[index + 1] ?? '')]));
      return { version: this.version, method, template: route.template, operation: route.operation, params };
    }
    return undefined;
  }

  private validator(schema: Record<string, unknown>): ValidateFunction {
    const key = JSON.stringify(schema);
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile(strict(schema, this.id) as object);
      this.compiled.set(key, validate);
    }
    return validate;
  }

  /** Problems of a JSON value against a schema, one line each; empty when it fits. */
  check(schema: Record<string, unknown>, value: unknown): string[] {
    const validate = this.validator(schema);
    if (validate(value)) return [];
    return (validate.errors ?? []).map((error) => {
      const extra = error.params && 'additionalProperty' in error.params ? ` '${String(error.params.additionalProperty)}'` : '';
      return `${error.instancePath || '(root)'} ${error.message ?? 'is invalid'}${extra}`;
    });
  }

  definition(name: string): Record<string, unknown> {
    return { $ref: `#/definitions/${name}` };
  }

  /** Everything wrong with a request for its operation: query parameters, body, content type. */
  checkRequest(route: Route, request: SeenRequest): string[] {
    const problems: string[] = [];
    const declared = new Map((route.operation.parameters ?? []).map((parameter) => [`${parameter.in}:${parameter.name}`, parameter]));
    for (const [name, value] of request.query) {
      const parameter = declared.get(`query:${name}`);
      if (!parameter) {
        problems.push(`query parameter '${name}' is not defined`);
        continue;
      }
      if (parameter.type === 'integer' && !/^-?\d+$/.test(value)) problems.push(`query parameter '${name}' is not an integer: '${value}'`);
      if (parameter.type === 'boolean' && !/^(true|false)$/.test(value)) problems.push(`query parameter '${name}' is not a boolean: '${value}'`);
      if (parameter.enum && !parameter.enum.includes(value)) problems.push(`query parameter '${name}' is not one of ${parameter.enum.join(', ')}: '${value}'`);
      if (name === 'filter') {
        let filter: unknown;
        try {
          filter = JSON.parse(value);
        } catch {
          problems.push('query parameter filter is not JSON');
          continue;
        }
        problems.push(...this.check(this.definition(FILTER_DEFINITION[this.version]), filter).map((problem) => `filter ${problem}`));
      }
    }
    for (const parameter of declared.values()) {
      if (parameter.in === 'query' && parameter.required && !request.query.has(parameter.name)) problems.push(`query parameter '${parameter.name}' is required`);
    }
    const contentType = String(request.headers['content-type'] ?? '');
    const bodyParameter = [...declared.values()].find((parameter) => parameter.in === 'body');
    const formFile = [...declared.values()].find((parameter) => parameter.in === 'formData' && parameter.type === 'file');
    if (bodyParameter?.schema) {
      if (!contentType.startsWith('application/json')) problems.push(`body must be application/json, got '${contentType}'`);
      let body: unknown;
      try {
        body = JSON.parse(request.body.toString('utf8'));
      } catch {
        problems.push('body is not JSON');
        return problems;
      }
      problems.push(...this.check(bodyParameter.schema, body).map((problem) => `body ${problem}`));
    } else if (formFile) {
      if (!contentType.startsWith('multipart/form-data') || !/boundary=/.test(contentType)) problems.push(`body must be multipart/form-data, got '${contentType}'`);
      else if (!multipartFile(request.body, contentType, formFile.name)) problems.push(`multipart body has no file part '${formFile.name}'`);
    } else if (request.body.length > 0) problems.push('the operation takes no body, but one was sent');
    return problems;
  }

  /** Everything wrong with an answer: 200 against the operation's result, anything else against its error (default) schema. */
  checkResponse(route: Route, status: number, body: Buffer, contentType: string): string[] {
    const schema = (route.operation.responses[String(status)] ?? route.operation.responses.default)?.schema;
    if (!schema) return [`no response ${status} is defined`];
    if (!contentType.startsWith('application/json')) return [`response ${status} is '${contentType}', not application/json`];
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch {
      return [`response ${status} is not JSON`];
    }
    return this.check(schema, value).map((problem) => `response ${status} ${problem}`);
  }
}

export interface MultipartFile {
  filename: string;
  content: Buffer;
}

/** The file part of a multipart/form-data body, as Go's r.FormFile finds it. */
export function multipartFile(body: Buffer, contentType: string, field: string): MultipartFile | undefined {
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1];
  if (!boundary) return undefined;
  const delimiter = Buffer.from(`--${boundary}`);
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') return undefined;
    const headerEnd = body.indexOf('\r\n\r\n', start);
    const next = body.indexOf(delimiter, start);
    if (headerEnd < 0 || next < 0) return undefined;
    const headers = body.subarray(start, headerEnd).toString('utf8');
    const name = /name="([^"]*)"/.exec(headers)?.[1];
    const filename = /filename="([^"]*)"/.exec(headers)?.[1];
    if (name === field && filename !== undefined) return { filename, content: body.subarray(headerEnd + 4, next - 2) };
    at = next;
  }
  return undefined;
}
