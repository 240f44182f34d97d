import { Redactor } from '../util/redact.js';
import { oneLine, UserError } from '../util/errors.js';
import type { CiContext, Platform, ServiceConnection } from './platform.js';

/** Grace period after a cancel before the process gives up on cleanup and exits. */
const CANCEL_EXIT_MS = 9_000;

/**
 * What both adapters share: inputs taken out of the environment (so child processes never
 * inherit a password), secret redaction on every line written, and cancel as an AbortSignal.
 */
export abstract class BasePlatform implements Platform {
  abstract readonly name: 'azure' | 'github';
  abstract readonly isDebug: boolean;
  abstract readonly ci: CiContext;

  protected readonly redactor = new Redactor();
  protected readonly vault = new Map<string, string>();
  private readonly controller = new AbortController();
  readonly signal = this.controller.signal;

  protected constructor(
    protected readonly env: NodeJS.ProcessEnv,
    protected readonly write: (line: string) => void,
    /** Prefixes of variables that carry inputs or secrets on this runner. */
    vaultPrefixes: readonly string[],
  ) {
    for (const [key, value] of Object.entries(env)) {
      if (value !== undefined && vaultPrefixes.some((prefix) => key.startsWith(prefix))) {
        this.vault.set(key, value);
        delete env[key];
      }
    }
  }

  /** Turns SIGINT/SIGTERM into the abort signal. Called by entry files, not by tests. */
  listenForCancel(): void {
    const onSignal = (signal: NodeJS.Signals) => {
      this.warning(`received ${signal}: cancelling`);
      this.controller.abort();
      setTimeout(() => process.exit(1), CANCEL_EXIT_MS).unref();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }

  abstract getInput(name: string): string | undefined;

  getServiceConnection(inputName: string): ServiceConnection | undefined {
    const id = this.getInput(inputName)?.trim();
    return id ? this.getEndpoint(id) : undefined;
  }

  getEndpoint(_id: string): ServiceConnection | undefined {
    return undefined;
  }

  async requestIdToken(_audience: string): Promise<string> {
    throw new UserError(`this runner (${this.name}) gives no OIDC token to steps`);
  }

  childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return { ...this.env, ...extra };
  }

  setSecret(value: string): void {
    if (!value) return;
    this.redactor.add(value);
    this.writeMask(value);
    // Runners mask per line, so a multi-line secret is registered line by line as well.
    const lines = value.split(/\r?\n/);
    if (lines.length > 1) {
      for (const line of lines) {
        if (!line.trim()) continue;
        this.redactor.add(line);
        this.writeMask(line);
      }
    }
  }

  redact(text: string): string {
    return this.redactor.redact(text);
  }

  info(message: string): void {
    this.write(this.redact(message));
  }

  warning(message: string): void {
    this.write(this.formatIssue('warning', oneLine(this.redact(message))));
  }

  error(message: string): void {
    this.write(this.formatIssue('error', oneLine(this.redact(message))));
  }

  debug(message: string): void {
    for (const line of this.redact(message).split(/\r?\n/)) this.write(this.formatDebug(line));
  }

  async group<T>(title: string, body: () => Promise<T>): Promise<T> {
    this.write(this.formatGroupStart(this.redact(title)));
    try {
      return await body();
    } finally {
      this.write(this.formatGroupEnd());
    }
  }

  fail(message: string): void {
    this.error(message);
    process.exitCode = 1;
  }

  abstract setOutput(name: string, value: string): void;
  abstract progress(percent: number, message: string): void;
  abstract summary(markdown: string): Promise<void>;

  protected abstract writeMask(value: string): void;
  protected abstract formatIssue(kind: 'warning' | 'error', message: string): string;
  protected abstract formatDebug(message: string): string;
  protected abstract formatGroupStart(title: string): string;
  protected abstract formatGroupEnd(): string;
}
