#!/usr/bin/env bash
# bench/registry/run.sh: the ViCE registry's figures (docs/registry.md), one run against
# ./bin/reehub (make build) on SQLite in a temporary directory on the same disk as $TMPDIR:
#   1. a 2 GiB disk-raw image file uploaded (POST /v1/image/{id}/file) and downloaded
#      (GET .../file) through reehub against a plain cp of the same file, with reehub's peak RSS;
#   2. podman pull of debian_bookworm from reehub's /v2/ against podman load of the same archive;
#   3. POST /v1/deploy until the deployment runs against podman run -d of the same image.
# Everything it starts is stopped and removed on exit.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
[ -x bin/reehub ] || { echo "run.sh: bin/reehub is missing; run 'make build'" >&2; exit 1; }
podman image exists localhost/debian_bookworm || { echo "run.sh: debian_bookworm is missing; run 'make base-images'" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/var/tmp}/reehub-bench-registry-XXXXXX")"
port=$((20000 + RANDOM % 20000))
url="http://127.0.0.1:$port"
pw="bench-$RANDOM$RANDOM"
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
	podman rm -f reehub-bench-run >/dev/null 2>&1 || true
	podman ps -aq --filter label=reehub.registry.deployment | xargs -r podman rm -f >/dev/null 2>&1 || true
	podman rmi -f "127.0.0.1:$port/${imgid:-none}:latest" >/dev/null 2>&1 || true
	rm -rf "$work" "${runroot:-}"
}
trap cleanup EXIT

REEHUB_ADMIN_PASSWORD="$pw" REEHUB_BUILD_BASE_IMAGES=false REEHUB_MAX_UPLOAD_BYTES=$((3 << 30)) \
	bin/reehub serve --addr "127.0.0.1:$port" --data-dir "$work/data" >"$work/reehub.log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -fsS "$url/api/ping" >/dev/null 2>&1 && break; sleep 0.2; done
auth=(-u "admin:$pw")
now() { date +%s.%N; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
hwm() { awk '/VmHWM/ { print $2 / 1024 " MB" }' "/proc/$pid/status"; }
newimage() { # newimage TITLE CONTENTTYPE -> id
	curl -fsS "${auth[@]}" -H 'Content-Type: application/json' -d "{\"title\":\"$1\",\"contenttype\":\"$2\"}" "$url/v1/images" |
		sed -E 's/.*"id":"([^"]+)".*/\1/'
}

echo "== 1. 2 GiB image file"
head -c $((2 << 30)) /dev/urandom >"$work/disk.raw"
sync
echo "reehub peak RSS before: $(hwm)"
t0=$(now); cp "$work/disk.raw" "$work/copy.raw"; sync; t1=$(now); cpt=$(secs "$t0" "$t1")
rm -f "$work/copy.raw"
id=$(newimage bench-disk disk-raw)
t0=$(now); curl -fsS "${auth[@]}" -F "upfile=@$work/disk.raw" "$url/v1/image/$id/file" >/dev/null; sync; t1=$(now); up=$(secs "$t0" "$t1")
t0=$(now); curl -fsS "${auth[@]}" -o "$work/down.raw" "$url/v1/image/$id/file"; sync; t1=$(now); down=$(secs "$t0" "$t1")
cmp -s "$work/disk.raw" "$work/down.raw" || { echo "download differs from upload" >&2; exit 1; }
rm -f "$work/down.raw" "$work/disk.raw"
echo "cp+sync ${cpt}s; upload ${up}s (ratio $(ratio "$up" "$cpt")); download ${down}s (ratio $(ratio "$down" "$cpt"))"
echo "reehub peak RSS after upload and download: $(hwm)"

echo "== 2. podman pull from /v2/ against podman load"
podman save --format docker-archive -o "$work/bookworm.tar" localhost/debian_bookworm >/dev/null
imgid=$(newimage bench-bookworm docker-image)
curl -fsS "${auth[@]}" -F "upfile=@$work/bookworm.tar" "$url/v1/image/$imgid/file" >/dev/null
store="$work/podman-store"
# Podman refuses a runroot longer than 50 characters: keep it short, under /tmp.
runroot="$(mktemp -d /tmp/rbr.XXXXXX)"
pull() { podman --root "$store/root" --runroot "$runroot" "$@"; }
t0=$(now); pull pull -q --tls-verify=false --creds "admin:$pw" "127.0.0.1:$port/$imgid:latest" >/dev/null; t1=$(now); pt=$(secs "$t0" "$t1")
pull rmi -a -f >/dev/null
t0=$(now); pull load -q -i "$work/bookworm.tar" >/dev/null; t1=$(now); lt=$(secs "$t0" "$t1")
pull rmi -a -f >/dev/null 2>&1 || true
grep -o " $store[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
echo "pull ${pt}s; load ${lt}s (ratio $(ratio "$pt" "$lt"))"

echo "== 3. deploy against podman run"
env=$(curl -fsS "${auth[@]}" -H 'Content-Type: application/json' \
	-d '{"title":"local","runtimetechnology":{"type":"container"},"managementlayer":{"type":"basic"}}' "$url/v1/environments" |
	sed -E 's/.*"id":"([^"]+)".*/\1/')
t0=$(now)
dep=$(curl -fsS "${auth[@]}" -H 'Content-Type: application/json' -d "{\"title\":\"bench\",\"imageid\":\"$imgid\",\"environmentId\":\"$env\"}" "$url/v1/deploy" |
	sed -E 's/.*"id":"([^"]+)".*/\1/')
state=pending
while [ "$state" = pending ]; do
	sleep 0.05
	state=$(curl -fsS "${auth[@]}" "$url/v1/deployment/$dep" | sed -E 's/.*"state":"([^"]+)".*/\1/')
done
t1=$(now); dt=$(secs "$t0" "$t1")
case "$state" in running | exited) ;; *) echo "deployment $state" >&2; exit 1 ;; esac
curl -fsS "${auth[@]}" -X DELETE "$url/v1/deployment/$dep" >/dev/null
t0=$(now); podman run -d --name reehub-bench-run localhost/debian_bookworm sleep 60 >/dev/null; t1=$(now); rt=$(secs "$t0" "$t1")
echo "deploy ${dt}s; podman run -d ${rt}s (ratio $(ratio "$dt" "$rt"))"
