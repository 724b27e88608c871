#!/usr/bin/env bash
# The module's files call each other only downwards: print the call graph
# between kmod/*.o (from their symbol tables) and fail on any cycle.
#
#   scripts/kmod-deps.sh DIR     DIR: where kbuild left kmod/*.o
set -euo pipefail
dir=${1:?usage: kmod-deps.sh DIR-with-kmod-objects}
objs=("$dir"/kmod/*.o)
[ -e "${objs[0]}" ] || { echo "kmod-deps: no objects in $dir/kmod" >&2; exit 2; }
for o in "${objs[@]}"; do
	f=$(basename "$o" .o)
	nm "$o" | awk -v f="$f" '$1 == "U" { print f, "U", $2 }
		$2 ~ /^[TDBRtdbr]$/ { print f, "D", $3 }'
done | awk '
	$2 == "D" { def[$3] = $1; next }
	{ use[NR] = $1 " " $3 }
	END {
		for (i in use) {
			split(use[i], u, " ")
			d = def[u[2]]
			if (d != "" && d != u[1]) edge[u[1] " " d] = edge[u[1] " " d] " " u[2]
		}
		for (e in edge) print e
	}' | sort -u >"${TMPDIR:-/tmp}/kmod-deps.$$"
edges=${TMPDIR:-/tmp}/kmod-deps.$$
trap 'rm -f "$edges"' EXIT
# tsort reports cycles on stderr
if ! order=$(tsort "$edges" 2>"$edges.err"); then :; fi
if [ -s "$edges.err" ]; then
	echo "kmod-deps: the files of kmod/ call each other in a cycle:"
	sed 's/^/  /' "$edges.err"
	rm -f "$edges.err"
	exit 1
fi
rm -f "$edges.err"
echo "kmod-deps: no cycle; callers before callees:"
echo "$order" | tr '\n' ' '
echo
