#!/bin/sh
# make demo: the PID-safe blackbox in about 15 seconds.
set -u
b=${top_builddir:-.}
daemon=$b/examples/demo_daemon
tool=$b/tools/qb-blackbox
dir=$(mktemp -d /tmp/qb-demo.XXXXXX) || exit 1
before=$(ls /dev/shm 2>/dev/null | grep '^qb-demo-' | sort)
ulimit -c 0

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
tell() { printf '   %s\n' "$@"; }
ours() { # our /dev/shm/qb-demo-* headers (not ones that existed before)
	ls /dev/shm 2>/dev/null | grep '^qb-demo-.*-blackbox-header$' | sort | while read -r f; do
		echo "$before" | grep -qx "$f" || echo "/dev/shm/$f"
	done
}
finish() {
	touch "$dir/stop"
	wait 2>/dev/null
	for h in $(ours); do rm -f "$h" "${h%-header}-data"; done
	rm -rf "$dir"
}
trap finish EXIT
wait_for() { # FILE
	i=0
	while [ ! -s "$1" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	[ -s "$1" ]
}

ns=no
if [ -z "${QB_DEMO_NO_NS:-}" ] && [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1 &&
   unshare -fp --mount-proc true 2>/dev/null; then
	ns=yes
fi
start() { # NAME
	if [ $ns = yes ]; then
		unshare -fp --mount-proc "$daemon" "$1" "$dir" &
	else
		"$daemon" "$1" "$dir" &
	fi
}

say "1. A daemon starts and forks a worker"
tell "demo_daemon A enables its blackbox, logs, and forks a worker process." \
     "The worker never calls qb_log_reflect_pid(): the library's fork handlers" \
     "give it its own blackbox, named after the worker's pid, starting with a" \
     "copy of what the supervisor had logged."
start A
wait_for "$dir/A.ready" || { echo "demo: daemon A did not start"; exit 1; }
read -r pa ha <"$dir/A.ready"
tell "" "worker A runs as pid $pa; its blackbox:" "  $ha"

say "2. A second daemon gets the very same pid"
if [ $ns = yes ]; then
	tell "Both daemons run in their own PID namespace (unshare -fp), so their" \
	     "workers get the same pid at the same time, as after PID reuse."
else
	tell "(PID namespaces are not available here - run 'make demo' as root to see" \
	     " two processes with the same pid. The names below still show how each" \
	     " blackbox is unique: pid, boot id and a random nonce.)"
fi
start B
wait_for "$dir/B.ready" || { echo "demo: daemon B did not start"; exit 1; }
read -r pb hb <"$dir/B.ready"
tell "" "worker B runs as pid $pb; its blackbox:" "  $hb"
[ "$pa" = "$pb" ] && tell "" "Same pid $pa, two different blackboxes: upstream libqb would have named" \
	"both /dev/shm/qb-demo-$pa-blackbox-* (the second one silently ends up in /tmp)."
tell "" "Files in /dev/shm:"
for h in $(ours); do tell "  $(basename "$h")"; done
sleep 0.3

say "3. Worker A crashes"
tell "Its SIGSEGV handler calls qb_log_blackbox_write_to_file() (async-signal-safe)" \
     "and re-raises the signal, so the process still dies normally."
touch "$dir/A.crash"
wait_for "$dir/A-worker-crash.dump" || { echo "demo: no crash dump"; exit 1; }
sleep 0.3
tell "crash dump written: $dir/A-worker-crash.dump"

say "4. qb-blackbox --list"
tell "Every blackbox in /dev/shm with its owner, boot and state (live = still" \
     "mapped by a process; dead = its process is gone):" ""
"$tool" --list | grep -E "^STATE|qb-demo-"
tell "" "The crashed worker's blackbox stays behind as evidence ('dead'; shown as" \
     "'unknown' only where the tool cannot inspect every process, e.g. run as a" \
     "user). 'qb-blackbox --clean' removes dead ones (and IPC files that crashed" \
     "servers left), never a live one; 'qb-blackbox --save DIR' keeps them as dumps."

say "5. What worker A recorded (its crash dump)"
"$tool" "$dir/A-worker-crash.dump" 2>&1 | grep -v -e '^Ringbuffer' -e '^ [-=]>'
host_pid() { # HEADER: the pid, as seen from here, of the process writing it
	grep -l "$(basename "${1%-header}")-data" /proc/[0-9]*/maps 2>/dev/null |
		sed -n 's|^/proc/\([0-9]*\)/maps$|\1|p' | head -1
}
hostb=$(host_pid "$hb")
say "6. What worker B has recorded so far (qb-blackbox --pid $hostb)"
tell "--pid picks a process's blackbox without typing /dev/shm names. Worker B" \
     "is pid $hostb as seen from here and pid $pb inside its PID namespace; the" \
     "tool matches the namespace recorded in the blackbox's owner record." ""
"$tool" --pid "$hostb" 2>&1 | grep -v -e '^Ringbuffer' -e '^ [-=]>'
tell "" "Each blackbox holds only its own process's messages, although the two" \
     "workers share a pid."

say "7. Shutting down, watched live (qb-blackbox --follow --pid $hostb -n 1)"
tell "--follow prints the last records and then new ones as worker B logs them," \
     "like tail -f, and ends by itself when the worker exits." ""
"$tool" --follow --pid "$hostb" -n 1 2>&1 &
follower=$!
sleep 0.5
touch "$dir/stop"
wait $follower 2>/dev/null
wait 2>/dev/null
for h in $(ours); do
	tell "removing leftover $(basename "$h")"
	rm -f "$h" "${h%-header}-data"
done
left=$(ours | wc -l)
tell "blackboxes of this demo left in /dev/shm: $left"
