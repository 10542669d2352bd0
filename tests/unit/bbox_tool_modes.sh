#!/bin/sh
# qb-blackbox modes: --pid/--ident (also across a PID namespace), several
# matches, filters, JSON (parsed by jq), files it must not open (a FIFO
# twin, the data path recorded in a header), IPC leftovers in --list /
# --clean / --dry-run, --save.
set -u
helper=${top_builddir:-.}/tests/unit/bb_helper
tool=${top_builddir:-.}/tools/qb-blackbox
compat=${top_builddir:-.}/tests/compat/compat_blackbox
tmp=$(mktemp -d) || exit 99
ident=bbm$$
cleanup() {
	exec 8>&- 9>&- 2>/dev/null
	for p in $(jobs -p); do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"; rm -f /dev/shm/qb-$ident*
}
trap cleanup EXIT
fail=0
check() { # DESCRIPTION EXPECTED-STATUS COMMAND...
	d=$1; want=$2; shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"; got=$?
	if [ $got -ne $want ]; then
		echo "FAIL: $d: exit $got, want $want"; cat "$tmp/out" "$tmp/err"; fail=1
	else
		echo "ok: $d (exit $got)"
	fi
}
expect() { # DESCRIPTION GREP-ARGS... (on $tmp/out)
	d=$1; shift
	grep -q "$@" "$tmp/out" || { echo "FAIL: $d"; cat "$tmp/out" "$tmp/err"; fail=1; }
}
lines() { grep -c "$1" "$tmp/out"; }
wait_ready() { # FILE -> pid
	i=0
	while ! grep -q '^ready ' "$1" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	sed -n 's/^ready //p' "$1"
}

# ---- two live holders with the same ident, one with another ident
mkfifo "$tmp/f1" "$tmp/f2"
"$helper" hold $ident A - <"$tmp/f1" >"$tmp/a.out" 2>&1 &
exec 8>"$tmp/f1"
"$helper" hold $ident B - <"$tmp/f2" >"$tmp/b.out" 2>&1 &
exec 9>"$tmp/f2"
pa=$(wait_ready "$tmp/a.out"); pb=$(wait_ready "$tmp/b.out")
check "--pid A" 0 "$tool" --pid "$pa"
expect "--pid prints A's records" "message from A (pid $pa)"
grep -q "message from B" "$tmp/out" && { echo "FAIL: --pid A printed B"; fail=1; }
check "--ident with two matches" 1 "$tool" --ident $ident
grep -q "2 blackboxes match" "$tmp/err" || { echo "FAIL: no list of matches"; cat "$tmp/err"; fail=1; }
check "--ident --all" 0 "$tool" --ident $ident --all
[ "$(lines 'message from [AB]')" -eq 2 ] || { echo "FAIL: --all did not print both"; fail=1; }
check "--pid and --ident" 0 "$tool" --pid "$pb" --ident $ident
expect "--pid B" "message from B"
check "--pid of nothing" 2 "$tool" --pid 999999999
check "--ident of nothing" 2 "$tool" --ident nosuch$$
check "--pid with a file" 1 "$tool" --pid "$pa" /dev/null

# ---- JSON of a live blackbox
check "--output json --pid" 0 "$tool" -o json --pid "$pa"
if command -v jq >/dev/null 2>&1; then
	n=$(jq -s 'length' "$tmp/out") || n=bad
	okj=$(jq -r 'select((.ts | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{9}Z$"))
		and .priority == "info" and .priority_num == 6 and .function == "do_hold"
		and (.line | type) == "number" and .tags == 0 and .pid == '"$pa"'
		and .ident == "'$ident'") | .message' "$tmp/out")
	if [ "$n" != 1 ] || [ "$okj" != "message from A (pid $pa)" ]; then
		echo "FAIL: JSON: $n objects, message '$okj'"; cat "$tmp/out"; fail=1
	else
		echo "ok: JSON parses with jq, fields as expected"
	fi
else
	echo "jq missing: JSON not checked"
fi

