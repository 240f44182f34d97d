import type { Platform } from '../../platform/platform.js';
import { checkAnswer } from '../../deploy/smoke-expect.js';
import { sendSmokeTest } from '../../deploy/smoke-request.js';
import { DeployFailure, type AppliedDeploy, type DeployLog, type DeployTarget, type ReadyDeploy } from '../../deploy/target.js';
import { CancelledError, UserError } from '../../util/errors.js';
import { readDeployInputs, type DeployInputs } from './inputs.js';
import { deploySummary, type DeployReport } from './summary.js';

/** The smoke test gets its own bound: a model that answers at all answers within it. */
const SMOKE_TIMEOUT_MS = 60_000;

export async function runDeployModel(platform: Platform): Promise<void> {
  const inputs = await readDeployInputs(platform);
  const log: DeployLog = { info: (line) => platform.info(line), warning: (line) => platform.warning(line), secret: (value) => platform.setSecret(value) };
  const report: DeployReport = { target: inputs.target, name: inputs.spec.name, phases: [], diagnostics: [] };
  const phase = async <T>(title: string, body: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    try {
      return await platform.group(title, body);
    } finally {
      report.phases.push({ title, seconds: (Date.now() - started) / 1000 });
    }
  };

  const { chooseTarget } = await import('./targets.js');
  const target = await chooseTarget(inputs, platform, log);
  try {
    // Reads and dry runs only: a wrong namespace, a 403 or an invalid manifest fails here.
    const plan = await phase(`Plan ${inputs.target} '${inputs.spec.name}'`, async () => {
      const planned = await target.plan(inputs.spec, platform.signal);
      platform.info(planned.creates ? `'${inputs.spec.name}' does not exist yet: it will be created` : planned.diff ? `changes:\n${planned.diff}` : 'no change to the spec');
      return planned;
    });
    report.diff = plan.diff;
    report.creates = plan.creates;
    if (plan.previousRevision) report.previousRevision = plan.previousRevision;
    const applied = await phase('Apply', () => target.apply(inputs.spec, plan, platform.signal));
    report.revision = applied.revision;
    let ready: ReadyDeploy;
    try {
      ready = await readyAndAnswering(inputs, target, applied, platform, phase, report);
    } catch (error) {
      // A cancelled job stops where it is: no rollback runs on a signal that is already aborted.
      if (!(error instanceof UserError) || error instanceof CancelledError) throw error;
      if (error instanceof DeployFailure) report.diagnostics = error.diagnostics;
      for (const line of report.diagnostics) platform.info(line);
      report.state = 'failed';
      let outcome = '';
      if (inputs.rollbackOnFailure) {
        try {
          report.rollback = await phase('Roll back', () => target.rollback(inputs.spec, applied, platform.signal));
          platform.info(report.rollback);
          report.state = 'rolled-back';
          outcome = ' (rolled back)';
        } catch (rollbackError) {
          if (!(rollbackError instanceof UserError) || rollbackError instanceof CancelledError) throw rollbackError;
          // The first failure is the news; the failed rollback is said beside it, not instead of it.
          report.rollback = `failed: ${rollbackError.message}`;
          outcome = ` (rollback failed: ${rollbackError.message})`;
        }
      }
      setOutputs(platform, report);
      await platform.summary(deploySummary(report, inputs, platform.ci));
      throw new UserError(`${error.message}${outcome}`);
    }
    report.state = 'ready';
    report.trafficPercent = ready.trafficPercent;
    report.endpointUrl = ready.endpointUrl;
    setOutputs(platform, report);
    platform.info(`'${inputs.spec.name}' revision ${ready.revision} serves ${ready.trafficPercent}% of traffic at ${ready.endpointUrl}`);
    await platform.summary(deploySummary(report, inputs, platform.ci));
  } finally {
    await target.close();
  }
}

type Phase = <T>(title: string, body: () => Promise<T>) => Promise<T>;

/** Waits for the new revision, sends the smoke test to it, then lets the target shift traffic. */
async function readyAndAnswering(inputs: DeployInputs, target: DeployTarget, applied: AppliedDeploy, platform: Platform, phase: Phase, report: DeployReport): Promise<ReadyDeploy> {
  const deadline = Date.now() + inputs.timeoutMinutes * 60_000;
  const ready = await phase(`Wait until '${inputs.spec.name}' is ready`, () => target.waitReady(inputs.spec, applied, deadline, platform.signal));
  report.revision = ready.revision;
  report.endpointUrl = ready.endpointUrl;
  report.trafficPercent = ready.trafficPercent;
  const smoke = inputs.smoke;
  if (smoke) {
    await phase('Smoke test', async () => {
      const endpoint = await target.smokeEndpoint(inputs.spec, ready, platform.signal);
      try {
        platform.info(`POST ${endpoint.url} (${smoke.source})`);
        const answer = await sendSmokeTest(endpoint, smoke.body, { env: platform.childEnv(), signal: platform.signal, timeoutMs: SMOKE_TIMEOUT_MS });
        report.smoke = { url: endpoint.url.replace(/\?.*$/, ''), request: smoke.body, status: answer.status, answer: answer.bodyText, ms: answer.ms };
        platform.info(`answer ${answer.status} in ${answer.ms} ms: ${answer.bodyText.slice(0, 500)}`);
        const failures = checkAnswer(smoke.expect, answer.status, answer.bodyText);
        report.smoke.failures = failures;
        if (failures.length) throw new DeployFailure(`the smoke test failed: ${failures[0]}${failures.length > 1 ? ` (and ${failures.length - 1} more)` : ''}`, failures);
      } finally {
        await endpoint.close();
      }
    });
  }
  return phase('Shift traffic', () => target.finish(inputs.spec, ready, platform.signal));
}

function setOutputs(platform: Platform, report: DeployReport): void {
  platform.setOutput('endpointUrl', report.endpointUrl ?? '');
  platform.setOutput('revision', report.revision ?? '');
  platform.setOutput('trafficPercent', String(report.state === 'ready' ? (report.trafficPercent ?? 0) : 0));
  platform.setOutput('previousRevision', report.previousRevision ?? '');
  platform.setOutput('state', report.state ?? 'failed');
}
