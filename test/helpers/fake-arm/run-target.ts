/**
 * Runs the azureml target in its own Node process, the way a bundled entry runs: the test CA comes
 * from NODE_EXTRA_CA_CERTS, which @azure/identity's HTTP client honours (AzureIdentity offers no
 * tlsOptions, and NODE_EXTRA_CA_CERTS is read only at process start).
 * stdin: {options, model} as JSON (model.tags as [key, value] pairs).
 * stdout: one JSON line per log event, then {"result": ...} or {"error": {name, message, input}}.
 */
import { createAzureMlTarget, type AzureMlTargetOptions } from '../../../shared/model/azureml/target.js';
import type { PreparedModel } from '../../../shared/model/target.js';
import { InputError, UserError } from '../../../shared/util/errors.js';

const chunks: Buffer[] = [];
for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
  options: Omit<AzureMlTargetOptions, 'env'>;
  model: Omit<PreparedModel, 'tags'> & { tags: [string, string][] };
};
const emit = (event: unknown) => process.stdout.write(`${JSON.stringify(event)}\n`);
try {
  const target = createAzureMlTarget({ ...input.options, env: process.env });
  const result = await target.register(
    { ...input.model, tags: new Map(input.model.tags) },
    { info: (line) => emit({ info: line }), progress: (percent, message) => emit({ progress: percent, message }) },
    new AbortController().signal,
  );
  emit({ result });
} catch (error) {
  const kind = error instanceof InputError ? 'InputError' : error instanceof UserError ? 'UserError' : 'Error';
  const failure = error as Error & { input?: string };
  emit({ error: { kind, message: failure.message, input: failure.input, stack: kind === 'Error' ? failure.stack : undefined } });
}
