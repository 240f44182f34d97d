import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import type { AzureMlDeployOptions } from '../../../shared/deploy/azureml/target.js';
import { DeployFailure, type DeployTarget } from '../../../shared/deploy/target.js';
import { InputError, UserError } from '../../../shared/util/errors.js';
import { root } from '../paths.js';

export interface RemoteDeployTarget extends DeployTarget {
  /** Log lines as `info: ...` / `warning: ...`, in order. */
  lines: string[];
  /** Values the target asked to mask. */
  secrets: string[];
  /** Everything the child wrote to stderr. */
  stderr(): string;
}

/**
 * The azureml deploy target, driven through its interface from the test process while it runs in a
 * child that trusts the test CA (see deploy-target-process.ts). Errors come back as the classes
 * the target threw: DeployFailure (with diagnostics), InputError, UserError.
 */
export function startRemoteDeployTarget(options: Omit<AzureMlDeployOptions, 'env' | 'log'>, caCertFile: string): RemoteDeployTarget {
  const child = spawn(join(root, 'node_modules/.bin/tsx'), [join(root, 'test/helpers/fake-arm/deploy-target-process.ts')], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_EXTRA_CA_CERTS: caCertFile },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const secrets: string[] = [];
  let stderr = '';
  let next = 0;
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.on('close', (code) => {
    for (const { reject } of waiting.values()) reject(new Error(`deploy target process ended (${code}): ${stderr}`));
    waiting.clear();
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    const event = JSON.parse(line) as { log?: { level: string; line: string }; secret?: string; id?: number; result?: unknown; error?: { kind: string; message: string; input?: string; diagnostics?: string[]; stack?: string } };
    if (event.log) lines.push(`${event.log.level}: ${event.log.line}`);
    if (event.secret) secrets.push(event.secret);
    if (event.id === undefined) return;
    const pending = waiting.get(event.id);
    waiting.delete(event.id);
    if (!pending) return;
    if (!event.error) return pending.resolve(event.result);
    const { kind, message, input, diagnostics, stack } = event.error;
    if (kind === 'DeployFailure') return pending.reject(new DeployFailure(message, diagnostics));
    if (kind === 'InputError') return pending.reject(Object.assign(new InputError(input ?? '', ''), { message }));
    if (kind === 'UserError') return pending.reject(new UserError(message));
    pending.reject(Object.assign(new Error(message), { stack }));
  });
  child.stdin.write(`${JSON.stringify({ options })}\n`);

  const call = <T>(method: string, ...args: unknown[]): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = ++next;
      waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      child.stdin.write(`${JSON.stringify({ id, method, args })}\n`);
    });

  return {
    kind: 'azureml',
    lines,
    secrets,
    stderr: () => stderr,
    plan: (spec) => call('plan', spec),
    apply: (spec, plan) => call('apply', spec, plan),
    waitReady: (spec, applied, deadline) => call('waitReady', spec, applied, deadline),
    smokeEndpoint: async (spec, ready) => ({ ...(await call<{ url: string; headers: Record<string, string> }>('smokeEndpoint', spec, ready)), close: async () => undefined }),
    finish: (spec, ready) => call('finish', spec, ready),
    rollback: (spec, applied) => call('rollback', spec, applied),
    close: async () => {
      await call('close').catch(() => undefined);
      child.stdin.end();
      if (child.exitCode === null) await new Promise((resolve) => child.once('close', resolve));
    },
  };
}
