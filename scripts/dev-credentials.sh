#!/usr/bin/env bash
# dev-credentials.sh prepares development credentials for `make run`: the admin
# password (REEHUB_ADMIN_PASSWORD, or one generated once and kept in
# DATA_DIR/admin-password), and a ~/.netrc entry for localhost so that httpie and
# `curl -n` send it, which makes the REE document's examples work as written.
# An existing localhost entry in ~/.netrc is never changed.
set -euo pipefail
data=${1:-./data}
mkdir -p "$data"
pwfile="$data/admin-password"
if [ -n "${REEHUB_ADMIN_PASSWORD:-}" ]; then
  printf '%s' "$REEHUB_ADMIN_PASSWORD" > "$pwfile"
elif [ ! -s "$pwfile" ]; then
  head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$pwfile"
fi
chmod 600 "$pwfile"
pw=$(cat "$pwfile")
netrc="$HOME/.netrc"
if ! grep -qs '^machine localhost' "$netrc"; then
  printf 'machine localhost login admin password %s\n' "$pw" >> "$netrc"
  chmod 600 "$netrc"
  echo "reehub: wrote admin credentials for localhost to $netrc (httpie and curl -n use them)"
fi
echo "reehub: log in as admin with the password in $pwfile"