# ---- a blackbox in another PID namespace, found by its host pid
if [ "$(id -u)" = 0 ] && unshare -fp --mount-proc true 2>/dev/null; then
	mkfifo "$tmp/f3"
	unshare -fp --mount-proc "$helper" hold ${ident}ns C - <"$tmp/f3" >"$tmp/c.out" 2>&1 &
	exec 7>"$tmp/f3"
	inner=$(wait_ready "$tmp/c.out")
	host=""
	for c in /proc/[0-9]*/cmdline; do
		p=${c#/proc/}; p=${p%/cmdline}
		{ tr '\0' ' ' <"$c"; } 2>/dev/null | grep -q "hold ${ident}ns " || continue
		grep -q "^NSpid:.*[[:space:]]$inner\$" /proc/$p/status 2>/dev/null &&
			[ "$(awk '/^NSpid:/ { print NF }' /proc/$p/status)" -gt 2 ] && host=$p
	done
	check "--pid HOSTPID of a namespaced process (inner pid $inner)" 0 "$tool" --pid "$host"
	expect "--pid across namespaces" "message from C (pid $inner)"
	kill -9 "$host"
	exec 7>&-
	sleep 0.3
	check "--list after the namespaced process died" 0 "$tool" --list
	grep " ${ident}ns " "$tmp/out" | grep -q '^dead ' ||
		{ echo "FAIL: namespaced dead box not 'dead'"; grep "${ident}ns" "$tmp/out"; fail=1; }
	rm -f /dev/shm/qb-${ident}ns-*
else
	echo "skipped: PID namespace part (needs root and unshare)"
fi
exec 8>&- 9>&-
wait

# ---- filters on a dump of three records (info, warning, error)
"$helper" dump "$tmp/d3" || { echo "FAIL: dump"; fail=1; }
check "no filter" 0 "$tool" "$tmp/d3"
[ "$(lines ' bb_helper\| do_dump(')" -eq 3 ] || { echo "FAIL: 3 records"; cat "$tmp/out"; fail=1; }
check "--priority warning" 0 "$tool" --priority warning "$tmp/d3"
[ "$(lines 'do_dump(')" -eq 2 ] || { echo "FAIL: --priority"; cat "$tmp/out"; fail=1; }
check "--grep" 0 "$tool" --grep 'sec.nd [a-z]+' "$tmp/d3"
[ "$(lines 'do_dump(')" -eq 1 ] && expect "--grep match" "second two" || { echo "FAIL: --grep"; fail=1; }
check "--lines 1" 0 "$tool" -n 1 "$tmp/d3"
[ "$(lines 'do_dump(')" -eq 1 ] && expect "--lines last" "third 3.0" || { echo "FAIL: --lines"; fail=1; }
check "--since -10min" 0 "$tool" --since -10min "$tmp/d3"
[ "$(lines 'do_dump(')" -eq 3 ] || { echo "FAIL: --since"; fail=1; }
check "--until -10min" 0 "$tool" --until -10min "$tmp/d3"
[ "$(lines 'do_dump(')" -eq 0 ] || { echo "FAIL: --until"; fail=1; }
check "--since absolute" 0 "$tool" --since "2000-01-01 00:00" --until now "$tmp/d3"
[ "$(lines 'do_dump(')" -eq 3 ] || { echo "FAIL: absolute times"; fail=1; }
check "bad time" 1 "$tool" --since yesterdayish "$tmp/d3"
check "bad priority" 1 "$tool" --priority loud "$tmp/d3"
check "bad regex" 1 "$tool" --grep '(' "$tmp/d3"
check "json of a dump" 0 "$tool" -o json --priority error "$tmp/d3"
if command -v jq >/dev/null 2>&1; then
	[ "$(jq -r '.message + "|" + (.pid|tostring)' "$tmp/out")" = "third 3.0|null" ] ||
		{ echo "FAIL: json of a dump"; cat "$tmp/out"; fail=1; }
fi

# ---- files that must not be opened (issue 16 item 5)
"$helper" hold ${ident}x X "$tmp/x.dump" </dev/null >"$tmp/x.out" 2>&1
hdr=$(ls /dev/shm/qb-${ident}x-*-blackbox-header)
mkdir "$tmp/p"
cp "$hdr" "$tmp/p/qb-fifo-1-blackbox-header"
mkfifo "$tmp/p/qb-fifo-1-blackbox-data"
check "FIFO as the data twin" 3 timeout 20 "$tool" "$tmp/p/qb-fifo-1-blackbox-header"
mkfifo "$tmp/p/fifo"
check "FIFO as the file" 3 timeout 20 "$tool" "$tmp/p/fifo"
ln -s "$hdr" "$tmp/p/link-header"
check "symbolic link" 3 "$tool" "$tmp/p/link-header"
# a header without its twin: the data path recorded inside is not used
cp "$hdr" "$tmp/p/qb-lone-1-blackbox-header"
check "recorded data path ignored" 2 "$tool" "$tmp/p/qb-lone-1-blackbox-header"
grep -q "message from X" "$tmp/out" && { echo "FAIL: read the recorded data path"; fail=1; }
if [ -x "$compat" ] && [ -n "${QB_OUR_LIBDIR:-}" ] && [ -z "${QB_SANITIZERS:-}" ]; then
	LD_LIBRARY_PATH=$QB_OUR_LIBDIR timeout 20 "$compat" print "$tmp/p/qb-fifo-1-blackbox-header" >"$tmp/out" 2>&1
	[ $? -ne 124 ] && echo "ok: library reader: FIFO twin does not block" ||
		{ echo "FAIL: library reader blocks on a FIFO twin"; fail=1; }
	LD_LIBRARY_PATH=$QB_OUR_LIBDIR timeout 20 "$compat" print "$tmp/p/fifo" >"$tmp/out" 2>&1
	[ $? -ne 124 ] && echo "ok: library reader: FIFO file does not block" ||
		{ echo "FAIL: library reader blocks on a FIFO"; fail=1; }
	LD_LIBRARY_PATH=$QB_OUR_LIBDIR "$compat" print "$tmp/p/qb-lone-1-blackbox-header" >"$tmp/out" 2>&1
	grep -q "message from X" "$tmp/out" && { echo "FAIL: library read the recorded data path"; fail=1; } ||
		echo "ok: library reader ignores the recorded data path"
fi

# ---- plain output is byte for byte the library's (dumps of both writers)
if [ -x "$compat" ] && [ -n "${QB_DISTRO_LIBDIR:-}" ] && [ -z "${QB_SANITIZERS:-}" ]; then
	for w in "$QB_OUR_LIBDIR" "$QB_DISTRO_LIBDIR"; do
		LD_LIBRARY_PATH=$w "$compat" write-small "$tmp/cw" 4096 >/dev/null 2>&1
		{ echo "Dumping the contents of $tmp/cw"
		  LD_LIBRARY_PATH=$QB_OUR_LIBDIR "$compat" print "$tmp/cw" | sed '$d'; } >"$tmp/lib.txt"
		"$tool" "$tmp/cw" >"$tmp/tool.txt" 2>/dev/null
		if cmp -s "$tmp/lib.txt" "$tmp/tool.txt"; then
			echo "ok: plain output identical to the library's ($(wc -l <"$tmp/tool.txt") lines, writer $w)"
		else
			echo "FAIL: plain output differs (writer $w)"; diff "$tmp/lib.txt" "$tmp/tool.txt" | head; fail=1
		fi
	done
fi

# ---- IPC leftovers and --clean / --dry-run / --save on a private dir
shm=$tmp/shm
mkdir "$shm"
base=$(basename "$hdr" -header)
mv "$hdr" "/dev/shm/$base-data" "$shm/"
ipcd="$shm/qb-999999-999998-7-AbCdEf"
mkdir "$ipcd"
for r in request response event; do
	head -c 8252 /dev/zero >"$ipcd/qb-$r-svc$$-header"; head -c 4096 /dev/zero >"$ipcd/qb-$r-svc$$-data"
done
head -c 8248 /dev/zero >"$shm/qb-old$$-request-1-2-3-header"
head -c 4096 /dev/zero >"$shm/qb-live$$-request-1-2-3-data"
livepid=""
if command -v python3 >/dev/null 2>&1; then
	python3 -c '
import mmap, sys, time
f = open(sys.argv[1], "r+b"); m = mmap.mmap(f.fileno(), 4096)
print("ready", flush=True); sys.stdin.read()' "$shm/qb-live$$-request-1-2-3-data" \
		<"$tmp/f1" >"$tmp/py.out" 2>&1 &
	exec 8>"$tmp/f1"
	livepid=$(wait_ready "$tmp/py.out")
fi
: >"$shm/unrelated"
QB_BLACKBOX_DIR=$shm check "--list with IPC leftovers" 0 "$tool" --list
cat "$tmp/out"
expect "dead IPC dir listed" "^dead .* ipc:svc$$ .*qb-999999-999998-7-AbCdEf\$"
expect "dead flat IPC file listed" "^dead .* ipc:- .*qb-old$$-request-1-2-3-header\$"
[ -n "$livepid" ] && expect "live IPC file listed" "^live .* ipc:- .*qb-live$$-request-1-2-3-data\$"
expect "dead blackbox listed" "^dead .* ${ident}x .*$base-header\$"
QB_BLACKBOX_DIR=$shm check "--clean --dry-run" 0 "$tool" --clean --dry-run
[ "$(lines '^would remove')" -eq 3 ] || { echo "FAIL: dry run"; fail=1; }
[ -d "$ipcd" ] && [ -f "$shm/$base-header" ] || { echo "FAIL: dry run removed files"; fail=1; }
mkdir "$tmp/saved"
QB_BLACKBOX_DIR=$shm check "--save" 0 "$tool" --save "$tmp/saved"
saved=$(ls "$tmp/saved")
case $saved in
"${ident}x-"[0-9]*-[0-9]*T[0-9]*Z.qbbb) echo "ok: saved as $saved" ;;
*) echo "FAIL: saved as '$saved'"; fail=1 ;;
esac
[ ! -e "$shm/$base-header" ] && [ ! -e "$shm/$base-data" ] || { echo "FAIL: --save kept the box"; fail=1; }
check "print the saved dump" 0 "$tool" "$tmp/saved/$saved"
expect "saved records" "goodbye from X\|message from X"
check "json of the saved dump" 0 "$tool" -o json "$tmp/saved/$saved"
expect "saved dump: ident from the name" "\"ident\":\"${ident}x\""
QB_BLACKBOX_DIR=$shm check "--clean" 0 "$tool" --clean
[ ! -e "$ipcd" ] && [ ! -e "$shm/qb-old$$-request-1-2-3-header" ] || { echo "FAIL: IPC leftovers kept"; fail=1; }
if [ -n "$livepid" ]; then
	[ -e "$shm/qb-live$$-request-1-2-3-data" ] || { echo "FAIL: --clean removed a live file"; fail=1; }
fi
[ -e "$shm/unrelated" ] || { echo "FAIL: --clean removed an unrelated file"; fail=1; }
exec 8>&-
wait

# ---- bash completion offers the options and their values
comp=${top_srcdir:-.}/tools/completion/qb-blackbox
if command -v bash >/dev/null 2>&1; then
	got=$(bash -c '. "$1"; COMP_WORDS=(qb-blackbox --fol); COMP_CWORD=1; _qb_blackbox
		echo "${COMPREPLY[*]}"; COMP_WORDS=(qb-blackbox -o j); COMP_CWORD=2; _qb_blackbox
		echo "${COMPREPLY[*]}"; COMP_WORDS=(qb-blackbox --priority wa); _qb_blackbox
		echo "${COMPREPLY[*]}"' sh "$comp" | tr '\n' ' ')
	[ "$got" = "--follow json warning " ] && echo "ok: bash completion" ||
		{ echo "FAIL: bash completion: '$got'"; fail=1; }
fi
exit $fail
