#!/usr/bin/env bash
# Host test of the man pages (libl4u/man: sections 3 and 7; man/: 1, 4, 8): each
# one renders with `man --warnings -l` without a single warning (run from its
# manual's top directory, so that .so links resolve), every program has its page,
# and every page another one refers to (.BR name (N)) exists here or is a system
# page. The last line says how many pages passed.
set -euo pipefail
# shellcheck source=scripts/vm/lib.sh
. "$(dirname "$0")/vm/lib.sh"
cd "$l4u_root"
command -v man >/dev/null || die "man is not installed (apt-get install man-db)"

n=0 bad=0
for root in libl4u/man man; do
	for page in "$root"/man*/*.[0-9]; do
		rel=${page#"$root"/}
		out=$(cd "$root" && LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$rel" 2>&1 >/dev/null) || true
		if [ -n "$out" ]; then
			echo "FAIL: $page:"
			sed 's/^/  /' <<<"$out"
			bad=$((bad + 1))
		fi
		n=$((n + 1))
	done
done
for p in man8/l4ctl.8 man8/l4u-dsm-anon.8 man8/l4u-dsm-file.8 man1/l4u-demo.1 man4/l4.4; do
	[ -f "man/$p" ] || { echo "FAIL: no man page man/$p"; bad=$((bad + 1)); }
done
# references to pages of ours (l4..., libl4u) must resolve
refs=$(cat libl4u/man/man*/*.[0-9] man/man*/*.[0-9] |
	sed -n 's/^\.BR \(l4[a-z0-9_\\-]*\|libl4u\) (\([0-9]\)).*/\1.\2/p' | sed 's/\\-/-/g' | sort -u)
for r in $refs; do
	sec=${r##*.}
	if [ ! -f "libl4u/man/man$sec/$r" ] && [ ! -f "man/man$sec/$r" ]; then
		echo "FAIL: a page refers to ${r%.*}($sec), which does not exist"
		bad=$((bad + 1))
	fi
done
echo "man pages: $n checked, $bad problems"
[ "$bad" = 0 ]
