import type { CiContext } from '../../platform/platform.js';
import type { RegisteredModel } from '../../model/target.js';

export interface RegisterFacts {
  registry: string;
  contentDigest: string;
  fileCount: number;
  bytes: number;
  seconds: number;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function size(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) [value, unit] = [value / 1024, unit + 1];
  return `${unit ? value.toFixed(1) : value} ${units[unit]}`;
}

/** The run summary: which version, created or reused, where to open it, from which commit and run. */
export function registerSummary(result: RegisteredModel, facts: RegisterFacts, ci: CiContext): string {
  const commit = ci.sha ? (ci.repositoryUrl ? `[${ci.sha.slice(0, 12)}](${ci.repositoryUrl}/commit/${ci.sha})` : ci.sha.slice(0, 12)) : '';
  const run = ci.runUrl ? `[${ci.runId || 'run'}](${ci.runUrl})` : '';
  const version = result.webUrl ? `[${cell(result.version)}](${result.webUrl})` : `\`${cell(result.version)}\``;
  const rows: [string, string][] = [
    ['Model', `\`${cell(result.name)}\``],
    ['Version', version],
    ['URI', `\`${cell(result.uri)}\``],
    ['Result', result.reused ? 'reused (a version with the same files existed)' : 'registered'],
    ['Registry', facts.registry],
    ['Content digest', `\`${facts.contentDigest}\``],
    ['Files', `${facts.fileCount} (${size(facts.bytes)})`],
    ['Commit', commit],
    ['CI run', run],
    ['Time', `${facts.seconds.toFixed(1)} s`],
  ];
  return [
    `### RegisterModel: \`${cell(result.name)}\` version ${cell(result.version)}${result.reused ? ' (reused)' : ''}`,
    '',
    '| | |',
    '|---|---|',
    ...rows.filter(([, value]) => value).map(([key, value]) => `| ${key} | ${value} |`),
    '',
  ].join('\n');
}
