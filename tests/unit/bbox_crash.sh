#!/bin/sh
# The crash handler example crashes for real (SIGSEGV, SIGBUS, SIGABRT);
# its handler dumps the blackbox and re-raises: the process must die of the
# signal and the dump must hold the messages logged before the crash.
set -u
ex=${top_builddir:-.}/examples/crash_handler
tool=${top_builddir:-.}/tools/qb-blackbox
tmp=$(mktemp -d) || exit 99
ident=bbcrash$$
trap 'rm -rf "$tmp"; rm -f /dev/shm/qb-$ident-*' EXIT
ulimit -c 0
fail=0
for kind in segv:11 bus:7 abort:6; do
	what=${kind%:*}; sig=${kind#*:}
	"$ex" "$tmp" "$what" $ident 2>/dev/null
	rc=$?
	if [ $rc -ne $((128 + sig)) ]; then
		echo "FAIL: $what: exit status $rc, want $((128 + sig))"; fail=1
	fi
	dump=$(ls "$tmp"/crash_handler-*.dump 2>/dev/null | head -1)
	if [ -z "$dump" ]; then
		echo "FAIL: $what: no dump written"; fail=1; continue
	fi
	pid=${dump##*crash_handler-}; pid=${pid%.dump}
	"$tool" "$dump" >"$tmp/out" 2>&1 || { echo "FAIL: $what: qb-blackbox failed"; cat "$tmp/out"; fail=1; }
	for m in "crash_handler $pid starting" "working on step 3 of 3" "about to $what"; do
		grep -q ": $m\$" "$tmp/out" || { echo "FAIL: $what: '$m' missing"; cat "$tmp/out"; fail=1; }
	done
	echo "ok: $what: died of signal $sig, dump holds $(grep -c '^[a-z]* *[A-Z][a-z][a-z] ' "$tmp/out") records"
	# the crashed process could not clean up its blackbox: that is the evidence
	ls /dev/shm/qb-$ident-"$pid"-*-blackbox-header >/dev/null 2>&1 ||
		{ echo "FAIL: $what: live blackbox of the crashed process is gone"; fail=1; }
	rm -f /dev/shm/qb-$ident-*
	rm -f "$dump"
done
exit $fail
