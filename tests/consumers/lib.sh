# Shared helpers for the tests that run Debian's programs (corosync,
# pacemaker, usbguard, corosync-vqsim, doxygen2man) on a chosen
# libqb.so.100. Sourced (not executed) by tests/corosync/corosync.sh and
# tests/consumers/*.sh; POSIX sh.
#
# The sourcing script sets:
#   name    short test name for messages ("pacemaker", ...)
#   label   the library combination under test ("ours", "distro", ...)
#   tmp     (inner part) a private temp dir; step outputs go there
# and reads `failed` (0 or 1) at the end.

PATH=$PATH:/usr/sbin:/sbin
export PATH
failed=0

skip() { echo "SKIP: $name: $*"; exit 77; }
fail() { echo "FAIL: $name ($label): $*"; failed=1; }
note() { echo "$name ($label): $*"; }

# need CMD...: skip unless every command is on PATH
need() {
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || skip "$t not installed"
	done
}

# resolve_lib ours|distro|DIR: prints the absolute library dir, nothing for
# the distro (= the system loader path). Run in a command substitution: a
# SKIP goes to stderr and the status (77) to the caller's `|| exit $?`.
resolve_lib() {
	case $1 in
	distro) return 0 ;;
	ours) d=${QB_OUR_LIBDIR:-${top_builddir:-.}/lib/.libs} ;;
	*) d=$1 ;;
	esac
	d=$(cd "$d" 2>/dev/null && pwd -P) || skip "library dir $1 not found" >&2
	[ -e "$d/libqb.so.100" ] || skip "no libqb.so.100 in $d (build first)" >&2
	echo "$d"
}

# no_sanitizers: an uninstrumented Debian program cannot load an
# instrumented libqb, so a sanitizer build skips every run on ours.
no_sanitizers() {
	[ -z "${QB_SANITIZERS:-}" ] ||
		skip "sanitizer build (an uninstrumented program cannot load an instrumented libqb)"
}

# missing_symbols LIBDIR BINARY...: prints the libqb symbols the binaries
# (and the libraries they load, other than libqb) import that LIBDIR's
# libqb.so.100 does not define; nothing when all are there or nm is absent.
missing_symbols() {
	command -v nm >/dev/null 2>&1 || return 0
	ms_lib=$1; shift
	# (a qb_ name one of the files defines itself, like qb_to_cs_error, is not needed)
	ms_files=$(for f in "$@"; do
		echo "$f"; env -u LD_LIBRARY_PATH ldd "$f" | awk '/=> \// {print $3}'; done |
		grep -v '/libqb\.so' | sort -u)
	ms_w=$(mktemp -d) || return 0
	nm -D --defined-only "$ms_lib/libqb.so.100" | awk '{print $3}' | sed 's/@.*//' | sort -u >"$ms_w/have"
	nm -D --defined-only $ms_files 2>/dev/null | awk '{print $NF}' | sed 's/@.*//' |
		grep '^qb_' | sort -u >"$ms_w/own"
	nm -D --undefined-only $ms_files 2>/dev/null | awk '{print $NF}' | sed 's/@.*//' |
		grep '^qb_' | sort -u | comm -23 - "$ms_w/own" >"$ms_w/need"
	comm -23 "$ms_w/need" "$ms_w/have"
	rm -rf "$ms_w"
}

# enter_ns SECONDS [--pid] SCRIPT ARGS...: runs `sh SCRIPT --inner ARGS` in
# private network and mount namespaces (and a pid namespace with its own
# /proc with --pid: when the script ends, everything it started dies with
# the namespace), the whole run bounded by SECONDS. Exits with its status.
enter_ns() {
	en_t=$1; shift
	en_pid=
	if [ "$1" = --pid ]; then en_pid="-p --fork --kill-child --mount-proc"; shift; fi
	unshare -n -m $en_pid --propagation private true 2>/dev/null ||
		skip "network/mount${en_pid:+/pid} namespaces not permitted here (needs root or user namespaces)"
	en_script=$1; shift
	timeout -k 5 "$en_t" unshare -n -m $en_pid --propagation private \
		sh "$en_script" --inner "$@"
	en_rc=$?
	[ $en_rc = 124 ] && echo "FAIL: $name ($label): whole run exceeded ${en_t}s"
	exit $en_rc
}

# private_dirs: inside the namespaces, lo up and fresh tmpfs over /dev/shm
# and /run, so abstract sockets, pid locks and shared memory are invisible
# to (and cannot collide with) the host and concurrent runs.
private_dirs() {
	ip link set lo up || skip "cannot bring lo up in the network namespace"
	mount -t tmpfs -o mode=1777,size=512m qbshm /dev/shm || skip "cannot mount a private /dev/shm"
	mount -t tmpfs -o mode=0755,size=16m qbrun /run || skip "cannot mount a private /run"
	mkdir -p /run/lock
}

