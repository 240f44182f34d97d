import { readFile } from 'node:fs/promises';
import { readProblem } from '../context/read-error.js';
import { InputError } from '../util/errors.js';

const INPUT = 'metadataFile';

/**
 * Flattens a JSON value into tags: nested objects give dotted keys (`{"train": {"lr": 0.1}}`
 * becomes `train.lr=0.1`), arrays and scalars become their JSON text, strings stay as they are.
 */
function flatten(value: unknown, prefix: string, into: Map<string, string>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    // An empty object still says something: keep it rather than lose the key.
    if (entries.length === 0 && prefix) into.set(prefix, '{}');
    for (const [key, inner] of entries) flatten(inner, prefix ? `${prefix}.${key}` : key, into);
    return;
  }
  into.set(prefix, typeof value === 'string' ? value : JSON.stringify(value));
}

/** Tags from a JSON file such as params.json or metrics.json; nested keys are flattened with dots. */
export async function readMetadataTags(path: string, shown: string): Promise<Map<string, string>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new InputError(INPUT, readProblem(error, shown));
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InputError(INPUT, `'${shown}' is not JSON: ${(error as Error).message.split('\n')[0]}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InputError(INPUT, `'${shown}' must hold a JSON object whose keys become tags, got ${Array.isArray(parsed) ? 'an array' : typeof parsed}`);
  }
  const tags = new Map<string, string>();
  flatten(parsed, '', tags);
  return tags;
}
