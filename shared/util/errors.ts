/**
 * An error the user can act on: its message is the one line the step prints.
 * Everything else is a bug or an environment failure and is reported with its stack in debug mode.
 */
export class UserError extends Error {
  override name = 'UserError';
}

/** An error about one input: the message always starts with the input's name. */
export class InputError extends UserError {
  constructor(readonly input: string, problem: string) {
    super(`input '${input}': ${problem}`);
  }
}

export class CancelledError extends UserError {
  constructor(what = 'the step') {
    super(`${what} was cancelled`);
  }
}

/** Collapses a message to one line so a runner never shows a half error on the next line. */
export function oneLine(message: string): string {
  return message.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
