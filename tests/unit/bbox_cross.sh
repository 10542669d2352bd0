#!/bin/sh
# Blackbox dumps across libraries: each library writes a dump (same program,
# built against the distro headers), each library prints each dump.
#   - a dump prints identically with both readers;
#   - dumps written by either library print the same records (times aside).
set -u
if [ -n "${QB_SANITIZERS:-}" ]; then
	echo "bbox_cross: skipped in sanitizer builds"; exit 77
fi
prog=${top_builddir:-.}/tests/compat/compat_blackbox
if [ ! -x "$prog" ] || [ -z "${QB_DISTRO_LIBDIR:-}" ] || [ -z "${QB_OUR_LIBDIR:-}" ]; then
	echo "bbox_cross: needs the distro libqb and tests/compat/compat_blackbox"; exit 77
fi
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT

on() { # LIB CMD...
	lib=$1; shift
	if [ "$lib" = ours ]; then
		LD_LIBRARY_PATH=$QB_OUR_LIBDIR "$prog" "$@"
	else
		LD_LIBRARY_PATH=$QB_DISTRO_LIBDIR "$prog" "$@"
	fi
}

fail=0
times='s/^\([a-z]* *\)[A-Z][a-z][a-z] [0-9][0-9] [0-9:]*\.[0-9]* /\1TIME /'
for kind in big small; do
	for w in distro ours; do
		d=$tmp/dump.$kind.$w
		if [ $kind = big ]; then
			on $w write "$d" >"$tmp/w.out" 2>&1
		else
			on $w write-small "$d" 4096 >"$tmp/w.out" 2>&1
		fi
		grep -q "dump size ok" "$tmp/w.out" || { echo "FAIL: $w write ($kind)"; cat "$tmp/w.out"; fail=1; }
		for r in distro ours; do
			on $r print "$d" >"$tmp/p.$kind.$w.$r" 2>/dev/null
		done
		if ! diff -u "$tmp/p.$kind.$w.distro" "$tmp/p.$kind.$w.ours"; then
			echo "FAIL: $kind dump written by $w prints differently"; fail=1
		else
			echo "ok: $kind dump written by $w: both readers print $(wc -l <"$tmp/p.$kind.$w.ours") identical lines"
		fi
		sed "$times" "$tmp/p.$kind.$w.ours" >"$tmp/n.$kind.$w"
	done
	if ! diff -u "$tmp/n.$kind.distro" "$tmp/n.$kind.ours"; then
		echo "FAIL: $kind dumps of the two writers differ"; fail=1
	else
		echo "ok: $kind dumps of both writers hold the same records"
	fi
done
exit $fail
