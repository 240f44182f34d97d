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
    });
    let stdout = '';
    const tail: string[] = [];
    const partial = { out: '', err: '' };
    const emit = (line: string) => {
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
      options.onLine?.(line);
    };
    const onData = (stream: 'out' | 'err') => (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      if (stream === 'out') stdout += text;
      const lines = (partial[stream] + text).split(/\r?\n/);
      partial[stream] = lines.pop() ?? '';
      lines.forEach(emit);
    };
    child.stdout?.on('data', onData('out'));
    child.stderr?.on('data', onData('err'));
    if (options.stdin !== undefined) child.stdin?.end(options.stdin);

    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
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
