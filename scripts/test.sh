#!/usr/bin/env bash
# The test command: installs what the tests need, builds the bundles, then runs every jest suite
# (unit, contract, integration, end-to-end). Extra arguments go to jest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npx tsc --noEmit
# The actions run from their committed dist/ (as on GitHub); a test fails when it is stale.
node scripts/build.mjs --only tasks >/dev/null
# Inside containers buildah has no overlay storage and no user namespaces; these are its own settings.
export STORAGE_DRIVER="${STORAGE_DRIVER:-vfs}" BUILDAH_ISOLATION="${BUILDAH_ISOLATION:-chroot}"
# Every temporary file of the run (registries, models, bundles' runner files) in one folder, removed
# at the end; sticky and world-writable like /tmp, since some tests drop to the user 'nobody'.
TMPDIR="$(mktemp -d "${TMPDIR:-/tmp}/mlops-tests-XXXXXX")"
chmod 1777 "$TMPDIR"
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT
NODE_OPTIONS="--experimental-vm-modules --no-warnings=ExperimentalWarning" npx jest "$@"
