import { GitHubPlatform } from '../../shared/platform/github.js';
import { runTask } from '../../shared/tasks/run-task.js';
import { registerModel } from '../../shared/tasks/register-model/index.js';

const platform = new GitHubPlatform();
platform.listenForCancel();
await runTask(registerModel, platform);
