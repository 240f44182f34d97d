import type { Platform } from '../platform/platform.js';
import type { TaskDeclaration } from './declaration.js';

export interface Task {
  declaration: TaskDeclaration;
  run(platform: Platform): Promise<void>;
}
