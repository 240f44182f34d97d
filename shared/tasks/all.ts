import type { Task } from './task.js';
import { buildMLImage } from './build-ml-image/index.js';

/** Every task the project ships, in pipeline order. */
export const allTasks: readonly Task[] = [buildMLImage];
