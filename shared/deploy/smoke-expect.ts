/**
 * The `smokeTestExpect` input: what the smoke test's answer must look like.
 *
 * Empty: the answer must have status 200, nothing more. Otherwise one item per line; blank lines
 * and lines starting with `#` are ignored:
 *
 *     2xx                                   first line only, optional: a status code (200) or a
 *                                           class (2xx); without it, 200
 *     $.predictions exists                  the path is in the JSON answer (null counts)
 *     $.model_name == "sklearn-iris"        equal to a JSON value (strings in double quotes)
 *     $.outputs[0].datatype != "BYTES"      not equal to a JSON value
 *     $.predictions[0] < 0.5                also <=, >, >=: the value is a number and compares so
 *     $['model_name'] matches ^sklearn      a JavaScript regular expression, unanchored; strings
 *                                           are matched as they are, other values as JSON text
 *     $.predictions length == 3             a list (items) or a string (characters) of that length
 *
 * Paths start at `$` (the whole answer) and go on with `.name`, `['any name']` or `[index]`;
 * a negative index counts from the end (`$.predictions[-1]` is the last prediction).
 */

export type StatusExpect = { code: number } | { hundreds: number };

export type PathStep = string | number;

export interface JsonPath {
  /** As written, for messages. */
  text: string;
  steps: PathStep[];
}

export type Check =
  | { path: JsonPath; op: 'exists' }
  | { path: JsonPath; op: '==' | '!='; value: unknown }
  | { path: JsonPath; op: '<' | '<=' | '>' | '>='; value: number }
  | { path: JsonPath; op: 'matches'; regex: RegExp }
  | { path: JsonPath; op: 'length'; value: number };

export interface SmokeExpect {
  status: StatusExpect;
  checks: Check[];
}

const CHECK_FORMS =
  "write '<path> == <json>', '<path> != <json>', '<path> < <number>' (or <=, >, >=), " +
  "'<path> matches <regex>', '<path> length == <n>' or '<path> exists'";
const PATH_FORMS = "paths look like $, $.outputs[0].data, $['model_name'] or $.predictions[-1]";
const STATUS_FORMS = 'write a status code such as 200 or a class such as 2xx';
const SHOW_MAX = 100;

/** Parses the input; a string is the one-line problem, naming the line. */
export function parseSmokeExpect(text: string): SmokeExpect | string {
  const result: SmokeExpect = { status: { code: 200 }, checks: [] };
  let first = true;
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const line = (lines[index] ?? '').trim();
    if (!line || line.startsWith('#')) continue;
    const where = `line ${index + 1}`;
    const isFirst = first;
    first = false;
    if (/^\d+$/.test(line) || /^\dxx$/i.test(line)) {
      if (!isFirst) return `${where}: a status ('${clip(line, 10)}') must be the first line that is not a comment`;
      const status = parseStatus(line);
      if (!status) return `${where}: '${clip(line, 10)}' is not an HTTP status: ${STATUS_FORMS}`;
      result.status = status;
      continue;
    }
    const check = parseCheck(line);
    if (typeof check === 'string') return `${where}: ${check}`;
    result.checks.push(check);
  }
  return result;
}

function parseStatus(line: string): StatusExpect | undefined {
  if (/^\dxx$/i.test(line)) {
    const hundreds = Number(line[0]);
    return hundreds >= 1 && hundreds <= 5 ? { hundreds } : undefined;
  }
  const code = Number(line);
  return code >= 100 && code <= 599 ? { code } : undefined;
}

