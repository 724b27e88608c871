#!/bin/sh
# The guest's side of scripts/bench-compare.sh (busybox sh, run by the guest's init
# as its demo program): ROUNDS rounds of the benchmarks BENCH... under each module,
# /cmp/old.ko and the /l4.ko init loaded; round 1 old then new, round 2 new then old,
# and so on. Each run is framed by "@@cmp begin WHICH BENCH ROUND" and
# "@@cmp end WHICH BENCH ROUND rc=N". init unloads l4 at the end.
# With -p, ROUNDS rounds of fault_ipc's section [1] rows ROW... each alone
# (FAULT_IPC_ONLY), in the same order of modules; each run prints one line
# "@@pair WHICH ROW ROUND NS" (its best ns per fault), or "@@pair ... -" when the
# row printed none.
#
# usage: bench-compare-guest.sh ROUNDS BENCH...
#        bench-compare-guest.sh -p ROUNDS ROW...
paired=''
[ "$1" = -p ] && { paired=1; shift; }
rounds=$1
shift

# one row of fault_ipc alone: its best ns per fault (the column after the label)
row_best() {
	FAULT_IPC_ONLY=$1 /cmp/fault_ipc 2>&1 |
		awk '/^  (l4|uffd) / && $0 !~ /skipped/ { sub(/^  .{44}/, ""); v = $1 } END { print v == "" ? "-" : v }'
}

# swap l4.ko for module file $1, and wait for its /dev/l4
load() {
	rmmod l4 || return 1
	insmod "$1" || return 1
	i=0
	while [ ! -e /dev/l4 ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -e /dev/l4 ]
}

echo "@@cmp kernel $(uname -r)"
rc=0
r=1
while [ $r -le "$rounds" ]; do
	order="old new"
	[ $((r % 2)) = 0 ] && order="new old"
	for which in $order; do
		ko=/cmp/old.ko
		[ "$which" = new ] && ko=/l4.ko
		load $ko || { echo "@@cmp load $which failed"; exit 1; }
		if [ -n "$paired" ]; then
			for row in "$@"; do
				echo "@@pair $which $row $r $(row_best "$row")"
			done
			continue
		fi
		for b in "$@"; do
			echo "@@cmp begin $which $b $r"
			"/cmp/$b"
			s=$?
			echo "@@cmp end $which $b $r rc=$s"
			[ $s = 0 ] || rc=1
		done
	done
	r=$((r + 1))
done
exit $rc
