import type { CiContext } from '../../platform/platform.js';

export interface BuildResult {
  name: string;
  builder: string;
  pushed: boolean;
  references: string[];
  digest: string;
  imageRef: string;
  seconds: number;
}

/** The run summary: what was pushed, under which digest, from which commit. */
export function buildSummary(result: BuildResult, ci: CiContext): string {
  const commit = ci.sha ? (ci.repositoryUrl ? `[${ci.sha.slice(0, 12)}](${ci.repositoryUrl}/commit/${ci.sha})` : ci.sha.slice(0, 12)) : '';
  const rows: [string, string][] = [
    ['Image', `\`${result.name}\``],
    ['Immutable reference', result.imageRef ? `\`${result.imageRef}\`` : '_not pushed_'],
    ['Digest', result.digest ? `\`${result.digest}\`` : ''],
    [result.pushed ? 'Pushed' : 'Built', result.references.map((ref) => `\`${ref}\``).join('<br>')],
    ['Builder', result.builder],
    ['Commit', commit],
    ['Run', ci.runUrl ? `[${ci.runId || 'run'}](${ci.runUrl})` : ''],
    ['Duration', `${result.seconds.toFixed(1)} s`],
  ];
  const table = rows
    .filter(([, value]) => value)
    .map(([key, value]) => `| ${key} | ${value} |`)
    .join('\n');
  return `### BuildMLImage: ${result.pushed ? 'pushed' : 'built'} \`${result.name}\`\n\n| | |\n|---|---|\n${table}\n`;
}
