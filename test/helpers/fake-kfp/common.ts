import { parseAllDocuments } from 'yaml';
import type { FakeKfpStore, RunPlan } from './store.js';
import type { Route } from './swagger.js';
import { multipartFile } from './swagger.js';

export interface Reply {
  status: number;
  body: unknown;
}

/** What a handler gets: the request as the server parsed it and the state it acts on. */
export interface HandlerContext {
  store: FakeKfpStore;
  route: Route;
  query: URLSearchParams;
  body: Buffer;
  contentType: string;
  multiUser: boolean;
  /** Which APIs this server has: a KFP 1.x server cannot take v2 IR. */
  speaksV2: boolean;
  plan: RunPlan;
  /** 403 for a namespace the caller may not use, else undefined. */
  forbidden(namespace: string): Reply | undefined;
}

/** gRPC status codes as the KFP server puts them in googleRpcStatus. */
export const CODE = { invalidArgument: 3, notFound: 5, alreadyExists: 6, permissionDenied: 7, unauthenticated: 16, unimplemented: 12 };

export function rpcError(status: number, code: number, message: string): Reply {
  return { status, body: { code, message, details: [] } };
}

export function json(context: HandlerContext): Record<string, any> {
  return JSON.parse(context.body.toString('utf8') || '{}') as Record<string, any>;
}

export const iso = (ms: number) => new Date(ms).toISOString();

/** Evaluates the EQUALS predicates of a filter query parameter (the only kind the step sends). */
export function matchesFilter(filterText: string | null, fields: Record<string, string>): boolean {
  if (!filterText) return true;
  const filter = JSON.parse(filterText) as { predicates?: { key?: string; operation?: string; op?: string; string_value?: string }[] };
  return (filter.predicates ?? []).every((predicate) => {
    const operation = predicate.operation ?? predicate.op;
    if (operation !== 'EQUALS') throw new Error(`the fake evaluates EQUALS only, got ${operation}`);
    return fields[predicate.key ?? ''] === predicate.string_value;
  });
}

/** Sorting and one page, as the list calls do it (the step never asks for a second page). */
export function page<T extends { createdAt: number }>(items: T[], query: URLSearchParams): { items: T[]; more: boolean } {
  const sort = query.get('sort_by') ?? '';
  const sorted = [...items].sort((a, b) => a.createdAt - b.createdAt);
  if (/^created_at desc$/.test(sort)) sorted.reverse();
  else if (sort && !/^created_at( asc)?$/.test(sort)) throw new Error(`the fake sorts by created_at only, got ${sort}`);
  const size = Number(query.get('page_size') ?? '20') || 20;
  return { items: sorted.slice(0, size), more: sorted.length > size };
}

export interface Uploaded {
  text: string;
  documents: unknown[];
  kind: 'v2' | 'v1';
}

/** The uploaded package, checked as the server checks it; a reply when it is refused. */
export function readUpload(context: HandlerContext): Uploaded | Reply {
  const file = multipartFile(context.body, context.contentType, 'uploadfile');
  if (!file) return rpcError(400, CODE.invalidArgument, 'Failed to read pipeline from file');
  if (!/\.(ya?ml|zip|tar\.gz|tgz)$/.test(file.filename)) return rpcError(400, CODE.invalidArgument, 'Unexpected pipeline file format');
  const text = file.content.toString('utf8');
  const parsed = parseAllDocuments(text);
  const documents = (Array.isArray(parsed) ? parsed : []).map((document) => document.toJS() as Record<string, any>).filter(Boolean);
  const first = documents[0];
  if (!first || (Array.isArray(parsed) && parsed.some((document) => document.errors.length))) {
    return rpcError(400, CODE.invalidArgument, 'Invalid pipeline spec: not YAML');
  }
  if (first.kind === 'Workflow') return { text, documents, kind: 'v1' };
  if (!first.pipelineInfo || !first.root) return rpcError(400, CODE.invalidArgument, 'Invalid pipeline spec: neither IR nor an Argo workflow');
  if (!context.speaksV2) return rpcError(400, CODE.invalidArgument, 'Failed to parse the workflow: unknown kind');
  if (first.schemaVersion !== '2.1.0') return rpcError(400, CODE.invalidArgument, `unsupported schemaVersion ${String(first.schemaVersion)}`);
  return { text, documents, kind: 'v2' };
}

/** The task names a run of these documents goes through: v2 DAG tasks, or v1 container templates. */
export function taskNames(documents: unknown[]): string[] {
  const first = (documents[0] ?? {}) as Record<string, any>;
  if (first.kind === 'Workflow') {
    return ((first.spec?.templates ?? []) as Record<string, any>[]).filter((template) => template.container).map((template) => String(template.name));
  }
  return Object.entries((first.root?.dag?.tasks ?? {}) as Record<string, any>).map(([key, task]) => String(task?.taskInfo?.name ?? key));
}

/** The server re-marshals specs through protobuf JSON, which drops default values; the fake does too. */
export function protojsonish(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(protojsonish);
  if (value && typeof value === 'object') {
    const entries = Object.entries(value)
      .map(([key, item]) => [key, protojsonish(item)] as const)
      .filter(([, item]) => !(item === '' || item === false || item === null || (Array.isArray(item) && item.length === 0)));
    return Object.fromEntries(entries);
  }
  return value;
}

/** The declared parameters of stored documents: name, v2 type, and whether a run must give it. */
export function declaredParameters(documents: unknown[]): Map<string, { type: string; required: boolean }> {
  const first = (documents[0] ?? {}) as Record<string, any>;
  const declared = new Map<string, { type: string; required: boolean }>();
  if (first.kind === 'Workflow') {
    for (const parameter of (first.spec?.arguments?.parameters ?? []) as Record<string, any>[]) {
      declared.set(String(parameter.name), { type: 'STRING', required: parameter.value === undefined });
    }
    return declared;
  }
  for (const [name, parameter] of Object.entries((first.root?.inputDefinitions?.parameters ?? {}) as Record<string, any>)) {
    declared.set(name, { type: String(parameter.parameterType), required: !parameter.isOptional && parameter.defaultValue === undefined });
  }
  return declared;
}

/** Why a runtime value does not fit its v2 type (a KFP 2.x server answers 400), or undefined. */
export function typeProblem(type: string, value: unknown): string | undefined {
  const fits: Record<string, (item: unknown) => boolean> = {
    STRING: (item) => typeof item === 'string',
    NUMBER_INTEGER: (item) => typeof item === 'number' && Number.isInteger(item),
    NUMBER_DOUBLE: (item) => typeof item === 'number',
    BOOLEAN: (item) => typeof item === 'boolean',
    LIST: (item) => Array.isArray(item),
    STRUCT: (item) => !!item && typeof item === 'object' && !Array.isArray(item),
  };
  return fits[type] && !fits[type]!(value) ? `expected ${type}, got ${JSON.stringify(value)}` : undefined;
}

export type { RunPlan };
