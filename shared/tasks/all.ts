import type { Task } from './task.js';
import { buildMLImage } from './build-ml-image/index.js';
import { triggerKubeflow } from './trigger-kubeflow/index.js';
import { registerModel } from './register-model/index.js';
import { deployModel } from './deploy-model/index.js';

/** Every task the project ships, in pipeline order. */
export const allTasks: readonly Task[] = [buildMLImage, triggerKubeflow, registerModel, deployModel];
