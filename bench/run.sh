#!/usr/bin/env bash
# run.sh: reehub's REE API bench (make bench, after `make setup build`).
#
# Builds the Go bench (bench/ree), runs it once against ./bin/reehub in a
# temporary work directory and prints its summary: recording vs plain podman
# build, replay vs recording, server RSS during a 2 GiB upload, and
# GET /api/process/status throughput against a bare Gin handler. The full
# output is also kept in bench/out/ree/last.txt.
#
# Extra arguments go to the bench (e.g. -runs 5, -load-for 20s, -skip-upload).
# Everything it starts or builds is stopped and removed on exit, also on ^C.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"
export CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:--mod=mod -tags=remote,containers_image_openpgp,exclude_graphdriver_btrfs,exclude_graphdriver_devicemapper}"

if [ ! -x bin/reehub ]; then
	echo "run.sh: bin/reehub is missing; run 'make build' (make bench does)" >&2
	exit 1
fi
for img in localhost/python_3_11 localhost/debian_bookworm; do
	if ! podman image exists "$img"; then
		echo "run.sh: base image $img is missing; run 'make base-images'" >&2
		exit 1
	fi
done

work="$(mktemp -d /var/tmp/reehub-bench.XXXXXX)"
cleanup() {
	# The bench stops its servers and removes its images itself; this is the
	# backstop for a bench that was killed hard. It writes the PID of every
	# server it starts to $work/*.pid and every image name to $work/images.txt.
	for pidfile in "$work"/*.pid "$work"/reana/*.pid; do
		[ -e "$pidfile" ] || continue
		pid="$(cat "$pidfile")"
		if kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null || true
			for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
		fi
	done
	if [ -f "$work/images.txt" ]; then
		while read -r img; do
			if podman image exists "$img" 2>/dev/null; then podman rmi "$img" >/dev/null || true; fi
		done <"$work/images.txt"
	fi
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/ree-bench" ./bench/ree
mkdir -p bench/out/ree
"$work/ree-bench" -reehub bin/reehub -work "$work" -keep-logs bench/out/ree "$@" 2>&1 | tee bench/out/ree/last.txt

# The REANA family: step overhead over podman run, 10 steps over the sum of
# their steps, server RSS during a 2 GiB workspace upload and download.
go build -o "$work/reana-bench" ./bench/reana
mkdir -p bench/out/reana "$work/reana"
"$work/reana-bench" -reehub bin/reehub -work "$work/reana" 2>&1 | tee bench/out/reana/last.txt
