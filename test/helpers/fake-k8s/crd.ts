import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Ajv as AjvClass, ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { SchemaNode } from './schema-node.js';
import { addIntegerFormats, formatErrors, type K8sSchemas } from './schemas.js';
import type { ResourceType } from './store.js';
import { WRITE_VERBS } from './resource-types.js';

const require = createRequire(import.meta.url);
const Ajv: typeof AjvClass = require('ajv').default;
const addFormats: (ajv: AjvClass) => AjvClass = require('ajv-formats').default;

const ROOT_ID = 'crd';
/** Subtrees larger than this (as JSON) are compiled once and referenced: the CRD repeats the pod spec many times over. */
const HOIST_ABOVE = 50;

type Schema = Record<string, unknown>;

interface CrdDocument {
  spec: {
    group: string;
    names: { kind: string; listKind: string; plural: string; singular: string; shortNames?: string[] };
    scope: 'Namespaced' | 'Cluster';
    versions: { name: string; served: boolean; storage: boolean; schema: { openAPIV3Schema: Schema }; subresources?: { status?: object } }[];
  };
}

/** What loading cost, for the report and for a test that keeps an eye on it. */
export interface CrdTimings {
  /** Reading the YAML (or the parsed copy cached under the temp dir). */
  parseMs: number;
  fromDiskCache: boolean;
  compileMs: number;
}

/**
 * A CustomResourceDefinition's structural schema, compiled with ajv as the API server applies it:
 * objects with properties are closed unless x-kubernetes-preserve-unknown-fields says otherwise;
 * metadata (just `type: object` in a CRD) is checked as ObjectMeta by the caller. Loaded once per
 * process; the parsed YAML is also kept as JSON in the temp dir, keyed by the file's hash, because
 * parsing the 2 MB KServe CRD takes seconds and JSON takes milliseconds.
 */
export class CrdSchema {
  private static readonly cache = new Map<string, CrdSchema>();
  readonly group: string;
  readonly version: string;
  readonly names: CrdDocument['spec']['names'];
  readonly namespaced: boolean;
  readonly hasStatus: boolean;
  readonly node: SchemaNode;
  private readonly check: ValidateFunction;

  private constructor(
    document: CrdDocument,
    readonly timings: CrdTimings,
  ) {
    const spec = document.spec;
    const version = spec.versions.find((candidate) => candidate.storage) ?? spec.versions[0]!;
    this.group = spec.group;
    this.version = version.name;
    this.names = spec.names;
    this.namespaced = spec.scope === 'Namespaced';
    this.hasStatus = !!version.subresources?.status;
    const started = performance.now();
    const definitions: Record<string, Schema> = {};
    const root = hoist(version.schema.openAPIV3Schema, definitions) as Schema;
    const ajv = addFormats(new Ajv({ allErrors: true, strict: false, unicodeRegExp: false }));
    addIntegerFormats(ajv);
    ajv.addSchema({ $id: ROOT_ID, definitions });
    this.check = ajv.compile(root);
    this.timings.compileMs = performance.now() - started;
    this.node = new SchemaNode(root, (ref) => definitions[ref.replace(`${ROOT_ID}#/definitions/`, '')]);
  }

  static load(file: string): CrdSchema {
    const cached = CrdSchema.cache.get(file);
    if (cached) return cached;
    const started = performance.now();
    const text = readFileSync(file, 'utf8');
    const parsedCopy = join(tmpdir(), `mlops-crd-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.json`);
    let document: CrdDocument | undefined;
    let fromDiskCache = false;
    if (existsSync(parsedCopy)) {
      try {
        document = JSON.parse(readFileSync(parsedCopy, 'utf8')) as CrdDocument;
        fromDiskCache = true;
      } catch {
        document = undefined; // a half-written copy from a parallel worker: parse the YAML instead
      }
    }
    if (!document) {
      document = parse(text) as CrdDocument;
      writeFileSync(`${parsedCopy}.${process.pid}`, JSON.stringify(document));
      // Rename is atomic, so another worker never reads a partial copy.
      renameSync(`${parsedCopy}.${process.pid}`, parsedCopy);
    }
    const crd = new CrdSchema(document, { parseMs: performance.now() - started, fromDiskCache, compileMs: 0 });
    CrdSchema.cache.set(file, crd);
    return crd;
  }

