import { AzurePlatform } from '../../shared/platform/azure.js';
import { runTask } from '../../shared/tasks/run-task.js';
import { triggerKubeflow } from '../../shared/tasks/trigger-kubeflow/index.js';

const platform = new AzurePlatform();
platform.listenForCancel();
await runTask(triggerKubeflow, platform);
