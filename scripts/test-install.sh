#!/usr/bin/env bash
# Host test of `make install` / `make uninstall` into a scratch DESTDIR (no root):
# for PREFIX=/usr with Debian's multiarch LIBDIR and for the default /usr/local,
# every file lands where it should, l4u.pc and l4u-server.pc name that prefix and
# libdir, a client program and a server (examples/dsm.c) build and link against the
# installed tree with pkg-config, and uninstall leaves no file behind. The README's "Using it" program compiles as given, with the
# README's build line. The last line says what was proven.
set -euo pipefail
# shellcheck source=scripts/vm/lib.sh
. "$(dirname "$0")/vm/lib.sh"
cd "$l4u_root"

multiarch=$(gcc -print-multiarch 2>/dev/null || true)
multiarch=${multiarch:-x86_64-linux-gnu}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/l4u-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

check_tree() {	# DESTDIR PREFIX LIBDIR(absolute)
	local d=$1 p=$2 l=$3 f
	for f in "$l/libl4u.a" "$l/libl4u.so" "$l/libl4u.so.0" "$l/libl4u.so.0.1.0" \
		"$l/libl4u-server.a" "$l/libl4u-server.so" "$l/libl4u-server.so.0" \
		"$l/libl4u-server.so.0.1.0" "$l/pkgconfig/l4u-server.pc" \
		"$p/include/l4u/dsm.h" "$p/include/l4u/frames.h" \
		"$l/pkgconfig/l4u.pc" "$p/include/l4u/l4u.h" "$p/include/l4u/server.h" \
		"$p/include/linux/l4.h" "$p/include/linux/l4_netlink.h" \
		"$p/bin/l4ctl" "$p/bin/l4u-dsm-anon" "$p/bin/l4u-dsm-file" "$p/bin/l4u-demo" \
		"$p/share/man/man3/l4u_open.3" "$p/share/man/man7/libl4u.7" \
		"$p/lib/udev/rules.d/70-l4u.rules" "$p/lib/sysusers.d/l4u.conf" \
		"$p/lib/modules-load.d/l4u.conf"; do
		[ -e "$d$f" ] || die "make install PREFIX=$p: $f missing"
	done
	for f in man/man*/*.[0-9]; do
		[ -e "$f" ] || continue
		[ -e "$d$p/share/man/${f#man/}" ] || die "make install PREFIX=$p: man page $p/share/man/${f#man/} missing"
	done
	for f in libl4u libl4u-server; do
		[ "$(readlink "$d$l/$f.so")" = $f.so.0.1.0 ] || die "$f.so does not point to $f.so.0.1.0"
	done
	for f in l4u l4u-server; do
		grep -qx "prefix=$p" "$d$l/pkgconfig/$f.pc" || die "$f.pc: no prefix=$p"
		grep -qx "libdir=\${prefix}${l#"$p"}" "$d$l/pkgconfig/$f.pc" || die "$f.pc: libdir is not $l"
	done
	grep -qx 'Libs.private: -pthread' "$d$l/pkgconfig/l4u.pc" || die "l4u.pc: no Libs.private: -pthread"
	grep -qx 'Requires: l4u = 0.1.0' "$d$l/pkgconfig/l4u-server.pc" || die "l4u-server.pc: no Requires: l4u"
	# an outside program, built with pkg-config against the installed tree
	cat >"$tmp/prog.c" <<'C'
#include <stdio.h>
#include <l4u/l4u.h>
int main(void)
{
	int dev = l4u_open();

	printf("%s\n", dev < 0 ? l4u_open_strerror(dev) : "open");
	return 0;
}
C
	local flags
	flags=$(PKG_CONFIG_SYSROOT_DIR=$d PKG_CONFIG_LIBDIR=$d$l/pkgconfig pkg-config --cflags --libs l4u)
	# shellcheck disable=SC2086
	gcc -std=c99 -Wall -Werror -o "$tmp/prog" "$tmp/prog.c" $flags -Wl,-rpath,"$d$l"
	LD_LIBRARY_PATH=$d$l "$tmp/prog" >/dev/null
	# shellcheck disable=SC2086
	gcc -static -o "$tmp/prog-static" "$tmp/prog.c" \
		$(PKG_CONFIG_SYSROOT_DIR=$d PKG_CONFIG_LIBDIR=$d$l/pkgconfig pkg-config --static --cflags --libs l4u)
	# a server: examples/dsm.c with pkg-config l4u-server, shared and static
	flags=$(PKG_CONFIG_SYSROOT_DIR=$d PKG_CONFIG_LIBDIR=$d$l/pkgconfig pkg-config --cflags --libs l4u-server)
	# shellcheck disable=SC2086
	gcc -Wall -Werror -o "$tmp/dsm" examples/dsm.c $flags -Wl,-rpath,"$d$l"
	# (the whole output first: grep -q ending early would fail the pipe under pipefail)
	libs=$(LD_LIBRARY_PATH=$d$l ldd "$tmp/dsm")
	grep -q "libl4u-server.so.0 => $d$l/" <<<"$libs" ||
		die "ex-dsm does not load the installed libl4u-server.so.0: $libs"
	# shellcheck disable=SC2046
	gcc -static -o "$tmp/dsm-static" examples/dsm.c \
		$(PKG_CONFIG_SYSROOT_DIR=$d PKG_CONFIG_LIBDIR=$d$l/pkgconfig pkg-config --static --cflags --libs l4u-server)
}

for variant in "/usr lib/$multiarch" "/usr/local lib"; do
	set -- $variant
	prefix=$1 libdir=$2 dest=$tmp/root
	rm -rf "$dest"
	echo "== make install DESTDIR=$dest PREFIX=$prefix LIBDIR=$libdir MODULES_LOAD=yes"
	make -s install DESTDIR="$dest" PREFIX="$prefix" LIBDIR="$libdir" MODULES_LOAD=yes
	check_tree "$dest" "$prefix" "$prefix/$libdir"
	# the README's first program and its build line, word for word
	sed -n '/^## Using it/,/^## /p' README.md | sed -n '/^```c$/,/^```$/{/^```/d;p}' |
		sed '/^}$/q' >"$tmp/first.c"
	line=$(sed -n '/^## Using it/,/^## /p' README.md | grep -m1 '^cc -o first first.c' | sed 's/ *#.*//')
	[ -s "$tmp/first.c" ] && [ -n "$line" ] || die "README: no program or build line under 'Using it'"
	(cd "$tmp" && PKG_CONFIG_SYSROOT_DIR=$dest PKG_CONFIG_LIBDIR=$dest$prefix/$libdir/pkgconfig \
		eval "$line -Wall -Werror")
	echo "   $(find "$dest" ! -type d | wc -l) files, all in place; a program builds with pkg-config l4u, a server with l4u-server"
	make -s uninstall DESTDIR="$dest" PREFIX="$prefix" LIBDIR="$libdir"
	left=$(find "$dest" ! -type d)
	[ -z "$left" ] || die "make uninstall PREFIX=$prefix left: $left"
done
echo "make install/uninstall: /usr (lib/$multiarch) and /usr/local, complete and clean; README's program and a server build"