function parseCheck(line: string): Check | string {
  const quoted = `'${clip(line, 60)}'`;
  if (!line.startsWith('$')) return `${quoted} does not start with a path: ${PATH_FORMS}`;
  const parsed = parsePath(line);
  if (typeof parsed === 'string') return `${quoted}: ${parsed}; ${PATH_FORMS}`;
  const path: JsonPath = { text: line.slice(0, parsed.end), steps: parsed.steps };
  const rest = line.slice(parsed.end).trim();

  if (rest === 'exists') return { path, op: 'exists' };

  const length = /^length\b\s*(.*)$/.exec(rest);
  if (length) {
    const n = /^==\s*(\d+)$/.exec(length[1] ?? '');
    if (!n) return `${quoted}: write '<path> length == <n>' with a whole number n`;
    return { path, op: 'length', value: Number(n[1]) };
  }

  const matches = /^matches\s+(.+)$/.exec(rest);
  if (matches) {
    try {
      return { path, op: 'matches', regex: new RegExp(matches[1] ?? '') };
    } catch (error) {
      // The engine's message quotes only the pattern, which the user wrote on this line.
      return `${quoted}: not a valid regular expression (${(error as Error).message})`;
    }
  }

  const compare = /^(==|!=|<=|>=|<|>)\s*(.*)$/.exec(rest);
  if (compare) {
    const op = compare[1] as '==' | '!=' | '<' | '<=' | '>' | '>=';
    const operand = compare[2] ?? '';
    if (op === '==' || op === '!=') {
      try {
        return { path, op, value: JSON.parse(operand) as unknown };
      } catch {
        return `${quoted}: after ${op} comes a JSON value, and '${clip(operand, 30)}' is not one (put strings in double quotes: "text")`;
      }
    }
    if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(operand)) {
      return `${quoted}: after ${op} comes a number, and '${clip(operand, 30)}' is not one`;
    }
    return { path, op, value: Number(operand) };
  }
  return `${quoted} is not a check: ${CHECK_FORMS}`;
}

/** Reads a path from the start of `text`; `end` is where it stops. */
function parsePath(text: string): { steps: PathStep[]; end: number } | string {
  const steps: PathStep[] = [];
  let i = 1;
  for (;;) {
    const c = text[i];
    if (c === '.') {
      const name = /^[\p{L}\p{N}_-]+/u.exec(text.slice(i + 1));
      if (!name) return `a name must follow '.' at column ${i + 2} (use ['...'] for other names)`;
      steps.push(name[0]);
      i += 1 + name[0].length;
    } else if (c === '[') {
      const index = /^\[\s*(-?\d+)\s*\]/.exec(text.slice(i));
      if (index) {
        steps.push(Number(index[1]));
        i += index[0].length;
        continue;
      }
      const quote = text[i + 1];
      if (quote !== "'" && quote !== '"') return `'[' at column ${i + 1} needs an index or a quoted name`;
      let name = '';
      let j = i + 2;
      for (; j < text.length && text[j] !== quote; j++) {
        // A backslash lets a name hold the quote itself.
        if (text[j] === '\\' && j + 1 < text.length) j++;
        name += text[j];
      }
      if (text[j] !== quote || text[j + 1] !== ']') return `the name at column ${i + 1} is not closed with ${quote}]`;
      steps.push(name);
      i = j + 2;
    } else if (c === undefined || /[\s=!<>]/.test(c)) {
      return { steps, end: i };
    } else {
      return `unexpected '${c}' at column ${i + 1}`;
    }
  }
}

/**
 * What is wrong with an answer, one line per failure. A wrong status is the only failure reported
 * then: the body of an error answer would fail every check and bury the one line that matters.
 */
export function checkAnswer(expect: SmokeExpect, status: number, bodyText: string): string[] {
  const wanted = 'code' in expect.status ? String(expect.status.code) : `${expect.status.hundreds}xx`;
  const statusOk = 'code' in expect.status ? status === expect.status.code : Math.floor(status / 100) === expect.status.hundreds;
  if (!statusOk) {
    const body = bodyText.trim() ? `: ${clip(oneLineText(bodyText), SHOW_MAX)}` : '';
    return [`status: expected ${wanted}, got ${status}${body}`];
  }
  if (expect.checks.length === 0) return [];
  let answer: unknown;
  try {
    answer = JSON.parse(bodyText);
  } catch {
    return [`body: expected JSON, got ${bodyText.trim() ? `'${clip(oneLineText(bodyText), SHOW_MAX)}'` : 'nothing'}`];
  }
  const failures: string[] = [];
  for (const check of expect.checks) {
    const failure = runCheck(check, answer);
    if (failure) failures.push(`${check.path.text}: ${failure}`);
  }
  return failures;
}

