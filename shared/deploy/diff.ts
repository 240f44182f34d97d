import { stringify } from 'yaml';

/** Fields the API server writes: they differ on every read and say nothing about the change. */
const SERVER_METADATA = ['managedFields', 'resourceVersion', 'uid', 'generation', 'creationTimestamp'];
const CONTEXT = 3;
const MAX_LINES = 200;
// Past this many table cells (lines before × lines after, once the common ends are cut off) the
// LCS would cost real memory; the middle is then shown as removed and added whole.
const MAX_LCS_CELLS = 4_000_000;

type Op = { tag: ' ' | '-' | '+'; line: string };

/**
 * A unified-style diff (`-`/`+` lines, 3 lines of context, `@@ -a,b +c,d @@` headers) of two
 * objects written as YAML with sorted keys, so key order never shows as a change. Top-level
 * `status` and the server-owned metadata fields are left out. '' when equal; at most about
 * 200 lines, then a "… N more lines" note. `before` undefined: everything is added.
 */
export function yamlDiff(before: unknown | undefined, after: unknown): string {
  const a = before === undefined ? [] : toLines(before);
  const b = toLines(after);
  const ops = editScript(a, b);
  if (ops.every((op) => op.tag === ' ')) return '';
  const lines = hunks(ops);
  if (lines.length <= MAX_LINES) return lines.join('\n');
  return [...lines.slice(0, MAX_LINES), `… ${lines.length - MAX_LINES} more lines`].join('\n');
}

function toLines(value: unknown): string[] {
  // stringify gives undefined for undefined (and functions): nothing to show.
  const text: string | undefined = stringify(withoutServerFields(value), { sortMapEntries: true, lineWidth: 0 });
  return text ? text.replace(/\n$/, '').split('\n') : [];
}

function withoutServerFields(value: unknown): unknown {
  if (!isObject(value)) return value;
  const { status: _status, ...rest } = value;
  if (isObject(rest.metadata)) {
    rest.metadata = Object.fromEntries(Object.entries(rest.metadata).filter(([key]) => !SERVER_METADATA.includes(key)));
  }
  return rest;
}

function editScript(a: string[], b: string[]): Op[] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const same = (line: string): Op => ({ tag: ' ', line });
  return [...a.slice(0, start).map(same), ...middle(a.slice(start, endA), b.slice(start, endB)), ...a.slice(endA).map(same)];
}

/** Longest common subsequence by the textbook table; removals come before additions. */
function middle(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  if (n * m > MAX_LCS_CELLS) {
    return [...a.map((line): Op => ({ tag: '-', line })), ...b.map((line): Op => ({ tag: '+', line }))];
  }
  const width = m + 1;
  // table[i * width + j]: the LCS length of a[i..] and b[j..].
  const table = new Uint32Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      table[i * width + j] =
        a[i] === b[j] ? (table[(i + 1) * width + j + 1] ?? 0) + 1 : Math.max(table[(i + 1) * width + j] ?? 0, table[i * width + j + 1] ?? 0);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push({ tag: ' ', line: a[i++] ?? '' });
      j++;
    } else if (j >= m || (i < n && (table[(i + 1) * width + j] ?? 0) >= (table[i * width + j + 1] ?? 0))) {
      ops.push({ tag: '-', line: a[i++] ?? '' });
    } else {
      ops.push({ tag: '+', line: b[j++] ?? '' });
    }
  }
  return ops;
}

/** Groups the changes with their context into hunks, merging hunks whose context touches. */
function hunks(ops: Op[]): string[] {
  const out: string[] = [];
  // 1-based line numbers of each op in the old and the new text.
  const oldLine: number[] = [];
  const newLine: number[] = [];
  let o = 1;
  let n = 1;
  for (const op of ops) {
    oldLine.push(o);
    newLine.push(n);
    if (op.tag !== '+') o++;
    if (op.tag !== '-') n++;
  }
  let k = 0;
  while (k < ops.length) {
    if (ops[k]?.tag === ' ') {
      k++;
      continue;
    }
    const from = Math.max(0, k - CONTEXT);
    let to = k;
    // Extend while another change starts within twice the context of the last one.
    for (let scan = k; scan < ops.length && scan <= to + 2 * CONTEXT + 1; scan++) {
      if (ops[scan]?.tag !== ' ') to = scan;
    }
    const end = Math.min(ops.length, to + CONTEXT + 1);
    const slice = ops.slice(from, end);
    const oldCount = slice.filter((op) => op.tag !== '+').length;
    const newCount = slice.filter((op) => op.tag !== '-').length;
    // An empty side starts at the line before it, as diff(1) writes it.
    const oldStart = oldCount ? (oldLine[from] ?? 1) : (oldLine[from] ?? 1) - 1;
    const newStart = newCount ? (newLine[from] ?? 1) : (newLine[from] ?? 1) - 1;
    out.push(`@@ -${oldStart},${oldCount} +${newStart},${newCount} @@`);
    for (const op of slice) out.push(`${op.tag}${op.line}`);
    k = end;
  }
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
