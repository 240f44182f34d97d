// Bundles each entry into one file with ncc: tasks/<Task>/dist/index.js and actions/<action>/dist/index.js.
// `--out DIR` writes the bundles under DIR instead (used by the staleness check);
// `--only tasks|actions` builds one kind (the tests build the tasks and run the committed actions).
import ncc from '@vercel/ncc';
import { transform } from 'esbuild';
import { mkdirSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outIndex = process.argv.indexOf('--out');
const outRoot = outIndex > 0 ? resolve(process.argv[outIndex + 1]) : root;
const onlyIndex = process.argv.indexOf('--only');
const kinds = onlyIndex > 0 ? [process.argv[onlyIndex + 1]] : ['tasks', 'actions'];

function entries() {
  return kinds.flatMap((kind) =>
    readdirSync(join(root, kind), { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && existsSync(join(root, kind, entry.name, 'index.ts')))
      .map((entry) => join(kind, entry.name)),
  );
}

/** ncc's errors carry its own minified source; the first lines say what is wrong. */
async function bundle(entry, options) {
  try {
    return await ncc(join(root, entry, 'index.ts'), options);
  } catch (error) {
    console.error(`${entry}: ${String(error?.message ?? error).split('\n').slice(0, 6).join('\n').slice(0, 2000)}`);
    process.exit(1);
  }
}

for (const entry of entries()) {
  const started = Date.now();
  const { code, assets } = await bundle(entry, {
    minify: true,
    sourceMap: false,
    quiet: true,
    target: 'es2022',
    // Bundles must not depend on the build machine's paths or time.
    cache: false,
  });
  const outDir = join(outRoot, entry, 'dist');
  // Chunks are named by content: stale ones from an earlier build must not linger.
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'index.js'), code);
  // Heavy SDKs are imported lazily; ncc emits them as chunk files beside index.js.
  const chunks = [];
  for (const [name, asset] of Object.entries(assets)) {
    if (name === 'package.json') continue;
    mkdirSync(dirname(join(outDir, name)), { recursive: true });
    // ncc minifies the entry only; its chunks come out as written, many times larger.
    const source = name.endsWith('.js') ? (await transform(asset.source.toString(), { minify: true, format: 'esm', target: 'es2022' })).code : asset.source;
    writeFileSync(join(outDir, name), source);
    chunks.push(`${name} ${(source.length / 1024).toFixed(1)} KiB`);
  }
  // The bundle is ESM; the task folder travels alone in the vsix, so it says so itself.
  writeFileSync(join(outDir, 'package.json'), '{ "type": "module" }\n');
  const lazy = chunks.length ? `  (lazy: ${chunks.join(', ')})` : '';
  console.log(`${entry}/dist/index.js  ${(code.length / 1024).toFixed(1)} KiB${lazy}  ${Date.now() - started} ms`);
}
