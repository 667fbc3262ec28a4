#!/usr/bin/env bash
# fresh-root.sh runs .ci/run the way CI does, on a fresh Debian 12, on this
# machine: it debootstraps bookworm (--variant=minbase: only the Essential and
# required packages and apt, less than any real machine has) into ROOT, clones
# this repository's HEAD into it and runs `bash .ci/run` as root in a chroot
# with CI=true and the host's /usr/local/go bound read-only.
#
# The chroot runs in its own mount and PID namespaces (unshare): /proc, /sys
# (with /sys/fs/cgroup), /dev, /dev/pts, a tmpfs /run and /usr/local/go are
# mounted there only, and all of them, with whatever Podman mounts inside,
# vanish when the run ends; the chroot's processes cannot see or signal the
# host's. It shares the host's network namespace, so that the host's services
# are not disturbed:
#   - the chroot's PostgreSQL listens on REEHUB_PG_PORT (default 5433), not 5432;
#   - services are not started by package scripts (policy-rc.d), as in a container;
#   - the chroot's default Podman network uses its own bridge and subnet
#     (cipodman0, 10.213.0.0/16) instead of podman0 and 10.88.0.0/16.
#
# Usage: sudo .ci/fresh-root.sh [ROOT]   (default /work/fresh-root; an existing
# ROOT is reused as it is, its clone replaced)
# Env: MIRROR (default: the first bookworm mirror of /etc/apt/sources.list.d),
#      REEHUB_PG_PORT (default 5433).
set -euo pipefail

ROOT=${1:-/work/fresh-root}
PG_PORT=${REEHUB_PG_PORT:-5433}
repo=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "fresh-root: run as root" >&2; exit 1; }
[ -x /usr/local/go/bin/go ] || { echo "fresh-root: /usr/local/go/bin/go is missing" >&2; exit 1; }

if [ -z "${MIRROR:-}" ]; then
  MIRROR=$(awk '/^URIs:/ && !m {m = $2} END {print m}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  MIRROR=${MIRROR:-http://deb.debian.org/debian}
fi

if [ ! -x "$ROOT/usr/bin/apt-get" ]; then
  echo "fresh-root: debootstrap --variant=minbase bookworm $ROOT $MIRROR"
  start=$(date +%s)
  debootstrap --variant=minbase bookworm "$ROOT" "$MIRROR" >/dev/null
  echo "fresh-root: debootstrap took $(($(date +%s) - start))s"
fi
# What a machine has and a bare debootstrap lacks: a resolver, a mirror with
# security updates like the host's, no service starts from package scripts.
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  cp /etc/apt/sources.list.d/debian.sources "$ROOT/etc/apt/sources.list.d/debian.sources"
  rm -f "$ROOT/etc/apt/sources.list"
fi
# The host's own CAs (a TLS-intercepting egress proxy's, here): like the
# resolver, the machine's and not the project's; ca-certificates (group ci)
# adds them to the bundle when .ci/run installs it.
mkdir -p "$ROOT/usr/local/share/ca-certificates"
cp -a /usr/local/share/ca-certificates/. "$ROOT/usr/local/share/ca-certificates/"
if [ -x "$ROOT/usr/sbin/update-ca-certificates" ]; then
  chroot "$ROOT" update-ca-certificates >/dev/null
fi
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod 755 "$ROOT/usr/sbin/policy-rc.d"
mkdir -p "$ROOT/etc/containers/networks" "$ROOT/usr/local/go"
cat >"$ROOT/etc/containers/networks/podman.json" <<'JSON'
{
  "name": "podman",
  "id": "f5e9c1a3b7d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a2b4c6d8e0f2a4b6c8d0e2f4",
  "driver": "bridge",
  "network_interface": "cipodman0",
  "created": "2026-12-01T00:00:00Z",
  "subnets": [{"subnet": "10.213.0.0/16", "gateway": "10.213.0.1"}],
  "ipv6_enabled": false,
  "internal": false,
  "dns_enabled": false,
  "ipam_options": {"driver": "host-local"}
}
JSON

rm -rf "$ROOT/root/reehub"
git clone -q "$repo" "$ROOT/root/reehub"
git -C "$ROOT/root/reehub" checkout -q "$(git -C "$repo" rev-parse HEAD)"
echo "fresh-root: cloned $(git -C "$ROOT/root/reehub" log -1 --format='%h %s')"

# The run, in mount and PID namespaces of its own.
exec unshare --mount --pid --fork --propagation private bash -c '
  set -euo pipefail
  R=$1 PG_PORT=$2
  # The root a mount point of its own, as on a machine: containers/storage
  # makes "/" private (mount MS_REC|MS_PRIVATE), which fails with EINVAL on a
  # plain directory.
  mount --bind "$R" "$R"
  mount -t proc proc "$R/proc"
  mount --rbind /sys "$R/sys"
  mount --rbind /dev "$R/dev"
  mount -t tmpfs -o mode=755 tmpfs "$R/run"
  mount --bind /usr/local/go "$R/usr/local/go"
  mount -o remount,bind,ro "$R/usr/local/go"
  exec chroot "$R" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 CI=true \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    REEHUB_PG_PORT="$PG_PORT" \
    bash -c "cd /root/reehub && bash .ci/run"
' fresh-root "$ROOT" "$PG_PORT"
