#!/usr/bin/env bash
# Build (once) Debian's linux-source-6.12 with KASAN, lockdep, kmemleak, DEBUG_VM and
# DEBUG_ATOMIC_SLEEP for the test guests. The tree is cached outside git, keyed by the
# config fragment, the source package version and BUILD_RECIPE (bump it when the way the
# tree is built changes); a second run reuses it.
# Prints the path of the built tree (bzImage at arch/x86/boot/bzImage) on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${L4U_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/l4u}
tarball=/usr/src/linux-source-6.12.tar.xz
[ -r "$tarball" ] || { echo "build-debug-kernel: $tarball missing (apt-get install linux-source-6.12)" >&2; exit 1; }
srcver=$(dpkg-query -W -f '${Version}' linux-source-6.12 2>/dev/null || echo unknown)
BUILD_RECIPE=1
key=$( { cat "$here/debug-kernel.config"; echo "$srcver recipe $BUILD_RECIPE"; } | sha256sum | cut -c1-16)
tree=$cache/linux-6.12-debug-$key
if [ -f "$tree/.l4u-built" ]; then
	echo "$tree"
	exit 0
fi
mkdir -p "$cache"
# one build at a time: a second caller waits for it and then reuses it
exec 9>"$cache/.build.lock"
flock 9
if [ -f "$tree/.l4u-built" ]; then
	echo "$tree"
	exit 0
fi
rm -rf "$tree" "$tree.tmp"
mkdir -p "$tree.tmp"
echo "build-debug-kernel: building 6.12 debug kernel in $tree (about 4 min on 2 cores)" >&2
tar -C "$tree.tmp" --strip-components=1 -xf "$tarball"
cd "$tree.tmp"
{
	make -s tinyconfig
	scripts/kconfig/merge_config.sh -m .config "$here/debug-kernel.config"
	make -s olddefconfig
} >&2
# merge_config only warns; insist that the options that matter really are set
for opt in KASAN KASAN_GENERIC PROVE_LOCKING DEBUG_KMEMLEAK DEBUG_VM DEBUG_ATOMIC_SLEEP \
	   MODULES MODULE_UNLOAD MEMCG USERFAULTFD DEBUG_FS BLK_DEV_INITRD SERIAL_8250_CONSOLE; do
	grep -q "^CONFIG_$opt=y" .config || { echo "build-debug-kernel: CONFIG_$opt not set" >&2; exit 1; }
done
make -s -j"$(($(nproc) + 1))" bzImage modules >&2
cd /
mv "$tree.tmp" "$tree"
touch "$tree/.l4u-built"
echo "$tree"
