#!/usr/bin/env bash
# run.sh: the license/copyright accuracy and speed bench (make bench-analysis).
#
# Usage: bench/analysis/run.sh [PACKAGE...]   (or PACKAGES="zlib curl" bench/analysis/run.sh)
# RUNS=N (default 3) sets the timed runs per package and tool; medians are reported.
#
# The default set replaces python3.11 by xz-utils and busybox by bzip2: their
# debian/copyright files are not machine-readable (DEP-5), so they give no
# per-file ground truth; the bench skips such packages with a note.
#
# It installs Debian's licensecheck and dpkg-dev, adds a deb-src entry for the
# configured Debian mirror, fetches and unpacks each source package into
# bench/out/analysis/src/, then runs the Go bench (bench/analysis), which scans
# every package with reehub's scanner and with licensecheck, compares both to
# the package's debian/copyright and prints a table and a final summary line.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${BENCH_OUT:-$root/bench/out/analysis}"
default_packages="util-linux coreutils zlib curl openssl xz-utils bzip2 jq"
if [ "$#" -gt 0 ]; then
	packages="$*"
else
	packages="${PACKAGES:-$default_packages}"
fi

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# 1. Tools and the deb-src entry (idempotent).
src_list=/etc/apt/sources.list.d/reehub-src.sources
if [ ! -f "$src_list" ]; then
	deb_list=/etc/apt/sources.list.d/debian.sources
	if [ ! -f "$deb_list" ]; then
		echo "run.sh: $deb_list not found; add a deb-src entry for your mirror by hand" >&2
		exit 1
	fi
	# Copy every stanza of debian.sources with Types: deb-src.
	sed -e 's/^Types:.*/Types: deb-src/' "$deb_list" | as_root tee "$src_list" >/dev/null
	as_root apt-get update -qq
fi
# licensecheck and dpkg-dev: the "bench" group of scripts/packages.txt.
bash "$root/scripts/setup-packages.sh" bench

# 2. Sources, cached under $out/src/<package>/ (one unpacked tree per package).
mkdir -p "$out/src"
dirs=()
for p in $packages; do
	pdir="$out/src/$p"
	tree="$(find "$pdir" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | head -n1 || true)"
	if [ -z "$tree" ] || [ ! -f "$tree/debian/copyright" ]; then
		rm -rf "$pdir"
		mkdir -p "$pdir"
		echo "run.sh: fetching source package $p" >&2
		# The newest version first; if the mirror lacks its files (a security
		# update missing from a snapshot), fall back to the other versions
		# apt knows, newest first.
		ok=
		for v in "" $(apt-cache showsrc "$p" 2>/dev/null | sed -n 's/^Version: //p' | sort -rV); do
			spec="$p${v:+=$v}"
			if (cd "$pdir" && apt-get source -qq "$spec" >/dev/null 2>>"$pdir.log"); then
				ok=1
				break
			fi
			rm -rf "${pdir:?}"/*
		done
		if [ -z "$ok" ]; then
			echo "run.sh: apt-get source $p failed, see $pdir.log" >&2
			exit 1
		fi
		tree="$(find "$pdir" -mindepth 1 -maxdepth 1 -type d | head -n1)"
	fi
	dirs+=("$p=$tree")
done

# 3. The bench itself.
cd "$root"
export CGO_ENABLED=0
go run ./bench/analysis -out "$out" -runs "${RUNS:-3}" "${dirs[@]}"
