#!/bin/sh
# PID collision (issue 6 item 8): two processes in separate PID namespaces
# get the same pid at the same time. Each must have a working blackbox that
# holds only its own messages. Needs root and unshare(1).
set -u
helper=${top_builddir:-.}/tests/unit/bb_helper
tool=${top_builddir:-.}/tools/qb-blackbox
if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null 2>&1 ||
   ! unshare -fp --mount-proc true 2>/dev/null; then
	echo "SKIP: creating PID namespaces (unshare -fp --mount-proc, as root) is not permitted here"
	exit 77
fi
tmp=$(mktemp -d) || exit 99
ident=bbcoll$$
cleanup() {
	exec 3>&- 4>&- 2>/dev/null
	rm -f /dev/shm/qb-$ident-*
	rm -rf "$tmp"
}
trap cleanup EXIT
mkfifo "$tmp/a.in" "$tmp/b.in"
unshare -fp --mount-proc "$helper" hold $ident A "$tmp/a.dump" <"$tmp/a.in" >"$tmp/a.out" 2>&1 &
exec 3>"$tmp/a.in"
unshare -fp --mount-proc "$helper" hold $ident B "$tmp/b.dump" <"$tmp/b.in" >"$tmp/b.out" 2>&1 &
exec 4>"$tmp/b.in"
i=0
until grep -q ready "$tmp/a.out" && grep -q ready "$tmp/b.out"; do
	i=$((i + 1))
	[ $i -gt 100 ] && { echo "FAIL: helpers did not start"; cat "$tmp/a.out" "$tmp/b.out"; exit 1; }
	sleep 0.1
done
fail=0
pa=$(sed -n 's/^ready //p' "$tmp/a.out"); pb=$(sed -n 's/^ready //p' "$tmp/b.out")
echo "process A has pid $pa, process B has pid $pb (each in its own PID namespace)"
[ "$pa" = "$pb" ] || { echo "FAIL: the two pids differ"; fail=1; }
n=$(ls /dev/shm/qb-$ident-$pa-*-blackbox-header 2>/dev/null | wc -l)
echo "blackboxes named qb-$ident-$pa-*: $n"
[ "$n" = 2 ] || { echo "FAIL: want 2 distinct blackboxes for pid $pa"; fail=1; }
"$tool" --list | grep "$ident" >"$tmp/list"
cat "$tmp/list"
[ "$(grep -c '^live ' "$tmp/list")" = 2 ] || { echo "FAIL: --list does not show both live"; fail=1; }
# each prints its live blackbox from the outside: only its own messages
for h in /dev/shm/qb-$ident-$pa-*-blackbox-header; do
	"$tool" "$h" >"$tmp/live" 2>&1 || { echo "FAIL: cannot print $h"; fail=1; }
	a=$(grep -c "message from A" "$tmp/live"); b=$(grep -c "message from B" "$tmp/live")
	[ $((a + b)) = 1 ] || { echo "FAIL: $h holds A:$a B:$b messages"; fail=1; }
done
exec 3>&- 4>&-
wait
for me in A B; do
	other=B; [ $me = B ] && other=A
	d=$tmp/$(echo $me | tr AB ab).dump
	"$tool" "$d" >"$tmp/out.$me" 2>&1 || { echo "FAIL: dump of $me unreadable"; fail=1; }
	grep -q "message from $me (pid $pa)" "$tmp/out.$me" || { echo "FAIL: $me lost its message"; fail=1; }
	grep -q "goodbye from $me" "$tmp/out.$me" || { echo "FAIL: $me lost its goodbye"; fail=1; }
	if grep -q "from $other" "$tmp/out.$me"; then
		echo "FAIL: $me's blackbox holds messages of $other"; fail=1
	fi
	echo "dump of $me: $(grep -c "from $me" "$tmp/out.$me") own messages, $(grep -c "from $other" "$tmp/out.$me") of the other"
done
exit $fail
