import type { Task } from '../task.js';
import { declaration } from './declaration.js';
import { runTriggerKubeflow } from './run.js';

export const triggerKubeflow: Task = { declaration, run: runTriggerKubeflow };
