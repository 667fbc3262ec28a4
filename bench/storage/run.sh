#!/usr/bin/env bash
# run.sh: what N recordings and N replays leave in Podman storage and in the
# blob store (issue 15), with the defaults and with keep_image=true (the
# behaviour before issue 15), after `make build` and with the base image
# (debian_bookworm) in the host's Podman.
#
# It starts a Podman service of its own (rootful, its own graph root and run
# root under the work directory, loaded with the base image only), so that
# `podman system df` counts only what this bench leaves; then runs the Go bench
# (bench/storage) against a reehub on SQLite with the default settings. All of
# it is stopped and removed on exit, also on ^C.
#
# Arguments go to the bench: -n 50 -keep 5 -parallel 4 -budget 35m.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
export CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:--tags=remote,containers_image_openpgp,exclude_graphdriver_btrfs,exclude_graphdriver_devicemapper}"
base="${BASE:-debian_bookworm}"

if [ ! -x bin/reehub ]; then
	echo "run.sh: bin/reehub is missing; run 'make build'" >&2
	exit 1
fi
if ! podman image exists "localhost/$base"; then
	echo "run.sh: base image localhost/$base is missing; run 'make base-images'" >&2
	exit 1
fi

work="$(mktemp -d /var/tmp/reehub-storage.XXXXXX)"
graph="$work/podman-root"
runroot="$work/podman-run"
sock="$work/podman.sock"
podman_pid=""
cleanup() {
	if [ -f "$work/reehub.pid" ]; then
		pid="$(cat "$work/reehub.pid")"
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
	fi
	if [ -n "$podman_pid" ]; then
		# Remove what the bench built before the service goes, then the storage itself.
		podman --root "$graph" --runroot "$runroot" rmi -a -f >/dev/null 2>&1 || true
		kill -TERM "$podman_pid" 2>/dev/null || true
		wait "$podman_pid" 2>/dev/null || true
	fi
	umount -R "$graph/overlay" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$graph" "$runroot"
podman --root "$graph" --runroot "$runroot" system service --time=0 "unix://$sock" >"$work/podman.log" 2>&1 &
podman_pid=$!
for _ in $(seq 1 50); do [ -S "$sock" ] && break; sleep 0.2; done
podman save "localhost/$base" | podman --root "$graph" --runroot "$runroot" load -q

go build -o "$work/storage-bench" ./bench/storage
mkdir -p bench/out/storage
"$work/storage-bench" -reehub bin/reehub -work "$work" -podman-socket "unix://$sock" -podman-root "$graph" -base "$base" "$@" 2>&1 | tee bench/out/storage/last.txt
cp "$work/reehub.log" bench/out/storage/reehub.log 2>/dev/null || true
