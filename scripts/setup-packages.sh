#!/usr/bin/env bash
# setup-packages.sh installs the Debian packages of the given groups of
# scripts/packages.txt (the one list of what reehub's builds, tests and
# scripts use) that are not installed yet. Idempotent and quick when nothing
# is missing: apt-get runs only when a package is.
#
# Usage: scripts/setup-packages.sh GROUP...      install the groups' packages
#        scripts/setup-packages.sh --list GROUP... print them, one a line
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LIST=$here/packages.txt

die() { echo "setup-packages: $*" >&2; exit 1; }

list_only=no
if [ "${1:-}" = --list ]; then
  list_only=yes
  shift
fi
[ $# -gt 0 ] || die "usage: $0 [--list] GROUP... (groups: $(awk '!/^[[:space:]]*(#|$)/ {print $2}' "$LIST" | sort -u | tr '\n' ' '))"

want=()
for group in "$@"; do
  mapfile -t pkgs < <(awk -v g="$group" '!/^[[:space:]]*(#|$)/ && $2 == g {print $1}' "$LIST")
  [ ${#pkgs[@]} -gt 0 ] || die "no group '$group' in $LIST"
  want+=("${pkgs[@]}")
done
if [ "$list_only" = yes ]; then
  printf '%s\n' "${want[@]}"
  exit 0
fi

missing=()
for pkg in "${want[@]}"; do
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)" = installed ] || missing+=("$pkg")
done
[ ${#missing[@]} -gt 0 ] || exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "setup-packages: installing ${missing[*]} ($*)"
$SUDO apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
