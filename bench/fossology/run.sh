#!/usr/bin/env bash
# run.sh: the FOSSology bench (make bench-fossology, after `make build`).
#
# Scans one Debian orig tarball (ARCHIVE=path, or PACKAGE=name fetched with
# `apt-get source --download-only`, which needs a deb-src line in apt's
# sources; default blender, 54 MB) through the API, upload to Completed with
# every agent, and with the analysis engine alone on the unpacked tree, and
# licensecheck on the same tree (LICENSECHECK=0 skips it); prints the ratios
# (wall time and CPU time) and the server's RSS. The engine and the API run
# in ROUNDS rounds (default 2) of alternating order, and the ratios are of
# the rounds' sums (main.go says why). PROFILE=file.pprof also writes a CPU
# profile of the server from the upload to Completed of the first API run
# (its --admin-addr).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
export CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:--tags=remote,containers_image_openpgp,exclude_graphdriver_btrfs,exclude_graphdriver_devicemapper}"
[ -x bin/reehub ] || { echo "run.sh: bin/reehub is missing; run 'make build'" >&2; exit 1; }
[ "${LICENSECHECK:-1}" = 0 ] || command -v licensecheck >/dev/null || { echo "run.sh: licensecheck is missing (apt-get install licensecheck)" >&2; exit 1; }

work="$(mktemp -d /var/tmp/reehub-foss-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT
archive="${ARCHIVE:-}"
if [ -z "$archive" ]; then
	(cd "$work" && apt-get source --download-only "${PACKAGE:-blender}" >/dev/null)
	archive="$(ls "$work"/*.orig.tar.* | grep -v '\.asc$' | head -1)"
fi
go build -o "$work/fossology-bench" ./bench/fossology
mkdir -p bench/out/fossology
"$work/fossology-bench" -reehub bin/reehub -archive "$archive" -work "$work" -licensecheck="${LICENSECHECK:-1}" -rounds="${ROUNDS:-2}" -profile="${PROFILE:-}" 2>&1 | tee bench/out/fossology/last.txt
