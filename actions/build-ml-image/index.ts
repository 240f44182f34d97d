import { GitHubPlatform } from '../../shared/platform/github.js';
import { runTask } from '../../shared/tasks/run-task.js';
import { buildMLImage } from '../../shared/tasks/build-ml-image/index.js';

const platform = new GitHubPlatform();
platform.listenForCancel();
await runTask(buildMLImage, platform);
