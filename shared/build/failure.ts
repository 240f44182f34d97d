import { UserError } from '../util/errors.js';
import type { ExecResult } from '../util/exec.js';

/** A tool's non-zero exit as one line: what failed and the tool's own last word. */
export function toolFailure(what: string, result: ExecResult): UserError {
  const last = [...result.tail].reverse().find((line) => /error|fail|denied|unauthorized/i.test(line)) ?? result.tail.at(-1) ?? '';
  return new UserError(`${what} failed (exit code ${result.code})${last ? `: ${last.trim()}` : ''}`);
}
