import type { Task } from '../task.js';
import { declaration } from './declaration.js';
import { runDeployModel } from './run.js';

export const deployModel: Task = { declaration, run: runDeployModel };
