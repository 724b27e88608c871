#!/usr/bin/env bash
# Old l4.ko against new in ONE 6.1 guest (issue 13: "benchmark ratios no worse than
# before the redesign, measured in one guest run, old against new").
#
# usage: scripts/bench-compare.sh [-o COMMIT] [-r ROUNDS] [BENCH...]
#        scripts/bench-compare.sh [-o COMMIT] [-r ROUNDS] -p "ROW..."
#        scripts/bench-compare.sh -t LOG     the table of an earlier run's log again
#   -o  the old module's commit (default a6f43da: the tree right before the first
#       commit of the redesign, fc91312; its kmod/ is that of 2bc505e)
#   -r  rounds (default 1); round 1 runs old then new, round 2 new then old, and so
#       on, so that a drift of the machine's load does not favour one side; the
#       table takes the best value of each side over the rounds
#   BENCH  programs of bench/ (default: fault_ipc mapdb)
#   -p  paired: rows of fault_ipc's section [1] (l4 l4-busy nospin copy copy-read
#       copy-busy cont cont-read cont-busy), each run alone (FAULT_IPC_ONLY, a few
#       seconds), old and new in turn for ROUNDS rounds (30 tell a 4 % change from
#       the noise of a shared host); prints per row the median over the rounds of
#       new/old of the round's two runs, and in how many rounds new was faster. A
#       row neither module touches (a uffd row) is the control: its median tells
#       how far the pairing itself is off
#
# The old module is built from `git archive COMMIT Kbuild kmod uapi` in
# build/old-kmod/COMMIT (the old sources are never committed anywhere) against the
# 6.1 headers; the new one is the working tree's, built by scripts/demo.sh. Both run
# the same benchmark binaries, built from the working tree: they check the ABI's
# major number only, and a feature the old module lacks makes a row skip. The guest
# (scripts/demo.sh with DEMO_BIN = scripts/bench-compare-guest.sh, DEMO_EXTRA = the
# old module and the benchmarks) swaps the modules with rmmod/insmod between runs.
#
# Prints, per bench, the rows (old, new, new/old: below 1 is faster now), the l4
# ratios against their peers and the goal lines, old beside new; the whole guest
# output is in build/logs/bench-compare.log.
set -euo pipefail
# shellcheck source=scripts/vm/lib.sh
. "$(dirname "$0")/vm/lib.sh"
cd "$l4u_root"

old=a6f43da rounds=1 table='' paired=''
usage="usage: scripts/bench-compare.sh [-o COMMIT] [-r ROUNDS] [BENCH... | -p \"ROW...\"] | -t LOG"
while getopts o:r:t:p: opt; do
	case $opt in
	o) old=$OPTARG ;;
	r) rounds=$OPTARG ;;
	t) table=$OPTARG ;;
	p) paired=$OPTARG ;;
	*) die "$usage" ;;
	esac
