#!/usr/bin/env bash
# `make check`: build everything, run the selftests in QEMU guests on Debian's stock
# 6.1 cloud kernel, on the 6.12 debug kernel (KASAN, lockdep, kmemleak) and on the
# newest kernel Debian ships (7.3 from trixie-backports, lockdep, kmemleak), test the
# DKMS and Debian packaging, and run host tests (install, l4ctl, headers, the
# libraries' ABI, man pages, the module's file graph). The last line of output is "N passed, N failed, N skipped";
# the exit status is non-zero if anything failed.
#
# Environment (the Makefile passes T and KERNELS through):
#   T="bin bin:testcase ..."  run only these binaries / test cases (no DKMS test then)
#   KERNELS="6.1 debug latest"  which guests to boot
#   DKMS=no                   skip the DKMS tests
#   DEB=no                    skip the Debian package test
#   HOST=no                   skip the host tests (l4ctl's command line, ...)
#   VM_TIMEOUT=SECONDS        hard limit for one guest (defaults: scripts/vm/lib.sh)
#   TEST_TIMEOUT=SECONDS      limit for one test binary in a guest
#   VM_MEM=MB                 guest memory (default 1024, 1536 on the debug kernels)
#   FAULT_INJECT=1            the tests run under failslab/fail_page_alloc (debug kernels;
#                             scripts/vm/init): only splats, leaks, rmmod and kmemleak count;
#                             FAULT_PROBABILITY=PERCENT per allocation (default 1)
set -euo pipefail
# shellcheck source=scripts/vm/lib.sh
. "$(dirname "$0")/vm/lib.sh"
cd "$l4u_root"
lock_build

T=${T:-}
KERNELS=${KERNELS:-6.1 debug latest}
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
	local what=$1 log=$2 t0=$SECONDS
	shift 2
	echo "-- $what (log: build/logs/$log)"
	if "$@" >"$logs/$log" 2>&1; then
		[ $((SECONDS - t0)) -lt 5 ] || echo "   done in $((SECONDS - t0)) s"
		return 0
	fi
	echo "   FAILED: $what; last lines of build/logs/$log:"
	tail -n 40 "$logs/$log" | sed 's/^/   | /'
	return 1
}

for k in $KERNELS; do
	is_kernel "$k" || die "KERNELS: unknown kernel '$k' (use some of: $l4u_kernels)"
done

# 1. packages
if ! scripts/deps.sh; then
	echo "[deps] not ok required Debian packages"
	add 0 1 0
	summary+=("[deps] missing packages")
	finish
fi

# 2. user space: libl4u, pagers, selftests
if ! step "building user space (libl4u, pagers, examples, selftests)" build-user.log make -C "$l4u_root" user selftests; then
	echo "[build] not ok user space"
	add 0 1 0
	summary+=("[build] user space failed to build")
	finish
fi

# 2b. host tests (no module needed): one counted result each
host_test() {
	local name=$1 what=$2
	shift 2
	if step "$what" "host-$name.log" "$@"; then
		echo "[host] ok $name: $(tail -n 1 "$logs/host-$name.log")"
		add 1 0 0
	else
		echo "[host] not ok $name"
		add 0 1 0
		host_failed+=("$name")
	fi
	host_run=$((host_run + 1))
}
if [ -z "$T" ] && [ "${HOST:-yes}" != no ]; then
	host_run=0 host_failed=()
	host_test l4ctl "l4ctl's command line (exact messages and exit codes)" scripts/test-l4ctl.sh
	host_test install "make install / uninstall into a scratch DESTDIR" scripts/test-install.sh
	host_test headers "public headers compile alone under -std=c99 -Wall -Werror" scripts/test-headers.sh
	host_test abi "the libraries export versioned symbols only, as version scripts and Debian symbols say" scripts/test-abi.sh
	host_test man "man --warnings -l of every man page" scripts/test-man.sh
	summary+=("[host] $((host_run - ${#host_failed[@]})) passed, ${#host_failed[@]} failed${host_failed[*]:+ (${host_failed[*]})}")
fi

# 3. the run list: build/selftests/list with the examples' checks (build/examples/list)
#    before zz_counters, which must stay last; narrowed by T. The guest's /tests is
#    one directory of both.
list=$l4u_build/selftests/list
[ -f "$list" ] || die "selftests built no $list"
exlist=$l4u_build/examples/list
[ -f "$exlist" ] || die "examples built no $exlist"
grep -v '^[[:space:]]*#' "$list" | tr -s ' \t' '\n' | sed '/^$/d' >"$vmdir/selftests.list"
grep -v '^[[:space:]]*#' "$exlist" | tr -s ' \t' '\n' | sed '/^$/d' >"$vmdir/examples.list"
{
	grep -vx zz_counters "$vmdir/selftests.list" || true
	cat "$vmdir/examples.list"
	grep -x zz_counters "$vmdir/selftests.list" || true
} >"$vmdir/all.list"
testdir=$vmdir/tests
rm -rf "$testdir" && mkdir -p "$testdir"
while read -r t; do
	if [ -e "$l4u_build/selftests/$t" ]; then ln -s "$l4u_build/selftests/$t" "$testdir/$t"
	else ln -s "$l4u_build/examples/$t" "$testdir/$t"; fi
