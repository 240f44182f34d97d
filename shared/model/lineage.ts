import type { CiContext } from '../platform/platform.js';

/** Tag names of the lineage every registered model carries. */
export const LINEAGE_KEYS = {
  repository: 'mlops-tasks.source-repository',
  commit: 'mlops-tasks.source-commit',
  runUrl: 'mlops-tasks.ci-run-url',
  sourceImage: 'mlops-tasks.source-image',
  kfpRunId: 'mlops-tasks.kfp-run-id',
} as const;

export interface LineageSources {
  /** Image reference(s) the model was trained with, comma-separated when several. */
  sourceImage: string;
  kfpRunId: string;
}

/** Tags that trace a model back to its code, its CI run and its training run; empty values are left out. */
export function lineageTags(ci: CiContext, sources: LineageSources): Map<string, string> {
  const tags = new Map<string, string>([
    [LINEAGE_KEYS.repository, ci.repositoryUrl],
    [LINEAGE_KEYS.commit, ci.sha],
    [LINEAGE_KEYS.runUrl, ci.runUrl],
    [LINEAGE_KEYS.sourceImage, sources.sourceImage],
    [LINEAGE_KEYS.kfpRunId, sources.kfpRunId],
  ]);
  for (const [key, value] of tags) if (!value) tags.delete(key);
  return tags;
}
