#!/bin/sh
# The bound on dead blackboxes (issue 15): a new blackbox removes the oldest
# dead blackboxes of its ident beyond QB_BLACKBOX_KEEP_DEAD, and nothing
# else.  Around a fork run whose children _exit() it lays out, with the
# run's ident: two dead blackboxes of processes that returned from main (a
# creator keeps its blackbox at exit, as libqb does), a record whose pid
# now belongs to a process started after the record (pid reuse: dead), and
# blackboxes that must all survive: a live one, one of another ident, an
# upstream-style one, a record from another PID namespace, one from another
# boot, one naming another ident, a record whose pid runs and started
# before it, a symlink, and (as root) another user's.
set -u
# a single-threaded parent: fork-safe under AddressSanitizer too
BB_STRESS_THREADS=0; export BB_STRESS_THREADS
helper=${top_builddir:-.}/tests/unit/bb_helper
ident=bbbound$$
other=bbother$$
tmp=$(mktemp -d) || exit 99
live_pid=
cleanup() {
	exec 3>&- 2>/dev/null
	[ -n "$live_pid" ] && wait "$live_pid" 2>/dev/null
	[ -n "${sleeper:-}" ] && kill "$sleeper" 2>/dev/null
	rm -rf "$tmp"
	rm -f /dev/shm/qb-$ident-* /dev/shm/qb-$other-*
}
trap cleanup EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
shm_ls() { ls /dev/shm | grep "^qb-$1-" | sort; }

