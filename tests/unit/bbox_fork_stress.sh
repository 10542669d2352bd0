#!/bin/sh
# Fork stress (issue 6 item 4, issue 15): a parent with three threads
# logging to the blackbox, a file target and a threaded target forks
# QB_STRESS_FORKS times (default 300; `make check-stress` runs 10000) for
# each way a child can end: it logs (checking every 50th that its blackbox
# carries its own pid) and then
#   fini   calls qb_log_fini and _exit()s   -> no blackbox left
#   exit   exit()s                          -> no blackbox left
#   _exit  _exit()s                         -> the newest KEEP+1 kept
#   crash  dies of SIGSEGV                  -> the newest KEEP+1 kept, readable
#   exec   execs /bin/true without logging  -> never a blackbox of its own
#   resize sets a smaller QB_LOG_CONF_SIZE, logs, exit()s -> no blackbox left
# (KEEP = 8, the default bound on dead blackboxes; the one more is the last
# child, alive when it made its blackbox and pruned the others.)  The peak
# /dev/shm use during the run must stay within the parent's blackbox plus
# KEEP+1 dead ones.  Any hang (10 s per child), crash or failure fails.
# As root it runs in a private /dev/shm (unshare -m + tmpfs) so the whole
# directory can be counted; otherwise it counts the run's unique ident.
# QB_STRESS_ENDS picks the endings; BB_STRESS_GDB=1 prints a hung child's stack.
set -u
if [ -n "${QB_SANITIZERS:-}" ] && [ -z "${QB_STRESS_FORCE:-}" ]; then
	# AddressSanitizer's allocator is not fork-safe: a child forked while
	# another thread holds its lock hangs in malloc (seen about once per
	# 1000 forks). That is not what this test is about.
	echo "SKIP: fork stress in a sanitizer build (set QB_STRESS_FORCE=1 to run)"
	exit 77
fi
if [ -z "${BB_STRESS_PRIVATE:-}" ] && [ "$(id -u)" = 0 ] &&
   unshare -m --propagation private true 2>/dev/null; then
	BB_STRESS_PRIVATE=1 exec unshare -m --propagation private sh -c \
		'mount -t tmpfs -o mode=1777 tmpfs /dev/shm || exit 99; exec "$@"' \
		stress /bin/sh "$0"
fi
helper=${top_builddir:-.}/tests/unit/bb_helper
tool=${top_builddir:-.}/tools/qb-blackbox
forks=${QB_STRESS_FORKS:-300}
keep=8
out=$(mktemp) || exit 99
trap 'rm -f "$out" "$out.bb"' EXIT
ulimit -c 0
where="/dev/shm (shared, counting this run's ident)"
[ -n "${BB_STRESS_PRIVATE:-}" ] && where="a private /dev/shm"
echo "fork stress: $forks forks per ending, in $where"
rc=0
fail() { echo "FAIL: $end: $*"; rc=1; }

for end in ${QB_STRESS_ENDS:-fini exit _exit crash exec resize}; do
	"$helper" stress "$forks" "$end" >"$out"
	hrc=$?
	ident=$(sed -n 's/^ident //p' "$out")
	[ -n "$ident" ] || { cat "$out"; fail "no ident"; continue; }
	[ $hrc = 0 ] || { cat "$out"; fail "helper exit $hrc"; }
	if [ -n "${BB_STRESS_PRIVATE:-}" ]; then
		files=$(ls /dev/shm | wc -l)
	else
		files=$(ls /dev/shm | grep -c "^qb-$ident-")
	fi
	kb=$(du -sk /dev/shm/qb-"$ident"-* 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
	peak=$(sed -n 's/^peak_files \([0-9]*\) .*/\1/p' "$out")
	peak_bytes=$(sed -n 's/^peak_files [0-9]* peak_bytes //p' "$out")
	echo "$end: $(grep '^forks' "$out"); left $files files ($kb kB), peak $peak files ($peak_bytes bytes)"
	case $end in
	fini | exit | exec | resize)
		[ "$files" = 0 ] || fail "$files files left, want 0";;
	_exit | crash)
		want=$((forks < keep + 1 ? forks : keep + 1))
		[ "$files" = $((2 * want)) ] || fail "$files files left, want $((2 * want))"
		# the newest are kept, and each is a readable blackbox of its child
		first=$((forks - want))
		for h in /dev/shm/qb-"$ident"-*-blackbox-header; do
			[ -e "$h" ] || continue
			if ! "$tool" "$h" >"$out.bb" 2>&1; then
				fail "qb-blackbox cannot read $h"; continue
			fi
			n=$(sed -n 's/.*child [0-9]* fork \([0-9]*\) message 4$/\1/p' "$out.bb" | tail -1)
			[ -n "$n" ] && [ "$n" -ge $first ] ||
				fail "$h holds fork '${n}', want one of the newest ($first..)"
		done;;
	esac
	# the parent's blackbox plus at most keep+1 dead ones at any time
	[ "${peak:-999999}" -le $((2 * (keep + 2))) ] || fail "peak $peak files"
	[ "$end" != exec ] || [ "$peak" = 2 ] || fail "an exec'ing child made a blackbox"
	rm -f /dev/shm/qb-"$ident"-*
done
exit $rc
