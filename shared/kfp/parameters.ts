import { loadYaml } from './yaml.js';

/** The parameter types of KFP v2 IR (ParameterType in pipeline_spec.proto) a user can set. */
export type ParameterType = 'STRING' | 'NUMBER_INTEGER' | 'NUMBER_DOUBLE' | 'BOOLEAN' | 'LIST' | 'STRUCT';

export interface DeclaredParameter {
  name: string;
  type: ParameterType;
  /** Optional, or has a default: the run may leave it out. */
  optional: boolean;
  defaultValue?: unknown;
}

/** A value from the `parameters` input, before the pipeline's declaration types it. */
export interface GivenParameter {
  name: string;
  /** A scalar exactly as written: CI variables are text, and YAML would read 1e5 or 0x1F as numbers. */
  text?: string;
  /** A sequence or mapping, as JSON. */
  value?: unknown;
}

const TYPES = new Set<string>(['STRING', 'NUMBER_INTEGER', 'NUMBER_DOUBLE', 'BOOLEAN', 'LIST', 'STRUCT']);

const DESCRIBED: Record<ParameterType, string> = {
  STRING: 'a string',
  NUMBER_INTEGER: 'an integer',
  NUMBER_DOUBLE: 'a number',
  BOOLEAN: 'true or false',
  LIST: 'a list (a YAML list or a JSON array)',
  STRUCT: 'a struct (a YAML map or a JSON object)',
};

type Json = Record<string, unknown>;
const asObject = (value: unknown): Json => (value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {});

/** v2 IR: root.inputDefinitions.parameters, typed by parameterType. TASK_FINAL_STATUS is filled in by KFP itself. */
export function v2Parameters(spec: unknown): DeclaredParameter[] {
  const parameters = asObject(asObject(asObject(asObject(spec).root).inputDefinitions).parameters);
  return Object.entries(parameters).flatMap(([name, raw]) => {
    const definition = asObject(raw);
    const type = String(definition.parameterType ?? 'STRING');
    if (type === 'TASK_FINAL_STATUS') return [];
    return [
      {
        name,
        type: (TYPES.has(type) ? type : 'STRING') as ParameterType,
        optional: definition.isOptional === true || definition.defaultValue !== undefined,
        ...(definition.defaultValue !== undefined ? { defaultValue: definition.defaultValue } : {}),
      },
    ];
  });
}

/** v1 Argo workflow: spec.arguments.parameters, all strings; one without a value must be given. */
export function v1Parameters(workflow: unknown): DeclaredParameter[] {
  const list = asObject(asObject(asObject(workflow).spec).arguments).parameters;
  return (Array.isArray(list) ? list : []).flatMap((raw) => {
    const parameter = asObject(raw);
    if (typeof parameter.name !== 'string') return [];
    return [{ name: parameter.name, type: 'STRING' as const, optional: parameter.value !== undefined, defaultValue: parameter.value }];
  });
}

/** The `parameters` input: a YAML or JSON map. Returns the reason when it is not one. */
export async function parseGivenParameters(text: string): Promise<GivenParameter[] | string> {
  if (!text.trim()) return [];
  const { isMap, isScalar, isSeq, parseDocument } = await loadYaml();
  const document = parseDocument(text, { uniqueKeys: true });
  const [problem] = document.errors;
  if (problem) return `is not YAML or JSON: ${problem.message.split('\n')[0]}`;
  const root = document.contents;
  if (root === null) return [];
  if (!isMap(root)) return `must be a map of parameter names to values (YAML or JSON), got ${isSeq(root) ? 'a list' : 'a single value'}`;
  const given: GivenParameter[] = [];
  for (const pair of root.items) {
    if (!isScalar(pair.key) || pair.key.value === null || typeof pair.key.value === 'object') return 'has a key that is not a plain name';
    const name = String(pair.key.value);
    const node = pair.value;
    if (node === null || isScalar(node)) {
      const scalar = node && isScalar(node) ? node : undefined;
      given.push({ name, text: scalar ? (scalar.source ?? String(scalar.value ?? '')) : '' });
    } else given.push({ name, value: (node as { toJSON(): unknown }).toJSON() });
  }
  return given;
}

