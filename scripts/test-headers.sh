#!/usr/bin/env bash
# Host test: every public header (libl4u/include/l4u/*.h, uapi/linux/*.h) compiles
# on its own, first in a file, with gcc -std=c99 -Wall -Wextra -Werror (no POSIX or
# GNU feature macros: what a strict C99 program sees) and as C++11 with -Wall (g++, when
# installed). The last line says how many headers passed.
set -euo pipefail
# shellcheck source=scripts/vm/lib.sh
. "$(dirname "$0")/vm/lib.sh"
cd "$l4u_root"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/l4u-headers.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cxx=$(command -v g++ || true)
n=0 bad=0
for h in libl4u/include/l4u/*.h uapi/linux/*.h; do
	name=${h#libl4u/include/}
	name=${name#uapi/}
	printf '#include <%s>\nint main(void) { return 0; }\n' "$name" >"$tmp/t.c"
	if ! gcc -std=c99 -Wall -Wextra -Werror -Ilibl4u/include -Iuapi -c -o "$tmp/t.o" "$tmp/t.c"; then
		echo "FAIL: <$name> does not compile alone under -std=c99"
		bad=$((bad + 1))
	fi
	if [ -n "$cxx" ] && ! "$cxx" -x c++ -std=c++11 -Wall -Werror -Ilibl4u/include -Iuapi \
			-c -o "$tmp/t.o" "$tmp/t.c"; then
		echo "FAIL: <$name> does not compile alone as C++11"
		bad=$((bad + 1))
	fi
	n=$((n + 1))
done
echo "public headers alone (-std=c99${cxx:+, C++11}): $((n - bad)) of $n compile"
[ "$bad" = 0 ]
