import { existsSync, readFileSync, statSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { resolve } from 'node:path';
import { InputError } from '../util/errors.js';
import type { InputDeclaration, TaskDeclaration } from '../tasks/declaration.js';
import type { Platform } from './platform.js';

/**
 * Reads a task's inputs by their declarations: defaults, required checks, types, and masking of
 * secret values before anything can log them. Every problem is an InputError naming the input.
 */
export class InputReader {
  private readonly declared: Map<string, InputDeclaration>;

  constructor(private readonly declaration: TaskDeclaration, private readonly platform: Platform) {
    this.declared = new Map(declaration.inputs.map((input) => [input.name, input]));
  }

  private declarationOf(name: string): InputDeclaration {
    const input = this.declared.get(name);
    if (!input) throw new Error(`input '${name}' is not declared by ${this.declaration.taskName}`);
    return input;
  }

  /** The trimmed value, or the declared default, or '' when neither. */
  raw(name: string): string {
    return this.untrimmed(name).trim();
  }

  /** The value as the user wrote it (map line numbers must match theirs), or the default. */
  private untrimmed(name: string): string {
    const input = this.declarationOf(name);
    if (input.platforms && !input.platforms.includes(this.platform.name)) return '';
    const value = this.platform.getInput(name) ?? '';
    if (input.secret && value.trim()) this.platform.setSecret(value.trim());
    return value.trim() ? value : input.default ?? '';
  }

  string(name: string): string {
    const value = this.raw(name);
    if (!value && this.declarationOf(name).required) throw new InputError(name, 'is required but empty');
    if (/[\r\n]/.test(value)) throw new InputError(name, 'must be a single line');
    return value;
  }

  boolean(name: string): boolean {
    const value = this.raw(name).toLowerCase();
    if (value === 'true') return true;
    if (value === 'false' || value === '') return false;
    throw new InputError(name, `must be true or false, got '${this.shown(name, value)}'`);
  }

  pick<T extends string>(name: string): T {
    const value = this.string(name);
    const options = this.declarationOf(name).options ?? [];
    if (!options.includes(value)) throw new InputError(name, `must be one of ${options.join(', ')}, got '${value}'`);
    return value as T;
  }

  /** Items one a line; commas separate too, as CI variables are often comma lists. */
  list(name: string): string[] {
    return this.raw(name)
      .split(/[\r\n,]+/)
      .map((item) => item.trim())
      .filter(Boolean);
  }

  /** KEY=VALUE lines; blank lines and lines starting with # are skipped. */
  map(name: string): Map<string, string> {
    const entries = new Map<string, string>();
    this.untrimmed(name)
      .split(/\r?\n/)
      .forEach((line, index) => {
        const text = line.trim();
        if (!text || text.startsWith('#')) return;
        const equals = text.indexOf('=');
        // The value is never echoed: build args may carry tokens.
        if (equals < 0) throw new InputError(name, `line ${index + 1} has no '=': write KEY=VALUE`);
        const key = text.slice(0, equals).trim();
        if (!key) throw new InputError(name, `line ${index + 1} has an empty key: write KEY=VALUE`);
        entries.set(key, text.slice(equals + 1).trim());
      });
    return entries;
  }

  /** An optional path, resolved against the working directory; checked to exist when given. */
  path(name: string, kind: 'file' | 'directory', fallback = ''): string {
    return resolveInputPath(name, this.string(name) || fallback, kind);
  }

  /** An optional PEM certificate file (a CA to trust): its content, checked to be a certificate. */
  certificate(name: string): string | undefined {
    const file = this.path(name, 'file');
    if (!file) return undefined;
    const pem = readFileSync(file, 'utf8');
    try {
      if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error('no PEM block');
      new X509Certificate(pem);
    } catch {
      throw new InputError(name, `'${file}' is not a PEM certificate`);
    }
    return pem;
  }

  private shown(name: string, value: string): string {
    return this.declarationOf(name).secret ? '***' : value;
  }
}

/** Resolves a path given in (or derived from) an input against the working directory, checking its kind. */
export function resolveInputPath(input: string, value: string, kind: 'file' | 'directory'): string {
  if (!value) return '';
  const full = resolve(value);
  if (!existsSync(full)) throw new InputError(input, `${kind} '${value}' does not exist`);
  const isDirectory = statSync(full).isDirectory();
  if (kind === 'directory' && !isDirectory) throw new InputError(input, `'${value}' is not a directory`);
  if (kind === 'file' && isDirectory) throw new InputError(input, `'${value}' is a directory, not a file`);
  return full;
}
