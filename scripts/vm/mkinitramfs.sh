#!/usr/bin/env bash
# Build the busybox-static initramfs (cpio.gz) of an l4u test guest.
#
# usage: mkinitramfs.sh -o OUT.cpio.gz -k l4.ko [-K KREL] [-m check|demo]
#                       [-d TESTDIR -r RUNLIST] [-D "demo-binary args"] [-T SECONDS] [-p PROGDIR]
#   -k  the module; if it depends on other modules, they are taken from
#       /lib/modules/KREL (-K) and loaded first
#   -d  directory of the static test binaries (copied to /tests)
#   -r  run list: one "<binary> [args...]" per line, in run order
#   -D  demo command: its first word is a static binary copied to /bin
#   -T  how long one test binary (or the demo) may run in the guest
#   -p  directory of static programs (pagers, dataspace managers) copied to /bin
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/vm/lib.sh
. "$here/lib.sh"

out='' ko='' krel='' mode=check testdir='' runlist='' demo='' tmo=240 progdir=''
while getopts o:k:K:m:d:r:D:T:p: opt; do
	case $opt in
	o) out=$OPTARG ;;
	k) ko=$OPTARG ;;
	K) krel=$OPTARG ;;
	m) mode=$OPTARG ;;
	d) testdir=$OPTARG ;;
	r) runlist=$OPTARG ;;
	D) demo=$OPTARG ;;
	T) tmo=$OPTARG ;;
	p) progdir=$OPTARG ;;
	*) die "mkinitramfs.sh: bad option" ;;
	esac
done
[ -n "$out" ] && [ -n "$ko" ] || die "mkinitramfs.sh: -o and -k are required"
[ -f "$ko" ] || die "module $ko not found"
busybox=$(command -v busybox || true)
[ -n "$busybox" ] || die "busybox not found (apt-get install busybox-static)"
# the guest has no shared libraries: everything in it must be linked statically
need_static() {
	local hdr
	hdr=$(readelf -l "$1" 2>/dev/null || true)
	if grep -q 'Requesting program interpreter' <<<"$hdr"; then
		die "$1 is dynamically linked; the guest needs static binaries${2:+ ($2)}"
	fi
}
need_static "$busybox" "apt-get install busybox-static"

stage=$(mktemp -d "${TMPDIR:-/tmp}/l4u-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,dev,etc,proc,sys,tmp,tests,lib/modules}
chmod 755 "$stage"	# mktemp made it 0700: the guest's / must be open to other uids
cp "$busybox" "$stage/bin/busybox"
ln -s busybox "$stage/bin/sh"
cp "$here/init" "$stage/init"
chmod 755 "$stage/init"
cp "$ko" "$stage/l4.ko"

# modules l4.ko needs that are not built into the kernel (none on the debug kernel)
preload=
deps=$(modinfo -F depends "$ko" 2>/dev/null | tr ',' ' ')
if [ -n "${deps// /}" ]; then
	[ -n "$krel" ] || die "l4.ko depends on '$deps' but no kernel release (-K) was given"
	for d in $deps; do
		modprobe -S "$krel" --show-depends "$d" | awk '$1 == "insmod" { print $2 }'
	done | awk '!seen[$0]++' >"$stage/preload.list"
	while read -r m; do
		case $m in
		*.ko) cp "$m" "$stage/lib/modules/" ;;
		*.ko.xz) xz -dc "$m" >"$stage/lib/modules/$(basename "${m%.xz}")"; m=${m%.xz} ;;
		*.ko.zst) zstd -qdc "$m" >"$stage/lib/modules/$(basename "${m%.zst}")"; m=${m%.zst} ;;
		*) die "cannot handle module $m" ;;
		esac
		preload="$preload /lib/modules/$(basename "$m")"
	done <"$stage/preload.list"
	rm "$stage/preload.list"
fi

# programs the tests and demos start (pagers, dataspace managers) go to /bin
if [ -n "$progdir" ] && [ -d "$progdir" ]; then
	for p in "$progdir"/*; do
		[ -f "$p" ] && [ -x "$p" ] || continue
		need_static "$p"
		cp "$p" "$stage/bin/"
	done
fi

if [ "$mode" = check ]; then
	[ -n "$testdir" ] && [ -f "$runlist" ] || die "mkinitramfs.sh: check mode needs -d and -r"
	cp "$runlist" "$stage/tests/run"
	while read -r bin _; do
		[ -n "$bin" ] || continue
		[ -f "$testdir/$bin" ] || die "test binary $testdir/$bin not found"
		need_static "$testdir/$bin"
		cp "$testdir/$bin" "$stage/tests/"
	done <"$runlist"
else
	[ -n "$demo" ] || die "mkinitramfs.sh: demo mode needs -D"
	read -r demobin demoargs <<<"$demo"
	[ -f "$demobin" ] || die "demo binary $demobin not found"
	need_static "$demobin"
	cp "$demobin" "$stage/bin/"
	demo="/bin/$(basename "$demobin") $demoargs"
fi

cat >"$stage/etc/l4u.conf" <<CONF
L4U_MODE='$mode'
L4U_PRELOAD='$preload'
L4U_TIMEOUT='$tmo'
L4U_DEMO='$demo'
L4U_FAULT_INJECT='${L4U_FAULT_INJECT:-}'
L4U_FAULT_PROBABILITY='${L4U_FAULT_PROBABILITY:-}'
CONF

(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$out"
