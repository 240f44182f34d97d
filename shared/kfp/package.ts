import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { gunzipTar, zipEntries } from './archive.js';
import { v1Parameters, v2Parameters, type DeclaredParameter } from './parameters.js';
import { loadYaml } from './yaml.js';

/** The KFP server refuses larger packages (its default upload limit). */
export const MAX_PACKAGE_BYTES = 32 * 1024 * 1024;
/** The only schema the KFP 2.x backend runs; older IR (2.0.0) came from pre-release SDKs. */
export const IR_SCHEMA_VERSION = '2.1.0';
const PACKAGE_ENTRY = 'pipeline.yaml';

export interface PipelineDefinition {
  /** v2: KFP v2 IR; v1: an Argo Workflow compiled by the KFP 1.x SDK. */
  kind: 'v2' | 'v1';
  /** The name the package gives itself (pipelineInfo.name, or the workflow's name). */
  name: string;
  /** The pipeline spec, then any platform spec (v2); or the workflow alone (v1). */
  documents: unknown[];
  parameters: DeclaredParameter[];
}

export interface PipelinePackage extends PipelineDefinition {
  /** What is uploaded: the YAML itself, taken out of an archive when the file was one. */
  content: Buffer;
  file: string;
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => !!value && typeof value === 'object' && !Array.isArray(value);

function v1Name(workflow: Json): string {
  const metadata = isObject(workflow.metadata) ? workflow.metadata : {};
  const annotations = isObject(metadata.annotations) ? metadata.annotations : {};
  const specAnnotation = annotations['pipelines.kubeflow.org/pipeline_spec'];
  if (typeof specAnnotation === 'string') {
    try {
      const name = (JSON.parse(specAnnotation) as { name?: unknown }).name;
      if (typeof name === 'string' && name) return name;
    } catch {
      // Not JSON: fall back to the workflow's own name.
    }
  }
  const name = typeof metadata.generateName === 'string' ? metadata.generateName.replace(/-+$/, '') : metadata.name;
  return typeof name === 'string' ? name : '';
}

/**
 * Tells what a set of YAML documents is: KFP v2 IR (pipelineInfo, root, deploymentSpec,
 * schemaVersion 2.1.0, optionally followed by a platform spec) or a KFP v1 Argo Workflow.
 * Returns the reason when it is neither.
 */
export function interpretDocuments(documents: unknown[]): PipelineDefinition | string {
  const [first, ...rest] = documents;
  if (!isObject(first)) return 'is not a pipeline: expected a YAML or JSON mapping';
  if (first.kind === 'Workflow' && String(first.apiVersion ?? '').startsWith('argoproj.io/')) {
    if (rest.length) return 'holds more than one YAML document; a KFP v1 package is one Argo Workflow';
    return { kind: 'v1', name: v1Name(first), documents: [first], parameters: v1Parameters(first) };
  }
  if (first.pipelineInfo === undefined && first.root === undefined) {
    return 'is neither KFP v2 IR (pipelineInfo, root, deploymentSpec) nor a KFP v1 Argo Workflow';
  }
  const missing = ['pipelineInfo', 'root', 'deploymentSpec', 'schemaVersion'].filter((key) => first[key] === undefined);
  if (missing.length) return `is not complete KFP v2 IR: ${missing.join(', ')} missing`;
  if (String(first.schemaVersion) !== IR_SCHEMA_VERSION) {
    return `has schemaVersion ${String(first.schemaVersion)}; KFP 2.x runs ${IR_SCHEMA_VERSION}: compile it with the kfp 2.x SDK`;
  }
  const name = isObject(first.pipelineInfo) && typeof first.pipelineInfo.name === 'string' ? first.pipelineInfo.name : '';
  if (!name) return 'has no pipelineInfo.name';
  if (rest.length > 1) return 'holds more than two YAML documents (the pipeline spec and a platform spec)';
  if (rest.length && !(isObject(rest[0]) && isObject(rest[0].platforms))) return 'has a second YAML document that is not a platform spec (platforms: ...)';
  return { kind: 'v2', name, documents: [first, ...rest], parameters: v2Parameters(first) };
}

/** YAML documents of a text; returns the reason when it does not parse. */
export async function parseDocuments(text: string): Promise<unknown[] | string> {
  const { parseAllDocuments } = await loadYaml();
  const documents = parseAllDocuments(text);
  if (!Array.isArray(documents)) return 'is empty';
  for (const document of documents) {
    const [problem] = document.errors;
    if (problem) return `is not YAML or JSON: ${problem.message.split('\n')[0]}`;
  }
  const values = documents.map((document) => document.toJS({ maxAliasCount: 100 }) as unknown).filter((value) => value !== null && value !== undefined);
  return values.length ? values : 'is empty';
}

function unpack(file: string, bytes: Buffer): Buffer | string {
  const name = basename(file).toLowerCase();
  const archived = name.endsWith('.tar.gz') || name.endsWith('.tgz') ? 'tar' : name.endsWith('.zip') ? 'zip' : undefined;
  if (!archived) {
    if (!/\.(ya?ml|json)$/.test(name)) return 'must be a .yaml, .yml or .json file, or a .tar.gz, .tgz or .zip holding pipeline.yaml';
    return bytes;
  }
  let entries: Map<string, Buffer>;
  try {
    entries = archived === 'tar' ? gunzipTar(bytes, MAX_PACKAGE_BYTES) : zipEntries(bytes, MAX_PACKAGE_BYTES);
  } catch (error) {
    return `is not a readable ${archived === 'tar' ? '.tar.gz' : '.zip'} archive: ${(error as Error).message}`;
  }
  const entry = entries.get(PACKAGE_ENTRY);
  if (!entry) {
    const held = [...entries.keys()].slice(0, 5).join(', ');
    return `holds no ${PACKAGE_ENTRY} at its top level${held ? ` (it holds ${held}${entries.size > 5 ? ', …' : ''})` : ' (it is empty)'}`;
  }
  return entry;
}

/** Reads a pipeline package from disk. Returns the reason when it is not one the server would run. */
export async function readPipelinePackage(file: string): Promise<PipelinePackage | string> {
  const size = statSync(file).size;
  if (size > MAX_PACKAGE_BYTES) return `is ${(size / 1024 / 1024).toFixed(1)} MB; Kubeflow accepts packages of at most 32 MB`;
  const content = unpack(file, readFileSync(file));
  if (typeof content === 'string') return content;
  if (content.length > MAX_PACKAGE_BYTES) return `holds a ${PACKAGE_ENTRY} of more than 32 MB; Kubeflow accepts at most 32 MB`;
  if (content.includes(0)) return 'is not YAML or JSON: it holds binary data';
  const documents = await parseDocuments(content.toString('utf8'));
  if (typeof documents === 'string') return documents;
  const definition = interpretDocuments(documents);
  if (typeof definition === 'string') return definition;
  return { ...definition, content, file };
}
