#!/bin/sh
# Run Debian's corosync (built against the distro libqb) on a chosen
# libqb.so.100 and drive it with corosync's own clients.
#
#   corosync.sh [DAEMON_LIB [CLIENT_LIB]]     each: ours | distro | LIBDIR
#
# DAEMON_LIB defaults to $QB_COROSYNC_LIBDIR, then to "ours" ($QB_OUR_LIBDIR,
# which the automake harness exports); CLIENT_LIB (corosync-cmapctl etc.)
# defaults to DAEMON_LIB. "distro" uses the system loader path, the
# known-good reference. Mixed runs check our IPC against the distro's with
# real corosync traffic in both directions.
#
# A one-node cluster (knet on 127.0.0.1, no crypto) runs inside private
# network and mount namespaces: lo is brought up, /dev/shm and /run are
# fresh tmpfs mounts and /var/lib/corosync a temp dir, so the daemon's
# abstract IPC sockets, pid lock, shared-memory files and state files are
# invisible to (and cannot collide with) anything else on the machine,
# including concurrent runs of this test.
#
# Exit status: 0 pass, 1 fail, 77 skip (corosync missing, no namespaces,
# sanitizer build). Every step is under a timeout; a run takes a few seconds.
set -u

# The make-check slice (no QB_COROSYNC_STRICT) skips with this reason while
# it is non-empty: a switch for the case where corosync is known not to run
# on main yet. Empty: corosync ran on main's library plus the map and ipc
# branches (all steps, 5 of 5 runs), so from the moment every symbol it
# imports is defined, the slice runs for real. make check-corosync always
# runs for real.
SLICE_SKIP_REASON=

STEP_TIMEOUT=${QB_COROSYNC_STEP_TIMEOUT:-10}
TOTAL_TIMEOUT=${QB_COROSYNC_TIMEOUT:-45}
PATH=$PATH:/usr/sbin:/sbin
export PATH

skip() { echo "SKIP: corosync: $*"; exit 77; }
fail() { echo "FAIL: corosync ($label): $*"; failed=1; }

