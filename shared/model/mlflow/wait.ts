import { CancelledError, UserError } from '../../util/errors.js';
import type { MlflowModelVersion, MlflowRegistry } from './registry.js';

export interface WaitOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** First pause between polls; doubled up to maxPollMs. */
  firstPollMs?: number;
  maxPollMs?: number;
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new CancelledError('waiting for the model version'));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new CancelledError('waiting for the model version'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Polls a model version until MLflow says READY. Registration is usually instant on a file
 * store, but a server copying artifacts between stores takes a while: back off instead of hammering it.
 */
export async function waitUntilReady(registry: MlflowRegistry, version: MlflowModelVersion, options: WaitOptions): Promise<MlflowModelVersion> {
  const deadline = Date.now() + options.timeoutMs;
  let current = version;
  let delay = options.firstPollMs ?? 250;
  for (;;) {
    const label = `version ${current.version} of model '${current.name}'`;
    if (current.status === 'READY' || current.status === undefined) return current;
    if (current.status === 'FAILED_REGISTRATION') {
      throw new UserError(`MLflow failed to register ${label}${current.status_message ? `: ${current.status_message}` : ''}`);
    }
    if (Date.now() >= deadline) throw new UserError(`${label} was still ${current.status} after ${Math.round(options.timeoutMs / 1000)} s`);
    await pause(Math.min(delay, Math.max(0, deadline - Date.now())), options.signal);
    delay = Math.min(delay * 2, options.maxPollMs ?? 5_000);
    const fresh = await registry.getVersion(current.name, current.version);
    if (!fresh) throw new UserError(`${label} disappeared while waiting for it to become READY`);
    current = fresh;
  }
}
