# Shared helpers of the l4u test bed (sourced by scripts/*.sh, not run).
# shellcheck shell=bash

l4u_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
l4u_build=$l4u_root/build

die() { echo "error: $*" >&2; exit 1; }

# One `make check` / `make demo` at a time per tree: they share build/.
lock_build() {
	mkdir -p "$l4u_build"
	exec 9>"$l4u_build/.lock"
	if ! flock -n 9; then
		echo "waiting for another make check/demo in $l4u_root to finish ..." >&2
		flock 9
	fi
}

# The newest Debian cloud kernel that has both an image in /boot and headers.
# Override with L4U_STOCK_KVER=<uname -r of the kernel>.
stock_kver() {
	if [ -n "${L4U_STOCK_KVER:-}" ]; then
		echo "$L4U_STOCK_KVER"
		return
	fi
	local img v
	for img in $(ls -1 /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sort -rV); do
		v=${img#/boot/vmlinuz-}
		if [ -d "/lib/modules/$v/build" ]; then
			echo "$v"
			return
		fi
	done
	return 1
}

# The kernel release a build tree / headers dir was configured for.
kdir_release() {
	sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' "$1/include/generated/utsrelease.h" 2>/dev/null
}

# resolve_kernel NAME: sets KNAME, KDIR, KIMAGE, KREL for NAME = 6.1 | debug.
# The debug kernel is built (or taken from the cache) by build-debug-kernel.sh.
# Returns 1 with a message on stderr when the kernel is not there.
resolve_kernel() {
	KNAME=$1
	case $KNAME in
	6.1)
		local v
		if ! v=$(stock_kver); then
			echo "error: no Debian cloud kernel with headers found (apt-get install" \
			     "linux-image-cloud-amd64 linux-headers-cloud-amd64, or as root: scripts/deps.sh)" >&2
			return 1
		fi
		KDIR=/lib/modules/$v/build
		KIMAGE=/boot/vmlinuz-$v
		;;
	debug)
		local tree
		tree=$("$l4u_root/scripts/build-debug-kernel.sh") || {
			echo "error: building the 6.12 debug kernel failed" >&2
			return 1
		}
		KDIR=$tree
		KIMAGE=$tree/arch/x86/boot/bzImage
		;;
	*)
		echo "error: unknown kernel '$KNAME' (6.1 or debug)" >&2
		return 1
		;;
	esac
	[ -r "$KIMAGE" ] || { echo "error: kernel image $KIMAGE missing or unreadable" >&2; return 1; }
	KREL=$(kdir_release "$KDIR")
	[ -n "$KREL" ] || { echo "error: cannot read the kernel release of $KDIR" >&2; return 1; }
}

# Where `make module KDIR=...` puts l4.ko for a kernel release.
kmod_dir() { echo "$l4u_build/kmod-$1"; }

# Guest memory and time limits per kernel (the KASAN kernel is several times slower):
# a whole guest (VM_TIMEOUT) and one test binary in it (TEST_TIMEOUT).
guest_mem()          { [ "$1" = debug ] && echo "${VM_MEM:-1536}" || echo "${VM_MEM:-1024}"; }
guest_timeout()      { [ "$1" = debug ] && echo "${VM_TIMEOUT:-600}" || echo "${VM_TIMEOUT:-300}"; }
guest_test_timeout() { [ "$1" = debug ] && echo "${TEST_TIMEOUT:-300}" || echo "${TEST_TIMEOUT:-120}"; }