  get schemaName(): string {
    return `${this.group}/${this.version}:${this.names.kind}`;
  }

  /** Violations of the CRD schema alone (metadata is the caller's). */
  validate(value: unknown): string[] {
    return this.check(value) ? [] : formatErrors(this.check.errors);
  }

  /**
   * Registers the schema (and a list schema) with the built-in ones, under
   * '<group>/<version>:<Kind>' and '...:<ListKind>', and returns the resource type to serve.
   */
  register(schemas: K8sSchemas): ResourceType {
    const objectMeta = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';
    const listMeta = 'io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta';
    const validateObject = (value: unknown): string[] => {
      const problems = this.validate(value);
      const metadata = (value as { metadata?: unknown } | null)?.metadata;
      if (metadata !== undefined) problems.push(...schemas.validate(objectMeta, metadata).map((problem) => under('/metadata', problem)));
      return problems;
    };
    const listName = `${this.group}/${this.version}:${this.names.listKind}`;
    schemas.register(this.schemaName, validateObject, this.node);
    schemas.register(listName, (value) => {
      const list = value as { apiVersion?: unknown; kind?: unknown; metadata?: unknown; items?: unknown };
      const problems: string[] = [];
      if (list.apiVersion !== `${this.group}/${this.version}`) problems.push(`/apiVersion must be ${this.group}/${this.version}`);
      if (list.kind !== this.names.listKind) problems.push(`/kind must be ${this.names.listKind}`);
      problems.push(...schemas.validate(listMeta, list.metadata ?? {}).map((problem) => under('/metadata', problem)));
      if (!Array.isArray(list.items)) return [...problems, "must have required property 'items'"];
      // Items in a list carry apiVersion and kind for custom resources, as the API server sends them.
      list.items.forEach((item, index) => problems.push(...validateObject(item).map((problem) => under(`/items/${index}`, problem))));
      return problems;
    });
    schemas.aliasPaths(`/apis/${this.group}/${this.version}`, this.names.plural);
    return {
      group: this.group,
      version: this.version,
      kind: this.names.kind,
      plural: this.names.plural,
      singular: this.names.singular,
      namespaced: this.namespaced,
      verbs: WRITE_VERBS,
      ...(this.names.shortNames ? { shortNames: this.names.shortNames } : {}),
      schema: this.schemaName,
      listSchema: listName,
      ...(this.hasStatus ? { subresources: [{ name: 'status', kind: this.names.kind, verbs: ['get', 'patch', 'update'] }] } : {}),
    };
  }
}

/** A problem reported at '/x' or '/' of an inner value, moved under the path of that value. */
function under(path: string, problem: string): string {
  return problem.startsWith('/ ') ? `${path}${problem.slice(1)}` : `${path}${problem}`;
}

/** The KServe InferenceService CRD under <specs>/kserve (the full one: it has the complete schema). */
export function kserveCrdFile(specs: string): string {
  return join(specs, 'kserve', 'serving.kserve.io_inferenceservices.yaml');
}

/**
 * Copies the schema without descriptions, closes structural objects, and moves every large
 * subtree into `definitions` under its hash, so identical subtrees are compiled once.
 */
function hoist(node: unknown, definitions: Record<string, Schema>): unknown {
  if (Array.isArray(node)) return node.map((item) => hoist(item, definitions));
  if (!node || typeof node !== 'object') return node;
  const out: Schema = {};
  for (const [key, value] of Object.entries(node as Schema)) {
    if (key === 'description') continue;
    if (key === 'properties' && value && typeof value === 'object') {
      out[key] = Object.fromEntries(Object.entries(value).map(([name, inner]) => [name, hoist(inner, definitions)]));
    } else out[key] = hoist(value, definitions);
  }
  // A structural schema prunes (we reject) unknown fields unless told to keep them.
  if (out.properties && out.additionalProperties === undefined) out.additionalProperties = out['x-kubernetes-preserve-unknown-fields'] === true;
  if (!out.properties && !out.items) return out;
  const json = JSON.stringify(out);
  if (json.length <= HOIST_ABOVE) return out;
  const name = createHash('sha1').update(json).digest('hex').slice(0, 16);
  definitions[name] = out;
  return { $ref: `${ROOT_ID}#/definitions/${name}` };
}
