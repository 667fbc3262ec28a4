#!/usr/bin/env bash
# run.sh: the license/copyright accuracy and speed bench (make bench-analysis).
#
# Usage: bench/analysis/run.sh [PACKAGE...]   (or PACKAGES="zlib curl" bench/analysis/run.sh)
#        SET=python_3_11 (default) | SET=eight bench/analysis/run.sh
#
# Which packages:
#   - PACKAGES (or arguments): exactly those source packages.
#   - SET=python_3_11 (the default): the rule-chosen corpus. Every Debian
#     source package behind the python_3_11 base image (the Source fields, or
#     the Package name where there is none, of the image's
#     /var/lib/dpkg/status), kept when its debian/copyright is
#     machine-readable (DEP-5: a Format field naming the copyright-format
#     or dep5 specification). Nobody picks a package by hand.
#   - SET=eight: the eight packages of the first bench (util-linux coreutils
#     zlib curl openssl xz-utils bzip2 jq).
# RUNS=N (default 3) sets the timed runs per package and tool; medians are reported.
# FETCH_ONLY=1 fetches and unpacks the sources, then stops.
# CLASSIFIER=1 also runs github.com/google/licenseclassifier/v2 (once) and
# reports its agreement and that of reehub combined with it.
# LC_CACHE=1 (development only) keeps licensecheck's output and time per
# package under $BENCH_OUT/lc and reuses them: its figures are then not
# measured in this run.
# LC_SAVE=1 measures licensecheck as usual and also writes its output and
# time per package under $BENCH_OUT/lc-saved, for later LC_CACHE runs
# (copy them to $BENCH_OUT/lc).
#
# It installs Debian's licensecheck and dpkg-dev, writes a private apt
# configuration under $BENCH_OUT/apt (deb-src entries copied from the host's
# debian.sources; the host's apt configuration is not changed), fetches each
# source package with apt-get source into $BENCH_OUT/src/ (cached between
# runs), then runs the Go bench (bench/analysis), which scans every package
# with reehub's scanner and with licensecheck, compares both to the package's
# debian/copyright and prints a table and a final summary line.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${BENCH_OUT:-$root/bench/out/analysis}"
eight="util-linux coreutils zlib curl openssl xz-utils bzip2 jq"
image="${IMAGE:-localhost/python_3_11}"
set_name="${SET:-python_3_11}"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# 1. Tools (idempotent): licensecheck and dpkg-dev, the "bench" group of
# scripts/packages.txt. Sources come through the private apt config below.
bash "$root/scripts/setup-packages.sh" bench

# 2. A private apt configuration with deb-src entries for the host's mirror.
aptdir="$out/apt"
if [ ! -f "$aptdir/apt.conf" ]; then
	deb_list=/etc/apt/sources.list.d/debian.sources
	if [ ! -f "$deb_list" ]; then
		echo "run.sh: $deb_list not found; write $aptdir/sources/src.sources (deb-src) by hand" >&2
		exit 1
	fi
	mkdir -p "$aptdir/sources" "$aptdir/lists/partial" "$aptdir/cache/archives/partial"
	sed -e 's/^Types:.*/Types: deb-src/' "$deb_list" >"$aptdir/sources/src.sources"
	cat >"$aptdir/apt.conf" <<EOF
Dir::Etc::SourceList "/dev/null";
Dir::Etc::SourceParts "$aptdir/sources";
Dir::State::Lists "$aptdir/lists";
Dir::Cache "$aptdir/cache";
APT::Sandbox::User "root";
EOF
	APT_CONFIG="$aptdir/apt.conf" apt-get update -qq
fi
export APT_CONFIG="$aptdir/apt.conf"

# 3. The package list: name and, when known, the version behind the image.
declare -A want_version=()
if [ "$#" -gt 0 ]; then
	packages="$*"
	set_name=named
elif [ -n "${PACKAGES:-}" ]; then
	packages="$PACKAGES"
	set_name=named
elif [ "$set_name" = eight ]; then
	packages="$eight"
elif [ "$set_name" = python_3_11 ]; then
	status="$out/sets/python_3_11.status"
	if [ ! -s "$status" ]; then
		mkdir -p "$out/sets"
		podman run --rm "$image" cat /var/lib/dpkg/status >"$status.tmp"
		mv "$status.tmp" "$status"
	fi
	# "Source: name (version)" when the source version differs from the
	# binary's; "Source: name" or no Source field otherwise.
	while read -r name ver; do
		want_version[$name]="$ver"
	done < <(awk -v RS= -F '\n' '{
		pkg = ""; src = ""; ver = ""; sver = ""
		for (i = 1; i <= NF; i++) {
			if ($i ~ /^Package: /) pkg = substr($i, 10)
			if ($i ~ /^Version: /) ver = substr($i, 10)
			if ($i ~ /^Source: /) src = substr($i, 9)
			if ($i ~ /^Status: / && $i !~ / installed$/) pkg = ""
		}
		if (pkg == "") next
		if (src == "") src = pkg
		if (match(src, / \(.*\)$/)) { sver = substr(src, RSTART + 2, RLENGTH - 3); src = substr(src, 1, RSTART - 1) }
		else sver = ver
		print src, sver
	}' "$status" | sort -u -k1,1)
	packages="$(printf '%s\n' "${!want_version[@]}" | sort | tr '\n' ' ')"
