/**
 * yaml, loaded on first use: evaluating it costs a step that fails on a missing input a tenth of
 * its start-up time (bench/cold-start.mjs), and many runs never parse anything.
 */
export function loadYaml(): Promise<typeof import('yaml')> {
  return import('yaml');
}
