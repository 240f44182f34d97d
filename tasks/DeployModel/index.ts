import { AzurePlatform } from '../../shared/platform/azure.js';
import { runTask } from '../../shared/tasks/run-task.js';
import { deployModel } from '../../shared/tasks/deploy-model/index.js';

const platform = new AzurePlatform();
platform.listenForCancel();
await runTask(deployModel, platform);
