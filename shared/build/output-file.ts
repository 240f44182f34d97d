import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs a tool that writes its result to a file (--iidfile, --digestfile) and returns the content. */
export async function withOutputFile(run: (file: string) => Promise<void>): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-build-'));
  try {
    const file = join(dir, 'out');
    await run(file);
    return readFileSync(file, 'utf8').trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
