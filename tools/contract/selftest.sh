#!/usr/bin/env bash
# selftest.sh checks that the contract rulesets still catch what they are for:
# Spectral with .spectral.yaml must report every project rule (reehub-*) on
# testdata/violations.yaml, and both linters must fail on it. Run by
# `make contract` after scripts/setup-contract-tools.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH=$PWD/tools/contract/node_modules/.bin:$PATH REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
bad=tools/contract/testdata/violations.yaml
fail() { echo "contract selftest: $*" >&2; exit 1; }

out=$(spectral lint --fail-severity=warn -f text "$bad" 2>&1) && fail "spectral passed $bad"
for rule in $(awk '/^  reehub-[a-z0-9-]+:$/ {sub(":", "", $1); print $1}' .spectral.yaml); do
  grep -q " $rule " <<<"$out" || fail "rule $rule of .spectral.yaml reported nothing on $bad:"$'\n'"$out"
done
redocly lint "$bad" >/dev/null 2>&1 && fail "redocly passed $bad"
echo "contract selftest: every reehub-* rule fires on $bad, and both linters fail it"
