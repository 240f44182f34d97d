import { UserError } from '../util/errors.js';

/**
 * One .dockerignore pattern (already cleaned, without its '!'), matched the way Docker's
 * patternmatcher does it: Go filepath.Match syntax ('*', '?', '[...]', '\' escapes) plus '**',
 * compiled to one regular expression over a slash-separated, context-relative path.
 *
 * Where patternmatcher differs from filepath.Match we follow patternmatcher, because that is what
 * decides what the builder sees:
 * - a character class may match '/' (patternmatcher hands classes to Go's regexp unchanged), so
 *   'a[^x]b' matches 'a/b';
 * - '**' eats a following '/', and then matches any number of directories, including none;
 *   at the end of a pattern it matches anything ('dir/**' is everything below dir);
 * - a pattern that starts with '**' and continues with plain characters only matches by suffix,
 *   so '**.log' matches 'x.log' and 'a/b/x.log' (patternmatcher's fast path does so).
 * Two corners follow filepath.Match rather than patternmatcher's accidents: '*' and '?' inside a
 * class are literal characters, and '^' outside a class is a literal character.
 */
export interface IgnorePattern {
  /** The pattern as written after cleaning, for messages. */
  readonly source: string;
  /** Whether the pattern matches this exact path (no parent matching: the caller does that). */
  matches(path: string): boolean;
  /**
   * Whether the pattern could match some path strictly below this directory (given as its
   * segments). Never false when it could: a walker skips a directory on its word.
   */
  mayMatchBelow(dirSegments: readonly string[]): boolean;
}

type Token =
  | { kind: 'literal'; char: string; escaped: boolean }
  | { kind: 'separator' }
  | { kind: 'star' }
  | { kind: 'one' }
  | { kind: 'class'; regex: string; mayMatchSlash: boolean }
  | { kind: 'globstar'; ateSlash: boolean };

export class PatternSyntaxError extends UserError {
  override name = 'PatternSyntaxError';
}

export function compilePattern(source: string): IgnorePattern {
  const tokens = tokenize(source);
  const regex = new RegExp(`^${toRegexSource(tokens)}$`, 'u');
  const segments = splitSegments(tokens);
  // Splitting at separators tells where a path's segments are only if nothing else matches a '/'.
  const segmentsAreExact = tokens.every(
    (t) => !(t.kind === 'class' && t.mayMatchSlash) && !(t.kind === 'literal' && t.char === '/'),
  );
  return {
    source,
    matches: (path) => regex.test(path),
    mayMatchBelow(dirSegments) {
      if (!segmentsAreExact) return true;
      for (let i = 0; i < dirSegments.length; i++) {
        const segment = segments[i];
        // Fewer segments than the directory: it can only match the directory or one of its parents.
        if (segment === undefined) return false;
        // '**' can stretch over any number of directories: assume it can reach below.
        if (segment.hasGlobstar) return true;
        if (!segment.regex.test(dirSegments[i]!)) return false;
      }
      // Same number of segments matches the directory itself, not anything below it.
      return segments.length > dirSegments.length;
    },
  };
}

function tokenize(source: string): Token[] {
  const chars = Array.from(source); // code points, so '?' takes one whole character
  const tokens: Token[] = [];
  const bad = (problem: string) => new PatternSyntaxError(`pattern '${source}' ${problem}`);
  let i = 0;
  while (i < chars.length) {
    const ch = chars[i++]!;
    if (ch === '*') {
      if (chars[i] === '*') {
        i++;
        const ateSlash = chars[i] === '/';
        if (ateSlash) i++;
        tokens.push({ kind: 'globstar', ateSlash });
      } else {
        tokens.push({ kind: 'star' });
      }
    } else if (ch === '?') {
      tokens.push({ kind: 'one' });
    } else if (ch === '/') {
      tokens.push({ kind: 'separator' });
    } else if (ch === '\\') {
      const next = chars[i++];
      if (next === undefined) throw bad("ends with a lone '\\'");
      tokens.push({ kind: 'literal', char: next, escaped: true });
    } else if (ch === '[') {
      i = readClass(chars, i, tokens, bad);
    } else {
      tokens.push({ kind: 'literal', char: ch, escaped: false });
    }
  }
  return tokens;
}

/**
 * Reads a class after its '[' with filepath.Match's rules: optional '^', then one or more
 * characters or lo-hi ranges, where '-' and ']' must be escaped; returns the index after ']'.
 */
function readClass(chars: string[], start: number, tokens: Token[], bad: (problem: string) => Error): number {
  let i = start;
  const negated = chars[i] === '^';
  if (negated) i++;
  const ranges: Array<[string, string]> = [];
  const readChar = (): string => {
    const ch = chars[i++];
    if (ch === undefined) throw bad("has a '[' that is never closed");
    if (ch === '-' || ch === ']') throw bad(`has a character class with an unescaped '${ch}'`);
    if (ch !== '\\') return ch;
    const escaped = chars[i++];
    if (escaped === undefined) throw bad("has a '[' that is never closed");
    return escaped;
  };
  while (!(chars[i] === ']' && ranges.length > 0)) {
    const lo = readChar();
    let hi = lo;
    if (chars[i] === '-') {
      i++;
      hi = readChar();
    }
    if (lo.codePointAt(0)! > hi.codePointAt(0)!) throw bad(`has a character range '${lo}-${hi}' out of order`);
    ranges.push([lo, hi]);
  }
  const inRanges = (ch: string) => ranges.some(([lo, hi]) => lo <= ch && ch <= hi);
  const body = ranges.map(([lo, hi]) => (lo === hi ? escapeInClass(lo) : `${escapeInClass(lo)}-${escapeInClass(hi)}`));
  tokens.push({
    kind: 'class',
    regex: `[${negated ? '^' : ''}${body.join('')}]`,
    mayMatchSlash: negated ? !inRanges('/') : inRanges('/'),
  });
  return i + 1;
}

function toRegexSource(tokens: readonly Token[]): string {
  let out = '';
  tokens.forEach((token, index) => {
    switch (token.kind) {
      case 'literal':
        out += escapeLiteral(token.char);
        break;
      case 'separator':
        out += '/';
        break;
      case 'star':
        out += '[^/]*';
        break;
      case 'one':
        out += '[^/]';
        break;
      case 'class':
        out += token.regex;
        break;
      case 'globstar': {
        const last = index === tokens.length - 1;
        const suffixOnly = index === 0 && !token.ateSlash && tokens.slice(1).every(isPlain);
        out += (last && !token.ateSlash) || suffixOnly ? '.*' : '(?:.*/)?';
        break;
      }
    }
  });
  return out;
}

/** Characters patternmatcher compares as plain text (its exact/prefix/suffix fast paths). */
function isPlain(token: Token): boolean {
  return token.kind === 'separator' || (token.kind === 'literal' && !token.escaped && token.char !== ']');
}

interface Segment {
  hasGlobstar: boolean;
  regex: RegExp;
}

function splitSegments(tokens: readonly Token[]): Segment[] {
  const groups: Token[][] = [[]];
  for (const token of tokens) {
    if (token.kind === 'separator') groups.push([]);
    else groups[groups.length - 1]!.push(token);
  }
  return groups.map((group) => ({
    hasGlobstar: group.some((t) => t.kind === 'globstar'),
    regex: new RegExp(`^${toRegexSource(group)}$`, 'u'),
  }));
}

function escapeLiteral(ch: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(ch) ? `\\${ch}` : ch;
}

function escapeInClass(ch: string): string {
  return /[\\\]\[^-]/.test(ch) ? `\\${ch}` : ch;
}
