#!/usr/bin/env bash
# Builds the bundles and writes the Azure DevOps extension (.vsix) into out/ with tfx-cli.
set -euo pipefail
cd "$(dirname "$0")/.."
node scripts/build.mjs
npx tsx scripts/manifests.ts --check
mkdir -p out
npx tfx extension create --root . --manifest-globs vss-extension.json --output-path out/ --no-prompt --json >out/tfx.json
vsix=$(node -e 'console.log(JSON.parse(require("fs").readFileSync("out/tfx.json","utf8")).path)')
echo "wrote $vsix ($(du -h "$vsix" | cut -f1))"
