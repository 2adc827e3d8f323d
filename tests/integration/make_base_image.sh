#!/usr/bin/env bash
# Builds the Python base image the integration tests pull: Debian bookworm (minbase) with python3,
# made into an OCI image layout with umoci. Slow (about a minute), so the result is cached outside
# the repository and reused until its directory is deleted.
#
# usage: make_base_image.sh [CACHE_DIR]   prints the OCI layout path ("LAYOUT:TAG" is LAYOUT:bookworm)
set -euo pipefail
cache="${1:-${PYCONTAINER_TEST_CACHE:-$HOME/.cache/pycontainer-test}}"
layout="$cache/base-layout"
if [ -f "$layout/.complete" ]; then echo "$layout"; exit 0; fi
mkdir -p "$cache"
work="$(mktemp -d "$cache/base-work.XXXXXX")"
trap 'rm -rf "$work"' EXIT
debootstrap --variant=minbase --include=python3-minimal,libpython3.11-stdlib,ca-certificates \
  bookworm "$work/rootfs" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 \
  || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
# Keep the image small: nothing a Python app needs lives in these.
rm -rf "$work/rootfs"/usr/share/{doc,man,info,locale} "$work/rootfs"/var/cache/apt/* \
  "$work/rootfs"/var/lib/apt/lists/* "$work/rootfs"/var/log/*
umoci init --layout "$work/layout"
umoci new --image "$work/layout:bookworm"
umoci unpack --uid-map 0:0:65536 --gid-map 0:0:65536 --image "$work/layout:bookworm" "$work/bundle" >/dev/null 2>&1 \
  || umoci unpack --image "$work/layout:bookworm" "$work/bundle"
rm -rf "$work/bundle/rootfs"
mv "$work/rootfs" "$work/bundle/rootfs"
umoci repack --image "$work/layout:bookworm" "$work/bundle"
umoci config --image "$work/layout:bookworm" \
  --config.env "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  --config.env "LANG=C.UTF-8" \
  --config.cmd python3 \
  --config.label "org.opencontainers.image.title=pycontainer test base"
umoci gc --layout "$work/layout"
rm -rf "$layout"
mv "$work/layout" "$layout"
touch "$layout/.complete"
echo "$layout"
