#!/usr/bin/env bash
# setup-host.sh installs and configures what reehub needs on Debian 12:
# Podman 4.3.1 with runc (crun fails on hybrid cgroups), the containers.conf
# these machines need, debootstrap for base images, and starts the Podman API
# service on /run/podman/podman.sock. Idempotent: a second run changes nothing.
set -euo pipefail

SOCK=${REEHUB_PODMAN_SOCKET_PATH:-/run/podman/podman.sock}
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

need=()
for bin in podman runc conmon debootstrap iptables; do
  command -v "$bin" >/dev/null 2>&1 || need+=("$bin")
done
# The runtime/podman tests import /bin/busybox (busybox-static) as their base image.
[ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -qx wget || need+=(busybox-static)
[ -x /usr/lib/podman/netavark ] || need+=(netavark)
[ -x /usr/lib/podman/aardvark-dns ] || need+=(aardvark-dns)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]} and what they need"
  # containers.conf must exist before the first podman call.
  $SUDO mkdir -p /etc/containers
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends \
    podman runc conmon netavark aardvark-dns iptables debootstrap \
    uidmap slirp4netns catatonit ca-certificates zstd busybox-static >/dev/null
fi

conf=/etc/containers/containers.conf
if ! grep -q 'reehub' "$conf" 2>/dev/null; then
  echo "setup: writing $conf (runtime runc, default ulimits)"
  $SUDO mkdir -p /etc/containers
  $SUDO tee "$conf" >/dev/null <<'CONF'
# Written by reehub scripts/setup-host.sh.
# These VMs refuse the default high rlimits, and crun fails on hybrid cgroups.
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]

[engine]
runtime = "runc"
CONF
fi

if ! curl -s --unix-socket "$SOCK" http://d/_ping 2>/dev/null | grep -q OK; then
  echo "setup: starting podman system service on unix://$SOCK"
  $SUDO mkdir -p "$(dirname "$SOCK")"
  $SUDO rm -f "$SOCK"
  nohup $SUDO podman system service --time=0 "unix://$SOCK" >/var/log/reehub-podman.log 2>&1 &
  for _ in $(seq 1 100); do
    curl -s --unix-socket "$SOCK" http://d/_ping 2>/dev/null | grep -q OK && break
    sleep 0.2
  done
  curl -s --unix-socket "$SOCK" http://d/_ping | grep -q OK || { echo "setup: podman service did not answer on $SOCK; see /var/log/reehub-podman.log" >&2; exit 1; }
fi
echo "setup: podman ready on unix://$SOCK"
