#!/usr/bin/env bash
# Builds SeaweedFS's weed (the S3-compatible server the blob store tests run
# against) into bin/weed, once: it is a large build, cached in bin/.
# `go install module@version` refuses the module because its go.mod has
# replace directives, so the module is downloaded and built as the main module.
set -euo pipefail
version=v0.0.0-20261109003541-7506e5f91cd6
out="${1:-$(cd "$(dirname "$0")/.." && pwd)/bin/weed}"
stamp="$out.version"
if [[ -x "$out" && "$(cat "$stamp" 2>/dev/null)" == "$version" ]]; then
	exit 0
fi
export CGO_ENABLED=0 GOFLAGS=
dir=$(go mod download -json "github.com/seaweedfs/seaweedfs@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[[ -n "$dir" ]] || { echo "build-weed: cannot download seaweedfs $version" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
(cd "$dir" && go build -trimpath -ldflags '-s -w' -o "$out.tmp" ./weed)
mv "$out.tmp" "$out"
echo "$version" >"$stamp"
