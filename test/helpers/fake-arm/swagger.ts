import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, relative, resolve } from 'node:path';
import type { Ajv as AjvClass, ValidateFunction } from 'ajv';

// CommonJS packages whose export is their `default`.
const require = createRequire(import.meta.url);
const Ajv: typeof AjvClass = require('ajv').default;
const addFormats: (ajv: AjvClass) => AjvClass = require('ajv-formats').default;

/** The 2024-04-01 Azure ML spec, relative to the specs dir. */
export const MFE_JSON = 'azureml/specification/machinelearningservices/resource-manager/Microsoft.MachineLearningServices/stable/2024-04-01/mfe.json';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface SwaggerParameter {
  name: string;
  in: 'path' | 'query' | 'body' | 'header';
  required?: boolean;
  type?: string;
  enum?: string[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  schema?: Json;
}

export interface Operation {
  operationId: string;
  method: string;
  template: string;
  parameters: SwaggerParameter[];
  responses: Record<string, { schema?: Json; headers?: Record<string, Json> }>;
}

export interface MatchedOperation extends Operation {
  params: Record<string, string>;
}

/** Whether a schema is read in a request (readOnly properties forbidden) or a response. */
type Direction = 'request' | 'response';

/**
 * An Autorest-flavoured Swagger 2.0 spec made checkable with ajv: $refs across files resolved,
 * allOf inheritance flattened (so `additionalProperties: false` on a child keeps the parent's
 * properties), polymorphism through `discriminator` / `x-ms-discriminator-value`, `x-nullable`,
 * and readOnly properties refused in request bodies.
 */
export class ArmSwagger {
  private readonly files = new Map<string, Json>();
  private readonly ajv: AjvClass;
  private readonly definitions: Record<string, unknown> = {};
  private readonly converted = new Set<string>();
  private readonly compiled = new Map<string, ValidateFunction>();
  readonly operations: Operation[] = [];
  readonly apiVersion: string;

  constructor(readonly specsDir: string, mainFile = MFE_JSON) {
    const main = resolve(specsDir, mainFile);
    const spec = this.file(main);
    this.apiVersion = spec.info.version as string;
    this.ajv = addFormats(new Ajv({ allErrors: true, strict: false }));
    for (const format of ['int32', 'int64', 'float', 'double', 'duration', 'arm-id', 'unixtime', 'base64url', 'password', 'byte']) {
      this.ajv.addFormat(format, true);
    }
    for (const [template, methods] of Object.entries(spec.paths as Json)) {
      for (const [method, operation] of Object.entries(methods as Json)) {
        if (method === 'parameters') continue;
        const parameters = ((operation as Json).parameters as Json[]).map((p) => this.parameter(main, p));
        this.operations.push({ operationId: (operation as Json).operationId, method: method.toUpperCase(), template, parameters, responses: this.responses(main, (operation as Json).responses) });
      }
    }
  }

  private file(path: string): Json {
    let spec = this.files.get(path);
    if (!spec) {
      spec = JSON.parse(readFileSync(path, 'utf8')) as Json;
      this.files.set(path, spec);
    }
    return spec;
  }

  /** [absolute file, pointer] of a $ref seen in `from`. */
  private target(from: string, ref: string): [string, string[]] {
    const [filePart, pointer = ''] = ref.split('#');
    const file = filePart ? resolve(dirname(from), filePart) : from;
    return [file, pointer.split('/').filter(Boolean)];
  }

  private lookup(file: string, pointer: string[]): Json {
    return pointer.reduce<Json>((node, key) => node[key], this.file(file));
  }

  private parameter(from: string, parameter: Json): SwaggerParameter {
    if (!parameter.$ref) return { ...parameter, schema: parameter.schema ? { __from: from, ...parameter.schema } : undefined } as SwaggerParameter;
    const [file, pointer] = this.target(from, parameter.$ref);
    return this.parameter(file, this.lookup(file, pointer));
  }

  private responses(from: string, responses: Json): Record<string, { schema?: Json; headers?: Record<string, Json> }> {
    return Object.fromEntries(
      Object.entries(responses).map(([status, response]) => [status, { schema: (response as Json).schema ? { __from: from, ...(response as Json).schema } : undefined, headers: (response as Json).headers }]),
    );
  }

  private key(file: string, name: string, direction: Direction): string {
    return `${direction}:${relative(this.specsDir, file).replace(/[^A-Za-z0-9]+/g, '_')}:${name}`;
  }

  /** Definitions (in the same file) that inherit from `name` through allOf, directly or not. */
  private subtypes(file: string, name: string): [string, string][] {
    const definitions = this.file(file).definitions as Json;
    const out: [string, string][] = [];
    const inherits = (candidate: string, seen = new Set<string>()): boolean => {
      if (seen.has(candidate)) return false;
      seen.add(candidate);
      for (const parent of (definitions[candidate]?.allOf ?? []) as Json[]) {
        if (typeof parent.$ref !== 'string') continue;
        const [parentFile, pointer] = this.target(file, parent.$ref);
        if (parentFile !== file) continue;
        const parentName = pointer[pointer.length - 1]!;
        if (parentName === name || inherits(parentName, seen)) return true;
      }
      return false;
    };
    for (const [candidate, schema] of Object.entries(definitions)) {
      if (candidate !== name && inherits(candidate)) out.push([candidate, ((schema as Json)['x-ms-discriminator-value'] as string) ?? candidate]);
    }
    return out;
  }

  /** A reference to a definition, as the schema a value of that type must meet. */
  private refTo(file: string, name: string, direction: Direction, polymorphic = true): Json {
    const definition = (this.file(file).definitions as Json)[name] as Json;
    if (polymorphic && definition.discriminator) {
      const key = this.key(file, `${name}~any`, direction);
      if (!this.converted.has(key)) {
        this.converted.add(key);
        const property = definition.discriminator as string;
        const subtypes = this.subtypes(file, name);
        this.definitions[key] = {
          type: 'object',
          required: [property],
          allOf: [
            ...subtypes.map(([subtype, value]) => ({
              if: { properties: { [property]: { const: value } }, required: [property] },
              then: this.refTo(file, subtype, direction, false),
            })),
            { if: { not: { properties: { [property]: { enum: subtypes.map(([, value]) => value) } } } }, then: this.refTo(file, name, direction, false) },
          ],
        };
      }
      return { $ref: `#/definitions/${key}` };
    }
    const key = this.key(file, name, direction);
    if (!this.converted.has(key)) {
      this.converted.add(key);
      this.definitions[key] = this.flatten(file, name, direction);
    }
    return { $ref: `#/definitions/${key}` };
  }

  /** A definition with everything it inherits through allOf merged in. */
  private flatten(file: string, name: string, direction: Direction): Json | boolean {
    const definition = (this.file(file).definitions as Json)[name] as Json;
    const properties: Json = {};
    const required = new Set<string>();
    const collect = (from: string, schema: Json) => {
      for (const parent of (schema.allOf ?? []) as Json[]) {
        if (parent.$ref) {
          const [parentFile, pointer] = this.target(from, parent.$ref);
          collect(parentFile, this.lookup(parentFile, pointer));
        } else collect(from, parent);
      }
      for (const [property, propertySchema] of Object.entries((schema.properties ?? {}) as Json)) properties[property] = this.convert(from, propertySchema as Json, direction);
      for (const property of (schema.required ?? []) as string[]) required.add(property);
    };
    collect(file, definition);
    const discriminatorValue = definition['x-ms-discriminator-value'] as string | undefined;
    if (discriminatorValue) {
      // Which subtype this is: the inherited discriminator property must name it.
      const base = this.discriminatorOf(file, definition);
      if (base) properties[base] = { const: discriminatorValue };
    }
    const out: Json = { type: 'object', properties };
    if (required.size) out.required = [...required];
    if (definition.additionalProperties === false) out.additionalProperties = false;
    else if (definition.additionalProperties && typeof definition.additionalProperties === 'object') out.additionalProperties = this.convert(file, definition.additionalProperties, direction);
    if (definition.enum) return this.convert(file, definition, direction);
    if (definition.type && definition.type !== 'object') return this.convert(file, definition, direction);
    return out;
  }

  private discriminatorOf(file: string, schema: Json): string | undefined {
    if (schema.discriminator) return schema.discriminator as string;
    for (const parent of (schema.allOf ?? []) as Json[]) {
      if (!parent.$ref) continue;
      const [parentFile, pointer] = this.target(file, parent.$ref);
      const found = this.discriminatorOf(parentFile, this.lookup(parentFile, pointer));
      if (found) return found;
    }
    return undefined;
  }

  /** An inline schema (a property, an item, a body) in JSON Schema terms. */
  private convert(from: string, schema: Json, direction: Direction): Json | boolean {
    if (direction === 'request' && schema.readOnly === true) return false;
    const nullable = schema['x-nullable'] === true;
    let out: Json;
    if (schema.$ref) {
      const [file, pointer] = this.target(from, schema.$ref);
      const referenced = this.lookup(file, pointer);
      if (direction === 'request' && referenced.readOnly === true) return false;
      out = this.refTo(file, pointer[pointer.length - 1]!, direction);
    } else {
      out = {};
      for (const key of ['type', 'enum', 'format', 'pattern', 'minLength', 'maxLength', 'minimum', 'maximum', 'minItems', 'maxItems']) {
        if (schema[key] !== undefined) out[key] = schema[key];
      }
      if (schema.items) out.items = this.convert(from, schema.items, direction);
      if (schema.properties || schema.allOf) {
        const properties: Json = {};
        for (const [name, property] of Object.entries((schema.properties ?? {}) as Json)) properties[name] = this.convert(from, property as Json, direction);
        out.properties = properties;
        if (schema.required) out.required = schema.required;
        if (schema.allOf) out.allOf = (schema.allOf as Json[]).map((part) => this.convert(from, part, direction));
      }
      if (schema.additionalProperties === false) out.additionalProperties = false;
      else if (schema.additionalProperties && typeof schema.additionalProperties === 'object') out.additionalProperties = this.convert(from, schema.additionalProperties, direction);
    }
    if (!nullable) return out;
    return { anyOf: [{ type: 'null' }, out] };
  }

  /** Problems of a value against an operation's body or response schema; one line each. */
  check(schema: Json, value: unknown, direction: Direction): string[] {
    const { __from: from, ...rest } = schema;
    const root = this.convert(from as string, rest, direction);
    const key = `${direction}|${from}|${JSON.stringify(rest)}`;
    let validate = this.compiled.get(key);
    if (!validate) {
      // Every definition reached so far travels with the schema; later ones are added as met.
      validate = this.ajv.compile({ definitions: { ...this.definitions }, ...(typeof root === 'boolean' ? (root ? {} : { not: {} }) : root) });
      this.compiled.set(key, validate);
    }
    if (validate(value)) return [];
    return (validate.errors ?? [])
      .filter((error) => error.keyword !== 'if')
      .map((error) => {
        const extra = error.params && 'additionalProperty' in error.params ? ` '${String(error.params.additionalProperty)}'` : '';
        return `${error.instancePath || '(root)'} ${error.message ?? 'is invalid'}${extra}`;
      });
  }

  /** The operation a request is for, with its path parameters; literal segments win. */
  match(method: string, path: string): MatchedOperation | undefined {
    const candidates = this.operations
      .filter((operation) => operation.method === method)
      .map((operation) => {
        const names: string[] = [];
        const source = operation.template
          .split(/(\{[^}]+\})/)
          .map((part) => {
            const name = /^\{([^}]+)\}$/.exec(part)?.[1];
            if (!name) return part.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
            names.push(name);
            return '([^/]+)';
          })
          .join('');
        return { operation, names, pattern: new RegExp(`^${source}$`, 'i') };
      })
      .sort((a, b) => a.names.length - b.names.length);
    for (const { operation, names, pattern } of candidates) {
      const found = pattern.exec(path);
      if (!found) continue;
      return { ...operation, params: Object.fromEntries(names.map((name, index) => [name, decodeURIComponent(found[index + 1]!)])) };
    }
    return undefined;
  }

  /** Everything wrong with a request: path and query parameters, api-version, body. */
  checkRequest(operation: MatchedOperation, query: URLSearchParams, contentType: string, body: string): string[] {
    const problems: string[] = [];
    const where = `${operation.operationId}:`;
    for (const parameter of operation.parameters) {
      if (parameter.in === 'path') {
        const value = operation.params[parameter.name] ?? '';
        problems.push(...this.checkScalar(parameter, value).map((problem) => `${where} path ${problem}`));
      } else if (parameter.in === 'query') {
        const value = query.get(parameter.name);
        if (value === null) {
          if (parameter.required) problems.push(`${where} query parameter '${parameter.name}' is required`);
          continue;
        }
        problems.push(...this.checkScalar(parameter, value).map((problem) => `${where} query ${problem}`));
      }
    }
    const declared = new Set(operation.parameters.filter((p) => p.in === 'query').map((p) => p.name));
    for (const name of query.keys()) if (!declared.has(name)) problems.push(`${where} query parameter '${name}' is not defined`);
    if (query.get('api-version') !== this.apiVersion) problems.push(`${where} api-version is '${query.get('api-version')}', not ${this.apiVersion}`);
    const bodyParameter = operation.parameters.find((p) => p.in === 'body');
    if (!bodyParameter) {
      if (body.length) problems.push(`${where} the operation takes no body, but one was sent`);
      return problems;
    }
    if (!body.length) {
      if (bodyParameter.required) problems.push(`${where} body is required`);
      return problems;
    }
    if (!/^application\/json\b/i.test(contentType)) problems.push(`${where} body must be application/json, got '${contentType}'`);
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      return [...problems, `${where} body is not JSON`];
    }
    problems.push(...this.check(bodyParameter.schema!, value, 'request').map((problem) => `${where} body ${problem}`));
    return problems;
  }

  private checkScalar(parameter: SwaggerParameter, value: string): string[] {
    const problems: string[] = [];
    const name = `'${parameter.name}'`;
    if (parameter.type === 'integer' && !/^-?\d+$/.test(value)) problems.push(`${name} is not an integer: '${value}'`);
    if (parameter.type === 'boolean' && !/^(true|false)$/.test(value)) problems.push(`${name} is not a boolean: '${value}'`);
    if (parameter.enum && !parameter.enum.includes(value)) problems.push(`${name} is not one of ${parameter.enum.join(', ')}: '${value}'`);
    if (parameter.pattern && !new RegExp(parameter.pattern).test(value)) problems.push(`${name} does not match ${parameter.pattern}: '${value}'`);
    if (parameter.minLength !== undefined && value.length < parameter.minLength) problems.push(`${name} is shorter than ${parameter.minLength}`);
    if (parameter.maxLength !== undefined && value.length > parameter.maxLength) problems.push(`${name} is longer than ${parameter.maxLength}`);
    return problems;
  }

  /**
   * Everything wrong with the headers of an answer that the spec declares for its status: type,
   * format (durations) and bounds (Retry-After is 10 to 600 seconds where declared).
   */
  checkResponseHeaders(operation: Operation, status: number, headers: Record<string, string>): string[] {
    const declared = operation.responses[String(status)]?.headers ?? {};
    const problems: string[] = [];
    for (const [name, schema] of Object.entries(declared)) {
      const value = Object.entries(headers).find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];
      if (value === undefined) continue;
      const where = `${operation.operationId} response ${status}: header ${name}`;
      if (schema.type === 'integer') {
        if (!/^-?\d+$/.test(value)) problems.push(`${where} is not an integer: '${value}'`);
        else {
          if (schema.minimum !== undefined && Number(value) < schema.minimum) problems.push(`${where} is below ${schema.minimum}: ${value}`);
          if (schema.maximum !== undefined && Number(value) > schema.maximum) problems.push(`${where} is above ${schema.maximum}: ${value}`);
        }
      }
      if (schema.format === 'duration' && !/^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/.test(value)) problems.push(`${where} is not an ISO 8601 duration: '${value}'`);
    }
    return problems;
  }

  /** Everything wrong with an answer: a declared status (or default) and its schema. */
  checkResponse(operation: Operation, status: number, body: string): string[] {
    const where = `${operation.operationId} response ${status}:`;
    const response = operation.responses[String(status)] ?? (status >= 400 ? operation.responses.default : undefined);
    if (!response) return [`${where} status is not declared`];
    if (!response.schema) return body.length ? [`${where} declares no body, but one was sent`] : [];
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      return [`${where} body is not JSON`];
    }
    return this.check(response.schema, value, 'response').map((problem) => `${where} ${problem}`);
  }
}
