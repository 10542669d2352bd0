#!/bin/sh
# Runs test programs under valgrind's memcheck (make check-valgrind).
# A program fails on any memcheck error (in it or in a forked test child),
# a definite leak, a failed check, or when it outlives VALGRIND_TIMEOUT
# seconds. Prints one line per program and a summary; exits 1 on failure.
set -u
: "${LIBTOOL:=./libtool}"
: "${VALGRIND_TIMEOUT:=1200}"
# check's timeouts are for native speed; memcheck is 20-50x slower
CK_TIMEOUT_MULTIPLIER=${CK_TIMEOUT_MULTIPLIER:-60}
export CK_TIMEOUT_MULTIPLIER
# valgrind runs one thread at a time; its default hand-over lets a thread
# that spins (a reader polling a flag, a producer filling a queue) take the
# CPU back at once, so the thread it waits for can starve: check_array and
# check_log_threads hung past 1200 s in CI that way, and take 38 s and 47 s
# with the fair (ticket) hand-over
VALGRIND_SCHED=--fair-sched=yes
# tests that would make memcheck shadow gigabytes skip those cases
QB_TEST_UNDER_VALGRIND=1
export QB_TEST_UNDER_VALGRIND
command -v valgrind >/dev/null 2>&1 || { echo "check-valgrind: valgrind not found"; exit 1; }
pass=0 fail=0
for prog in "$@"; do
	log=$prog.valgrind.log
	start=$(date +%s)
	if timeout "$VALGRIND_TIMEOUT" $LIBTOOL --mode=execute valgrind -q $VALGRIND_SCHED \
		--error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
		--track-fds=no "./$prog" >"$log" 2>&1; then
		pass=$((pass + 1)); verdict=PASS
	else
		fail=$((fail + 1)); verdict=FAIL
	fi
	echo "$verdict: $prog ($(( $(date +%s) - start )) s, log $log)"
	[ "$verdict" = PASS ] || tail -20 "$log"
done
echo "check-valgrind: $pass passed, $fail failed"
[ "$fail" = 0 ]
