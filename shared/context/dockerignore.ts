import { UserError } from '../util/errors.js';
import { compilePattern, type IgnorePattern } from './ignore-pattern.js';

interface Rule {
  pattern: IgnorePattern;
  /** A '!' line: it re-includes what it matches. */
  exception: boolean;
}

/**
 * Which patterns match a path or one of its parents, so a walker can work out a child from its
 * directory without re-testing every parent.
 */
export interface IgnoreMatch {
  readonly excluded: boolean;
  readonly hits: readonly boolean[];
}

/**
 * A .dockerignore file with the builder's semantics (moby/patternmatcher and its ignorefile
 * reader): the last pattern that matches a path, or any of its parent directories, decides;
 * a '!' pattern re-includes.
 */
export class DockerIgnore {
  static readonly none = new DockerIgnore([]);

  private constructor(private readonly rules: readonly Rule[]) {}

  /**
   * Reads the file's text. `source` names the file in errors. A malformed pattern makes docker
   * build fail too, so it is an error here rather than a pattern that silently matches nothing.
   */
  static parse(text: string, source = '.dockerignore'): DockerIgnore {
    const rules: Rule[] = [];
    text
      .replace(/^\uFEFF/, '')
      .split('\n')
      .forEach((raw, index) => {
        // Only a '#' in the first column starts a comment: the reader checks before trimming.
        if (raw.startsWith('#')) return;
        let line = raw.trim();
        if (line === '') return;
        const exception = line.startsWith('!');
        if (exception) line = line.slice(1).trim();
        const where = `${source} line ${index + 1}`;
        if (line === '') throw new UserError(`${where}: '!' needs a pattern after it`);
        let cleaned = cleanPath(line);
        // '/foo' and 'foo' both mean foo at the root of the context.
        if (cleaned.length > 1 && cleaned.startsWith('/')) cleaned = cleaned.slice(1);
        try {
          rules.push({ pattern: compilePattern(cleaned), exception });
        } catch (error) {
          throw new UserError(`${where}: ${(error as Error).message}`);
        }
      });
    return new DockerIgnore(rules);
  }

  /** The patterns as the builder sees them: cleaned, '!' kept. */
  get patterns(): string[] {
    return this.rules.map((rule) => (rule.exception ? '!' : '') + rule.pattern.source);
  }

  /** Whether a context-relative, slash-separated path is left out of the build context. */
  excludes(path: string): boolean {
    const relative = normalize(path);
    return relative !== '' && this.match(relative).excluded;
  }

  /**
   * Whether a walker may skip everything below an excluded directory: true only when no '!'
   * pattern could re-include something inside it. Pass the directory's match if already known.
   */
  canSkipDirectory(dir: string, known?: IgnoreMatch): boolean {
    const relative = normalize(dir);
    if (relative === '') return false;
    if (!(known ?? this.match(relative)).excluded) return false;
    const segments = relative.split('/');
    // An exception that matches the directory or a parent is already part of the verdict above
    // and applies the same way to everything inside: only deeper matches could change it.
    return !this.rules.some((rule) => rule.exception && rule.pattern.mayMatchBelow(segments));
  }

  /**
   * Matches a normalized relative path. With its parent directory's match, only the path itself
   * is tested; without, every parent is.
   */
  match(path: string, parent?: IgnoreMatch): IgnoreMatch {
    if (!parent) {
      const cut = path.lastIndexOf('/');
      if (cut > 0) parent = this.match(path.slice(0, cut));
    }
    const hits = this.rules.map((rule, i) => (parent?.hits[i] ?? false) || rule.pattern.matches(path));
    const last = hits.lastIndexOf(true);
    return { excluded: last >= 0 && !this.rules[last]!.exception, hits };
  }
}

/** Cleans a path the caller gives ('./a/', '/a' and 'a' are the same); the root becomes ''. */
function normalize(path: string): string {
  const cleaned = cleanPath(path).replace(/^\/+/, '');
  return cleaned === '.' ? '' : cleaned;
}

/**
 * Go's filepath.Clean on a slash path, as the reader applies it to every pattern: repeated
 * slashes, '.' and 'dir/..' go, trailing slashes go, '..' above the root of a rooted path goes.
 */
export function cleanPath(path: string): string {
  if (path === '') return '.';
  const rooted = path.startsWith('/');
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const joined = out.join('/');
  if (rooted) return `/${joined}`;
  return joined === '' ? '.' : joined;
}
