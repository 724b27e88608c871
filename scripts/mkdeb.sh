#!/usr/bin/env bash
# `make deb`: the Debian packages l4u-dkms, libl4u0, libl4u-server0, libl4u-dev and
# l4u-tools, built with Debian's tooling (dpkg-buildpackage, debhelper, dh-dkms) from
# a clean copy of the tree (no build/, no .git), then checked with lintian (the build fails on any
# error or warning; debian/*.lintian-overrides explain what is left).
#
# usage: scripts/mkdeb.sh [OUTDIR]     (default: build/deb)
set -euo pipefail
# shellcheck source=scripts/vm/lib.sh
. "$(dirname "$0")/vm/lib.sh"
cd "$l4u_root"

out=${1:-$l4u_build/deb}
for t in dpkg-buildpackage dh dh_dkms lintian; do
	command -v "$t" >/dev/null ||
		die "$t missing (apt-get install dpkg-dev debhelper dh-dkms lintian; scripts/deps.sh as root)"
done
ver=$(dpkg-parsechangelog -S Version)
src=$out/l4u-$ver
rm -rf "$out"
mkdir -p "$src"
tar -c --exclude=./build --exclude=./.git --exclude=./debian/build --exclude='*.o' --exclude='*.ko' \
	--exclude='.*.cmd' --exclude='*.mod' --exclude='*.mod.c' --exclude=modules.order \
	--exclude=Module.symvers . | tar -x -C "$src"
(cd "$src" && dpkg-buildpackage -b -us -uc) >"$out/build.log" 2>&1 || {
	tail -n 40 "$out/build.log" >&2
	die "dpkg-buildpackage failed (log: $out/build.log)"
}
rm -rf "$src"
changes=$(ls "$out"/l4u_"$ver"_*.changes)
echo "built: $(cd "$out" && ls -- *.deb | tr '\n' ' ')"
lintian --fail-on error,warning --tag-display-limit 0 "$changes" | tee "$out/lintian.log"
echo "lintian: no errors or warnings ($(wc -l <"$out/lintian.log") info/override lines, $out/lintian.log)"