done
shift $((OPTIND - 1))
benches=${*:-fault_ipc mapdb}
if [ -n "$paired" ]; then
	if [ $# -gt 0 ] || [ -n "$table" ]; then
		die "$usage"
	fi
	benches=fault_ipc
	for row in $paired; do
		[[ " l4 l4-busy nospin copy copy-read copy-busy cont cont-read cont-busy " == *" $row "* ]] ||
			die "-p: no row '$row' of fault_ipc's section [1]"
	done
fi
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "-r $rounds: a number of rounds, 1 or more"
# build the old module, stage it with the benchmarks, run the guest into $out
run_guest() {
	local logs=$l4u_build/logs stage=$l4u_build/bench-compare oldsrc n b
	old=$(git rev-parse --short "$old^{commit}") || die "-o: no commit $old"
	mkdir -p "$logs"
	rm -rf "$stage" && mkdir -p "$stage/extra/cmp"

	resolve_kernel 6.1 || exit 1
	oldsrc=$l4u_build/old-kmod/$old
	if [ ! -f "$oldsrc/l4.ko" ]; then
		echo "-- building the old l4.ko ($old) for $KREL (log: build/logs/old-kmod.log)"
		rm -rf "$oldsrc" && mkdir -p "$oldsrc"
		git archive "$old" Kbuild kmod uapi | tar -x -C "$oldsrc"
		make -C "$KDIR" M="$oldsrc" modules >"$logs/old-kmod.log" 2>&1 ||
			{ tail -n 30 "$logs/old-kmod.log" >&2; die "the old module did not build"; }
	fi
	cp "$oldsrc/l4.ko" "$stage/extra/cmp/old.ko"
	make -s bench-build >/dev/null
	for b in $benches; do
		[ -x "$l4u_build/bench/$b" ] || die "no benchmark $b (bench/$b.c)"
		cp "$l4u_build/bench/$b" "$stage/extra/cmp/"
	done

	# fault_ipc and mapdb take 1-2 minutes each per module under TCG, more when busy
	n=$(wc -w <<<"$benches")
	export TEST_TIMEOUT=${TEST_TIMEOUT:-$((rounds * n * 2 * 300))}
	export VM_TIMEOUT=${VM_TIMEOUT:-$((TEST_TIMEOUT + 300))}
	echo "-- old: $old ($(git log -1 --format=%s "$old" | cut -c1-50)...), new: the" \
		"working tree ($(git describe --always --dirty)); $rounds round(s) of: $benches"
	args="$rounds $benches"
	[ -n "$paired" ] && args="-p $rounds $paired"
	# shellcheck disable=SC2086 # the benchmarks are words
	DEMO_BIN=$l4u_root/scripts/bench-compare-guest.sh DEMO_ARGS="$args" \
		DEMO_EXTRA=$stage/extra KERNEL=6.1 scripts/demo.sh >"$out" 2>&1 || rc=$?
	grep -q '^@@\(cmp end\|pair \)' "$out" ||
		{ tail -n 40 "$out" >&2; die "no benchmark ran (build/logs/bench-compare.log)"; }
}

out=$l4u_build/logs/bench-compare.log
rc=0
if [ -n "$table" ]; then
	out=$table
	[ -r "$out" ] || die "-t $out: no such log"
	rounds=$(grep -c '^@@cmp begin old ' "$out" | awk -v n="$(wc -w <<<"$benches")" '{ print int($1 / n) }')
else
	run_guest
fi

# Paired rows: "@@pair WHICH ROW ROUND NS", one run each; new/old per round.
if [ -n "$paired" ]; then
	tr -d '\r' <"$out" | awk -v rounds="$rounds" '
	function median(a, n,   i, j, t) {
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	$1 == "@@pair" && $5 ~ /^[0-9]+$/ { v[$2, $3, $4] = $5; if (!($3 in seen)) { seen[$3] = 1; order[++n] = $3 } }
	END {
		printf "%-10s %11s %11s %9s %13s %7s\n", "row", "old median", "new median", "new/old", "new faster in", "pairs"
		for (i = 1; i <= n; i++) {
			row = order[i]; k = 0; faster = 0
			for (r = 1; r <= rounds; r++) {
				if (!(("old", row, r) in v) || !(("new", row, r) in v)) continue
				k++; q[k] = v["new", row, r] / v["old", row, r]; o[k] = v["old", row, r]; w[k] = v["new", row, r]
				if (q[k] < 1) faster++
			}
			if (!k) { printf "%-10s  no pair measured\n", row; continue }
			mo = median(o, k); mw = median(w, k)
			printf "%-10s %11.0f %11.0f %8.3fx %8d of %-3d %5d\n", row, mo, mw, median(q, k), faster, k, k
		}
		printf "\nns per fault, each run the best of fault_ipc'"'"'s 5; new/old: the median of the rounds'"'"' ratios\n"
	}'
	echo
	echo "bench-compare: the guest's whole output: build/logs/bench-compare.log"
	exit "$rc"
fi

# Old beside new. A row is "  <label: 44 columns> <number> ..." (the number: the
# best of its runs; mapdb's memory rows give Slab, PageTables and entries), a ratio
# "  ratio <label> <number>x  (no goal)", a goal line "goal: <what> <measured>
# (limit ...) PASS|FAIL|SKIP ...". A section header "[...]" keeps equal labels of
# two sections apart; "(...)" names (which peer was the fastest) are left out of
# the key, so that a ratio of the old and the new run still pair when another
# peer won.
awk -v rounds="$rounds" '
function num(s) { sub(/[xB]$/, "", s); return s ~ /^-?[0-9.]+$/ ? s + 0 : "" }
function trim(s) { sub(/^ +/, "", s); sub(/ +$/, "", s); return s }
# A row keeps its best value over the rounds. A ratio or a goal keeps that of the
# quietest round: the one whose eventfd ping-pong (section [0], the bare wake-up)
# was the fastest: a noisy round moves a ratio either way, its best rows do not
# pair. Without such a row (mapdb): the median over the rounds.
function keep(kind, label, v, unit, status,   k) {
	if (v == "") return
	k = bench SUBSEP kind SUBSEP section SUBSEP label
	if (!(k in seen)) { seen[k] = 1; order[++n] = k; unitof[k] = unit }
	if (kind == "row") {
		if (!((which, k) in val) || v < val[which, k]) val[which, k] = v
		if (section == "[0]" && label ~ /^eventfd/) quiet[which, bench, round] = v
	} else {
		all[which, k] = all[which, k] " " v
		byround[which, k, round] = v
	}
	if (status != "") st[which, k] = status
}
# the value of @k for @wh from its quietest round, or the median of all rounds
function pick(wh, k,   p, r, best) {
	split(k, p, SUBSEP)
	best = ""
	for (r = 1; r <= rounds; r++)
		if ((wh, k, r) in byround && (wh, p[1], r) in quiet &&
		    (best == "" || quiet[wh, p[1], r] < quiet[wh, p[1], best]))
			best = r
	if (best != "") {
		quietest[wh, p[1]] = best
		return byround[wh, k, best]
	}
	return median(all[wh, k])
}
function median(list,   a, m, i, j, t) {
	m = split(list, a, " ")
	if (!m) return ""
	for (i = 2; i <= m; i++)
		for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
}
/^@@cmp begin / { which = $3; bench = $4; round = $5; section = ""; inrun = 1; next }
/^@@cmp end / { inrun = 0; if ($NF != "rc=0") failed = failed " " $3 "/" $4 "(" $NF ")"; next }
/^@@cmp kernel / { kernel = $3 }
!inrun { next }
/^\[/ { section = $0; sub(/\].*/, "]", section); next }
section ~ /pass 1 of/ { next }		# mapdb: the first pass warms up, the second counts
/^goal: / {
	what = $2; gsub(/\([^)]*\)/, "", what)
	status = ""
	if (match($0, /\) (PASS|FAIL|SKIP)/)) status = substr($0, RSTART + 2, 4)
	if (match($0, /\(limit [0-9.]+/)) limit[bench, what] = substr($0, RSTART + 7, RLENGTH - 7)
	keep("goal", what, num($3), "", status); next
}
/^  ratio / {
	if (!match($0, / +-?[0-9.]+x  \(no goal\)/)) next
	label = trim(substr($0, 9, RSTART - 9)); gsub(/ \([^)]*\)/, "", label)
	split(substr($0, RSTART, RLENGTH), f, " "); keep("ratio", label, num(f[1]), "x", ""); next
}
/^  / {
	label = trim(substr($0, 3, 44))
	if (label == "" || label ~ /^\(/) next
	nf = split(substr($0, 47), f, " ")
	if (f[2] == "B" && nf >= 7) {		# mapdb: Slab, SUnreclaim, PageTables, entries
		label = substr(label, 1, 34)
		keep("row", label ": Slab", num(f[1]), "B/object", "")
		keep("row", label ": PageTables", num(f[5]), "B/object", "")
		keep("row", label ": entries", num(f[7]), "/object", "")
	} else {
		keep("row", label, num(f[1]), f[2] ~ /^[0-9.-]+$/ ? "ns/page" : f[2], "")
	}
}
function show(v, fmt) { return v == "" ? "-" : sprintf(fmt, v) }
# a goal of the median value: SKIP stays SKIP, else its value against the limit
function verdict(v, status, lim) {
	if (status == "SKIP" || v == "" || lim == "") return status == "" ? "-" : status
	return v + 0 <= lim + 0 ? "PASS" : "FAIL"
}
END {
	printf "bench-compare: one guest, kernel %s; %d round(s) per side: rows the best of\n", kernel, rounds
	printf "them, ratios and goals of the quietest round (fastest eventfd row; else the\n"
	printf "median); new/old below 1: faster or smaller now\n"
	if (failed != "") printf "FAILED runs:%s\n", failed
	for (i = 1; i <= n; i++)
		for (w = 0; w < 2; w++)
			if (((wh = w ? "new" : "old"), order[i]) in all)
				val[wh, order[i]] = pick(wh, order[i])
	last = ""
	for (i = 1; i <= n; i++) {
		split(order[i], p, SUBSEP); b = p[1]; kind = p[2]; sec = p[3]; label = p[4]
		if (b != last) {
			printf "\n%-64s %10s %10s %8s\n", b, "old", "new", "new/old"
			last = b
		}
		o = val["old", order[i]]; w = val["new", order[i]]
		# memory rows: PageTables and entries only where they say something
		if (label ~ /: PageTables$/ && o + 0 == 0 && w + 0 == 0) continue
		if (label ~ /: entries$/ && o + 0 <= 1 && w + 0 <= 1) continue
		r = (o != "" && w != "" && o > 0) ? sprintf("%.2fx", w / o) : "-"
		fmt = kind != "row" ? "%.2f" : unitof[order[i]] == "ns/page" || unitof[order[i]] == "ns/node" ? "%.0f" : "%.1f"
		if (kind == "goal")
			line = "goal: " label
		else
			line = sec " " (kind == "ratio" ? "ratio " : "") label
		sub(/, pass [0-9]+ of [0-9]+/, "", line)
		# the rows no module is in tell how much the machine moved between the runs
		if (kind == "row" && label ~ /^(uffd|floor|shmem|native|eventfd)/ && r != "-") {
			q = w / o
			if (!(b in lo) || q < lo[b]) lo[b] = q
			if (!(b in hi) || q > hi[b]) hi[b] = q
		}
		printf "%-64s %10s %10s %8s", substr(line, 1, 64), show(o, fmt), show(w, fmt), r
		if (kind == "goal")
			printf "  old %s, new %s\n", verdict(o, st["old", order[i]], limit[b, label]),
				verdict(w, st["new", order[i]], limit[b, label])
		else
			printf "  %s\n", unitof[order[i]]
	}
	for (b in lo)
		printf "\n%s: the peer rows (no l4 in them) moved by new/old %.2fx to %.2fx: the noise\n", b, lo[b], hi[b]
	for (b in lo)
		if ((("old", b) in quietest) && (("new", b) in quietest))
			printf "%s: ratios and goals from round %d (old) and %d (new)\n", b, quietest["old", b], quietest["new", b]
}' "$out"
echo
echo "bench-compare: the guest's whole output: build/logs/bench-compare.log"
exit "$rc"
