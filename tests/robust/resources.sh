#!/bin/sh
# Resources check around the whole test suite.
#
#   resources.sh start   record what exists (runs before every other test)
#   resources.sh check   after every other test: fail if a test left a file
#                        in /dev/shm, the socket directory or /tmp, an
#                        abstract socket, or a process behind
#
# The ordering comes from tests/robust/Makefile.inc (every test log waits
# for the start log; the check log waits for every other log), so it holds
# under make -j. Run by hand, "check" without a "start" in the same build
# tree skips. Entries in /tmp (shared with the rest of the machine) count
# only if they belong to us, carry a name our library or tests use, and are
# still there after a grace period (QB_RESOURCES_GRACE seconds, default 10),
# so a file another program is about to remove is not blamed on the tests;
# while test runs of other build trees share /tmp with this one, /tmp
# entries are listed but not counted (/dev/shm and /run are private under
# the isolation wrapper, and processes are attributed exactly).
# Processes are found by the top_builddir=<this tree> that the harness puts
# into every test's environment.
set -u
mode=${1:-check}
builddir=${top_builddir:-$(pwd)}
snap=$builddir/tests/robust/resources.snapshot
grace=${QB_RESOURCES_GRACE:-10}
sockdir=$(sed -n 's/^#define SOCKETDIR "\(.*\)"$/\1/p' "$builddir/config.h" 2>/dev/null)
[ -n "$sockdir" ] || sockdir=/tmp
me=$(id -u)

listing() {
	ls -A /dev/shm 2>/dev/null | sed 's|^|shm /dev/shm/|'
	# /tmp is the machine's: only names our library and tests use
	find /tmp -mindepth 1 -maxdepth 1 -user "$me" \( -name 'qb*' -o \
		-name 'check_*' -o -name 'compat*' -o -name 'ckrb-*' -o \
		-name 'bench_*' -o -name 'fuzz_*' -o -name 'tmp.*' \) \
		2>/dev/null | sed 's|^|tmp |'
	if [ "$sockdir" != /tmp ]; then
		find "$sockdir" -mindepth 1 -maxdepth 1 -type s 2>/dev/null | sed 's|^|sock |'
	fi
	# abstract names bound by anyone, in this network namespace
	awk 'NR > 1 && $8 ~ /^@/ { print "abstract " $8 }' /proc/net/unix 2>/dev/null
}

ancestors() {
	p=$$
	while [ -n "$p" ] && [ "$p" -gt 1 ]; do
		echo "$p"
		p=$(awk '{ print $4 }' "/proc/$p/stat" 2>/dev/null)
	done
}

# is $1 this script or one of its subshells?
ours() {
	p=$1
	while [ -n "$p" ] && [ "$p" -gt 1 ]; do
		[ "$p" = $$ ] && return 0
		p=$(awk '{ print $4 }' "/proc/$p/stat" 2>/dev/null)
	done
	return 1
}

leftover_procs() {
	anc=" $(ancestors | tr '\n' ' ') "
	for d in /proc/[0-9]*; do
		pid=${d#/proc/}
		case $anc in *" $pid "*) continue ;; esac
		{ tr '\0' '\n' <"$d/environ"; } 2>/dev/null |
			grep -qxF "top_builddir=$builddir" || continue
		ours "$pid" && continue
		echo "process $pid: $({ tr '\0' ' ' <"$d/cmdline"; } 2>/dev/null | cut -c1-120)"
	done
}

# build trees of other test runs active right now (their top_builddir)
foreign_runs() {
	for d in /proc/[0-9]*; do
		{ tr '\0' '\n' <"$d/environ"; } 2>/dev/null | grep '^top_builddir='
	done | sed 's/^top_builddir=//' | grep -vxF "$builddir" | sort -u
}

case $mode in
start)
	listing | sort -u >"$snap" || exit 99
	foreign_runs >"$snap.foreign"
	echo "resources: recorded $(wc -l <"$snap") entries"
	exit 0
	;;
check)
	;;
*)
	echo "usage: $0 start|check"; exit 99 ;;
esac

[ -f "$snap" ] || { echo "SKIP: resources: no snapshot (run through make check)"; exit 77; }
new=$(listing | sort -u | comm -13 "$snap" -)
# a /tmp entry of another program (or of a concurrent test run of another
# tree) goes away by itself: wait for that, up to the grace period
i=0
while [ $i -lt "$grace" ] && printf '%s\n' "$new" | grep -q '^tmp '; do
	sleep 1
	i=$((i + 1))
	printf '%s\n' "$new" >"$snap.new"
	new=$(listing | sort -u | comm -13 "$snap" - | comm -12 "$snap.new" -)
	rm -f "$snap.new"
done
# another tree's tests running alongside share /tmp: its entries cannot be
# told from ours, so report them without failing
others=$( (cat "$snap.foreign" 2>/dev/null; foreign_runs) | sort -u)
if [ -n "$others" ] && printf '%s\n' "$new" | grep -q '^tmp '; then
	echo "resources: not counted (test runs of $(echo $others) shared /tmp):"
	printf '%s\n' "$new" | sed -n 's/^tmp /    /p'
	new=$(printf '%s\n' "$new" | grep -v '^tmp ')
fi
procs=$(leftover_procs)
rm -f "$snap" "$snap.foreign"
if [ -z "$new" ] && [ -z "$procs" ]; then
	echo "resources: nothing left behind by the tests"
	exit 0
fi
echo "FAIL: resources: the tests left behind:"
printf '%s\n' "$new" "$procs" | sed '/^$/d; s/^/    /'
exit 1
