#!/usr/bin/env bash
# Writes a small ML pipeline step ("preprocess") into DIR: no base image can be pulled here, so the
# image starts FROM scratch with a busybox root filesystem, and a RUN step proves the build runs code.
set -euo pipefail
dir=${1:?usage: sample-context.sh DIR}
busybox=$(command -v busybox)
mkdir -p "$dir"
rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs/bin" "$rootfs/tmp" "$rootfs/app"
cp "$busybox" "$rootfs/bin/busybox"
for applet in sh cat echo ls mkdir wc sha256sum date; do ln -s busybox "$rootfs/bin/$applet"; done
tar --owner=0 --group=0 --numeric-owner -C "$rootfs" -cf "$dir/rootfs.tar" .

cat >"$dir/preprocess.sh" <<'SCRIPT'
#!/bin/sh
# Normalises a CSV of image paths and labels: the first step of a tacos-vs-burritos pipeline.
echo "preprocess: $(wc -l < "${1:-/dev/stdin}") rows"
SCRIPT

cat >"$dir/Dockerfile" <<'DOCKERFILE'
FROM scratch
ADD rootfs.tar /
ARG STEP=preprocess
COPY preprocess.sh /app/preprocess.sh
RUN echo "step=$STEP" > /app/build-info && sha256sum /app/preprocess.sh >> /app/build-info
ENTRYPOINT ["/bin/sh", "/app/preprocess.sh"]
DOCKERFILE
