import { spawn } from 'node:child_process';
import { CancelledError, UserError } from './errors.js';

export interface ExecOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  /** Each line of stdout and stderr as it arrives; omitted lines are only kept for errors. */
  onLine?: (line: string) => void;
  /** Text written to the tool's stdin (never a command-line argument, so never in `ps`). */
  stdin?: string;
}

export interface ExecResult {
  code: number;
  stdout: string;
  /** The last lines of output, for error messages. */
  tail: string[];
}

const TAIL_LINES = 20;
const KILL_GRACE_MS = 5_000;

/** Runs a tool without a shell, streaming its output by lines; cancel kills it. */
export function exec(tool: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolvePromise, reject) => {
    if (options.signal?.aborted) return reject(new CancelledError(tool));
    const child = spawn(tool, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      // Its own process group, so a cancel reaches the tool's children too (buildah's RUN steps).
      detached: true,
    });
    let stdout = '';
    const tail: string[] = [];
    const partial = { out: '', err: '' };
    const emit = (line: string) => {
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
      options.onLine?.(line);
    };
    const onData = (stream: 'out' | 'err') => (text: string) => {
      if (stream === 'out') stdout += text;
      const lines = (partial[stream] + text).split(/\r?\n/);
      partial[stream] = lines.pop() ?? '';
      lines.forEach(emit);
    };
    // Decoding per stream keeps a multi-byte character whole across two reads.
    child.stdout?.setEncoding('utf8').on('data', onData('out'));
    child.stderr?.setEncoding('utf8').on('data', onData('err'));
    if (options.stdin !== undefined) {
      // A tool that exits before reading all of its input is reported by its exit code, not EPIPE.
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(options.stdin);
    }

    let killTimer: NodeJS.Timeout | undefined;
    const killGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, signal);
      } catch {
        child.kill(signal);
      }
    };
    const onAbort = () => {
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
      killTimer.unref();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });

    child.on('error', (error: NodeJS.ErrnoException) => {
      options.signal?.removeEventListener('abort', onAbort);
      if (error.code === 'ENOENT') reject(new UserError(`'${tool}' was not found on PATH: install it on the agent`));
      else reject(error);
    });
    child.on('close', (code, signal) => {
      options.signal?.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      for (const rest of [partial.out, partial.err]) if (rest) emit(rest);
      if (options.signal?.aborted) return reject(new CancelledError(tool));
      resolvePromise({ code: code ?? (signal ? 128 : 1), stdout, tail });
    });
  });
}
