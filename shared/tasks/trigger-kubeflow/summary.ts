import type { KfpExperiment, KfpPipeline, KfpRunStatus, KfpVersion } from '../../kfp/api.js';

export interface TriggerResult {
  url: string;
  pipeline: KfpPipeline;
  version: KfpVersion;
  /** created, uploaded or reused */
  action: string;
  experiment: KfpExperiment;
  apiVersion: string;
  parameters: Record<string, unknown>;
  status: KfpRunStatus;
  /** Why the step stopped waiting, when it waited. */
  outcome?: 'finished' | 'timeout' | 'cancelled' | 'not waited';
  terminated?: boolean;
  /** Seconds the step spent, when the server gives no run times. */
  seconds: number;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export function formatDuration(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = whole % 60;
  return [hours && `${hours} h`, minutes && `${minutes} min`, (rest || whole === 0) && `${rest} s`].filter(Boolean).join(' ');
}

/** The run's own duration when the server says when it started and ended. */
function runSeconds(result: TriggerResult): number {
  const start = Date.parse(result.status.createdAt ?? '');
  const end = Date.parse(result.status.finishedAt ?? '');
  return Number.isFinite(start) && Number.isFinite(end) && end >= start ? (end - start) / 1000 : result.seconds;
}

function shownValue(value: unknown, redact: (text: string) => string): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  // A value holding a secret is masked whole, not just the secret inside it.
  return redact(text) === text ? `\`${text}\`` : '`***`';
}

function stateLine(result: TriggerResult): string {
  const { state } = result.status;
  if (result.outcome === 'timeout') return `${state} (timed out${result.terminated ? ', terminated' : ''})`;
  if (result.outcome === 'cancelled') return `${state} (step cancelled${result.terminated ? ', run terminated' : ''})`;
  if (result.outcome === 'not waited') return `${state} (not waited for)`;
  return state;
}

/** The step summary: run link, what ran with which parameters, how it ended, and each task. */
export function triggerSummary(result: TriggerResult, redact: (text: string) => string): string {
  const { status } = result;
  const rows: [string, string][] = [
    ['Run', `[${cell(status.name || status.id)}](${result.url})`],
    ['Pipeline', `\`${cell(result.pipeline.name)}\` (${result.pipeline.id})`],
    ['Version', `\`${cell(result.version.name)}\` (${result.version.id}, ${result.action})`],
    ['Experiment', `\`${cell(result.experiment.name)}\``],
    ['State', stateLine(result)],
    ['Error', status.error ? cell(status.error) : ''],
    ['Duration', formatDuration(runSeconds(result))],
    ['API', result.apiVersion],
  ];
  const lines = [
    `### TriggerKubeflow: run \`${cell(status.name || status.id)}\` ${status.state}`,
    '',
    '| | |',
    '|---|---|',
    ...rows.filter(([, value]) => value).map(([key, value]) => `| ${key} | ${value} |`),
  ];
  const parameters = Object.entries(result.parameters);
  if (parameters.length) {
    lines.push('', '#### Parameters', '', '| Parameter | Value |', '|---|---|');
    for (const [name, value] of parameters) lines.push(`| \`${cell(name)}\` | ${cell(shownValue(value, redact))} |`);
  }
  if (status.tasks.length) {
    lines.push('', '#### Tasks', '', '| Task | State |', '|---|---|');
    for (const task of status.tasks) lines.push(`| ${cell(task.name)} | ${task.state} |`);
  }
  return `${lines.join('\n')}\n`;
}
