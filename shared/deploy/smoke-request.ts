import { readFileSync } from 'node:fs';
import path from 'node:path';
import { NetworkError, request } from '../http/request.js';
import { UserError } from '../util/errors.js';
import { sleep } from '../util/sleep.js';
import type { SmokeEndpoint } from './target.js';

/**
 * The `smokeTest` input: inline JSON when it starts with `{` or `[`, else the path of a JSON file
 * (relative paths from baseDir). A problem is one line, for an InputError of 'smokeTest'.
 */
export function readSmokeBody(value: string, baseDir: string): { body: string; source: string } | { problem: string } {
  const trimmed = value.trim();
  if (!trimmed) return { problem: 'is empty: give the request as inline JSON ({...}) or the path of a JSON file' };
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    const problem = jsonProblem(trimmed);
    return problem ? { problem: `the inline JSON ${problem}` } : { body: trimmed, source: 'inline JSON' };
  }
  const file = path.resolve(baseDir, trimmed);
  let text: string;
  try {
    // Editors on Windows like to start files with a byte order mark, which JSON.parse refuses.
    text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      return { problem: `file '${trimmed}' not found (looked for ${file}); give inline JSON starting with { or [, or a path to a JSON file` };
    }
    if (code === 'EISDIR') return { problem: `'${trimmed}' is a folder, not a JSON file` };
    return { problem: `cannot read '${file}': ${code ?? (error as Error).message}` };
  }
  const problem = jsonProblem(text);
  return problem ? { problem: `file '${trimmed}' ${problem}` } : { body: text, source: file };
}

/**
 * Says where a text stops being JSON, without quoting it (it may be large, or hold data nobody
 * wants in a log). Node's own messages quote the text and, before Node 22, give no position,
 * so a small scanner finds the place; JSON.parse stays the judge of validity.
 */
export function jsonProblem(text: string): string | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch {
    // Falls through to locate the error.
  }
  const offset = jsonErrorOffset(text);
  if (offset === undefined) return 'is not valid JSON';
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  const where = `line ${line}, column ${column}`;
  if (offset >= text.length) return `is not valid JSON: it ends too early (${where})`;
  const char = text[offset] ?? '';
  const shown = /^[\x21-\x7e]$/.test(char) ? `'${char}'` : `character U+${char.charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}`;
  return `is not valid JSON: unexpected ${shown} at ${where}`;
}

/** The offset of the first character that breaks the JSON grammar (RFC 8259), or undefined. */
function jsonErrorOffset(text: string): number | undefined {
  let i = 0;
  class Stop {}
  const fail = (): never => {
    throw new Stop();
  };
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i] ?? '')) i++;
  };
  const expectChar = (c: string) => (text[i] === c ? i++ : fail());
  const string = () => {
    expectChar('"');
    for (;;) {
      const c = text[i];
      if (c === undefined || c < ' ') fail();
      if (c === '"') return void i++;
      if (c === '\\') {
        const next = text[i + 1];
        if (next !== undefined && '"\\/bfnrt'.includes(next)) i += 2;
        else if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 6;
        else return void ((i += 1), fail());
      } else i++;
    }
  };
  const value = (): void => {
    space();
    const c = text[i];
    if (c === '{') {
      i++;
      space();
      if (text[i] === '}') return void i++;
      for (;;) {
        space();
        string();
        space();
        expectChar(':');
        value();
        space();
        if (text[i] === ',') i++;
        else return void expectChar('}');
      }
    }
    if (c === '[') {
      i++;
      space();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        space();
        if (text[i] === ',') i++;
        else return void expectChar(']');
      }
    }
    if (c === '"') return string();
    const number = /-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?/y;
    number.lastIndex = i;
    if (number.test(text)) return void (i = number.lastIndex);
    for (const word of ['true', 'false', 'null']) {
      if (c === word[0]) {
        for (const letter of word) expectChar(letter);
        return;
      }
    }
    fail();
  };
  try {
    value();
    space();
    return i < text.length ? i : undefined;
  } catch (error) {
    if (error instanceof Stop) return i;
    throw error;
  }
}

export interface SmokeOptions {
  env?: NodeJS.ProcessEnv;
  /** Extra CA certificates (PEM) for an endpoint behind a private CA. */
  ca?: string;
  signal: AbortSignal;
  /** For all attempts together. */
  timeoutMs: number;
  /** Attempts after the first, for 502/503/504 and refused or reset connections. */
  retries?: number;
}

export interface SmokeAnswer {
  status: number;
  bodyText: string;
  /** How long the answer reported took, from sending to its last byte. */
  ms: number;
}

const DEFAULT_RETRIES = 4;
const FIRST_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 4_000;
// No point in an attempt with less time than a model needs to answer at all.
const MIN_ATTEMPT_MS = 200;
// A model that just turned ready answers these for a moment while its proxy or router catches up.
const RETRIED_STATUSES = new Set([502, 503, 504]);
// A port-forward or sidecar that has just opened refuses or drops the first connections.
const RETRIED_CODES = new Set(['ECONNREFUSED', 'ECONNRESET']);

/**
 * POSTs the smoke test request and returns the last answer, whatever its status: the caller
 * judges it. The HTTP layer never retries a POST, so the few retries here are the only ones.
 * Errors carry the method and the URL without its query, never a header (the key lives there).
 */
export async function sendSmokeTest(endpoint: SmokeEndpoint, body: string, options: SmokeOptions): Promise<SmokeAnswer> {
  const deadline = Date.now() + options.timeoutMs;
  const retries = options.retries ?? DEFAULT_RETRIES;
  const headers = Object.fromEntries(Object.entries(endpoint.headers).filter(([name]) => name.toLowerCase() !== 'content-type'));
  headers['content-type'] = 'application/json';
  for (let attempt = 0; ; attempt++) {
    const started = Date.now();
    const remaining = deadline - started;
    let answer: SmokeAnswer | undefined;
    let failure: NetworkError | undefined;
    try {
      const response = await request(endpoint.url, {
        method: 'POST',
        headers,
        body,
        timeoutMs: Math.max(remaining, 1),
        retries: 0,
        signal: options.signal,
        tls: options.ca ? { ca: options.ca } : undefined,
        env: options.env,
      });
      answer = { status: response.status, bodyText: response.body.toString('utf8'), ms: Date.now() - started };
    } catch (error) {
      if (!(error instanceof NetworkError)) throw error;
      failure = error;
    }
    const retryable = answer ? RETRIED_STATUSES.has(answer.status) : RETRIED_CODES.has(failure?.code ?? '');
    const wait = Math.random() * 0.5 * backoff(attempt) + 0.5 * backoff(attempt);
    if (retryable && attempt < retries && Date.now() + wait + MIN_ATTEMPT_MS < deadline) {
      await sleep(wait, options.signal, 'the smoke test');
      continue;
    }
    if (answer) return answer;
    const tries = attempt + 1 > 1 ? ` (${attempt + 1} attempts)` : '';
    if (failure?.code === 'ETIMEDOUT') {
      // The layer names the last attempt's share of the time; the user set the whole budget.
      throw new UserError(`smoke test: ${failure.method} ${failure.url} got no answer within ${options.timeoutMs / 1000} s${tries}`);
    }
    throw new UserError(`smoke test: ${failure?.message ?? 'no answer'}${tries}`);
  }
}

function backoff(attempt: number): number {
  return Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** attempt);
}
