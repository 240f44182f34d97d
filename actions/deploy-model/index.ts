import { GitHubPlatform } from '../../shared/platform/github.js';
import { runTask } from '../../shared/tasks/run-task.js';
import { deployModel } from '../../shared/tasks/deploy-model/index.js';

const platform = new GitHubPlatform();
platform.listenForCancel();
await runTask(deployModel, platform);
