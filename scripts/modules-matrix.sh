#!/usr/bin/env bash
# `make modules-matrix`: build l4.ko against every kernel tree found on this machine
# and print a table: kernel release, where the tree is, whether l4.ko built, how many
# warnings the build printed (compiler and modpost). Trees looked at:
#   /lib/modules/*/build                    installed headers (Debian's 6.1)
#   ~/.cache/l4u/linux-*-*/                 the debug kernels make check built (6.12, 7.3)
#   /usr/src/linux-source-*/, linux-*/      extracted source trees (configured and
#                                           prepared ones build; others are listed)
# Each build runs in its own directory under build/matrix/; logs there too.
# Exit status: non-zero if l4.ko failed to build against a prepared tree.
set -euo pipefail
# shellcheck source=scripts/vm/lib.sh
. "$(dirname "$0")/vm/lib.sh"
cd "$l4u_root"
cache=${L4U_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/l4u}
out=$l4u_build/matrix
mkdir -p "$out"

trees=()
for d in /lib/modules/*/build "$cache"/linux-*-*/ /usr/src/linux-source-*/ /usr/src/linux-[0-9]*/; do
	[ -f "$d/Makefile" ] || continue
	case $d in "$cache"/*) [ -f "$d/.l4u-built" ] || continue ;; esac
	trees+=("$(readlink -f "$d")")
done
[ ${#trees[@]} -gt 0 ] || die "no kernel trees found (scripts/deps.sh installs the 6.1 headers)"
# the same tree through two paths once
mapfile -t trees < <(printf '%s\n' "${trees[@]}" | awk '!seen[$0]++')

rows=() bad=0
for t in "${trees[@]}"; do
	rel=$(kdir_release "$t")
	where=${t/#$HOME/\~}
	if [ -z "$rel" ] || [ ! -f "$t/Module.symvers" ]; then
		rows+=("${rel:-?}|$where|-|-|not configured and built (no Module.symvers)")
		continue
	fi
	label=$(echo "$rel-$(echo "$t" | sha256sum | cut -c1-8)")
	dir=$out/$label
	rm -rf "$dir"
	mkdir -p "$dir"
	tar -c --exclude='*.o' --exclude='*.ko' --exclude='*.mod*' --exclude='.*.cmd' \
		Kbuild kmod uapi | tar -x -C "$dir"
	log=$dir.log
	t0=$SECONDS
	if make -C "$t" M="$dir" modules >"$log" 2>&1 && [ -f "$dir/l4.ko" ]; then
		ok=yes
	else
		ok=no
		bad=1
	fi
	warnings=$(grep -Ec '(: warning:|^WARNING:|WARNING: modpost:)' "$log" || true)
	rows+=("$rel|$where|$ok|$warnings|$((SECONDS - t0)) s, log build/matrix/$label.log")
done

{
	echo "kernel|tree|builds|warnings|time, log"
	printf '%s\n' "${rows[@]}"
} | awk -F'|' '
	{ for (i = 1; i <= NF; i++) { c[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } n = NR; nf[NR] = NF }
	END {
		for (r = 1; r <= n; r++) {
			line = ""
			for (i = 1; i <= nf[r]; i++)
				line = line sprintf(i < nf[r] ? "%-" w[i] "s  " : "%s", c[r, i])
			sub(/ +$/, "", line)
			print line
		}
	}'
exit "$bad"
