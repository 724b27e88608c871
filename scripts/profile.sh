#!/usr/bin/env bash
# Profile rows of bench/fault_ipc in a guest with perf (sampling, call graphs).
#
# usage: scripts/profile.sh [-k 6.1|debug|latest] [-n PAGES] [-s SPIN_NS] [-l PERCENT] ROW...
#   ROW       l4 | l4-busy | nospin | copy | copy-read | copy-busy | cont | cont-read | cont-busy
#             (section [1]: uffd pagers waiting by poll, blocking read or busy polling)
#             or native | refault ([3]): each row runs alone (FAULT_IPC_ONLY) under
#             `perf record -a -g`
#   -k        the guest kernel (default 6.1)
#   -n        pages per run of section [1] (default 1500)
#   -s        l4.ko's spin_ns for the run (default: the module's)
#   -l        leave out symbols under this many percent (default 0.5)
# Prints, per row, the row's timing and perf's report of the fault_ipc process:
# "children" (the symbol and what it called) and "self", in percent of all
# samples of both CPUs (idle included), sorted by children.
#
# The guest has no perf: the host's (package linux-perf) goes in with the shared
# libraries it needs, in a second cpio appended to the initramfs. Without PMU
# under TCG, perf samples a software clock (cpu-clock), so samples land where
# interrupts are enabled: spans with interrupts off show up at their end.
set -euo pipefail
# shellcheck source=scripts/vm/lib.sh
. "$(dirname "$0")/vm/lib.sh"
cd "$l4u_root"

k=6.1 pages=1500 spin='' limit=0.5
while getopts k:n:s:l: opt; do
	case $opt in
	k) k=$OPTARG ;;
	n) pages=$OPTARG ;;
	s) spin=$OPTARG ;;
	l) limit=$OPTARG ;;
	*) die "usage: scripts/profile.sh [-k 6.1|debug|latest] [-n PAGES] [-s SPIN_NS] [-l PERCENT] ROW..." ;;
	esac
done
shift $((OPTIND - 1))
rows="l4 l4-busy nospin copy copy-read copy-busy cont cont-read cont-busy native refault"
[ $# -gt 0 ] || die "name at least one row: $rows"
for row in "$@"; do
	[[ " $rows " == *" $row "* ]] || die "unknown row '$row' (rows: $rows)"
done
is_kernel "$k" || die "-k $k: use one of: $l4u_kernels"
[[ $pages =~ ^[0-9]+$ ]] || die "-n $pages: not a number"
[ -z "$spin" ] || [[ $spin =~ ^[0-9]+$ ]] || die "-s $spin: not a number"
perf=$(command -v perf || true)
[ -n "$perf" ] || die "no perf on this machine (apt-get install linux-perf)"

lock_build
logs=$l4u_build/logs
mkdir -p "$logs"
make -s -C "$l4u_root" bench-build >/dev/null
if [ "$k" != 6.1 ]; then
	scripts/build-debug-kernel.sh "$k" >"$logs/$k-kernel.log" 2>&1 || die "$k kernel build failed (build/logs/$k-kernel.log)"
fi
resolve_kernel "$k" || exit 1
make -s -C "$l4u_root" module KDIR="$KDIR" >"$logs/$k-module.log" 2>&1 || die "l4.ko build failed (build/logs/$k-module.log)"

stage=$(mktemp -d "${TMPDIR:-/tmp}/l4u-profile.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/perf/usr/bin" "$stage/perf/bin"
cp "$perf" "$stage/perf/usr/bin/perf"
# perf's shared libraries and loader, at the paths it asks for
for lib in $(ldd "$perf" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
	mkdir -p "$stage/perf$(dirname "$lib")"
	cp -L "$lib" "$stage/perf$lib"
done

runner=$stage/profile-run
{
	echo '#!/bin/sh'
	echo 'echo 0 >/proc/sys/kernel/kptr_restrict'
	echo 'echo -1 >/proc/sys/kernel/perf_event_paranoid'
	[ -z "$spin" ] || echo "echo $spin >/sys/module/l4/parameters/spin_ns"
	# shellcheck disable=SC2016 # expands in the guest
	echo 'echo "spin_ns=$(cat /sys/module/l4/parameters/spin_ns)"'
	for row in "$@"; do
		echo "echo '== row $row'"
		echo "FAULT_IPC_ONLY=$row /usr/bin/perf record -q -a -g -F 2000 -o /tmp/perf.$row /bin/fault_ipc $pages 32 3 2>&1 | grep -E 'ns/page|  [a-z]'"
		echo "/usr/bin/perf report -i /tmp/perf.$row --stdio --children --comms fault_ipc --sort sym -g none --percent-limit $limit 2>/dev/null | grep -v '^#' | grep -v '^\$'"
	done
} >"$runner"
chmod 755 "$runner"

initrd=$stage/profile.cpio.gz
scripts/vm/mkinitramfs.sh -o "$stage/base.cpio.gz" -k "$(kmod_dir "$KREL")/l4.ko" -K "$KREL" -m demo \
	-D "$runner" -T "$(guest_test_timeout "$k")" -p "$l4u_build/bench"
(cd "$stage/perf" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$stage/perf.cpio.gz"
cat "$stage/base.cpio.gz" "$stage/perf.cpio.gz" >"$initrd"

out=$logs/profile-$k.log
echo "-- booting $KREL under QEMU (TCG) with perf; log: build/logs/profile-$k.log" >&2
scripts/vm/run-qemu.sh "$KIMAGE" "$initrd" "$out" "$out.console" "$(guest_mem "$k")" "$(guest_timeout "$k")" || true
sed -n '/^@@l4u demo-begin/,/^@@l4u demo-end/{/^@@l4u /!p}' <(tr -d '\r\000' <"$out")
grep -q '^@@l4u demo-end rc=0' <(tr -d '\r\000' <"$out") || die "the profile run failed; see $out"
