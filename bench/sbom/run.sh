#!/usr/bin/env bash
# Compares reehub's SBOM package lists with syft's on the same inputs.
#
#   bench/sbom/run.sh [TARGET...]
#
# TARGETs are Podman image names, image archives or root file system
# directories. Default: the base images localhost/debian_bookworm and
# localhost/python_3_11 (exported with podman save as docker-archives); when
# neither exists, a debootstrap'ed bookworm rootfs with Debian's python3-pip,
# python3-requests, python3-yaml and python3-cryptography.
# Env: WORK (scratch dir, default /tmp/reehub-sbom-bench), RUNS (timed runs
# per tool, fastest counts; default 3).
# The last line is: sbom: dpkg recall X%, python recall Y%, purl match Z%, time W.Wx faster than syft
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
WORK="${WORK:-/tmp/reehub-sbom-bench}"
RUNS="${RUNS:-3}"
mkdir -p "$WORK"
export CGO_ENABLED=0 GOFLAGS=-mod=mod

cd "$here"
echo "building syft and sbombench..." >&2
go build -o "$WORK/syft" github.com/anchore/syft/cmd/syft
go build -o "$WORK/sbombench" ./cmd/sbombench

targets=()
if [ "$#" -gt 0 ]; then
  wanted=("$@")
else
  wanted=(localhost/debian_bookworm localhost/python_3_11)
fi
for t in "${wanted[@]}"; do
  if [ -e "$t" ]; then
    targets+=("$t")
  elif podman image exists "$t" 2>/dev/null; then
    out="$WORK/$(basename "$t" | tr ':/' '__').tar"
    rm -f "$out"
    podman save -q --format docker-archive -o "$out" "$t"
    targets+=("$out")
  else
    echo "skipping $t: not a path and not a Podman image" >&2
  fi
done
if [ "${#targets[@]}" -eq 0 ]; then
  rootfs="$WORK/rootfs"
  if [ ! -d "$rootfs/var/lib/dpkg" ]; then
    echo "no images: debootstrapping $rootfs..." >&2
    debootstrap --variant=minbase \
      --include=python3-pip,python3-requests,python3-yaml,python3-cryptography \
      bookworm "$rootfs" http://deb.debian.org/debian >&2
  fi
  targets+=("$rootfs")
fi
"$WORK/sbombench" compare -syft "$WORK/syft" -runs "$RUNS" -work "$WORK" "${targets[@]}"
