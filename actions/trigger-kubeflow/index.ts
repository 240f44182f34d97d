import { GitHubPlatform } from '../../shared/platform/github.js';
import { runTask } from '../../shared/tasks/run-task.js';
import { triggerKubeflow } from '../../shared/tasks/trigger-kubeflow/index.js';

const platform = new GitHubPlatform();
platform.listenForCancel();
await runTask(triggerKubeflow, platform);
