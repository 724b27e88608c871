#!/usr/bin/env bash
# Prove the Debian packages (make deb: l4u-dkms, libl4u0, libl4u-server0, libl4u-dev,
# l4u-tools) on
# this machine: build them (lintian-clean), dpkg -i them, see `dkms status` show
# l4u built and installed for the stock 6.1 kernel's headers, every file the
# packages list in place (the DKMS source without build/ or .git, the udev rule,
# group l4), a program built with `pkg-config l4u` (shared and static) that
# links and runs, a server (examples/dsm.c) built with `pkg-config l4u-server`,
# then `apt-get purge` them and find nothing of them left:
# no file, no DKMS tree, no l4.ko. Needs root; safe to rerun (it refuses to
# touch an installation it did not make). The last line says what was proven.
#
# usage: scripts/test-deb.sh [KERNEL_RELEASE]
set -euo pipefail
# shellcheck source=scripts/vm/lib.sh
. "$(dirname "$0")/vm/lib.sh"
cd "$l4u_root"

[ "$(id -u)" = 0 ] || die "the package test needs root (dpkg -i, apt-get purge)"
kver=${1:-}
[ -n "$kver" ] || kver=$(stock_kver) || die "no Debian cloud kernel with headers found"
# one DKMS or package test per machine (they share /usr/src and /var/lib/dkms),
# whichever tree it runs from
exec 8>/run/lock/l4u-dkms.lock
if ! flock -n 8; then
	echo "waiting for another DKMS or package test on this machine ..." >&2
	flock 8
fi
pkgs=(l4u-dkms libl4u0 libl4u-server0 libl4u-dev l4u-tools)
installed() { [ -n "$(dpkg-query -W -f '${db:Status-Status}\n' "$1" 2>/dev/null | grep -v '^not-installed$')" ]; }
for p in "${pkgs[@]}"; do
	! installed "$p" || die "$p is installed on this machine: 'apt-get purge ${pkgs[*]}' first"
done
[ -z "$(dkms status -m l4u 2>/dev/null)" ] || die "l4u is in DKMS already ('dkms remove l4u/<version> --all' first)"

out=$l4u_build/deb
scripts/mkdeb.sh "$out"
ver=$(dpkg-parsechangelog -S Version)
arch=$(dpkg --print-architecture)
debs=("$out/l4u-dkms_${ver}_all.deb" "$out/libl4u0_${ver}_$arch.deb"
      "$out/libl4u-server0_${ver}_$arch.deb" "$out/libl4u-dev_${ver}_$arch.deb"
      "$out/l4u-tools_${ver}_$arch.deb")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/l4u-deb.XXXXXX")
purge() {
	DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "${pkgs[@]}" >/dev/null 2>&1 || true
}
trap 'purge; rm -rf "$tmp"' EXIT

echo "== dpkg -i ${debs[*]##*/}"
dpkg -i "${debs[@]}"
for p in "${pkgs[@]}"; do dpkg-query -W -f '${Package} ${Version} ${db:Status-Status}\n' "$p"; done

echo "== dkms status"
dkms status -m l4u
grep -q "^l4u/$ver, $kver, [^:]*: installed" <<<"$(dkms status -m l4u -v "$ver" -k "$kver")" ||
	die "dkms status shows no l4u/$ver installed for $kver"
ko=$(find "/lib/modules/$kver/updates/dkms" -name 'l4.ko*' -print -quit 2>/dev/null)
[ -n "$ko" ] || die "no l4.ko under /lib/modules/$kver/updates/dkms"
vermagic=$(modinfo -F vermagic "$ko")
[ "${vermagic%% *}" = "$kver" ] || die "vermagic of $ko names '${vermagic%% *}', not $kver"
grep -qx 'devname:l4' <<<"$(modinfo -F alias "$ko")" || die "$ko has no devname:l4 alias"
echo "l4.ko for $kver: $ko (vermagic ok, aliases $(modinfo -F alias "$ko" | tr '\n' ' '))"

