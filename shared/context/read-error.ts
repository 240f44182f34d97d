import { InputError } from '../util/errors.js';

/** 'cannot read 'x': permission denied' and the like, for an input that names a file. */
export function readProblem(error: unknown, shown: string): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return `cannot read '${shown}': permission denied`;
    case 'ENOENT':
      return `'${shown}' was not found`;
    case 'EISDIR':
    case 'ENOTFILE':
      return `'${shown}' is not a regular file`;
    default:
      return `cannot read '${shown}': ${code ?? (error instanceof Error ? error.message : String(error))}`;
  }
}

/**
 * The same for a path inside the context, which was there when the context was listed: if it is
 * gone or no longer the same kind of thing, it changed while we read it.
 */
export function contextReadError(error: unknown, relativePath: string): InputError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  // ELOOP: our no-follow open met a symlink where a file was listed.
  if (code === 'ENOENT' || code === 'ELOOP' || code === 'ENOTDIR' || code === 'ENOTFILE') {
    return new InputError('context', `'${relativePath}' changed while the context was being read: run the step again`);
  }
  return new InputError('context', readProblem(error, relativePath));
}