# Owner record at 8240: magic 8240, pid 8256, boot_sec 8260, pidns 8264,
# boot_id 8288, ident 8328.
patch32() { # FILE OFFSET VALUE: 4 little-endian bytes (printf writes NULs too)
	v=$3
	printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $((v & 255)) $((v >> 8 & 255)) \
		$((v >> 16 & 255)) $((v >> 24 & 255)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
patchs() { # FILE OFFSET STRING
	printf '%s' "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
copy_box() { # SRC-BASE NEW-BASE (paths without -header/-data)
	cp "$1-header" "$2-header" && cp "$1-data" "$2-data"
}

# two dead blackboxes of our ident, one of another ident
for t in D1 D2; do
	"$helper" hold $ident $t "$tmp/$t.dump" </dev/null >"$tmp/$t.out" 2>&1 ||
		bad "hold $t failed"
done
"$helper" hold $other O "$tmp/O.dump" </dev/null >/dev/null 2>&1
n=$(shm_ls $ident | grep -c -- '-header$')
[ "$n" = 2 ] || bad "a creator that returned from main left $n blackboxes, want 2"
dead_creators=$(shm_ls $ident | grep -- '-header$')
d2=/dev/shm/$(echo "$dead_creators" | tail -1)
d2=${d2%-header}
d2pid=$(echo "$d2" | sed "s/.*qb-$ident-\([0-9]*\)-.*/\1/")
boot=$(echo "$d2" | sed "s/.*qb-$ident-[0-9]*-\([0-9a-f]*\)-.*/\1/")

# a process started now; pid-reuse records name it
sleep 300 &
sleeper=$!
sleep 1.2
keepers=
nonce=0
mk() { # NAME PID: a copy of D2 (dead) under our naming scheme with pid PID
	nonce=$((nonce + 1))
	b=/dev/shm/qb-$ident-$2-$boot-$(printf '%016x' $nonce)-blackbox
	copy_box "$d2" "$b"
	patch32 "$b-header" 8256 "$2"
	eval "$1=\$b"
}
mk reused $sleeper
patch32 "$reused-header" 8260 1			# made at boot: before sleep
mk running $sleeper
patch32 "$running-header" 8260 4000000000	# made after sleep started
mk badmagic $d2pid
patchs "$badmagic-header" 8240 "QBBBOWN0"
mk nobootsec $sleeper
patch32 "$nobootsec-header" 8260 0		# cannot tell a reuse
mk pidns $d2pid
patch32 "$pidns-header" 8264 12345
mk otherboot $d2pid
patchs "$otherboot-header" 8288 "ffffffff-0000-0000-0000-000000000000"
mk otherident $d2pid
patchs "$otherident-header" 8328 "$other"
if [ "$(id -u)" = 0 ]; then
	mk otheruser $d2pid; chown 65534 "$otheruser-header"
	mk otherdata $d2pid; chown 65534 "$otherdata-data"
fi
ln -s "$d2-header" /dev/shm/qb-$ident-$d2pid-$boot-00000000000000ff-blackbox-header
head -c 8248 /dev/zero >/dev/shm/qb-$ident-$d2pid-blackbox-header
head -c 4096 /dev/zero >/dev/shm/qb-$ident-$d2pid-blackbox-data

# a live blackbox of our ident
mkfifo "$tmp/live.in"
"$helper" hold $ident L - <"$tmp/live.in" >"$tmp/live.out" 2>&1 &
live_pid=$!
exec 3>"$tmp/live.in"
i=0
while ! grep -q ready "$tmp/live.out" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
live=$(sed -n 's/^ready //p' "$tmp/live.out")
[ -n "$live" ] || bad "live holder did not start"

before=$(shm_ls $ident)
echo "before the run:"; echo "$before" | sed 's/^/  /'
QB_BLACKBOX_KEEP_DEAD=3 BB_STRESS_IDENT=$ident "$helper" stress 20 _exit >"$tmp/stress" ||
	{ cat "$tmp/stress"; bad "stress run failed"; }
after=$(shm_ls $ident)
echo "after 20 children that _exit with QB_BLACKBOX_KEEP_DEAD=3:"; echo "$after" | sed 's/^/  /'

gone() { echo "$after" | grep -q "^$(basename "$1")\$" && bad "$2 was not removed" || echo "ok: $2 removed"; }
kept() { echo "$after" | grep -q "^$(basename "$1")\$" && echo "ok: $2 kept" || bad "$2 was removed"; }
for h in $dead_creators; do gone "$h" "a dead creator's blackbox"; done
gone "$reused-header" "a record whose pid was reused"
gone "$reused-data" "its data file"
kept "$running-header" "a record whose pid runs and started before it"
kept "$badmagic-header" "a blackbox without a valid owner record"
kept "$nobootsec-header" "a record of a running pid without creation time"
kept "$pidns-header" "a record of another PID namespace"
kept "$otherboot-header" "a record of another boot"
kept "$otherident-header" "a record naming another ident"
[ -n "${otheruser:-}" ] && kept "$otheruser-header" "another user's blackbox"
[ -n "${otherdata:-}" ] && kept "$otherdata-header" "a blackbox with another user's data file"
kept /dev/shm/qb-$ident-$d2pid-$boot-00000000000000ff-blackbox-header "a symlink"
kept /dev/shm/qb-$ident-$d2pid-blackbox-header "an upstream-style blackbox"
echo "$after" | grep -q "^qb-$ident-$live-.*-header\$" && echo "ok: the live one kept" ||
	bad "the live blackbox was removed"
[ "$(shm_ls $other | grep -c -- '-header$')" = 1 ] && echo "ok: another ident's kept" ||
	bad "another ident's blackbox was removed"
# of the run's own children (pids not in the list before), the newest 3+1
new=$(echo "$after" | grep -- '-header$' | while read -r f; do
	echo "$before" | grep -qx "$f" || echo "$f"; done | wc -l)
[ "$new" = 4 ] && echo "ok: 4 of the run's dead children kept" || bad "$new of the run's children kept, want 4"

# QB_BLACKBOX_KEEP_DEAD=0 keeps only the last child (alive when it pruned)
QB_BLACKBOX_KEEP_DEAD=0 BB_STRESS_IDENT=$other "$helper" stress 10 _exit >"$tmp/stress" ||
	bad "stress run failed"
n=$(shm_ls $other | grep -c -- '-header$')
[ "$n" = 1 ] && echo "ok: QB_BLACKBOX_KEEP_DEAD=0 keeps 1" || bad "QB_BLACKBOX_KEEP_DEAD=0 keeps $n, want 1"
# a value that is not a number means the default (8, plus the last child)
QB_BLACKBOX_KEEP_DEAD=lots BB_STRESS_IDENT=$other "$helper" stress 12 _exit >"$tmp/stress" ||
	bad "stress run failed"
n=$(shm_ls $other | grep -c -- '-header$')
[ "$n" = 9 ] && echo "ok: an invalid value keeps the default" || bad "invalid value keeps $n, want 9"
exit $fail
