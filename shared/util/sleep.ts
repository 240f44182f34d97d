import { CancelledError } from './errors.js';

/** Waits, or rejects with CancelledError(what) as soon as the signal fires. */
export function sleep(ms: number, signal: AbortSignal | undefined, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new CancelledError(what));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new CancelledError(what));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
