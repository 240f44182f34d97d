import type { Platform } from '../../platform/platform.js';
import { readModelFiles } from '../../model/files.js';
import type { PreparedModel, TargetLog } from '../../model/target.js';
import { readRegisterInputs } from './inputs.js';
import { registerSummary } from './summary.js';

export async function runRegisterModel(platform: Platform): Promise<void> {
  const started = Date.now();
  const inputs = await readRegisterInputs(platform);
  // Local checks (missing, empty, escaping symlinks) come before anything is sent anywhere.
  const files = await platform.group(`Hash the model files in ${inputs.modelPath}`, async () => {
    const read = await readModelFiles(inputs.modelPath, platform.signal);
    platform.info(`${read.files.length} file(s), ${read.bytes} bytes, content digest ${read.contentDigest}`);
    return read;
  });
  const model: PreparedModel = {
    name: inputs.modelName,
    requestedVersion: inputs.modelVersion,
    description: inputs.description,
    tags: inputs.tags,
    modelType: inputs.modelType,
    singleFile: files.singleFile,
    files: files.files,
    contentDigest: files.contentDigest,
  };
  const log: TargetLog = { info: (line) => platform.info(line), progress: (percent, message) => platform.progress(percent, message) };
  const result = await platform.group(`Register '${model.name}' in ${inputs.registry}`, async () => {
    // Registry clients load only once the inputs are known good: a bad input fails fast.
    const { chooseTarget } = await import('./targets.js');
    const target = await chooseTarget(inputs, platform);
    return target.register(model, log, platform.signal);
  });
  platform.setOutput('modelName', result.name);
  platform.setOutput('modelVersion', result.version);
  platform.setOutput('modelUri', result.uri);
  platform.setOutput('contentDigest', model.contentDigest);
  platform.setOutput('reused', String(result.reused));
  platform.info(`${result.reused ? 'reused' : 'registered'} ${result.uri}${result.webUrl ? `: ${result.webUrl}` : ''}`);
  const facts = { registry: inputs.registry, contentDigest: model.contentDigest, fileCount: files.files.length, bytes: files.bytes, seconds: (Date.now() - started) / 1000 };
  await platform.summary(registerSummary(result, facts, platform.ci));
}
