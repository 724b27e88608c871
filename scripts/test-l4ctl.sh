#!/usr/bin/env bash
# Host test of l4ctl's command line (no module needed): every bad command line
# is refused before l4ctl talks to the module, with the exact message and exit
# status 2; help and --version answer with 0; a good command on a machine without
# l4.ko says how to load it, with 1. The last line says how many cases passed.
#
# usage: scripts/test-l4ctl.sh [L4CTL]     (default: build/pagers/l4ctl)
set -uo pipefail
# shellcheck source=scripts/vm/lib.sh
. "$(dirname "$0")/vm/lib.sh"
l4ctl=${1:-$l4u_build/pagers/l4ctl}
[ -x "$l4ctl" ] || die "no $l4ctl (make user)"

pass=0 fail=0
# expect RC STDERR ARGS...: the exit status and the whole of stderr, exactly
expect() {
	local rc=$1 want=$2 out got
	shift 2
	out=$("$l4ctl" "$@" 2>&1 >/dev/null)
	got=$?
	if [ "$got" = "$rc" ] && [ "$out" = "$want" ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: l4ctl $*"
		echo "  want status $rc, stderr: $want"
		echo "  got  status $got, stderr: $out"
	fi
}
# expect_out RC FIRST-LINE-OF-STDOUT ARGS...: exit status and stdout's first line, empty stderr
expect_out() {
	local rc=$1 want=$2 out err got
	shift 2
	err=$(mktemp)
	out=$("$l4ctl" "$@" 2>"$err")
	got=$?
	out=${out%%$'\n'*}
	if [ "$got" = "$rc" ] && [ "$out" = "$want" ] && [ ! -s "$err" ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: l4ctl $*"
		echo "  want status $rc, stdout: $want"
		echo "  got  status $got, stdout: $out; stderr: $(cat "$err")"
	fi
	rm -f "$err"
}

usage1='usage: l4ctl [-j|--json] COMMAND [ARGS]'
expect 2 "$(printf '%s\n' "$usage1"; "$l4ctl" help | tail -n +2)"
expect 2 "l4ctl: unknown command 'bogus' (see 'l4ctl help')" bogus
expect 2 "l4ctl: unknown command 'bogus' (see 'l4ctl help')" --json bogus 1
expect 2 "l4ctl: unknown option '--bogus' (see 'l4ctl help')" --bogus stats
expect 2 "l4ctl: unknown option '-x' (see 'l4ctl help')" -x stats
expect 2 "l4ctl: stats: unexpected argument 'x'" stats x
expect 2 "l4ctl: spaces: unexpected argument '1'" -j spaces 1
expect 2 "l4ctl: space: missing argument ID" space
expect 2 "l4ctl: space: unexpected argument '2'" space 1 2
expect 2 "l4ctl: space: bad space id 'abc'" space abc
expect 2 "l4ctl: space: bad space id '-1'" space -1
expect 2 "l4ctl: space: bad space id '99999999999999999999'" space 99999999999999999999
expect 2 "l4ctl: tree: missing argument FRAME" tree
expect 2 "l4ctl: tree: bad frame id '1x'" --json tree 1x
expect 2 "l4ctl: dot: unexpected argument '2'" dot 1 2
expect 2 "l4ctl: dot: bad space id 'x'" dot x
expect 2 "l4ctl: dot: no JSON form: its output is a Graphviz graph (drop --json)" --json dot
expect 2 "l4ctl: dot: no JSON form: its output is a Graphviz graph (drop --json)" -j dot 3
expect 2 "l4ctl: monitor: unknown option '-x'" monitor -x
expect 2 "l4ctl: monitor: option '-n' needs an argument" monitor -n
expect 2 "l4ctl: monitor: bad event count 'many'" monitor -n many
expect 2 "l4ctl: monitor: bad space id '1.5'" monitor -s 1.5
expect 2 "l4ctl: monitor: bad pid 'me'" -j monitor -p me
expect 2 "l4ctl: monitor: unknown event type 'foo' (fault reply map grant unmap create destroy)" monitor -t fault,foo
expect 2 "l4ctl: monitor: unexpected argument '3'" monitor -n 1 3
expect 2 "l4ctl: help: unexpected argument 'stats'" help stats
expect_out 0 "$usage1" help
expect_out 0 "$usage1" --help
expect_out 0 "$usage1" -h
expect_out 0 "l4ctl 0.1.0 (libl4u 0.1.0, netlink family l4 version 1)" --version
expect_out 0 "l4ctl 0.1.0 (libl4u 0.1.0, netlink family l4 version 1)" -V
# no l4.ko on this host: a good command line gets as far as the module
if [ ! -d /sys/module/l4 ]; then
	nomod='l4ctl: no generic netlink family "l4": no such device: load the module: modprobe l4'
	expect 1 "$nomod" stats
	expect 1 "$nomod" --json spaces
	expect 1 "$nomod" space 1
	expect 1 "$nomod" dot
	expect 1 "$nomod" monitor -n 1 -t fault,map
fi

echo "l4ctl command line: $pass passed, $fail failed"
[ "$fail" = 0 ]
