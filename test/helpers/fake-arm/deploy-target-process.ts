/**
 * Runs the azureml deploy target in its own Node process, as a bundled entry runs it: the test CA
 * comes from NODE_EXTRA_CA_CERTS, which @azure/identity honours (read only at process start).
 * stdin: first line {options}, then one call a line {id, method, args}.
 * stdout: {log: {level, line}} and {secret} events, {id, result} or {id, error: {kind, message, ...}}.
 */
import { createInterface } from 'node:readline';
import { createAzureMlDeployTarget, type AzureMlDeployOptions } from '../../../shared/deploy/azureml/target.js';
import { DeployFailure, type DeployPlan, type DeployTarget } from '../../../shared/deploy/target.js';
import { InputError, UserError } from '../../../shared/util/errors.js';

const emit = (event: unknown) => process.stdout.write(`${JSON.stringify(event)}\n`);
const plans = new Map<number, DeployPlan>();
let target: DeployTarget | undefined;

async function call(method: string, args: unknown[]): Promise<unknown> {
  const signal = new AbortController().signal;
  const t = target!;
  const [spec, second, third] = args as [never, never, never];
  switch (method) {
    case 'plan': {
      const plan = await t.plan(spec, signal);
      // Plans cross the process boundary by reference: the target keys its own notes on them.
      const ref = plans.size + 1;
      plans.set(ref, plan);
      return { ...plan, planRef: ref };
    }
    case 'apply':
      return t.apply(spec, plans.get((second as { planRef?: number }).planRef ?? -1) ?? second, signal);
    case 'waitReady':
      return t.waitReady(spec, second, third, signal);
    case 'smokeEndpoint': {
      const smoke = await t.smokeEndpoint(spec, second, signal);
      await smoke.close();
      return { url: smoke.url, headers: smoke.headers };
    }
    case 'finish':
      return t.finish(spec, second, signal);
    case 'rollback':
      return t.rollback(spec, second, signal);
    case 'close':
      return t.close();
    default:
      throw new Error(`no method ${method}`);
  }
}

for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const message = JSON.parse(line) as { options?: Omit<AzureMlDeployOptions, 'env' | 'log'>; id?: number; method?: string; args?: unknown[] };
  if (message.options) {
    target = createAzureMlDeployTarget({
      ...message.options,
      env: process.env,
      log: { info: (text) => emit({ log: { level: 'info', line: text } }), warning: (text) => emit({ log: { level: 'warning', line: text } }), secret: (value) => emit({ secret: value }) },
    });
    continue;
  }
  try {
    emit({ id: message.id, result: (await call(message.method!, message.args ?? [])) ?? null });
  } catch (error) {
    const failure = error as Error & { input?: string; diagnostics?: string[] };
    const kind = error instanceof DeployFailure ? 'DeployFailure' : error instanceof InputError ? 'InputError' : error instanceof UserError ? 'UserError' : 'Error';
    emit({ id: message.id, error: { kind, message: failure.message, input: failure.input, diagnostics: failure.diagnostics, stack: kind === 'Error' ? failure.stack : undefined } });
  }
}
