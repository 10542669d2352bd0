#!/bin/sh
# Fork stress (issue 6 item 4): a parent with three threads logging to the
# blackbox, a file target and a threaded target forks QB_STRESS_FORKS times
# (default 300; `make check-stress` runs 10000); every child logs, checks
# (every 50th) that its blackbox carries its own pid, calls qb_log_fini and
# exits. Any hang (10 s per child), crash or failure fails the test.
set -u
helper=${top_builddir:-.}/tests/unit/bb_helper
forks=${QB_STRESS_FORKS:-300}
"$helper" stress "$forks"
rc=$?
if ls /dev/shm/qb-bb_stress-* >/dev/null 2>&1; then
	echo "FAIL: blackbox files left in /dev/shm"
	rm -f /dev/shm/qb-bb_stress-*
	rc=1
fi
exit $rc
