import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A small reader of the .proto files MLflow's REST API is defined by: messages (nested), enums,
 * fields (optional, repeated, map, oneof members) with `(validate_required)`, and the services'
 * `option (rpc)` endpoints. Enough to check JSON bodies the way the server's parser would.
 */

export interface ProtoField {
  name: string;
  type: string;
  repeated: boolean;
  map?: { key: string; value: string };
  required: boolean;
}

export interface ProtoMessage {
  fullName: string;
  fields: Map<string, ProtoField>;
}

export interface ProtoEndpoint {
  rpc: string;
  method: string;
  path: string;
  request: string;
  response: string;
}

export interface ProtoSchema {
  messages: Map<string, ProtoMessage>;
  enums: Map<string, Set<string>>;
  endpoints: ProtoEndpoint[];
}

const SCALARS = new Set(['string', 'bytes', 'bool', 'double', 'float', 'int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'fixed32', 'fixed64', 'sfixed32', 'sfixed64']);
const INTEGERS = new Set(['int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'fixed32', 'fixed64', 'sfixed32', 'sfixed64']);

function tokenize(text: string): string[] {
  const stripped = text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, ' ');
  return stripped.match(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[A-Za-z_][\w.]*|-?\d[\w.]*|\S/g) ?? [];
}

class Parser {
  private at = 0;
  private pkg = '';
  /** Unresolved field types, with the scope they were written in. */
  readonly pending: { field: ProtoField; scope: string[] }[] = [];

  constructor(private readonly tokens: string[], private readonly schema: ProtoSchema) {}

  private next(): string {
    const token = this.tokens[this.at++];
    if (token === undefined) throw new Error('unexpected end of .proto file');
    return token;
  }

  private peek(): string | undefined {
    return this.tokens[this.at];
  }

  private expect(token: string): void {
    const got = this.next();
    if (got !== token) throw new Error(`expected '${token}' in .proto file, got '${got}'`);
  }

  /** Skips a statement up to its ';', or a balanced { } block. */
  private skipStatement(): string[] {
    const skipped: string[] = [];
    let depth = 0;
    for (;;) {
      const token = this.next();
      skipped.push(token);
      if (token === '{') depth++;
      if (token === '}' && --depth === 0) {
        if (this.peek() === ';') this.next();
        return skipped;
      }
      if (token === ';' && depth === 0) return skipped;
    }
  }

  parseFile(): void {
    while (this.peek() !== undefined) {
      const token = this.next();
      if (token === 'package') {
        this.pkg = this.next();
        this.expect(';');
      } else if (token === 'message') this.message([...this.pkg.split('.')]);
      else if (token === 'enum') this.enumeration([...this.pkg.split('.')]);
      else if (token === 'service') this.service();
      else if (token !== ';') this.skipStatement();
    }
  }

  private enumeration(scope: string[]): void {
    const fullName = [...scope, this.next()].join('.');
    const values = new Set<string>();
    this.expect('{');
    while (this.peek() !== '}') {
      const token = this.next();
      if (token === 'option' || token === 'reserved') {
        this.skipStatement();
        continue;
      }
      values.add(token);
      values.add(String(Number(this.skipStatement()[1])));
    }
    this.next();
    this.schema.enums.set(fullName, values);
  }

  private fieldOptions(): boolean {
    // `[(validate_required) = true, default = 5]`
    if (this.peek() !== '[') return false;
    const options: string[] = [];
    while (this.peek() !== ']') options.push(this.next());
    this.next();
    return options.join(' ').includes('( validate_required ) = true');
  }

  private field(message: ProtoMessage, scope: string[], label: string | undefined, firstToken: string): void {
    let type = firstToken;
    let map: ProtoField['map'];
    if (type === 'map') {
      this.expect('<');
      const key = this.next();
      this.expect(',');
      const value = this.next();
      this.expect('>');
      map = { key, value };
      type = 'map';
    }
    const name = this.next();
    this.expect('=');
    this.next();
    const required = this.fieldOptions();
    this.expect(';');
    const field: ProtoField = { name, type, repeated: label === 'repeated', map, required };
    message.fields.set(name, field);
    if (map) {
      if (!SCALARS.has(map.value)) this.pending.push({ field: { ...field, type: map.value }, scope });
    } else if (!SCALARS.has(type)) this.pending.push({ field, scope });
  }

  private message(scope: string[]): void {
    const name = this.next();
    const inner = [...scope, name];
    const message: ProtoMessage = { fullName: inner.join('.'), fields: new Map() };
    this.schema.messages.set(message.fullName, message);
    this.expect('{');
    while (this.peek() !== '}') {
      const token = this.next();
      if (token === 'message') this.message(inner);
      else if (token === 'enum') this.enumeration(inner);
      else if (token === 'option' || token === 'reserved' || token === 'extensions' || token === 'extend') this.skipStatement();
      else if (token === 'oneof') {
        this.next();
        this.expect('{');
        while (this.peek() !== '}') {
          const member = this.next();
          if (member === 'option') this.skipStatement();
          else this.field(message, inner, undefined, member);
        }
        this.next();
      } else if (token === 'optional' || token === 'repeated' || token === 'required') this.field(message, inner, token, this.next());
      else if (token !== ';') this.field(message, inner, undefined, token);
    }
    this.next();
  }

  private service(): void {
    this.next();
    this.expect('{');
    while (this.peek() !== '}') {
      const token = this.next();
      if (token !== 'rpc') {
        this.skipStatement();
        continue;
      }
      const rpc = this.next();
      this.expect('(');
      const request = this.next();
      this.expect(')');
      this.expect('returns');
      this.expect('(');
      const response = this.next();
      this.expect(')');
      const body = this.peek() === '{' ? this.skipStatement() : (this.next(), []);
      let method = '';
      for (let i = 0; i < body.length - 2; i++) {
        if (body[i] === 'method' && body[i + 1] === ':') method = JSON.parse(body[i + 2]!) as string;
        if (body[i] === 'path' && body[i + 1] === ':' && method) {
          const pkgScope = this.pkg.split('.');
          this.schema.endpoints.push({ rpc, method, path: JSON.parse(body[i + 2]!) as string, request: this.resolveName(request, pkgScope), response: this.resolveName(response, pkgScope) });
          method = '';
        }
      }
    }
    this.next();
  }

  /** Protobuf name lookup: innermost scope first, then outwards. */
  resolveName(name: string, scope: string[]): string {
    if (name.startsWith('.')) return name.slice(1);
    for (let depth = scope.length; depth >= 0; depth--) {
      const candidate = [...scope.slice(0, depth), name].join('.');
      if (this.schema.messages.has(candidate) || this.schema.enums.has(candidate)) return candidate;
    }
    return [...scope, name].join('.');
  }
}

/** Reads .proto files (relative to protosDir) into one schema; types resolved across them. */
export function loadProtos(protosDir: string, files: readonly string[]): ProtoSchema {
  const schema: ProtoSchema = { messages: new Map(), enums: new Map(), endpoints: [] };
  const parsers = files.map((file) => {
    const parser = new Parser(tokenize(readFileSync(join(protosDir, file), 'utf8')), schema);
    parser.parseFile();
    return parser;
  });
  for (const parser of parsers) {
    for (const { field, scope } of parser.pending) {
      const resolved = parser.resolveName(field.type, scope);
      // A map's entry shares its `map` object with the stored field.
      if (field.map) field.map.value = resolved;
      else field.type = resolved;
    }
  }
  return schema;
}

function checkScalar(type: string, value: unknown): string | undefined {
  if (type === 'string' || type === 'bytes') return typeof value === 'string' ? undefined : `expected a string, got ${JSON.stringify(value)}`;
  if (type === 'bool') return typeof value === 'boolean' ? undefined : `expected a boolean, got ${JSON.stringify(value)}`;
  if (INTEGERS.has(type)) {
    // Protobuf JSON takes 64-bit integers as numbers or as decimal strings.
    const ok = (typeof value === 'number' && Number.isInteger(value)) || (typeof value === 'string' && /^-?\d+$/.test(value));
    return ok ? undefined : `expected an integer (${type}), got ${JSON.stringify(value)}`;
  }
  return typeof value === 'number' ? undefined : `expected a number (${type}), got ${JSON.stringify(value)}`;
}

/** Every way a JSON value breaks a message's definition; [] when it fits. */
export function checkMessage(schema: ProtoSchema, messageName: string, value: unknown, options: { request: boolean }, path = '$'): string[] {
  const message = schema.messages.get(messageName);
  if (!message) return [`${path}: message ${messageName} is not defined`];
  if (!value || typeof value !== 'object' || Array.isArray(value)) return [`${path}: expected an object for ${messageName}, got ${JSON.stringify(value)}`];
  const problems: string[] = [];
  const object = value as Record<string, unknown>;
  for (const [key, fieldValue] of Object.entries(object)) {
    const field = message.fields.get(key);
    if (!field) {
      problems.push(`${path}.${key}: ${messageName} has no field '${key}'`);
      continue;
    }
    if (fieldValue === null) {
      problems.push(`${path}.${key}: null is not a value`);
      continue;
    }
    if (field.map) {
      if (typeof fieldValue !== 'object' || Array.isArray(fieldValue)) problems.push(`${path}.${key}: expected a map object`);
      else for (const [mapKey, item] of Object.entries(fieldValue as object)) problems.push(...checkValue(schema, field.map.value, item, options, `${path}.${key}.${mapKey}`));
      continue;
    }
    if (field.repeated) {
      if (!Array.isArray(fieldValue)) problems.push(`${path}.${key}: expected a list (repeated ${field.type})`);
      else fieldValue.forEach((item, index) => problems.push(...checkValue(schema, field.type, item, options, `${path}.${key}[${index}]`)));
      continue;
    }
    problems.push(...checkValue(schema, field.type, fieldValue, options, `${path}.${key}`));
  }
  if (options.request) {
    for (const field of message.fields.values()) {
      const given = object[field.name];
      if (field.required && (given === undefined || given === '')) problems.push(`${path}.${field.name}: required by ${messageName} but missing`);
    }
  }
  return problems;
}

function checkValue(schema: ProtoSchema, type: string, value: unknown, options: { request: boolean }, path: string): string[] {
  if (SCALARS.has(type)) {
    const problem = checkScalar(type, value);
    return problem ? [`${path}: ${problem}`] : [];
  }
  const enumValues = schema.enums.get(type);
  if (enumValues) return enumValues.has(String(value)) ? [] : [`${path}: ${JSON.stringify(value)} is not a value of enum ${type}`];
  return checkMessage(schema, type, value, options, path);
}

/** A GET request's query string as the message it carries; values typed by their fields. */
export function queryToMessage(schema: ProtoSchema, messageName: string, query: URLSearchParams): { message: Record<string, unknown>; problems: string[] } {
  const fields = schema.messages.get(messageName)?.fields ?? new Map<string, ProtoField>();
  const message: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const key of new Set(query.keys())) {
    const field = fields.get(key);
    if (!field) {
      problems.push(`query ${key}: ${messageName} has no field '${key}'`);
      continue;
    }
    const typed = query.getAll(key).map((text): unknown => {
      if (INTEGERS.has(field.type)) return /^-?\d+$/.test(text) ? Number(text) : text;
      if (field.type === 'bool') return text === 'true' ? true : text === 'false' ? false : text;
      if (field.type === 'double' || field.type === 'float') return Number.isNaN(Number(text)) ? text : Number(text);
      return text;
    });
    message[key] = field.repeated ? typed : typed[0];
    if (!field.repeated && typed.length > 1) problems.push(`query ${key}: given ${typed.length} times for a single field`);
  }
  return { message, problems };
}
