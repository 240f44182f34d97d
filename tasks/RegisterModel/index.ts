import { AzurePlatform } from '../../shared/platform/azure.js';
import { runTask } from '../../shared/tasks/run-task.js';
import { registerModel } from '../../shared/tasks/register-model/index.js';

const platform = new AzurePlatform();
platform.listenForCancel();
await runTask(registerModel, platform);
