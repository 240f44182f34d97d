import type { CiContext } from '../../platform/platform.js';
import type { ImageResult } from './build-image.js';

export interface RunFacts {
  builder: string;
  pushed: boolean;
  seconds: number;
}

function code(text: string): string {
  return text ? `\`${text}\`` : '';
}

/** The run summary: what was pushed or reused, under which digest, why, from which commit. */
export function buildSummary(results: readonly ImageResult[], facts: RunFacts, ci: CiContext): string {
  const commit = ci.sha ? (ci.repositoryUrl ? `[${ci.sha.slice(0, 12)}](${ci.repositoryUrl}/commit/${ci.sha})` : ci.sha.slice(0, 12)) : '';
  const run = ci.runUrl ? `[${ci.runId || 'run'}](${ci.runUrl})` : '';
  const rows = results.map((result) => {
    const state = result.skipped ? 'reused (build skipped)' : facts.pushed ? 'built and pushed' : 'built, not pushed';
    const refs = [result.imageRef ? code(result.imageRef) : '_not pushed_', ...result.references.map(code)].join('<br>');
    return `| ${result.name} | ${refs} | ${state} | ${result.reason.replace(/\|/g, '\\|')} | ${result.seconds.toFixed(1)} s |`;
  });
  const footer = [`builder ${facts.builder}`, commit && `commit ${commit}`, run && `run ${run}`, `${facts.seconds.toFixed(1)} s in all`].filter(Boolean).join(' · ');
  return [
    `### BuildMLImage: ${results.length === 1 ? code(results[0]!.image) : `${results.length} images`}`,
    '',
    '| Image | References | Result | Why | Time |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    footer,
    '',
  ].join('\n');
}
