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

# The guest kernels make check and make demo know, and what each one is.
l4u_kernels="6.1 debug latest"
kernel_what() {
	case $1 in
	6.1) echo "Debian's stock 6.1 cloud kernel" ;;
	debug) echo "Debian's linux-source-6.12 with the debug config" ;;
	latest) echo "the newest linux-source-X.Y of trixie-backports with the debug config" ;;
	esac
}
# is_kernel NAME: NAME is one of $l4u_kernels
is_kernel() { [[ " $l4u_kernels " == *" $1 "* ]]; }

# resolve_kernel NAME: sets KNAME, KDIR, KIMAGE, KREL for NAME = 6.1 | debug | latest.
# The debug and latest kernels are built (or taken from the cache) by
# build-debug-kernel.sh. Returns 1 with a message on stderr when the kernel is not there.
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
	debug|latest)
		local tree
		tree=$("$l4u_root/scripts/build-debug-kernel.sh" "$KNAME") || {
			echo "error: building the $KNAME kernel failed" >&2
			return 1
		}
		KDIR=$tree
		KIMAGE=$tree/arch/x86/boot/bzImage
		;;
	*)
		echo "error: unknown kernel '$KNAME' (one of: $l4u_kernels)" >&2
		return 1
		;;
	esac
	[ -r "$KIMAGE" ] || { echo "error: kernel image $KIMAGE missing or unreadable" >&2; return 1; }
	KREL=$(kdir_release "$KDIR")
	[ -n "$KREL" ] || { echo "error: cannot read the kernel release of $KDIR" >&2; return 1; }
}

# Where `make module KDIR=...` puts l4.ko for a kernel release.
kmod_dir() { echo "$l4u_build/kmod-$1"; }

# Guest memory and time limits per kernel: a whole guest (VM_TIMEOUT) and one test
# binary in it (TEST_TIMEOUT). The KASAN kernel (debug) is several times slower than
# the others. The limits are about twice what a guest (and its slowest binary, mapdb)
# took on a busy 2-core machine (README), so that load alone never fails a run; a hung
# test binary is still killed after TEST_TIMEOUT and the guest goes on with the next.
guest_mem() {
	case $1 in
	6.1) echo "${VM_MEM:-1024}" ;;
	*) echo "${VM_MEM:-1536}" ;;
	esac
}
guest_timeout() {
	case $1 in
	debug) echo "${VM_TIMEOUT:-1800}" ;;
	*) echo "${VM_TIMEOUT:-600}" ;;
	esac
}
guest_test_timeout() {
	case $1 in
	debug) echo "${TEST_TIMEOUT:-900}" ;;
	*) echo "${TEST_TIMEOUT:-240}" ;;
	esac
}