echo "== files where the packages say"
for p in "${pkgs[@]}"; do
	n=0
	while read -r f; do
		[ -d "$f" ] && continue
		[ -e "$f" ] || die "$p lists $f, which is not there"
		n=$((n + 1))
		echo "$f" >>"$tmp/files"
	done < <(dpkg -L "$p")
	echo "$p: $n files in place"
done
src=/usr/src/l4u-$ver
for f in "$src/dkms.conf" "$src/Kbuild" "$src/kmod/main.c" "$src/uapi/linux/l4.h" \
	/usr/lib/udev/rules.d/70-l4u.rules /usr/lib/sysusers.d/l4u.conf \
	/usr/bin/l4ctl /usr/bin/l4u-dsm-anon /usr/bin/l4u-dsm-file /usr/bin/l4u-demo \
	/usr/include/l4u/l4u.h /usr/include/l4u/dsm.h /usr/include/linux/l4.h \
	/usr/share/man/man8/l4ctl.8.gz /usr/share/man/man3/l4u_dsm_create.3.gz \
	/usr/share/man/man4/l4.4.gz /usr/share/man/man3/l4u_open.3.gz; do
	[ -e "$f" ] || die "$f missing"
done
for junk in build .git libl4u selftests debian; do
	[ ! -e "$src/$junk" ] || die "the DKMS source $src holds $junk"
done
getent group l4 >/dev/null || die "no group l4 after installing l4u-dkms"
l4ctl --version

echo "== a program of yours: pkg-config l4u"
cat >"$tmp/first.c" <<'C'
#include <stdio.h>
#include <l4u/l4u.h>

int main(void)
{
	int dev = l4u_open();

	printf("l4u %d.%d: %s\n", L4U_VERSION_MAJOR, L4U_VERSION_MINOR,
	       dev < 0 ? l4u_open_strerror(dev) : "/dev/l4 open");
	return 0;
}
C
pkg-config --modversion l4u
# shellcheck disable=SC2046
gcc -std=c99 -Wall -Werror -o "$tmp/first" "$tmp/first.c" $(pkg-config --cflags --libs l4u)
# (the whole output first: grep -q ending early would fail the pipe under pipefail)
libs=$(ldd "$tmp/first")
grep -q 'libl4u.so.0 => /' <<<"$libs" || die "first does not find the installed libl4u.so.0: $libs"
"$tmp/first"
# shellcheck disable=SC2046
gcc -static -o "$tmp/first-static" "$tmp/first.c" $(pkg-config --static --cflags --libs l4u)
"$tmp/first-static" >/dev/null

echo "== a server of yours: pkg-config l4u-server"
pkg-config --modversion l4u-server
# shellcheck disable=SC2046
gcc -Wall -Werror -o "$tmp/dsm" examples/dsm.c $(pkg-config --cflags --libs l4u-server)
libs=$(ldd "$tmp/dsm")
grep -q 'libl4u-server.so.0 => /' <<<"$libs" || die "ex-dsm does not find the installed libl4u-server.so.0: $libs"
# shellcheck disable=SC2046
gcc -static -o "$tmp/dsm-static" examples/dsm.c $(pkg-config --static --cflags --libs l4u-server)

echo "== apt-get purge ${pkgs[*]}"
DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "${pkgs[@]}"
for p in "${pkgs[@]}"; do
	! installed "$p" || die "$p is still installed after the purge"
done
left=$(while read -r f; do [ -e "$f" ] && echo "$f"; done <"$tmp/files" || true)
[ -z "$left" ] || die "left after the purge: $left"
[ ! -e "$src" ] || die "$src left after the purge"
[ ! -e /var/lib/dkms/l4u ] || die "/var/lib/dkms/l4u left after the purge"
[ -z "$(find /lib/modules/*/updates -name 'l4.ko*' 2>/dev/null)" ] || die "an l4.ko left after the purge"
[ -z "$(dkms status -m l4u 2>/dev/null)" ] || die "dkms still knows l4u after the purge"
trap 'rm -rf "$tmp"' EXIT
echo "packages: lintian-clean, installed (l4.ko by DKMS for $kver), files in place, pkg-config l4u and l4u-server build, purged without a trace"
