#!/usr/bin/env bash
# run.sh: reehub's reproducibility bench (make bench-repro, after `make setup build`).
#
# Starts a second Podman service with its own empty storage (a separate
# --root/--runroot and socket, standing in for another host), builds the Go
# bench (bench/repro) and runs it: every project of bench/repro/projects is
# recorded on a reehub server on the host's Podman, replayed there, and
# replayed on a second reehub server on the empty Podman. The output is kept
# in bench/out/repro/last.txt (and last.json).
#
# Extra arguments go to the bench (e.g. -only 'go-|npm-').
# Everything it starts is stopped and removed on exit, also on ^C.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
export CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:--tags=remote,containers_image_openpgp,exclude_graphdriver_btrfs,exclude_graphdriver_devicemapper}"

if [ ! -x bin/reehub ]; then
	echo "run.sh: bin/reehub is missing; run 'make build' (make bench-repro does)" >&2
	exit 1
fi
for img in localhost/python_3_11 localhost/debian_bookworm; do
	if ! podman image exists "$img"; then
		echo "run.sh: base image $img is missing; run 'make base-images'" >&2
		exit 1
	fi
done

work="$(mktemp -d /var/tmp/reehub-repro.XXXXXX)"
p2="$work/podman2"
mkdir -p "$p2"
podman_pid=""
cleanup() {
	for pidfile in "$work"/*.pid; do
		[ -e "$pidfile" ] || continue
		pid="$(cat "$pidfile")"
		if kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null || true
			for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
		fi
	done
	if [ -n "$podman_pid" ]; then
		podman --root "$p2/root" --runroot "$p2/run" rmi -a -f >/dev/null 2>&1 || true
		kill -TERM "$podman_pid" 2>/dev/null || true
		wait "$podman_pid" 2>/dev/null || true
	fi
	grep -o " $p2[^ ]*" /proc/mounts 2>/dev/null | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
	# The recordings' and replays' images are removed by reehub once packaged.
	rm -rf "$work"
}
trap cleanup EXIT

podman --root "$p2/root" --runroot "$p2/run" system service --time=0 "unix://$p2/podman.sock" >"$p2/service.log" 2>&1 &
podman_pid=$!
for _ in $(seq 1 100); do
	if curl -fsS --unix-socket "$p2/podman.sock" http://d/_ping >/dev/null 2>&1; then break; fi
	sleep 0.3
done
curl -fsS --unix-socket "$p2/podman.sock" http://d/_ping >/dev/null

# A copy of the binary, so that rebuilding bin/ during a long run changes nothing.
cp bin/reehub "$work/reehub"
go build -o "$work/repro-bench" ./bench/repro
# REPRO_OUT names the output files (default bench/out/repro/last.txt and .json).
out="${REPRO_OUT:-bench/out/repro/last}"
mkdir -p "$(dirname "$out")"
"$work/repro-bench" -reehub "$work/reehub" -work "$work" -fresh-podman "unix://$p2/podman.sock" \
	-json "$out.json" "$@" 2>&1 | tee "$out.txt"
