#!/usr/bin/env bash
# `make demo`: build what the demo needs, boot a guest (Debian's 6.1 kernel, the
# 6.12 debug kernel with KERNEL=debug, the newest one with KERNEL=latest), load l4.ko, run /bin/l4u-demo and show its
# output, then rmmod and reboot. Exit status: the demo's (non-zero also when l4.ko
# does not load, the guest dies, or the kernel reports a problem).
#
# Environment: KERNEL=6.1|debug|latest, DEMO_ARGS="..." (passed to l4u-demo; --basics: the
#              tour of spaces, windows and pagers instead of the dataspace demo),
#              DEMO_BIN=path (run that static program instead: make run PROG=path,
#              make bench; the pagers, l4ctl and the examples are in the guest's /bin),
#              DEMO_EXTRA=dir (its files go into the guest's / as well, in a second
#              archive appended to the initramfs: scripts/bench-compare.sh puts an
#              older l4.ko and the benchmarks there),
#              VM_TIMEOUT=SECONDS (hard limit for the guest).
set -euo pipefail
# shellcheck source=scripts/vm/lib.sh
. "$(dirname "$0")/vm/lib.sh"
cd "$l4u_root"
lock_build

k=${KERNEL:-6.1}
is_kernel "$k" || die "KERNEL=$k: use one of: $l4u_kernels"
logs=$l4u_build/logs
vmdir=$l4u_build/vm
mkdir -p "$logs" "$vmdir"

quiet_step() {
	local what=$1 log=$2
	shift 2
	echo "-- $what (log: build/logs/$log)"
	"$@" >"$logs/$log" 2>&1 && return 0
	tail -n 40 "$logs/$log" >&2
	die "$what failed"
}

scripts/deps.sh
quiet_step "building libl4u, pagers, examples and benchmarks" build-demo.log make -C "$l4u_root" pagers tools examples bench-build
if [ "$k" != 6.1 ]; then
	quiet_step "the $k kernel (built once, 5 to 10 min on 2 cores, then cached)" \
		"$k-kernel.log" scripts/build-debug-kernel.sh "$k"
fi
resolve_kernel "$k" || exit 1
quiet_step "building l4.ko for $KREL" "$k-module.log" make -C "$l4u_root" module KDIR="$KDIR"
# DEMO_BIN: another static program to run instead (make bench uses it)
demo=${DEMO_BIN:-$l4u_build/pagers/l4u-demo}
[ -x "$demo" ] || die "pagers built no $demo"

initrd=$vmdir/demo-$k.cpio.gz
scripts/vm/mkinitramfs.sh -o "$initrd" -k "$(kmod_dir "$KREL")/l4.ko" -K "$KREL" -m demo \
	-D "$demo ${DEMO_ARGS:-}" -T "$(guest_test_timeout "$k")" -p "$l4u_build/pagers"
# the kernel unpacks concatenated (compressed) cpio archives one after the other
if [ -n "${DEMO_EXTRA:-}" ]; then
	[ -d "$DEMO_EXTRA" ] || die "DEMO_EXTRA=$DEMO_EXTRA is no directory"
	(cd "$DEMO_EXTRA" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >>"$initrd"
fi
echo "-- booting $KREL under QEMU (TCG)"
out=$logs/demo-$k.log
console=$logs/demo-$k.console.log
rc=0
scripts/vm/run-qemu.sh "$KIMAGE" "$initrd" "$out" "$console" "$(guest_mem "$k")" "$(guest_timeout "$k")" || rc=$?

# the demo's own lines, between its markers
log=$(tr -d '\r\000' <"$out")
echo
sed -n '/^@@l4u demo-begin/,/^@@l4u demo-end/{/^@@l4u /!p}' <<<"$log"
echo

status=$(sed -n 's/^@@l4u demo-end rc=\([0-9]*\).*/\1/p' <<<"$log")
problems=0
grep -q '^@@l4u insmod ok' <<<"$log" || { echo "demo: insmod l4.ko failed" >&2; problems=1; }
grep -q '^@@l4u rmmod ok' <<<"$log" || { echo "demo: rmmod l4 failed" >&2; problems=1; }
if ! grep -q '^@@l4u end' <<<"$log"; then
	echo "demo: the guest did not run to its end (QEMU status $rc); last kernel console lines:" >&2
	tail -n 30 "$console" >&2
	problems=1
fi
# kernel reports (WARNING, KASAN, lockdep, leaks...): the test parser judges the dmesg
report=$(scripts/vm/parse-log.sh "demo/$k" "$out" "$console" /dev/null "$rc" "$vmdir/demo.counts" |
	sed -n '/ not ok no kernel splat/,$p' | sed '$d')
if [ -n "$report" ]; then
	echo "$report" >&2
	problems=1
fi
echo "demo: full guest log in build/logs/demo-$k.log"
if [ -z "$status" ]; then
	echo "demo: $(basename "$demo") did not run to its end" >&2
	exit 1
fi
echo "demo: $(basename "$demo") exited with status $status"
[ "$status" -ne 0 ] && exit "$status"
exit "$problems"
