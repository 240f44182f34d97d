import { NetworkError } from '../http/request.js';
import type { KfpApi, KfpRunStatus, KfpTask } from './api.js';
import { KfpError } from './client.js';

/**
 * The poll schedule. Short runs are seen ending soon (2, 3, 5 s), then polls settle at 8 s: the
 * end of a run is noticed at most ~8.4 s late (target 10 s) while a long wait costs at most
 * ~7.9 calls a minute (target 10). A 5% jitter keeps many agents from polling in step, and is
 * small enough to keep both bounds. bench/kfp-wait.ts measures both.
 */
export const FIRST_POLLS_MS: readonly number[] = [2_000, 3_000, 5_000];
export const MAX_POLL_MS = 8_000;

export function pollDelayMs(poll: number, random: () => number = Math.random): number {
  const base = FIRST_POLLS_MS[poll] ?? MAX_POLL_MS;
  return Math.round(base * (0.95 + random() * 0.1));
}

/** Polls that fail in a row (server restarting, network blips) before the wait gives up. */
const MAX_FAILURES_IN_A_ROW = 5;

export interface WaitOptions {
  api: KfpApi;
  /** The run as created. */
  run: KfpRunStatus;
  /** Epoch milliseconds after which the wait stops with 'timeout'. */
  deadline: number;
  signal: AbortSignal;
  onRunState?: (status: KfpRunStatus) => void;
  onTaskState?: (task: KfpTask) => void;
  onPollError?: (error: Error, failuresInARow: number) => void;
  delayMs?: (poll: number) => number;
}

export interface WaitResult {
  outcome: 'finished' | 'timeout' | 'cancelled';
  /** The last status seen. */
  status: KfpRunStatus;
  polls: number;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Fires on cancel or at the deadline, so a hanging poll cannot outlast either. */
function pollSignal(signal: AbortSignal, deadline: number): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const abort = () => controller.abort();
  signal.addEventListener('abort', abort, { once: true });
  // setTimeout takes at most 2^31-1 ms; a longer delay would fire at once.
  const timer = setTimeout(abort, Math.min(2 ** 31 - 1, Math.max(0, deadline - Date.now())));
  return {
    signal: controller.signal,
    dispose() {
      clearTimeout(timer);
      signal.removeEventListener('abort', abort);
    },
  };
}

function transient(error: unknown): boolean {
  return error instanceof NetworkError || (error instanceof KfpError && (error.status >= 500 || error.status === 429));
}

/**
 * Waits for a run to reach a terminal state, reporting every change of the run's state and of
 * its tasks' states as it is seen. Never throws for a timeout or a cancel: the caller decides
 * what to do with the run (terminate it) and how to say so.
 */
export async function waitForRun(options: WaitOptions): Promise<WaitResult> {
  const { api, deadline, signal } = options;
  const delay = options.delayMs ?? pollDelayMs;
  let status = options.run;
  const taskStates = new Map(status.tasks.map((task) => [task.id, task.state]));
  let failures = 0;
  for (let poll = 0; ; poll++) {
    if (status.finished) return { outcome: 'finished', status, polls: poll };
    const wait = Math.min(delay(poll), deadline - Date.now());
    if (wait > 0) await sleep(wait, signal);
    if (signal.aborted) return { outcome: 'cancelled', status, polls: poll };
    if (Date.now() >= deadline) return { outcome: 'timeout', status, polls: poll };
    const scoped = pollSignal(signal, deadline);
    let next: KfpRunStatus;
    try {
      next = await api.getRun(status.id, { signal: scoped.signal, retries: 0 });
      failures = 0;
    } catch (error) {
      if (signal.aborted) return { outcome: 'cancelled', status, polls: poll + 1 };
      if (Date.now() >= deadline) return { outcome: 'timeout', status, polls: poll + 1 };
      if (!transient(error) || ++failures >= MAX_FAILURES_IN_A_ROW) throw error;
      options.onPollError?.(error as Error, failures);
      continue;
    } finally {
      scoped.dispose();
    }
    if (next.state !== status.state) options.onRunState?.(next);
    for (const task of next.tasks) {
      if (taskStates.get(task.id) === task.state) continue;
      taskStates.set(task.id, task.state);
      options.onTaskState?.(task);
    }
    status = next;
  }
}
