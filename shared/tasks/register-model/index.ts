import type { Task } from '../task.js';
import { declaration } from './declaration.js';
import { runRegisterModel } from './run.js';

export const registerModel: Task = { declaration, run: runRegisterModel };
