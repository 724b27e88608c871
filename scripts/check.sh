#!/usr/bin/env bash
# `make check`: build everything, run the selftests in QEMU guests on Debian's stock
# 6.1 cloud kernel and on the 6.12 debug kernel (KASAN, lockdep, kmemleak), and test
# the DKMS packaging. The last line of output is "N passed, N failed, N skipped";
# the exit status is non-zero if anything failed.
#
# Environment (the Makefile passes T and KERNELS through):
#   T="bin bin:testcase ..."  run only these binaries / test cases (no DKMS test then)
#   KERNELS="6.1 debug"       which guests to boot
#   DKMS=no                   skip the DKMS test
#   VM_TIMEOUT=SECONDS        hard limit for one guest (default 300 on 6.1, 600 on debug)
#   TEST_TIMEOUT=SECONDS      limit for one test binary in a guest (default 120 / 300)
#   VM_MEM=MB                 guest memory (default 1024 / 1536)
#   FAULT_INJECT=1            the tests run under failslab/fail_page_alloc (debug kernel;
#                             scripts/vm/init): only splats, leaks, rmmod and kmemleak count;
#                             FAULT_PROBABILITY=PERCENT per allocation (default 1)
set -euo pipefail
# shellcheck source=scripts/vm/lib.sh
. "$(dirname "$0")/vm/lib.sh"
cd "$l4u_root"
lock_build

T=${T:-}
KERNELS=${KERNELS:-6.1 debug}
logs=$l4u_build/logs
vmdir=$l4u_build/vm
mkdir -p "$logs" "$vmdir"

passed=0 failed=0 skipped=0
summary=()

add() { passed=$((passed + $1)); failed=$((failed + $2)); skipped=$((skipped + $3)); }
finish() {
	echo
	echo "== summary =="
	local s
	for s in "${summary[@]}"; do echo "$s"; done
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ] && exit 0
	exit 1
}
# run "what" cmd...: output to build/logs/<log>, shown (tail) only on failure
step() {
	local what=$1 log=$2
	shift 2
	echo "-- $what (log: build/logs/$log)"
	if "$@" >"$logs/$log" 2>&1; then
		return 0
	fi
	echo "   FAILED: $what; last lines of build/logs/$log:"
	tail -n 40 "$logs/$log" | sed 's/^/   | /'
	return 1
}

for k in $KERNELS; do
	case $k in 6.1|debug) ;; *) die "KERNELS: unknown kernel '$k' (use 6.1 and/or debug)" ;; esac
done

# 1. packages
if ! scripts/deps.sh; then
	echo "[deps] not ok required Debian packages"
	add 0 1 0
	summary+=("[deps] missing packages")
	finish
fi

# 2. user space: libl4u, pagers, selftests
if ! step "building user space (libl4u, pagers, selftests)" build-user.log make -C "$l4u_root" user; then
	echo "[build] not ok user space"
	add 0 1 0
	summary+=("[build] user space failed to build")
	finish
fi

# 3. the run list: build/selftests/list, narrowed by T
list=$l4u_build/selftests/list
[ -f "$list" ] || die "selftests built no $list"
grep -v '^[[:space:]]*#' "$list" | tr -s ' \t' '\n' | sed '/^$/d' >"$vmdir/all.list"
runlist=$vmdir/run.list
if [ -z "$T" ]; then
	cp "$vmdir/all.list" "$runlist"
else
	: >"$runlist"
	for t in $T; do
		bin=${t%%:*}
		grep -qx -- "$bin" "$vmdir/all.list" ||
			die "T=$t: no test binary '$bin'; there are: $(tr '\n' ' ' <"$vmdir/all.list")"
		if [ "$t" = "$bin" ]; then
			echo "$bin" >>"$runlist"
		else
			case=${t#*:}
			# harness filters: -t TEST, or -r FIXTURE[.VARIANT].TEST when qualified
			case $case in *.*) echo "$bin -r $case" ;; *) echo "$bin -t $case" ;; esac >>"$runlist"
		fi
	done
fi

# fault injection: the guest needs zz_counters to check for leaks afterwards
export L4U_FAULT_INJECT=${FAULT_INJECT:-} L4U_FAULT_PROBABILITY=${FAULT_PROBABILITY:-}
if [ -n "$L4U_FAULT_INJECT" ] && ! grep -qx zz_counters "$runlist"; then
	echo zz_counters >>"$runlist"
fi