function runCheck(check: Check, answer: unknown): string | undefined {
  const wanted = describe(check);
  const found = resolve(answer, check.path.steps);
  if (!found.ok) return `expected ${wanted}, but ${found.problem}`;
  const actual = found.value;
  switch (check.op) {
    case 'exists':
      return undefined;
    case '==':
      return jsonEqual(actual, check.value) ? undefined : `expected ${wanted}, got ${show(actual)}`;
    case '!=':
      return jsonEqual(actual, check.value) ? `expected ${wanted}, got ${show(actual)}` : undefined;
    case '<':
    case '<=':
    case '>':
    case '>=': {
      if (typeof actual !== 'number') return `expected ${wanted}, got ${show(actual)} (${kindOf(actual)}, not a number)`;
      const ok =
        check.op === '<' ? actual < check.value : check.op === '<=' ? actual <= check.value : check.op === '>' ? actual > check.value : actual >= check.value;
      return ok ? undefined : `expected ${wanted}, got ${show(actual)}`;
    }
    case 'matches': {
      const subject = typeof actual === 'string' ? actual : JSON.stringify(actual);
      return check.regex.test(subject) ? undefined : `expected ${wanted}, got ${show(actual)}`;
    }
    case 'length': {
      if (!Array.isArray(actual) && typeof actual !== 'string') return `expected ${wanted}, got ${show(actual)} (${kindOf(actual)}, which has no length)`;
      return actual.length === check.value ? undefined : `expected ${wanted}, got length ${actual.length}: ${show(actual)}`;
    }
  }
}

function describe(check: Check): string {
  switch (check.op) {
    case 'exists':
      return 'to exist';
    case 'matches':
      return `to match /${check.regex.source}/`;
    case 'length':
      return `length == ${check.value}`;
    default:
      return `${check.op} ${show(check.value)}`;
  }
}

type Found = { ok: true; value: unknown } | { ok: false; problem: string };

function resolve(root: unknown, steps: PathStep[]): Found {
  let value = root;
  let at = '$';
  for (const step of steps) {
    if (typeof step === 'number') {
      if (!Array.isArray(value)) return { ok: false, problem: `${at} is ${kindOf(value)}, not a list` };
      const index = step < 0 ? value.length + step : step;
      if (index < 0 || index >= value.length) return { ok: false, problem: `${at} has ${value.length} item${value.length === 1 ? '' : 's'}, so no [${step}]` };
      value = value[index];
      at += `[${step}]`;
    } else {
      if (!isObject(value)) return { ok: false, problem: `${at} is ${kindOf(value)}, not an object` };
      if (!Object.hasOwn(value, step)) {
        return { ok: false, problem: `${at} has no '${step}' (its keys: ${clip(Object.keys(value).join(', ') || 'none', SHOW_MAX)})` };
      }
      value = value[step];
      at += /^[\p{L}\p{N}_-]+$/u.test(step) ? `.${step}` : `[${JSON.stringify(step)}]`;
    }
  }
  return { ok: true, value };
}

/** JSON equality: key order does not matter, 1 and 1.0 are the same number. */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]));
  }
  if (isObject(a) || isObject(b)) {
    if (!isObject(a) || !isObject(b)) return false;
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && jsonEqual(a[key], b[key]));
  }
  return a === b;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function show(value: unknown): string {
  return clip(JSON.stringify(value) ?? 'nothing', SHOW_MAX);
}

function oneLineText(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
