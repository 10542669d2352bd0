#!/bin/sh
# Run Debian's doxygen2man (libqb's man page generator, which uses libqb's
# maps and logging) on the same doxygen XML -- the XML of our own
# include/qb headers -- on the distro libqb and on ours; the man pages
# (and its ASCII dump) must be byte-identical.
#
#   doxygen2man.sh
#
# Exit status: 0 pass, 1 fail, 77 skip (doxygen2man or doxygen missing,
# sanitizer build). About 2 s.
set -u

name=doxygen2man
label=ours
. "$(dirname "$0")/lib.sh"

no_sanitizers
need doxygen2man doxygen timeout
ours=$(resolve_lib ours) || exit $?
missing=$(missing_symbols "$ours" "$(command -v doxygen2man)")
[ -z "$missing" ] || { echo "FAIL: $name: $ours/libqb.so.100 lacks $(echo $missing)"; exit 1; }
srcdir=$(cd "$(dirname "$0")/../.." && pwd -P)
[ -f "$srcdir/docs/Doxyfile" ] || skip "docs/Doxyfile not found"

tmp=$(mktemp -d /tmp/qb-doxygen2man-test.XXXXXX) || exit 99
trap '[ -n "${QB_D2M_KEEP:-}" ] || rm -rf "$tmp"' EXIT
QB_DOC_INPUT=$srcdir/include/qb QB_DOC_OUTPUT=$tmp timeout 60 doxygen "$srcdir/docs/Doxyfile" \
	>"$tmp/doxygen.log" 2>&1 || { cat "$tmp/doxygen.log"; skip "doxygen failed on include/qb"; }
ls "$tmp"/xml/*_8h.xml >/dev/null 2>&1 || skip "doxygen wrote no header XML"

# gen LIBDIR NAME: man pages in $tmp/NAME/, the ASCII dumps in $tmp/NAME.txt
gen() {
	mkdir "$tmp/$2"
	for x in "$tmp"/xml/*_8h.xml; do
		x=${x##*/}
		for mode in -m -a; do
			echo "== $mode $x" >>"$tmp/$2.txt"
			(uselib "$1"; exec timeout -k 2 20 doxygen2man $mode -P -g -c -O "$srcdir/include/qb" \
				-o "$tmp/$2" -d "$tmp/xml/" -i qb/ -p libqb -H "libqb test" \
				-D 2024-01-01 -S 2010 -Y 2024 -C Test "$x") >>"$tmp/$2.txt" 2>&1
			echo "exit status $?" >>"$tmp/$2.txt"
		done
	done
}
gen "" distro
n=$(ls "$tmp/distro" | wc -l)
[ "$n" -gt 0 ] || { tail -20 "$tmp/distro.txt"; skip "doxygen2man wrote no page here on the distro libqb"; }
gen "$ours" ours
if diff -r "$tmp/distro" "$tmp/ours" >"$tmp/diff" 2>&1 && diff "$tmp/distro.txt" "$tmp/ours.txt" >>"$tmp/diff" 2>&1; then
	echo "PASS: $name: $n man pages and the ASCII dumps of $(ls "$tmp"/xml/*_8h.xml | wc -l) headers identical on both libraries"
	exit 0
fi
fail "output differs (distro, ours):"
head -30 "$tmp/diff" | sed 's/^/    | /'
exit 1