# ---------------------------------------------------------------------------
# Outer part: choose the library, check prerequisites, enter the namespaces.
if [ "${1:-}" != --inner ]; then
	dwhich=${1:-${QB_COROSYNC_LIBDIR:-ours}}
	cwhich=${2:-$dwhich}
	label=$dwhich
	[ "$cwhich" = "$dwhich" ] || label="daemon=$dwhich clients=$cwhich"
	if [ -n "${QB_SANITIZERS:-}" ] && [ "$dwhich$cwhich" != distrodistro ]; then
		skip "sanitizer build (an uninstrumented daemon cannot load an instrumented libqb)"
	fi
	for t in corosync corosync-cmapctl corosync-cfgtool corosync-quorumtool; do
		command -v $t >/dev/null 2>&1 || skip "$t not installed (apt-get install corosync)"
	done
	for t in unshare ip mount timeout; do
		command -v $t >/dev/null 2>&1 || skip "$t not found (util-linux / iproute2 / coreutils)"
	done
	resolve() { # ours|distro|DIR -> absolute dir, empty for the distro
		case $1 in
		distro) return 0 ;;
		ours) d=${QB_OUR_LIBDIR:-${top_builddir:-.}/lib/.libs} ;;
		*) d=$1 ;;
		esac
		# (in a command substitution: the SKIP line must go to stderr)
		d=$(cd "$d" 2>/dev/null && pwd -P) || skip "library dir $1 not found" >&2
		[ -e "$d/libqb.so.100" ] || skip "no libqb.so.100 in $d (build first)" >&2
		echo "$d"
	}
	dlib=$(resolve "$dwhich") || exit $?
	clib=$(resolve "$cwhich") || exit $?
	# Every libqb symbol the daemon and its clients import must exist in the
	# library under test, or the loader refuses to start them. While parts of
	# our library are still missing on main the make-check slice skips;
	# check-corosync (QB_COROSYNC_STRICT=1) counts it as a failure.
	for libdir in $(printf '%s\n' "$dlib" "$clib" | sort -u); do
	command -v nm >/dev/null 2>&1 || break
		# (files = the binaries and their libraries other than libqb; a qb_
		# name one of them defines itself, like qb_to_cs_error, is not needed)
		files=$(for f in $(command -v corosync corosync-cmapctl corosync-cfgtool corosync-quorumtool); do
			echo "$f"; env -u LD_LIBRARY_PATH ldd "$f" | awk '/=> \// {print $3}'; done |
			grep -v '/libqb\.so' | sort -u)
		syms() { nm -D "$@" 2>/dev/null | awk '{print $NF}' | sed 's/@.*//' | grep '^qb_' | sort -u; }
		w=$(mktemp -d) || exit 99
		nm -D --defined-only "$libdir/libqb.so.100" | awk '{print $3}' | sed 's/@.*//' | sort -u >"$w/have"
		syms --defined-only $files >"$w/own"
		syms --undefined-only $files | comm -23 - "$w/own" >"$w/need"
		missing=$(comm -23 "$w/need" "$w/have")
		nneed=$(wc -l <"$w/need")
		rm -rf "$w"
		if [ -n "$missing" ]; then
			n=$(echo "$missing" | wc -l)
			msg="$libdir/libqb.so.100 lacks $n of the $nneed libqb symbols corosync uses (modules not on main yet): $(echo $missing)"
			if [ -n "${QB_COROSYNC_STRICT:-}" ]; then
				echo "FAIL: corosync ($label): $msg"; exit 1
			fi
			skip "$msg"
		fi
	done
	if [ -z "${QB_COROSYNC_STRICT:-}" ] && [ -n "$SLICE_SKIP_REASON" ]; then
		skip "$SLICE_SKIP_REASON"
	fi
	unshare -n -m --propagation private true 2>/dev/null ||
		skip "network/mount namespaces not permitted here (needs root or user namespaces)"
	timeout -k 5 "$TOTAL_TIMEOUT" unshare -n -m --propagation private \
		sh "$0" --inner "$label" "$dlib" "$clib"
	rc=$?
	[ $rc = 124 ] && echo "FAIL: corosync ($label): whole run exceeded ${TOTAL_TIMEOUT}s"
	exit $rc
fi

