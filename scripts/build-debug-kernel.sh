#!/usr/bin/env bash
# Build (once) a debug kernel for the test guests from Debian's kernel sources:
#
#   debug   linux-source-6.12 (the installed package, /usr/src/linux-source-6.12.tar.xz)
#   latest  the newest linux-source-X.Y of a newer Debian suite (trixie-backports),
#           fetched into the cache by scripts/fetch-kernel-source.sh
#
# Both take scripts/debug-kernel.config (KASAN, lockdep, kmemleak, DEBUG_VM,
# DEBUG_ATOMIC_SLEEP, fault injection) merged onto tinyconfig; a kernel's own
# additions, if it has any, come after it from scripts/debug-kernel-NAME.config.
# The tree is cached outside git, keyed by the config fragments, the source package
# version and BUILD_RECIPE (bump it when the way the tree is built changes); a second
# run reuses it.
#
# usage: scripts/build-debug-kernel.sh [debug|latest]     (default: debug)
# Prints the path of the built tree (bzImage at arch/x86/boot/bzImage) on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${L4U_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/l4u}
name=${1:-debug}
BUILD_RECIPE=1

say() { echo "build-debug-kernel: $*" >&2; }

fragments=("$here/debug-kernel.config")
[ -f "$here/debug-kernel-$name.config" ] && fragments+=("$here/debug-kernel-$name.config")
case $name in
debug)
	tarball=/usr/src/linux-source-6.12.tar.xz
	[ -r "$tarball" ] || { say "$tarball missing (apt-get install linux-source-6.12)"; exit 1; }
	srcver=$(dpkg-query -W -f '${Version}' linux-source-6.12 2>/dev/null || echo unknown)
	lock=$cache/.build.lock
	;;
latest)
	fetched=$("$here/fetch-kernel-source.sh") || { say "no kernel source for the latest kernel"; exit 1; }
	read -r srcver tarball <<<"$fetched"
	[ -r "$tarball" ] || { say "$tarball missing"; exit 1; }
	lock=$cache/.build-$name.lock
	;;
*)
	say "unknown kernel '$name' (debug or latest)"
	exit 1
	;;
esac
# X.Y from linux-source-X.Y.tar.xz
series=$(basename "$tarball" .tar.xz)
series=${series#linux-source-}
key=$( { cat "${fragments[@]}"; echo "$srcver recipe $BUILD_RECIPE"; } | sha256sum | cut -c1-16)
tree=$cache/linux-$series-$name-$key
if [ -f "$tree/.l4u-built" ]; then
	echo "$tree"
	exit 0
fi
mkdir -p "$cache"
# one build of a kernel at a time: a second caller waits for it and then reuses it
exec 9>"$lock"
flock 9
if [ -f "$tree/.l4u-built" ]; then
	echo "$tree"
	exit 0
fi
rm -rf "$tree" "$tree.tmp"
mkdir -p "$tree.tmp"
say "building the $series $name kernel ($srcver) in $tree (5 to 10 min on 2 cores)"
tar -C "$tree.tmp" --strip-components=1 -xf "$tarball"
cd "$tree.tmp"
{
	make -s tinyconfig
	scripts/kconfig/merge_config.sh -m .config "${fragments[@]}"
	make -s olddefconfig
} >&2
# merge_config only warns; insist that every option the fragments turn on is on (a
# later fragment overrides an earlier one): an option that a newer kernel renamed or
# made depend on something else shows up here. Names no Kconfig of this tree knows
# are only listed.
known=$(find . -name 'Kconfig*' -exec sed -n 's/^[[:space:]]*\(menu\)\{0,1\}config[[:space:]]\{1,\}\([A-Za-z0-9_]*\).*/CONFIG_\2/p' {} + | sort -u)
missing='' unknown=''
for opt in $(awk '
	/^CONFIG_[A-Za-z0-9_]*=/ { opt = $0; sub(/=.*/, "", opt); val[opt] = substr($0, length(opt) + 2) }
	/^# CONFIG_[A-Za-z0-9_]* is not set/ { val[$2] = "n" }
	END { for (o in val) if (val[o] == "y") print o }' "${fragments[@]}" | sort); do
	if ! grep -qx "$opt" <<<"$known"; then
		unknown+=" $opt"
	elif ! grep -q "^$opt=y" .config; then
		missing+=" $opt"
	fi
done
[ -z "$unknown" ] || say "no such options in $series (ignored):$unknown"
if [ -n "$missing" ]; then
	say "the config fragments turn these on, but the $series tree has them off:$missing"
	exit 1
fi
make -s -j"$(($(nproc) + 1))" bzImage modules >&2
cd /
mv "$tree.tmp" "$tree"
echo "$srcver" >"$tree/.l4u-version"
touch "$tree/.l4u-built"
echo "$tree"
