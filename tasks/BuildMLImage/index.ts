import { AzurePlatform } from '../../shared/platform/azure.js';
import { runTask } from '../../shared/tasks/run-task.js';
import { buildMLImage } from '../../shared/tasks/build-ml-image/index.js';

const platform = new AzurePlatform();
platform.listenForCancel();
await runTask(buildMLImage, platform);
