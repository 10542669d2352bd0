#!/bin/sh
# fd hygiene (issue 6 item 5): with fds 0, 1, 2 closed before qb_log_init,
# no library fd lands on them, stderr output never reaches the log file, and
# no library fd survives exec.
set -u
helper=${top_builddir:-.}/tests/unit/bb_helper
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
"$helper" fds "$tmp/log" "$tmp/result"
cat "$tmp/result"
fail=0
grep -q "^status 0$" "$tmp/result" || { echo "FAIL: a library fd landed on 0-2 (or setup failed)"; fail=1; }
grep -q "^leaks 0$" "$tmp/result" || { echo "FAIL: fds leaked into the exec'd program"; fail=1; }
n=$(grep -c "^FILE hygiene message" "$tmp/log")
[ "$n" = 2 ] || { echo "FAIL: log file holds $n file-target lines, want 2"; cat "$tmp/log"; fail=1; }
if grep -q "STDERR" "$tmp/log"; then
	echo "FAIL: stderr output went into the log file"; fail=1
fi
# exec skipped qb_log_fini: remove this run's blackbox
pid=$(sed -n 's/^pid //p' "$tmp/result")
[ -n "$pid" ] && rm -f /dev/shm/qb-bb_fds-"$pid"-*-blackbox-header /dev/shm/qb-bb_fds-"$pid"-*-blackbox-data
exit $fail
