import { errorMessage } from '../../util/errors.js';
import type { Platform } from '../../platform/platform.js';
import type { KfpApi, KfpRunStatus } from '../../kfp/api.js';
import { TERMINATE_TIMEOUT_MS } from '../../kfp/timeouts.js';
import { waitForRun, type WaitResult } from '../../kfp/wait.js';
import { formatDuration } from './summary.js';

export interface Followed extends WaitResult {
  terminated: boolean;
}

/**
 * Terminates a run on its own short deadline: after a cancel the step's signal has fired already,
 * and the runner kills the step about 10 s after asking it to stop.
 */
async function terminate(api: KfpApi, run: KfpRunStatus, platform: Platform): Promise<boolean> {
  try {
    await api.terminateRun(run.id, { signal: AbortSignal.timeout(TERMINATE_TIMEOUT_MS), timeoutMs: TERMINATE_TIMEOUT_MS, retries: 0 });
    platform.info(`terminated run ${run.id}`);
    return true;
  } catch (error) {
    platform.warning(`could not terminate run ${run.id}: ${errorMessage(error)}`);
    return false;
  }
}

/** Waits for the run, logging its state and its tasks' states as they change; terminates it on timeout or cancel. */
export async function followRun(api: KfpApi, run: KfpRunStatus, options: { timeoutMinutes: number; terminateOnCancel: boolean }, platform: Platform): Promise<Followed> {
  const started = Date.now();
  const since = () => formatDuration((Date.now() - started) / 1000);
  platform.info(`waiting for run ${run.id} (state ${run.state}), at most ${options.timeoutMinutes} min`);
  const result = await waitForRun({
    api,
    run,
    deadline: started + options.timeoutMinutes * 60_000,
    signal: platform.signal,
    onRunState: (status) => platform.info(`run state: ${status.state} (after ${since()})`),
    onTaskState: (task) => platform.info(`task ${task.name}: ${task.state}`),
    onPollError: (error, count) => platform.warning(`polling run ${run.id} failed (${count} in a row), trying again: ${errorMessage(error)}`),
  });
  const stopped = result.outcome !== 'finished';
  const terminated = stopped && options.terminateOnCancel ? await terminate(api, result.status, platform) : false;
  return { ...result, terminated };
}