const show = (text: string) => `'${text.length > 40 ? `${text.slice(0, 40)}…` : text}'`;
const INTEGER = /^[-+]?\d+$/;
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** One value typed as the pipeline declares it: the JSON value to send, or the reason it does not fit. */
function typed(parameter: DeclaredParameter, given: GivenParameter): { value: unknown } | string {
  const wrong = (got: string) => `parameter '${parameter.name}' is ${DESCRIBED[parameter.type]}; ${got}`;
  if (given.text === undefined) {
    const value = given.value;
    if (parameter.type === 'LIST' && Array.isArray(value)) return { value };
    if (parameter.type === 'STRUCT' && value && typeof value === 'object' && !Array.isArray(value)) return { value };
    return wrong(`got ${Array.isArray(value) ? 'a list' : 'a map'}${parameter.type === 'STRING' ? ' (quote it to pass it as text)' : ''}`);
  }
  const text = given.text;
  if (parameter.type === 'STRING') return { value: text };
  if (!text.trim()) return wrong('it has no value');
  const trimmed = text.trim();
  switch (parameter.type) {
    case 'NUMBER_INTEGER': {
      const value = Number(trimmed);
      return INTEGER.test(trimmed) && Number.isSafeInteger(value) ? { value } : wrong(`${show(text)} is not one`);
    }
    case 'NUMBER_DOUBLE':
      return NUMBER.test(trimmed) ? { value: Number(trimmed) } : wrong(`${show(text)} is not one`);
    case 'BOOLEAN':
      return /^(true|false)$/i.test(trimmed) ? { value: trimmed.toLowerCase() === 'true' } : wrong(`got ${show(text)}`);
    case 'LIST': {
      const value = parseJson(trimmed);
      return Array.isArray(value) ? { value } : wrong(`${show(text)} is not one`);
    }
    case 'STRUCT': {
      const value = parseJson(trimmed);
      return value && typeof value === 'object' && !Array.isArray(value) ? { value } : wrong(`${show(text)} is not one`);
    }
  }
}

/** KFP v1 compiles a Python parameter name to a Kubernetes-style one: my_param becomes my-param. */
function compiledName(name: string): string {
  return name.toLowerCase().replace(/[^-0-9a-z]+/g, '-').replace(/^-+|-+$/g, '');
}

/**
 * Checks the given values against the pipeline's declared parameters and types them: v2 values
 * become JSON values of their declared type ("5" for an integer is sent as 5, which a KFP 2.x
 * server requires), v1 values strings under their compiled names. Returns the first problem.
 */
export function typeParameters(declared: DeclaredParameter[], given: GivenParameter[], kind: 'v2' | 'v1'): Record<string, unknown> | string {
  const byName = new Map(declared.map((parameter) => [parameter.name, parameter]));
  const values: Record<string, unknown> = {};
  for (const item of given) {
    const parameter = byName.get(item.name) ?? (kind === 'v1' ? byName.get(compiledName(item.name)) : undefined);
    if (!parameter) {
      const known = declared.map((candidate) => candidate.name).join(', ');
      return `unknown parameter '${item.name}': the pipeline declares ${known ? known : 'no parameters'}`;
    }
    if (parameter.name in values) return `parameter '${parameter.name}' is given twice`;
    if (kind === 'v1') {
      values[parameter.name] = item.text ?? JSON.stringify(item.value);
      continue;
    }
    const result = typed(parameter, item);
    if (typeof result === 'string') return result;
    values[parameter.name] = result.value;
  }
  const missing = declared.filter((parameter) => !parameter.optional && !(parameter.name in values)).map((parameter) => parameter.name);
  if (missing.length) return `the pipeline requires ${missing.map((name) => `'${name}'`).join(', ')} and declares no default`;
  return values;
}
