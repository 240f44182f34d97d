import type { Task } from '../task.js';
import { declaration } from './declaration.js';
import { runBuildMLImage } from './run.js';

export const buildMLImage: Task = { declaration, run: runBuildMLImage };
