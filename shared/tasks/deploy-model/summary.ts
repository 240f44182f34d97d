import type { CiContext } from '../../platform/platform.js';
import type { DeployInputs } from './inputs.js';

export interface DeployReport {
  target: string;
  name: string;
  state?: 'ready' | 'rolled-back' | 'failed';
  creates?: boolean;
  diff?: string;
  revision?: string;
  previousRevision?: string;
  trafficPercent?: number;
  endpointUrl?: string;
  smoke?: { url: string; request: string; status: number; answer: string; ms: number; failures?: string[] };
  rollback?: string;
  diagnostics: string[];
  phases: { title: string; seconds: number }[];
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function block(language: string, text: string, limit = 4000): string[] {
  const shown = text.length > limit ? `${text.slice(0, limit)}\n… (${text.length - limit} more characters)` : text;
  return ['```' + language, shown.replace(/```/g, "'''"), '```'];
}

const STATE_TEXT = { ready: 'ready', 'rolled-back': 'failed, rolled back', failed: 'failed' } as const;

/** The run summary: what was applied (a diff), the revision and traffic, the smoke test, the time each phase took. */
export function deploySummary(report: DeployReport, inputs: DeployInputs, ci: CiContext): string {
  const rows: [string, string][] = [
    ['State', STATE_TEXT[report.state ?? 'failed']],
    ['Target', `${report.target}${inputs.cluster ? ` (namespace \`${cell(inputs.cluster.namespace)}\`)` : ''}`],
    ['Model', inputs.spec.modelUri ? `\`${cell(inputs.spec.modelUri)}\`` : ''],
    ['Image', inputs.spec.image ? `\`${cell(inputs.spec.image)}\`` : ''],
    ['Revision', report.revision ? `\`${cell(report.revision)}\`` : ''],
    ['Previous revision', report.previousRevision ? `\`${cell(report.previousRevision)}\`` : report.creates ? '(none: created)' : ''],
    ['Traffic', report.state === 'ready' && report.trafficPercent !== undefined ? `${report.trafficPercent}% to the new revision` : ''],
    ['Endpoint', report.endpointUrl ? cell(report.endpointUrl) : ''],
    ['Rollback', report.rollback ? cell(report.rollback) : ''],
    ['Commit', ci.sha ? (ci.repositoryUrl ? `[${ci.sha.slice(0, 12)}](${ci.repositoryUrl}/commit/${ci.sha})` : ci.sha.slice(0, 12)) : ''],
    ['CI run', ci.runUrl ? `[${ci.runId || 'run'}](${ci.runUrl})` : ''],
  ];
  const lines = [`### DeployModel: \`${cell(report.name)}\` ${STATE_TEXT[report.state ?? 'failed']}`, '', '| | |', '|---|---|', ...rows.filter(([, value]) => value).map(([key, value]) => `| ${key} | ${value} |`), ''];
  if (report.diff) lines.push('#### Applied changes', '', ...block('diff', report.diff), '');
  if (report.smoke) {
    const smoke = report.smoke;
    lines.push('#### Smoke test', '', `POST ${cell(smoke.url)}: HTTP ${smoke.status} in ${smoke.ms} ms${smoke.failures?.length ? `, **${smoke.failures.length} check(s) failed**` : ', passed'}`, '', 'Request:', ...block('json', smoke.request), 'Answer:', ...block('json', smoke.answer));
    for (const failure of smoke.failures ?? []) lines.push(`- ${failure}`);
    lines.push('');
  }
  if (report.diagnostics.length && report.state !== 'ready') lines.push('#### Why it failed', '', ...block('', report.diagnostics.join('\n')), '');
  lines.push('#### Phases', '', '| Phase | Time |', '|---|---|', ...report.phases.map((entry) => `| ${cell(entry.title)} | ${entry.seconds.toFixed(1)} s |`), '');
  return lines.join('\n');
}
