#!/usr/bin/env bash
# Host test of the libraries' ABI (docs/library.md): libl4u.so and libl4u-server.so
# export only versioned l4u_ symbols (objdump -T), exactly those their version
# scripts (libl4u/*.map) list, the Debian symbols files list the same names with the
# same versions, every exported function is declared in a public header and every
# function a header declares (not inline) is exported by one of the two. The last
# line says what was proven.
set -euo pipefail
# shellcheck source=scripts/vm/lib.sh
. "$(dirname "$0")/vm/lib.sh"
cd "$l4u_root"

make -s libl4u >/dev/null
lib=$l4u_build/libl4u
tmp=$(mktemp -d "${TMPDIR:-/tmp}/l4u-abi.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
bad=0
fail() { echo "FAIL: $*"; bad=$((bad + 1)); }

for l in libl4u libl4u-server; do
	so=$lib/$l.so.0.1.0
	[ -f "$so" ] || die "$so missing"
	# defined dynamic symbols: "version name" (the version node's own symbol is ABS)
	objdump -T "$so" | awk '$0 ~ /^[0-9a-f]+ / && $0 !~ /\*UND\*/ && $0 !~ /\*ABS\*/ {print $(NF-1), $NF}' |
		sort >"$tmp/$l.dyn"
	if grep -v '^L4U_[0-9.]* l4u_' "$tmp/$l.dyn" >"$tmp/$l.odd"; then
		fail "$l.so exports what is not a versioned l4u_ symbol: $(tr '\n' ' ' <"$tmp/$l.odd")"
	fi
	awk '{print $2}' "$tmp/$l.dyn" | sort >"$tmp/$l.names"
	# the version script's global names
	sed -n '/global:/,/local:/p' "libl4u/$l.map" | sed -n 's/^[[:space:]]*\(l4u_[a-z0-9_]*\);$/\1/p' |
		sort >"$tmp/$l.map"
	diff -u "$tmp/$l.map" "$tmp/$l.names" >"$tmp/$l.diff" ||
		fail "$l.so exports other symbols than libl4u/$l.map lists: $(grep '^[-+]l4u' "$tmp/$l.diff" | tr '\n' ' ')"
	# the Debian symbols file: name@version, as exported
	pkg=${l}0
	sed -n 's/^ \(l4u_[a-z0-9_]*\)@\(L4U_[0-9.]*\) .*/\2 \1/p' "debian/$pkg.symbols" | sort >"$tmp/$l.deb"
	diff -u "$tmp/$l.deb" "$tmp/$l.dyn" >"$tmp/$l.debdiff" ||
		fail "debian/$pkg.symbols differs from what $l.so exports: $(grep '^[-+]L4U' "$tmp/$l.debdiff" | tr '\n' ' ')"
	echo "$l.so: $(wc -l <"$tmp/$l.names") symbols, all versioned ($(awk '{print $1}' "$tmp/$l.dyn" | sort -u | paste -sd' '))"
done

# functions the public headers declare (not static inline, not typedefs)
grep -ohE '^[a-z][a-z0-9_ *]*[ *]l4u_[a-z0-9_]+\(' libl4u/include/l4u/*.h | grep -vE '^(static|typedef)' |
	sed -E 's/.*[ *](l4u_[a-z0-9_]+)\($/\1/' | sort -u >"$tmp/declared"
sort -m "$tmp/libl4u.names" "$tmp/libl4u-server.names" >"$tmp/exported"
[ -z "$(sort "$tmp/exported" | uniq -d)" ] || fail "exported by both libraries: $(sort "$tmp/exported" | uniq -d | tr '\n' ' ')"
sort -u "$tmp/exported" -o "$tmp/exported"
diff -u "$tmp/declared" "$tmp/exported" >"$tmp/hdr.diff" ||
	fail "headers and exports differ (- declared only, + exported only): $(grep '^[-+]l4u' "$tmp/hdr.diff" | tr '\n' ' ')"
[ "$bad" = 0 ] || exit 1
echo "ABI: $(wc -l <"$tmp/exported") functions, each declared in a header, exported by one library with version L4U_0.6, as the version scripts and Debian symbols files say"
