import { errorMessage, oneLine, UserError } from '../util/errors.js';
import type { Platform } from '../platform/platform.js';
import type { Task } from './task.js';

/** Runs a task and turns any failure into one line and a non-zero exit; stacks only in debug. */
export async function runTask(task: Task, platform: Platform): Promise<void> {
  try {
    await task.run(platform);
  } catch (error) {
    if (!(error instanceof UserError) && error instanceof Error && error.stack) platform.debug(error.stack);
    const prefix = error instanceof UserError ? '' : 'unexpected error: ';
    platform.fail(`${task.declaration.taskName}: ${prefix}${oneLine(errorMessage(error))}`);
  }
}
