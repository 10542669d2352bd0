#!/bin/sh
# qb-blackbox on live writers of both libraries (tests/compat/compat_blackbox,
# run on ours and on the distro's):
#   - --follow --pid prints every record in order and ends (exit 0, "writer
#     ... has exited") when the writer exits; latency and idle CPU printed;
#   - --follow lapped by a burst while stopped: printed + "N records lost"
#     == records written, exactly (our writer); in order, loss said (distro);
#   - a reader in a loop against a writer lapping a small ring continuously
#     never prints records out of order (issue 16 item 4).
set -u
if [ -n "${QB_SANITIZERS:-}" ]; then
	echo "bbox_follow: skipped in sanitizer builds (distro library)"; exit 77
fi
prog=${top_builddir:-.}/tests/compat/compat_blackbox
tool=${top_builddir:-.}/tools/qb-blackbox
if [ ! -x "$prog" ] || [ -z "${QB_DISTRO_LIBDIR:-}" ] || [ -z "${QB_OUR_LIBDIR:-}" ]; then
	echo "bbox_follow: needs the distro libqb and tests/compat/compat_blackbox"; exit 77
fi
tmp=$(mktemp -d) || exit 99
ident=bbf$$
cleanup() {
	for p in $(jobs -p); do kill "$p" 2>/dev/null; done
	rm -rf "$tmp"; rm -f /dev/shm/qb-$ident*-blackbox-*
}
trap cleanup EXIT
fail=0
reads=${QB_REORDER_READS:-150}

libdir() { [ "$1" = ours ] && echo "$QB_OUR_LIBDIR" || echo "$QB_DISTRO_LIBDIR"; }
wait_ready() { # FILE -> pid
	i=0
	while ! grep -q '^ready ' "$1" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	sed -n 's/^ready //p' "$1"
}

for w in ours distro; do
	lib=$(libdir $w)
	# ---- follow a ticking writer until it exits
	LD_LIBRARY_PATH=$lib "$prog" tick ${ident}t$w 20 100 >"$tmp/tick.$w" &
	wpid=$(wait_ready "$tmp/tick.$w")
	[ -n "$wpid" ] || { echo "FAIL: $w tick writer did not start"; fail=1; continue; }
	if command -v python3 >/dev/null 2>&1; then
		python3 - "$tool" "$wpid" >"$tmp/lat.$w" 2>&1 <<'EOF'