# private_tmpfs DIR [MODE [OWNER]]: a fresh tmpfs over an existing DIR
private_tmpfs() {
	[ -d "$1" ] || mkdir -p "$1" || skip "cannot create $1"
	mount -t tmpfs -o "mode=${2:-0755},size=64m" qbtmp "$1" || skip "cannot mount a private $1"
	[ -z "${3:-}" ] || chown "$3" "$1"
}

uselib() { # the library the next commands load: a dir, or '' for the distro
	if [ -n "$1" ]; then
		LD_LIBRARY_PATH=$1
		export LD_LIBRARY_PATH
	else
		unset LD_LIBRARY_PATH
	fi
}

# maps_lib PID DIR: does process PID map libqb.so.100 from DIR (from the
# system path when DIR is empty)? Prints the mapped path.
maps_lib() {
	ml=$(grep -o '/[^ ]*libqb\.so\.100[^ ]*' "/proc/$1/maps" 2>/dev/null | sort -u | head -1)
	echo "${ml:-none}"
	case ${2:-}:$ml in
	:/usr/lib/* | :/lib/*) return 0 ;;
	"$2:$2/libqb.so.100"*) return 0 ;;
	esac
	return 1
}

shm_list() { (cd /dev/shm && ls -A | sort) 2>/dev/null; }

# run NAME [-t SECONDS] CMD...: one step under a timeout (STEP_TIMEOUT by
# default), output in $tmp/NAME; a failure is reported with the output.
run() {
	r_n=$1; shift
	r_t=${STEP_TIMEOUT:-10}
	if [ "$1" = -t ]; then r_t=$2; shift 2; fi
	timeout -k 2 "$r_t" "$@" >"$tmp/$r_n" 2>&1
	r=$?
	if [ $r != 0 ]; then
		fail "'$*' exited $r"
		sed 's/^/    | /' "$tmp/$r_n" | head -20
	fi
	return $r
}
expect() { # expect NAME REGEX
	grep -Eq "$2" "$tmp/$1" || { fail "$1: output lacks /$2/"; sed 's/^/    | /' "$tmp/$1" | head -20; return 1; }
}

# wait_for SECONDS CMD...: retries CMD (each try bounded) every 0.2 s until
# it succeeds; status 1 on timeout.
wait_for() {
	wf_n=$(($1 * 5)); shift
	wf_i=0
	until timeout -k 1 5 "$@" >/dev/null 2>&1; do
		wf_i=$((wf_i + 1))
		[ $wf_i -lt $wf_n ] || return 1
		sleep 0.2
	done
}

# corosync_conf FILE: a one-node cluster (knet on 127.0.0.1, no crypto,
# votequorum, logs to stderr only)
corosync_conf() {
	cat >"$1" <<CONF
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
}

# corosync_start LIBDIR: starts corosync (pid in $cpid, log in
# $tmp/corosync.log) on a private /var/lib/corosync and waits until it
# serves cmap. Needs private_dirs first.
corosync_start() {
	mkdir -p "$tmp/varlib-corosync" /run/corosync
	if [ -d /var/lib/corosync ]; then
		mount --bind "$tmp/varlib-corosync" /var/lib/corosync || skip "cannot bind-mount /var/lib/corosync"
	fi
	corosync_conf "$tmp/corosync.conf"
	(uselib "$1"; exec corosync -c "$tmp/corosync.conf" -f) >"$tmp/corosync.log" 2>&1 &
	cpid=$!
	cs_i=0
	until timeout -k 1 2 corosync-cmapctl -g totem.cluster_name >/dev/null 2>&1; do
		cs_i=$((cs_i + 1))
		if ! kill -0 "$cpid" 2>/dev/null; then
			fail "corosync died during start-up"; return 1
		fi
		if [ $cs_i -ge $((${STEP_TIMEOUT:-10} * 5)) ]; then
			fail "corosync does not answer cmap after ${STEP_TIMEOUT:-10}s"; return 1
		fi
		sleep 0.2
	done
}

# wait_exit PID SECONDS: waits for a child to exit; kills it (and fails)
# after SECONDS. Its exit status is in $wait_rc.
wait_exit() {
	we_i=0
	while kill -0 "$1" 2>/dev/null && [ $we_i -lt $(($2 * 5)) ]; do
		sleep 0.2; we_i=$((we_i + 1))
	done
	if kill -0 "$1" 2>/dev/null; then
		fail "pid $1 still running $2 s after it was asked to stop"
		kill -9 "$1" 2>/dev/null
	fi
	wait "$1"
	wait_rc=$?
}
