#!/usr/bin/env bash
# Turn the serial logs of one test guest into results.
#
# usage: parse-log.sh NAME OUT_LOG CONSOLE_LOG RUN_LIST QEMU_STATUS COUNTS_FILE
# Prints one line per result, prefixed "[NAME] ", then a summary line, and writes
# "<passed> <failed> <skipped> <boot-only>" to COUNTS_FILE; boot-only is 1 when
# every kernel report in the log came during the kernel's boot, before /init ran.
#
# Results: insmod; every TAP test-case line ("ok N name" / "not ok N name", at
# column 0, as kselftest and its harness print them; "# SKIP" counts as skipped,
# "# XFAIL" as passed, "# XPASS" as failed); a binary that exits with an error,
# dies from a signal or prints fewer results than its plan; rmmod; and "no kernel
# splat" over the guest's dmesg and kmemleak report. A guest that never printed
# its end marker (crash, hang, timeout) is a failure, and so is every test it did
# not get to.
set -euo pipefail
[ $# -eq 6 ] || { echo "usage: $0 NAME OUT_LOG CONSOLE_LOG RUN_LIST QEMU_STATUS COUNTS_FILE" >&2; exit 2; }
name=$1 out=$2 console=$3 runlist=$4 qemu_rc=$5 counts=$6

# What a kernel report looks like, and boot lines of the debug tools that are not one.
splat='BUG:|WARNING:|KASAN:|UBSAN:|possible circular locking|possible recursive locking'
splat+='|inconsistent lock state|suspicious RCU|sleeping function called from invalid context'
splat+='|Call Trace|unreferenced object|Oops|general protection|Kernel panic|kernel BUG'
splat+='|refcount_t:|list_add corruption|list_del corruption|Bad page|INFO: task .* blocked'
splat+='|soft lockup|hard LOCKUP|detected stalls'
benign='kasan: KernelAddressSanitizer initialized|RCU lockdep checking is enabled|MAX_LOCKDEP_'
benign+='|kmemleak: Kernel memory leak detector initialized'
benign+='|kmemleak: Automatic memory scanning thread started'

tr -d '\r\000' <"$out" | awk -v name="$name" -v splat="$splat" -v benign="$benign" \
	-v runlist="$runlist" -v qemu_rc="$qemu_rc" -v counts="$counts" \
	-v console="$console" '
function result(kind, what, detail) {
	if (kind == "ok") pass++
	else if (kind == "skip") skip++
	else fail++
	if (kind == "skip")
		printf "[%s] ok %s # SKIP%s\n", name, what, (detail != "" ? " " detail : "")
	else
		printf "[%s] %s %s%s\n", name, kind, what, (detail != "" ? " (" detail ")" : "")
}
function flush_diag(   i) {
	for (i = 1; i <= ndiag; i++) print "    " diag[i]
	ndiag = 0
}
function end_test(rc,   sig) {
	if (rc >= 128) {
		sig = rc - 128
		if (sig == 9 && tmo > 0 && secs >= tmo) result("not ok", cur, "timed out after " secs " s")
		else result("not ok", cur, "killed by signal " sig)
		flush_diag()
	} else if (nres == 0) {
		if (skipall || rc == 4) result("skip", cur, "")
		else if (rc == 0) result("ok", cur, "no TAP results")
		else { result("not ok", cur, "exit status " rc); flush_diag() }
	} else {
		if (plan >= 0 && nres < plan) result("not ok", cur, nres " of " plan " planned results")
		else if (rc != 0 && rc != 4 && nfail == 0) result("not ok", cur, "exit status " rc)
	}
	cur = ""; ndiag = 0
}
BEGIN {
	nrun = 0
	while ((getline l < runlist) > 0) if (l != "") run[++nrun] = l
	started = 0; cur = ""; sect = ""
}
/@@l4u / {
	# a marker may follow output that did not end in a newline
	if (index($0, "@@l4u ") > 1) $0 = substr($0, index($0, "@@l4u "))
	sub(/ uptime=[0-9.]*$/, "")
	nf = split($0, f, " ")
	m = f[2]
	if (m == "begin") {
		begun = 1
		for (i = 3; i <= nf; i++) {
			if (f[i] ~ /^kernel=/) kernel = substr(f[i], 8)
			if (f[i] ~ /^timeout=/) tmo = substr(f[i], 9) + 0
		}
		next
	}
	if (m == "insmod") { result(f[3] == "ok" ? "ok" : "not ok", "insmod l4.ko", ""); next }
	if (m == "rmmod") { result(f[3] == "ok" ? "ok" : "not ok", "rmmod l4", ""); next }
	if (m == "fi-result" || m == "fi-end" || m == "fi-unavailable") {	# not results
		if (m == "fi-unavailable") result("not ok", "fault injection", "no failslab/fail_page_alloc in debugfs")
		else printf "[%s] # fault injection: %s\n", name, substr($0, index($0, m) + length(m) + 1)
		next
	}
	if (m == "test-skip") { started++; result("not ok", f[3], "not run: insmod failed"); next }
	if (m == "test-begin") {
		started++
		bin = f[3]
		cur = bin; for (i = 4; i <= nf; i++) cur = cur " " f[i]
		plan = -1; nres = 0; nfail = 0; skipall = 0; ndiag = 0
		next
	}
	if (m == "test-end") {
		rc = f[4]; sub(/^rc=/, "", rc)
		secs = f[5]; sub(/^secs=/, "", secs)
		end_test(rc + 0)
		next
	}
	if (m == "kmemleak-begin" || m == "dmesg-begin") { sect = m; next }
	if (m == "kmemleak-end" || m == "dmesg-end") { sect = ""; next }
	if (m == "end") { ended = 1; next }
}
sect != "" {
	ndmesg++
	dm[ndmesg] = $0
	if ($0 ~ /l4u-guest: /) { phase = $0; sub(/.*l4u-guest: /, "", phase); sub(/ +$/, "", phase) }
	if ($0 ~ splat && $0 !~ benign) {
		hit[++nhit] = ndmesg
		if (nhit == 1) firstphase = phase
		if (phase == "") nboot++	# before the guest init started: during boot
	}
	next
}
cur != "" && /^1\.\.[0-9]+/ {
	plan = substr($0, 4) + 0
	if ($0 ~ /# *SKIP/) skipall = 1
	next
}
cur != "" && /^(not )?ok [0-9]+/ {
	line = $0
	notok = (line ~ /^not /)
	sub(/^(not )?ok [0-9]+ ?/, "", line)
	directive = ""
	if (match(line, / *# */)) { directive = substr(line, RSTART + RLENGTH); line = substr(line, 1, RSTART - 1) }
	# "bin.fixture.test": drop the fixture when it is "global" or named like the binary
	if (substr(line, 1, 7) == "global.") line = substr(line, 8)
	else if (substr(line, 1, length(bin) + 1) == bin ".") line = substr(line, length(bin) + 2)
	if (line == "") line = "#" (nres + 1)
	what = bin "." line
	nres++
	if (notok) { nfail++; result("not ok", what, directive); flush_diag() }
	else if (directive ~ /^SKIP/) { sub(/^SKIP */, "", directive); result("skip", what, directive) }
	else if (directive ~ /^XPASS/) { nfail++; result("not ok", what, "unexpected pass"); flush_diag() }
	else result("ok", what, "")
	ndiag = 0
	next
}
cur != "" {
	# keep the diagnostics of the current test case, shown if it fails
	if ($0 ~ /^# +(RUN|OK) / || $0 ~ /^#  RUN/) { ndiag = 0; next }
	if (ndiag < 40) diag[++ndiag] = $0
}
END {
	if (!ended) {
		why = (qemu_rc == 124 ? "timed out" : (begun ? "guest died" : "guest did not reach /init"))
		if (cur != "") result("not ok", cur, "did not finish: " why)
		for (i = started + 1; i <= nrun; i++) result("not ok", run[i], "not run: " why)
		result("not ok", "guest ran to its end", why ", QEMU status " qemu_rc)
		# without the dmesg dump, look for reports on the kernel console
		while ((getline l < console) > 0) {
			gsub(/\r/, "", l)
			gsub(/\033(c|\[[0-9;?]*[a-zA-Z])/, "", l)
			ndmesg++; dm[ndmesg] = l
			if (l ~ splat && l !~ benign) hit[++nhit] = ndmesg
		}
		if (nhit == 0) {
			print "    last lines of the kernel console:"
			for (i = (ndmesg > 30 ? ndmesg - 29 : 1); i <= ndmesg; i++) print "    | " dm[i]
		}
	}
	if (nhit == 0) result("ok", "no kernel splat", "")
	else {
		result("not ok", "no kernel splat", nhit " suspicious lines" \
		       (firstphase != "" ? ", the first after \"" firstphase "\"" : ""))
		# the first report with a few lines before it, up to its end; then the
		# other suspicious lines. ">" marks the lines that matched.
		first = hit[1]
		for (i = (first > 5 ? first - 5 : 1); i < first; i++) print "    | " dm[i]
		for (i = first; i <= ndmesg && i < first + 60; i++) {
			print "    " (dm[i] ~ splat && dm[i] !~ benign ? ">" : "|") " " dm[i]
			if (i > first && dm[i] ~ /---\[ end trace|^(\[[ 0-9.]*\] )?====================/) break
		}
		shown = 0
		for (j = 2; j <= nhit && shown < 20; j++) {
			if (hit[j] <= i) continue
			if (!shown++) print "    other suspicious lines:"
			print "    > " dm[hit[j]]
		}
	}
	printf "[%s] %d passed, %d failed, %d skipped%s\n", name, pass, fail, skip, (kernel != "" ? " on " kernel : "")
	# 4th field: 1 when every report came during boot, before l4.ko was loaded
	print pass + 0, fail + 0, skip + 0, (nhit > 0 && nboot == nhit ? 1 : 0) > counts
}'
