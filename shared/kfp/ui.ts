/** The KFP UI's page for a run. The UI serves its pages under the same prefix as the API by default. */
export function runUrl(uiBase: string, runId: string): string {
  return `${uiBase.replace(/\/+$/, '')}/#/runs/details/${encodeURIComponent(runId)}`;
}
