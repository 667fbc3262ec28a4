#!/usr/bin/env bash
# setup-host.sh installs and configures what reehub needs on Debian 12:
# Podman 4.3.1 with runc (crun fails on hybrid cgroups), the containers.conf
# these machines need, debootstrap for base images, and starts the Podman API
# service on /run/podman/podman.sock in a session of its own. Idempotent: a
# second run changes nothing.
set -euo pipefail

SOCK=${REEHUB_PODMAN_SOCKET_PATH:-/run/podman/podman.sock}
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# The packages (Podman, runc, netavark, debootstrap, ...) are the "host" group
# of scripts/packages.txt, the one list of what reehub and its tests use.
bash "$(dirname "${BASH_SOURCE[0]}")/setup-packages.sh" host

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
  # In a session of its own (setsid -f), so that stopping the caller's process
  # group (Ctrl-C of `make run`, a supervisor stopping its job) leaves it running.
  $SUDO setsid -f sh -c 'exec podman system service --time=0 "$1" </dev/null >>/var/log/reehub-podman.log 2>&1' sh "unix://$SOCK"
  for _ in $(seq 1 100); do
    curl -s --unix-socket "$SOCK" http://d/_ping 2>/dev/null | grep -q OK && break
    sleep 0.2
  done
  curl -s --unix-socket "$SOCK" http://d/_ping | grep -q OK || { echo "setup: podman service did not answer on $SOCK; see /var/log/reehub-podman.log" >&2; exit 1; }
fi
echo "setup: podman ready on unix://$SOCK"