done <"$vmdir/all.list"
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

# 4. l4.ko for each kernel (the debug kernels are built once and cached)
declare -A kimage kmod krel kdir
for k in $KERNELS; do
	case $k in
	debug) what="the 6.12 debug kernel (built once, about 5 min on 2 cores, then cached)" ;;
	latest) what="the latest kernel (fetched and built once, about 10 min on 2 cores, then cached)" ;;
	*) what= ;;
	esac
	if [ -n "$what" ] && ! step "$what" "$k-kernel.log" scripts/build-debug-kernel.sh "$k"; then
		echo "[$k] not ok build the $k kernel"
		add 0 1 0
		summary+=("[$k] the $k kernel failed to build")
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
	kdir[$k]=$KDIR
done

# 4b. the module's files call each other one way only (from the objects)
for k in $KERNELS; do
	[ -n "${kmod[$k]:-}" ] || continue
	if step "kmod file graph (scripts/kmod-deps.sh)" kmod-deps.log \
			scripts/kmod-deps.sh "$(dirname "${kmod[$k]}")"; then
		echo "[host] ok kmod file graph has no cycle"
		add 1 0 0
		summary+=("[host] kmod file graph: no cycle")
	else
		echo "[host] not ok kmod file graph has a cycle"
		add 0 1 0
		summary+=("[host] kmod file graph: a cycle")
	fi
	break
done

# 5. DKMS: build the module the way a user's machine would (needs root), for the stock
# kernel (its headers in /lib/modules) and for the latest (its build tree in the cache)
for k in 6.1 latest; do
	if [ -n "$T" ] || [ "${DKMS:-yes}" = no ] || [ -z "${kmod[$k]:-}" ]; then
		continue
	fi
	if [ "$(id -u)" != 0 ]; then
		echo "[dkms/$k] ok dkms build # SKIP needs root"
		add 0 0 1
		summary+=("[dkms/$k] skipped (needs root)")
		continue
	fi
	tree=()
	[ "$k" = 6.1 ] || tree=("${kdir[$k]}")
	if step "DKMS build for the $k kernel" "dkms-$k.log" \
			scripts/test-dkms.sh --keep "$l4u_build/dkms-$k/l4.ko" "${krel[$k]}" "${tree[@]}"; then
		echo "[dkms/$k] ok $(tail -n 1 "$logs/dkms-$k.log")"
		add 1 0 0
		summary+=("[dkms/$k] 1 passed, 0 failed")
		# the guest loads the module DKMS built: proof that it works as packaged
		kmod[$k]=$l4u_build/dkms-$k/l4.ko
	else
		echo "[dkms/$k] not ok dkms build"
		add 0 1 0
		summary+=("[dkms/$k] 0 passed, 1 failed")
	fi
done

# 5b. the Debian packages: build (lintian-clean), dpkg -i, DKMS builds l4.ko for the
#     stock kernel, pkg-config l4u works, apt-get purge leaves nothing (needs root)
if [ -z "$T" ] && [ "${DEB:-yes}" != no ] && [[ " $KERNELS " == *" 6.1 "* ]]; then
	if [ "$(id -u)" != 0 ]; then
		echo "[deb] ok Debian packages # SKIP needs root"
		add 0 0 1
		summary+=("[deb] skipped (needs root)")
	elif step "Debian packages: build, install, DKMS, pkg-config, purge" deb.log scripts/test-deb.sh; then
		echo "[deb] ok $(tail -n 1 "$logs/deb.log")"
		add 1 0 0
		summary+=("[deb] 1 passed, 0 failed")
	else
		echo "[deb] not ok Debian packages"
		add 0 1 0
		summary+=("[deb] 0 passed, 1 failed")
	fi
fi

# 6. the guests
for k in $KERNELS; do
	[ -n "${kmod[$k]:-}" ] || continue
	echo
	echo "== $k: ${krel[$k]}, module ${kmod[$k]#"$l4u_root"/} =="
	initrd=$vmdir/$k.cpio.gz
	if ! scripts/vm/mkinitramfs.sh -o "$initrd" -k "${kmod[$k]}" -K "${krel[$k]}" -m check -p "$l4u_build/pagers" \
			-d "$testdir" -r "$runlist" -T "$(guest_test_timeout "$k")"; then
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