# ---------------------------------------------------------------------------
# Inner part: we are root inside fresh network and mount namespaces.
label=$2
dlib=$3
clib=$4
failed=0
tmp=$(mktemp -d /tmp/qb-corosync-test.XXXXXX) || exit 99
cpid=
cleanup() {
	if [ -n "$cpid" ] && kill -0 "$cpid" 2>/dev/null; then
		kill -9 "$cpid" 2>/dev/null
	fi
	if [ -n "${QB_COROSYNC_KEEP:-}" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'echo "corosync ($label): interrupted"; exit 1' TERM INT HUP

ip link set lo up || skip "cannot bring lo up in the network namespace"
mount -t tmpfs -o mode=1777,size=512m qbshm /dev/shm || skip "cannot mount a private /dev/shm"
mkdir -p "$tmp/varlib"
if [ -d /var/lib/corosync ]; then
	mount --bind "$tmp/varlib" /var/lib/corosync || skip "cannot bind-mount /var/lib/corosync"
fi
# corosync's single-instance lock is /var/run/corosync.pid (= /run): a
# private /run keeps concurrent runs (other worktrees, make -j) apart.
mount -t tmpfs -o mode=0755,size=16m qbrun /run || skip "cannot mount a private /run"
mkdir -p /run/corosync /run/lock

cat >"$tmp/corosync.conf" <<CONF
totem {
	version: 2
	cluster_name: qbtest
	transport: knet
	crypto_cipher: none
	crypto_hash: none
	token: 1000
}
nodelist {
	node {
		ring0_addr: 127.0.0.1
		name: node1
		nodeid: 1
	}
}
quorum {
	provider: corosync_votequorum
}
logging {
	to_stderr: yes
	to_logfile: no
	to_syslog: no
	timestamp: off
}
CONF

uselib() { # the library the next commands load: a dir, or '' for the distro
	if [ -n "$1" ]; then
		LD_LIBRARY_PATH=$1
		export LD_LIBRARY_PATH
	else
		unset LD_LIBRARY_PATH
	fi
}

shm_list() { (cd /dev/shm && ls -A | grep '^qb-' | sort) 2>/dev/null; }
shm_list >"$tmp/shm.before"

# run NAME CMD...: one client step under a timeout, output kept in $tmp/NAME
run() {
	n=$1; shift
	timeout -k 2 "$STEP_TIMEOUT" "$@" >"$tmp/$n" 2>&1
	r=$?
	if [ $r != 0 ]; then
		fail "'$*' exited $r"
		sed 's/^/    | /' "$tmp/$n" | head -20
	fi
	return $r
}
expect() { # expect NAME REGEX
	grep -Eq "$2" "$tmp/$1" || { fail "$1: output lacks /$2/"; sed 's/^/    | /' "$tmp/$1" | head -20; }
}

echo "corosync ($label): starting one-node cluster, libqb from ${dlib:-the system path}"
uselib "$dlib"
corosync -c "$tmp/corosync.conf" -f >"$tmp/corosync.log" 2>&1 &
cpid=$!
uselib "$clib"	# from here on: corosync's clients

# Wait until the daemon serves cmap (at most STEP_TIMEOUT seconds).
i=0
until timeout -k 1 2 corosync-cmapctl -g totem.cluster_name >/dev/null 2>&1; do
	i=$((i + 1))
	if ! kill -0 "$cpid" 2>/dev/null; then
		fail "daemon died during start-up"; break
	fi
	if [ $i -ge $((STEP_TIMEOUT * 5)) ]; then
		fail "daemon does not answer cmap after ${STEP_TIMEOUT}s"; break
	fi
	sleep 0.2
done

if [ $failed = 0 ]; then
	# The daemon must have mapped the library we asked for.
	want=${dlib:-/}
	if grep -q " $want.*/libqb\.so\.100" "/proc/$cpid/maps" 2>/dev/null ||
	   { [ -z "$dlib" ] && grep -q 'libqb\.so\.100' "/proc/$cpid/maps"; }; then
		echo "corosync ($label): daemon maps $(grep -o '/[^ ]*libqb\.so\.100[^ ]*' "/proc/$cpid/maps" | sort -u | head -1)"
	else
		fail "daemon did not map libqb.so.100 from $want:"
		grep libqb "/proc/$cpid/maps" | sed 's/^/    | /'
	fi
	# the clients all run with LD_LIBRARY_PATH=$clib; check one resolves it
	cl=$(ldd "$(command -v corosync-cmapctl)" | awk '/libqb\.so\.100/ {print $3}')
	case ${clib:-distro}:$cl in
	distro:/usr/lib/* | distro:/lib/*) ;;
	"$clib:$clib/libqb.so.100") ;;
	*) fail "corosync-cmapctl resolves libqb.so.100 to '$cl', not $clib" ;;
	esac

	run cmap_get corosync-cmapctl -g totem.cluster_name && expect cmap_get '= qbtest$'
	run cmap_set corosync-cmapctl -s qbtest.key str hello-libqb
	run cmap_get2 corosync-cmapctl -g qbtest.key && expect cmap_get2 '= hello-libqb$'
	run cmap_set2 corosync-cmapctl -s qbtest.num u32 42
	run cmap_prefix corosync-cmapctl qbtest. &&
		expect cmap_prefix '^qbtest\.key \(str\) = hello-libqb$' &&
		expect cmap_prefix '^qbtest\.num \(u32\) = 42$'
	# Change tracking: the daemon notifies the tracker through IPC events.
	# (it reads "q" from stdin to stop: keep its stdin open with a fifo)
	mkfifo "$tmp/track_in"
	timeout -k 1 "$STEP_TIMEOUT" stdbuf -oL corosync-cmapctl -T qbtest.track \
		<"$tmp/track_in" >"$tmp/cmap_track" 2>&1 &
	tpid=$!
	exec 7>"$tmp/track_in"
	i=0
	until grep -q 'qbtest\.track\.v' "$tmp/cmap_track" || [ $i -ge 25 ]; do
		timeout -k 1 2 corosync-cmapctl -s qbtest.track.v u32 $i >/dev/null 2>&1
		sleep 0.2; i=$((i + 1))
	done
	echo q >&7; exec 7>&-
	i=0
	while kill -0 "$tpid" 2>/dev/null && [ $i -lt 25 ]; do sleep 0.2; i=$((i + 1)); done
	if kill -0 "$tpid" 2>/dev/null; then
		fail "corosync-cmapctl -T did not finish after 'q'"; kill "$tpid"
	fi
	wait "$tpid" || fail "corosync-cmapctl -T exited $?"
	expect cmap_track 'qbtest\.track\.v'
	run cmap_del corosync-cmapctl -d qbtest.key
	if timeout -k 1 "$STEP_TIMEOUT" corosync-cmapctl -g qbtest.key >"$tmp/cmap_gone" 2>&1; then
		fail "qbtest.key still readable after delete"
	fi
	expect cmap_gone 'does not exist|not exist|CS_ERR_NOT_EXIST|Can.t get key'
	run cmap_all corosync-cmapctl && expect cmap_all '^totem\.cluster_name \(str\) = qbtest$' &&
		expect cmap_all '^runtime\.'
	run cmap_stats corosync-cmapctl -m stats && expect cmap_stats '^stats\.ipcs\.' &&
		expect cmap_stats '^stats\.srp\.'
	run cfg_s corosync-cfgtool -s && expect cfg_s 'Local node ID 1' && expect cfg_s '127\.0\.0\.1'
	run cfg_R corosync-cfgtool -R && expect cfg_R 'Done'
	run quorum_s corosync-quorumtool -s && expect quorum_s 'Quorate: +Yes' && expect quorum_s 'node1 \(local\)'
	# the daemon must still be alive and serving after all of that
	run cmap_final corosync-cmapctl -g totem.cluster_name && expect cmap_final '= qbtest$'
fi

# Shut it down through cfg and check it exits cleanly.
if kill -0 "$cpid" 2>/dev/null; then
	run cfg_H corosync-cfgtool -H
	i=0
	while kill -0 "$cpid" 2>/dev/null && [ $i -lt $((STEP_TIMEOUT * 5)) ]; do
		sleep 0.2; i=$((i + 1))
	done
	if kill -0 "$cpid" 2>/dev/null; then
		fail "daemon still running ${STEP_TIMEOUT}s after corosync-cfgtool -H"
		kill -9 "$cpid"
	fi
fi
wait "$cpid"
rc=$?
cpid=
[ $rc = 0 ] || fail "daemon exited with status $rc"
grep -Eq 'Corosync Cluster Engine exiting|Unloading all Corosync service engines' "$tmp/corosync.log" ||
	fail "daemon log does not show an orderly shutdown"

shm_list >"$tmp/shm.after"
if ! cmp -s "$tmp/shm.before" "$tmp/shm.after"; then
	fail "files left in /dev/shm:"
	diff "$tmp/shm.before" "$tmp/shm.after" | sed 's/^/    | /'
fi

if [ $failed != 0 ]; then
	echo "corosync ($label): daemon log (last 40 lines):"
	tail -40 "$tmp/corosync.log" | sed 's/^/    | /'
	exit 1
fi
echo "PASS: corosync ($label): cmapctl get/set/delete/prefix/-T track/-m stats, cfgtool -s/-R/-H, quorumtool -s; clean exit, /dev/shm clean"
exit 0
