#!/usr/bin/env bash
# Prove the DKMS packaging: install the module's source to /usr/src/<name>-<version>
# (make install-dkms-src: Kbuild, kmod/, uapi/, dkms.conf, nothing else), `dkms add`,
# `dkms build` for Debian's stock cloud kernel (or another), check that l4.ko exists
# for that kernel and that its vermagic names it, then `dkms remove --all` and clean
# up. Safe to rerun; one test at a time per machine (a lock), since all trees share
# /usr/src and /var/lib/dkms. Needs root. The last line of output says what was proven.
#
# usage: scripts/test-dkms.sh [--keep FILE] [KERNEL_RELEASE [KERNEL_TREE]]
#   --keep FILE  copy the module DKMS built to FILE before cleaning up
#   KERNEL_TREE  a configured and built kernel tree of KERNEL_RELEASE that is not
#                in /lib/modules (dkms build --kernelsourcedir), e.g. the latest
#                kernel's in ~/.cache/l4u
set -euo pipefail
# shellcheck source=scripts/vm/lib.sh
. "$(dirname "$0")/vm/lib.sh"
cd "$l4u_root"

keep=
if [ "${1:-}" = --keep ]; then
	keep=$2
	shift 2
fi
kver=${1:-}
ktree=${2:-}
[ -n "$kver" ] || kver=$(stock_kver) || die "no Debian cloud kernel with headers found"
srcdir_opt=()
if [ -n "$ktree" ]; then
	[ -f "$ktree/Module.symvers" ] || die "$ktree is no built kernel tree (no Module.symvers)"
	[ "$(kdir_release "$ktree")" = "$kver" ] ||
		die "$ktree is a tree of '$(kdir_release "$ktree")', not $kver"
	srcdir_opt=(--kernelsourcedir "$ktree")
else
	[ -d "/lib/modules/$kver/build" ] || die "no headers for $kver in /lib/modules/$kver/build"
fi
[ "$(id -u)" = 0 ] || die "the DKMS test needs root (it writes /usr/src and /var/lib/dkms)"
command -v dkms >/dev/null || die "dkms is not installed (apt-get install dkms)"
[ -f dkms.conf ] || die "dkms.conf is missing at the top of the source tree: nothing to test"

# one DKMS or package test per machine (they share /usr/src and /var/lib/dkms),
# whichever tree it runs from
exec 8>/run/lock/l4u-dkms.lock
if ! flock -n 8; then
	echo "waiting for another DKMS or package test on this machine ..." >&2
	flock 8
fi
conf_var() { sed -n "s/^[[:space:]]*$1=[\"']\{0,1\}\([^\"']*\)[\"']\{0,1\}[[:space:]]*$/\1/p" dkms.conf | head -n 1; }
name=$(conf_var PACKAGE_NAME)
ver=$(conf_var PACKAGE_VERSION)
mod=$(conf_var 'BUILT_MODULE_NAME\[0\]')
[ -n "$name" ] || die "dkms.conf sets no PACKAGE_NAME"
[ -n "$ver" ] || die "dkms.conf sets no PACKAGE_VERSION"
[ "$name" = l4u ] || die "dkms.conf: PACKAGE_NAME is '$name', expected l4u"
mod=${mod:-l4}
src=/usr/src/$name-$ver

cleanup() {
	dkms remove -m "$name" -v "$ver" --all >/dev/null 2>&1 || true
	rm -rf "$src" "/var/lib/dkms/$name/$ver"
	rmdir "/var/lib/dkms/$name" 2>/dev/null || true
}

# never clobber a real installation; leftovers of an earlier test run are removed
status() { dkms status -m "$name" -v "$ver" 2>/dev/null || true; }
if grep -q ': installed' <<<"$(status)"; then
	die "$name/$ver is installed through DKMS on this machine; 'dkms remove $name/$ver --all' first"
fi
cleanup
trap cleanup EXIT

echo "installing the module's source to $src (make install-dkms-src)"
make -s install-dkms-src DESTDIR=
[ -f "$src/dkms.conf" ] || die "make install-dkms-src put no dkms.conf into $src"
for junk in build .git libl4u selftests; do
	[ ! -e "$src/$junk" ] || die "the DKMS source $src holds $junk"
done

dkms add -m "$name" -v "$ver"
if ! dkms build -m "$name" -v "$ver" -k "$kver" "${srcdir_opt[@]}"; then
	echo "dkms build failed; its make.log:"
	cat "/var/lib/dkms/$name/$ver/build/make.log" 2>/dev/null || true
	exit 1
fi
dkms status -m "$name" -v "$ver"

ko=$(find "/var/lib/dkms/$name/$ver/$kver" -name "$mod.ko*" -print -quit 2>/dev/null)
[ -n "$ko" ] || die "dkms build left no $mod.ko under /var/lib/dkms/$name/$ver/$kver"
vermagic=$(modinfo -F vermagic "$ko")
echo "built $ko"
echo "vermagic: $vermagic"
[ "${vermagic%% *}" = "$kver" ] || die "vermagic of $ko names '${vermagic%% *}', not $kver"

if [ -n "$keep" ]; then
	mkdir -p "$(dirname "$keep")"
	case $ko in
	*.ko) cp "$ko" "$keep" ;;
	*.ko.xz) xz -dc "$ko" >"$keep" ;;
	*.ko.zst) zstd -qdc "$ko" >"$keep" ;;
	*.ko.gz) gzip -dc "$ko" >"$keep" ;;
	esac
fi

cleanup
trap - EXIT
if [ -e "$src" ] || [ -n "$(status)" ]; then
	die "dkms remove left $name/$ver behind"
fi
echo "$name/$ver added, built for $kver${ktree:+ (tree in the cache)} (vermagic ok), removed"