import subprocess, sys, time
p = subprocess.Popen([sys.argv[1], "--follow", "--pid", sys.argv[2]],
                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
lat, lines, t0 = [], [], None
for raw in p.stdout:
    now = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    t0 = t0 or now  # records older than the first output were backlog
    line = raw.decode(errors="replace").rstrip("\n")
    lines.append(line)
    f = line.split()
    if len(f) >= 3 and f[-3] == "tick" and int(f[-1]) > t0:
        lat.append((now - int(f[-1])) / 1e6)
rc = p.wait()
for l in lines:
    print("OUT " + l)
lat = sorted(lat)
if lat:
    print("LAT median %.1f ms max %.1f ms over %d records" % (lat[len(lat) // 2], lat[-1], len(lat)))
print("RC %d" % rc)
EOF
	else
		timeout 30 "$tool" --follow --pid "$wpid" 2>&1 | sed 's/^/OUT /' >"$tmp/lat.$w"
		echo "RC 0" >>"$tmp/lat.$w"
	fi
	wait
	got=$(grep -c '^OUT .*tick [0-9]* [0-9]*$' "$tmp/lat.$w")
	order=$(sed -n 's/^OUT .*tick \([0-9]*\) [0-9]*$/\1/p' "$tmp/lat.$w" | tr '\n' ' ')
	want=$(seq 0 19 | tr '\n' ' ')
	if [ "$got" -ne 20 ] || [ "$order" != "$want" ] || ! grep -q '^RC 0$' "$tmp/lat.$w" ||
	   ! grep -q "^OUT \.\.\. writer (pid $wpid) has exited \.\.\.$" "$tmp/lat.$w"; then
		echo "FAIL: $w: follow of a ticking writer"; cat "$tmp/lat.$w"; fail=1
	else
		echo "ok: $w: follow printed 20/20 ticks in order and ended when the writer exited"
	fi
	grep '^LAT' "$tmp/lat.$w" | sed "s/^LAT/   $w follow latency:/"

	# ---- lapped while stopped: the loss is counted
	mkfifo "$tmp/go.$w"
	LD_LIBRARY_PATH=$lib "$prog" burst ${ident}b$w 8192 2000 <"$tmp/go.$w" >"$tmp/burst.$w" &
	exec 7>"$tmp/go.$w"
	wpid=$(wait_ready "$tmp/burst.$w")
	timeout 60 "$tool" --follow --pid "$wpid" >"$tmp/fb.$w" 2>&1 7>&- &
	fpid=$!
	i=0
	while ! grep -q started "$tmp/fb.$w" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	kill -STOP $fpid
	echo go >&7
	i=0
	while ! grep -q "burst done" "$tmp/burst.$w" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	kill -CONT $fpid
	sleep 0.5
	exec 7>&-
	wait $fpid; frc=$?
	wait
	printed=$(grep -c '^info .*: b [0-9]*$' "$tmp/fb.$w")
	lost=$(sed -n 's/^\.\.\. \([0-9]*\) records lost \.\.\.$/\1/p' "$tmp/fb.$w")
	seqs=$(sed -n 's/^info .*: b \([0-9]*\)$/\1/p' "$tmp/fb.$w")
	first=$(echo "$seqs" | head -1)
	inorder=$(echo "$seqs" | awk -v f="$first" 'NR > 0 && $1 != f + NR - 1 { bad = 1 } END { print bad ? "no" : "yes" }')
	if [ $w = ours ]; then
		if [ -z "$lost" ] || [ $((printed + lost)) -ne 2000 ] || [ "$inorder" != yes ] ||
		   [ "$first" != "$lost" ] || [ $frc -ne 0 ]; then
			echo "FAIL: ours: lapped follow: printed $printed, lost '${lost}', first $first, in order $inorder, exit $frc"
			grep -v '^info .*: b ' "$tmp/fb.$w"; fail=1
		else
			echo "ok: ours: lapped follow: $printed printed + $lost lost = 2000 written, in order"
		fi
	else
		if ! grep -q '^\.\.\. records lost' "$tmp/fb.$w" || [ "$inorder" != yes ] || [ $frc -ne 0 ]; then
			echo "FAIL: distro: lapped follow: printed $printed, in order $inorder, exit $frc"
			grep -v '^info .*: b ' "$tmp/fb.$w"; fail=1
		else
			echo "ok: distro: lapped follow: $printed printed in order, loss reported (no count kept by that writer)"
		fi
	fi

	# ---- readers against a writer lapping a 16 KiB ring all the time
	LD_LIBRARY_PATH=$lib "$prog" spin ${ident}s$w 16384 600 >"$tmp/spin.$w" &
	spid=$!
	wpid=$(wait_ready "$tmp/spin.$w")
	hdr=$(ls /dev/shm/qb-${ident}s$w-$wpid*-blackbox-header)
	bad=0; skipped=0; recs=0; n=0
	while [ $n -lt "$reads" ]; do
		# every other read pauses 2 ms before its first copy: lapped
		lap=$(( (n % 2) * 2000 ))
		QB_BLACKBOX_TEST_LAP_US=$lap "$tool" "$hdr" >"$tmp/r" 2>&1
		r=$(sed -n 's/^info .*: seq \([0-9]*\) [a-m]*$/\1/p' "$tmp/r" |
			awk 'NR > 1 && $1 != prev + 1 { bad++ } { prev = $1 } END { print bad + 0, NR }')
		bad=$((bad + ${r% *})); recs=$((recs + ${r#* }))
		grep -q 'left out' "$tmp/r" && skipped=$((skipped + 1))
		n=$((n + 1))
	done
	kill $spid; wait
	if [ $bad -ne 0 ] || [ $recs -eq 0 ]; then
		echo "FAIL: $w: $bad reorderings in $reads reads of a lapping writer"; fail=1
	else
		echo "ok: $w: $reads reads of a lapping writer, $recs records, 0 reorderings ($skipped reads left lapped records out)"
	fi
done

# ---- idle CPU of a follower (figure only)
LD_LIBRARY_PATH=$QB_OUR_LIBDIR "$prog" tick ${ident}idle 1 4000 >"$tmp/idle" &
wpid=$(wait_ready "$tmp/idle")
timeout 60 "$tool" --follow --pid "$wpid" >/dev/null 2>&1 &
fpid=$!
sleep 1
child=$(cat /proc/$fpid/task/$fpid/children 2>/dev/null | cut -d' ' -f1)
cpu() { awk '{ print $1 }' /proc/${child:-$fpid}/schedstat 2>/dev/null || echo 0; }
t0=$(cpu); sleep 2; t1=$(cpu)
echo "   idle follower: $(( (t1 - t0) / 1000 )) us of CPU in 2 s ($(( (t1 - t0) / 20000000 )).$(( (t1 - t0) / 2000000 % 10 ))% of a core)"
wait
exit $fail