else
	echo "run.sh: unknown SET=$set_name (python_3_11 or eight)" >&2
	exit 1
fi

# is_dep5 FILE: the debian/copyright's first paragraph has a Format field
# naming the machine-readable specification.
is_dep5() { awk 'NF == 0 { exit 1 } tolower($0) ~ /^format:.*(copyright-format|dep5)/ { found = 1; exit 0 } END { exit !found }' "$1"; }

# 4. Sources, cached under $out/src/<package>/ (one unpacked tree per
# package); a package whose debian/copyright is not DEP-5 is recorded in
# $out/src/<package>.not-dep5 and not unpacked, in the rule-chosen set.
mkdir -p "$out/src"
# Source packages carry Go files (libcap2, audit's bindings): a go.mod of
# their own keeps them out of this module's ./... patterns.
[ -f "$out/src/go.mod" ] || printf 'module bench.invalid/src\n\ngo 1.21\n' >"$out/src/go.mod"
dirs=()
excluded=()
unavailable=()
for p in $packages; do
	pdir="$out/src/$p"
	if [ "$set_name" = python_3_11 ] && [ -f "$pdir.not-dep5" ]; then
		excluded+=("$p")
		continue
	fi
	tree="$(find "$pdir" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | head -n1 || true)"
	if [ -z "$tree" ] || [ ! -f "$tree/debian/copyright" ]; then
		rm -rf "$pdir"
		mkdir -p "$pdir"
		echo "run.sh: fetching source package $p" >&2
		# The image's version first (rule-chosen set), then the newest,
		# then the other versions apt knows, newest first (a security
		# update can be missing from a snapshot mirror).
		ok=
		for v in "${want_version[$p]:-}" "" $(apt-cache showsrc "$p" 2>/dev/null | sed -n 's/^Version: //p' | sort -rV); do
			spec="$p${v:+=$v}"
			if (cd "$pdir" && apt-get source --download-only -qq "$spec" >/dev/null 2>>"$pdir.log"); then
				ok=1
				break
			fi
			rm -rf "${pdir:?}"/*
		done
		if [ -z "$ok" ]; then
			echo "run.sh: apt-get source $p failed, see $pdir.log" >&2
			if [ "$set_name" != python_3_11 ]; then
				exit 1
			fi
			# The rule-chosen set goes on without it, and says so.
			rm -rf "$pdir"
			unavailable+=("$p")
			continue
		fi
		dsc="$(ls "$pdir"/*.dsc | head -n1)"
		# Look at debian/copyright before unpacking: from the debian
		# tarball, when there is one.
		if [ "$set_name" = python_3_11 ]; then
			deb_tar="$(ls "$pdir"/*.debian.tar.* 2>/dev/null | head -n1 || true)"
			if [ -n "$deb_tar" ] && tar -xOf "$deb_tar" debian/copyright >"$pdir.copyright" 2>/dev/null &&
				! is_dep5 "$pdir.copyright"; then
				echo "$(basename "$dsc")" >"$pdir.not-dep5"
				rm -rf "$pdir"
				excluded+=("$p")
				continue
			fi
		fi
		(cd "$pdir" && dpkg-source --no-check -x "$(basename "$dsc")" >/dev/null 2>>"$pdir.log")
		find "$pdir" -maxdepth 1 -type f -delete
		tree="$(find "$pdir" -mindepth 1 -maxdepth 1 -type d | head -n1)"
	fi
	if [ "$set_name" = python_3_11 ] && ! is_dep5 "$tree/debian/copyright"; then
		echo "$(basename "$tree")" >"$pdir.not-dep5"
		rm -rf "$pdir"
		excluded+=("$p")
		continue
	fi
	dirs+=("$p=$tree")
done

echo "run.sh: set $set_name: ${#dirs[@]} packages${excluded:+; not DEP-5, left out by the rule: ${excluded[*]}}${unavailable:+; not fetchable from the mirror: ${unavailable[*]}}" >&2
if [ -n "${FETCH_ONLY:-}" ]; then
	exit 0
fi

# 5. The bench itself.
cd "$root"
export CGO_ENABLED=0
go run ./bench/analysis -out "$out" -runs "${RUNS:-3}" -set "$set_name" ${LC_CACHE:+-lc-cache "$out/lc"} ${LC_SAVE:+-lc-save "$out/lc-saved"} \
	${CLASSIFIER:+-classifier} \
	${excluded:+-excluded "${excluded[*]}"} ${unavailable:+-unavailable "${unavailable[*]}"} "${dirs[@]}"
