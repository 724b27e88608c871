#!/usr/bin/env bash
# Boot one l4u test guest under QEMU TCG (KVM does not work on these machines).
#
# usage: run-qemu.sh KERNEL_IMAGE INITRD OUT_LOG CONSOLE_LOG [MEM_MB] [TIMEOUT_S]
#   OUT_LOG      what the guest's /init and the tests print (second serial port)
#   CONSOLE_LOG  the kernel console (first serial port)
# Exits with QEMU's status; 124 when the guest ran into the timeout.
set -euo pipefail
[ $# -ge 4 ] || { echo "usage: $0 KERNEL_IMAGE INITRD OUT_LOG CONSOLE_LOG [MEM_MB] [TIMEOUT_S]" >&2; exit 2; }
kernel=$1 initrd=$2 out=$3 console=$4 mem=${5:-1024} tmo=${6:-300}

: >"$out"
: >"$console"
# -no-reboot: the guest's `reboot -f` (and panic=-1) make QEMU exit.
timeout -k 10 "$tmo" qemu-system-x86_64 \
	-accel tcg -cpu max -smp 2 -m "$mem" \
	-nographic -no-reboot -monitor none -nic none \
	-serial "file:$console" -serial "file:$out" \
	-kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 quiet panic=-1 printk.devkmsg=on ${L4U_APPEND:-}" \
	</dev/null
