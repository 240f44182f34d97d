import type { ArmClient } from '../../azure/arm.js';
import { errorMessage, oneLine } from '../../util/errors.js';
import { sleep } from '../../util/sleep.js';
import { DeployFailure } from '../target.js';
import type { OnlineDeploymentResource } from './resources.js';

const FIRST_PAUSE_MS = 2_000;
const LONGEST_PAUSE_MS = 30_000;
const LOG_LINES = 50;
const FAILED = new Set(['failed', 'canceled', 'cancelled']);

export interface DeploymentWait {
  arm: ArmClient;
  deploymentPath: string;
  deployment: string;
  endpoint: string;
  /** The Azure-AsyncOperation of the PUT that created it, where ARM says why it failed. */
  operationUrl?: string;
  deadline: number;
  signal: AbortSignal;
  log: (line: string) => void;
}

/** The last lines of the inference server's log, else of the model download's (storage initializer). */
async function lastLogLines(wait: DeploymentWait): Promise<string[]> {
  const notes: string[] = [];
  for (const containerType of ['InferenceServer', 'StorageInitializer'] as const) {
    try {
      const logs = await wait.arm.post<{ content?: string | null }>(`reading the ${containerType} logs of deployment '${wait.deployment}'`, `${wait.deploymentPath}/getLogs`, { containerType, tail: LOG_LINES });
      const content = (logs.content ?? '').split(/\r?\n/).filter((line) => line.trim());
      if (content.length) return [...notes, `${containerType} logs (last ${content.length} lines):`, ...content.map((line) => `  ${line}`)];
    } catch (error) {
      notes.push(`no ${containerType} logs: ${errorMessage(error)}`);
    }
  }
  return notes;
}

/** Why provisioning failed, as the PUT's operation status tells it. */
async function failureReason(wait: DeploymentWait): Promise<{ reason?: string; details: string[] }> {
  if (!wait.operationUrl) return { details: [] };
  try {
    const status = await wait.arm.operationStatus(`creating deployment '${wait.deployment}'`, wait.operationUrl);
    const error = status.error;
    if (!error) return { details: [] };
    const reason = oneLine([error.code, error.message].filter(Boolean).join(': '));
    return { reason, details: (error.details ?? []).map((detail) => oneLine(`${detail.code ?? 'detail'}: ${detail.message ?? ''}`)) };
  } catch (error) {
    return { details: [`operation status unreadable: ${errorMessage(error)}`] };
  }
}

/**
 * Polls the deployment's provisioningState (ARM offers no watch) until it settles: pauses grow
 * from 2 s to 30 s unless ARM asks for another with Retry-After, and never run past the deadline.
 */
export async function waitForDeployment(wait: DeploymentWait): Promise<OnlineDeploymentResource> {
  let pause = FIRST_PAUSE_MS;
  let lastState = '';
  for (;;) {
    const { resource, retryAfterMs } = await wait.arm.poll<OnlineDeploymentResource>(`reading deployment '${wait.deployment}'`, wait.deploymentPath);
    if (!resource) throw new DeployFailure(`deployment '${wait.deployment}' of endpoint '${wait.endpoint}' disappeared while it was provisioned`);
    const state = resource.properties.provisioningState ?? 'Creating';
    if (state !== lastState) wait.log(`deployment '${wait.deployment}': ${state}`);
    lastState = state;
    if (state.toLowerCase() === 'succeeded') return resource;
    if (FAILED.has(state.toLowerCase())) {
      const { reason, details } = await failureReason(wait);
      const logs = await lastLogLines(wait);
      throw new DeployFailure(
        `deployment '${wait.deployment}' of endpoint '${wait.endpoint}' ended ${state}${reason ? `: ${reason}` : ''}`,
        [...details, ...logs],
      );
    }
    const left = wait.deadline - Date.now();
    if (left <= 0) {
      const logs = await lastLogLines(wait);
      throw new DeployFailure(`deployment '${wait.deployment}' of endpoint '${wait.endpoint}' was not ready before the deadline (still ${state})`, logs);
    }
    await sleep(Math.min(wait.arm.pauseMs(retryAfterMs, pause), left), wait.signal, `waiting for deployment '${wait.deployment}'`);
    pause = Math.min(pause * 1.5, LONGEST_PAUSE_MS);
  }
}
