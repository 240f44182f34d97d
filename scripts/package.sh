#!/usr/bin/env bash
# Builds the bundles and writes the Azure DevOps extension (.vsix) with tfx-cli.
# OUT_DIR (default out/) chooses where; SKIP_BUILD=1 packs the bundles already built.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${OUT_DIR:-out}"
[ "${SKIP_BUILD:-}" = 1 ] || node scripts/build.mjs
npx tsx scripts/manifests.ts --check >/dev/null
mkdir -p "$out"
npx tfx extension create --root . --manifest-globs vss-extension.json --output-path "$out/" --no-prompt --json >"$out/tfx.json"
vsix=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).path)' "$out/tfx.json")
echo "wrote $vsix ($(stat -c %s "$vsix") bytes)"
