#!/bin/sh
# qb-blackbox: printing (exit codes, errors), a blackbox whose writer died
# inside a record (printed whole, --follow ends), --list and --clean on a
# private directory (QB_BLACKBOX_DIR) holding a dead blackbox, one from
# another boot and an old-style one.
set -u
helper=${top_builddir:-.}/tests/unit/bb_helper
tool=${top_builddir:-.}/tools/qb-blackbox
tmp=$(mktemp -d) || exit 99
ident=bbtool$$
trap 'rm -rf "$tmp"; rm -f /dev/shm/qb-$ident-*' EXIT
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
check "missing file" 2 "$tool" "$tmp/missing"
grep -q "missing: No such file or directory" "$tmp/err" || { echo "FAIL: no clear error"; fail=1; }
: >"$tmp/empty"
check "empty file" 3 "$tool" "$tmp/empty"
grep -q "empty: corrupt or not a blackbox file" "$tmp/err" || { echo "FAIL: no clear error"; fail=1; }
head -c 5000 /dev/urandom >"$tmp/junk"
check "random bytes" 3 "$tool" "$tmp/junk"
check "unknown option" 1 "$tool" --bogus
check "no arguments" 1 "$tool"
check "help" 0 "$tool" --help

"$helper" hold $ident T "$tmp/dump" </dev/null >"$tmp/hold.out" 2>&1
pid=$(sed -n 's/^ready //p' "$tmp/hold.out")
check "print a dump" 0 "$tool" "$tmp/dump"
grep -q "message from T (pid $pid)" "$tmp/out" || { echo "FAIL: dump text"; fail=1; }
grep -q "^Dumping the contents of $tmp/dump\$" "$tmp/out" || { echo "FAIL: dump title"; fail=1; }
check "dump then missing file" 2 "$tool" "$tmp/dump" "$tmp/missing"
grep -q "goodbye from T" "$tmp/out" || { echo "FAIL: first file not printed"; fail=1; }

# the dead process's blackbox moves to a private directory for --list/--clean
shm=$tmp/shm
mkdir "$shm"
hdr=$(ls /dev/shm/qb-$ident-$pid-*-blackbox-header)
base=$(basename "$hdr" -header)
mv "$hdr" "$shm/"; mv "/dev/shm/$base-data" "$shm/"
check "print the dead header file" 0 "$tool" "$shm/$base-header"
grep -q "goodbye from T" "$tmp/out" || { echo "FAIL: live-format print"; fail=1; }
# a writer that died inside a record leaves the owner's seq odd (offset
# 8252): --follow still ends once it sees the writer gone
mid=qb-midrec$$-$pid-blackbox
cp "$shm/$base-header" "$shm/$mid-header"; cp "$shm/$base-data" "$shm/$mid-data"
printf '\001' | dd of="$shm/$mid-header" bs=1 seek=8252 conv=notrunc 2>/dev/null
check "print a writer dead mid-record" 0 "$tool" "$shm/$mid-header"
grep -q "goodbye from T" "$tmp/out" || { echo "FAIL: mid-record records left out"; fail=1; }
check "follow a writer dead mid-record" 0 timeout 20 "$tool" -f "$shm/$mid-header"
grep -q "goodbye from T" "$tmp/out" || { echo "FAIL: mid-record follow text"; fail=1; }
grep -q "^\.\.\. writer (pid $pid) has exited \.\.\.\$" "$tmp/out" ||
	{ echo "FAIL: mid-record follow did not end"; cat "$tmp/out"; fail=1; }
rm -f "$shm/$mid-header" "$shm/$mid-data"
# the data file truncated while the reader copies it (it pauses before
# its first copy): an error, not SIGBUS (both files are mapped)
cut=qb-cut$$-$pid-blackbox
cp "$shm/$base-header" "$shm/$cut-header"; cp "$shm/$base-data" "$shm/$cut-data"
QB_BLACKBOX_TEST_LAP_US=500000 "$tool" "$shm/$cut-header" >"$tmp/out" 2>"$tmp/err" &
cpid=$!
sleep 0.2; : >"$shm/$cut-data"
wait $cpid; got=$?
if [ $got -eq 0 ] || [ $got -gt 125 ]; then
	echo "FAIL: data truncated under the reader: exit $got"; cat "$tmp/err"; fail=1
else
	echo "ok: data truncated under the reader (exit $got: $(head -1 "$tmp/err"))"
fi
rm -f "$shm/$cut-header" "$shm/$cut-data"
# the same from another boot: boot id in the owner record (offset 8288)
other=qb-other$$-$pid-ffffffff-0123456789abcdef-blackbox
cp "$shm/$base-header" "$shm/$other-header"; cp "$shm/$base-data" "$shm/$other-data"
printf 'ffffffff-0000-0000-0000-000000000000' | dd of="$shm/$other-header" bs=1 seek=8288 conv=notrunc 2>/dev/null
# an upstream-style one without owner record
head -c 8248 /dev/zero >"$shm/qb-oldstyle-$pid-blackbox-header"
head -c 4096 /dev/zero >"$shm/qb-oldstyle-$pid-blackbox-data"
: >"$shm/unrelated-file"
QB_BLACKBOX_DIR=$shm check "--list" 0 "$tool" --list
cat "$tmp/out"
grep -q "^dead .* $ident .*$base-header\$" "$tmp/out" || { echo "FAIL: dead not listed"; fail=1; }
grep -q "^other-boot .* ffffffff .*$other-header\$" "$tmp/out" || { echo "FAIL: other boot not listed"; fail=1; }
grep -q "^dead .* oldstyle " "$tmp/out" || { echo "FAIL: old style not listed"; fail=1; }
QB_BLACKBOX_DIR=$shm check "--clean" 0 "$tool" --clean
cat "$tmp/out"
left=$(ls "$shm")
[ "$left" = unrelated-file ] || { echo "FAIL: --clean left: $left"; fail=1; }
exit $fail
