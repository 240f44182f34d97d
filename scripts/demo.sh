#!/usr/bin/env bash
# The main job on local defaults: starts a registry on 127.0.0.1, builds a sample ML pipeline step
# image with the GitHub Action bundle exactly as a runner would run it, pushes it and prints its digest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export STORAGE_DRIVER="${STORAGE_DRIVER:-vfs}" BUILDAH_ISOLATION="${BUILDAH_ISOLATION:-chroot}"

work=$(mktemp -d)
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
cat >"$work/registry.yml" <<YAML
version: 0.1
log: { level: warn }
storage: { filesystem: { rootdirectory: $work/registry } }
http: { addr: 127.0.0.1:$port }
YAML
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
trap 'kill $registry_pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

bash scripts/sample-context.sh "$work/preprocess"
image="127.0.0.1:$port/kubeflow/preprocess"
: >"$work/outputs"
: >"$work/summary"
echo "demo: building $image from a sample 'preprocess' step with actions/build-ml-image/dist/index.js"
env INPUT_IMAGE="$image" INPUT_CONTEXT="$work/preprocess" INPUT_TAGS="demo,latest" INPUT_INSECUREREGISTRY=true \
  INPUT_BUILDARGS="STEP=preprocess" GITHUB_OUTPUT="$work/outputs" GITHUB_STEP_SUMMARY="$work/summary" \
  GITHUB_SHA="$(git rev-parse HEAD 2>/dev/null || echo 0000000000000000000000000000000000000000)" \
  node actions/build-ml-image/dist/index.js

digest=$(awk '/^digest<</{getline; print; exit}' "$work/outputs")
echo
echo "demo: pushed $image@$digest"
echo "demo: the registry serves $(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$image:demo") for $image:demo"