# 4. l4.ko for each kernel (the debug kernel is built once and cached)
declare -A kimage kmod krel
for k in $KERNELS; do
	if [ "$k" = debug ] && ! step "6.12 debug kernel (built once, about 4 min on 2 cores, then cached)" \
			debug-kernel.log scripts/build-debug-kernel.sh; then
		echo "[debug] not ok build the 6.12 debug kernel"
		add 0 1 0
		summary+=("[debug] the debug kernel failed to build")
		continue
	fi
	if ! resolve_kernel "$k"; then
		echo "[$k] not ok find the kernel"
		add 0 1 0
		summary+=("[$k] kernel not found")
		continue
	fi
	if ! step "building l4.ko for $KREL" "$k-module.log" make -C "$l4u_root" module KDIR="$KDIR"; then
		echo "[$k] not ok build l4.ko"
		add 0 1 0
		summary+=("[$k] l4.ko failed to build for $KREL")
		continue
	fi
	kimage[$k]=$KIMAGE
	kmod[$k]=$(kmod_dir "$KREL")/l4.ko
	krel[$k]=$KREL
done

# 5. DKMS: build the module the way a user's machine would (needs root)
if [ -z "$T" ] && [ "${DKMS:-yes}" != no ] && [[ " $KERNELS " == *" 6.1 "* ]]; then
	if [ "$(id -u)" != 0 ]; then
		echo "[dkms] ok dkms build # SKIP needs root"
		add 0 0 1
		summary+=("[dkms] skipped (needs root)")
	elif step "DKMS build for the stock kernel" dkms.log scripts/test-dkms.sh --keep "$l4u_build/dkms/l4.ko"; then
		echo "[dkms] ok $(tail -n 1 "$logs/dkms.log")"
		add 1 0 0
		summary+=("[dkms] 1 passed, 0 failed")
		# the 6.1 guest loads the module DKMS built: proof that it works as packaged
		if [ -n "${kmod[6.1]:-}" ]; then kmod[6.1]=$l4u_build/dkms/l4.ko; fi
	else
		echo "[dkms] not ok dkms build"
		add 0 1 0
		summary+=("[dkms] 0 passed, 1 failed")
	fi
fi

# 6. the guests
for k in $KERNELS; do
	[ -n "${kmod[$k]:-}" ] || continue
	echo
	echo "== $k: ${krel[$k]}, module ${kmod[$k]#"$l4u_root"/} =="
	initrd=$vmdir/$k.cpio.gz
	if ! scripts/vm/mkinitramfs.sh -o "$initrd" -k "${kmod[$k]}" -K "${krel[$k]}" -m check -p "$l4u_build/pagers" \
			-d "$l4u_build/selftests" -r "$runlist" -T "$(guest_test_timeout "$k")"; then
		echo "[$k] not ok build the initramfs"
		add 0 1 0
		summary+=("[$k] the initramfs failed to build")
		continue
	fi
	for attempt in 1 2; do
		start=$(date +%s%N)
		rc=0
		scripts/vm/run-qemu.sh "${kimage[$k]}" "$initrd" "$logs/$k.log" "$logs/$k.console.log" \
			"$(guest_mem "$k")" "$(guest_timeout "$k")" || rc=$?
		ms=$((($(date +%s%N) - start) / 1000000))
		scripts/vm/parse-log.sh "$k" "$logs/$k.log" "$logs/$k.console.log" "$runlist" "$rc" "$vmdir/$k.counts"
		read -r p f s boot <"$vmdir/$k.counts"
		# A report during the kernel's own boot, before /init (so before l4.ko) ran,
		# is the kernel's or the emulator's, not l4u's: keep its log and boot once
		# more. Twice in a row fails the run.
		[ "$attempt" = 1 ] && [ "$boot" = 1 ] && [ "$f" = 1 ] || break
		cp "$logs/$k.console.log" "$logs/$k.boot-report.console.log"
		echo "[$k] # the kernel report above came during boot, before /init and l4.ko:"
		echo "[$k] # not l4u's (kept in build/logs/$k.boot-report.console.log); booting again"
	done
	add "$p" "$f" "$s"
	summary+=("$(printf '[%s] %d passed, %d failed, %d skipped; guest %d.%d s; logs build/logs/%s.log, %s.console.log' \
		"$k" "$p" "$f" "$s" $((ms / 1000)) $((ms % 1000 / 100)) "$k" "$k")")
done

finish
