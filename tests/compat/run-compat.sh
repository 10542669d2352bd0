#!/bin/sh
# Run one compat program on the distro libqb and on ours and compare.
#
# Usage (by the automake harness): run-compat.sh tests/compat/NAME.compat
# The program tests/compat/NAME was built against the distro headers. It is
# run twice: with the system loader path (distro libqb.so.100) and with
# LD_LIBRARY_PATH=$QB_OUR_LIBDIR. The marker file NAME.compat may hold lines:
#   filter: SED-EXPRESSION   applied to both outputs before comparing
#   args: ARGS               command-line arguments for the program
#   mode: status             compare exit status only (program checks itself)
# Exit 77 (skip) when the comparison cannot be made meaningfully.
set -u
marker=$1
prog=${marker%.compat}
srcmarker=$marker
[ -f "$srcmarker" ] || srcmarker="${top_srcdir:-.}/$marker"
# a VPATH build names the marker in the source tree; the program is in ours
[ -x "$prog" ] || prog=${top_builddir:-.}/tests/compat/${prog##*/}
[ -x "$prog" ] || { echo "compat: $prog not built"; exit 99; }
if [ -n "${QB_SANITIZERS:-}" ]; then
	echo "compat: skipped in sanitizer builds (uninstrumented program, instrumented library)"
	exit 77
fi
filters=
args=
mode=output
if [ -f "$srcmarker" ]; then
	filters=$(sed -n 's/^filter: //p' "$srcmarker")
	args=$(sed -n 's/^args: //p' "$srcmarker")
	m=$(sed -n 's/^mode: //p' "$srcmarker")
	[ -n "$m" ] && mode=$m
fi
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT

run_on() { # $1 = label, $2 = LD_LIBRARY_PATH ('' for the distro)
	if [ -n "$2" ]; then
		LD_LIBRARY_PATH=$2 QB_COMPAT_SIDE=$1 "$prog" $args >"$tmp/$1.out" 2>"$tmp/$1.err"
	else
		env -u LD_LIBRARY_PATH QB_COMPAT_SIDE=$1 "$prog" $args >"$tmp/$1.out" 2>"$tmp/$1.err"
	fi
	echo $? >"$tmp/$1.rc"
	if [ -n "$filters" ]; then
		echo "$filters" | while IFS= read -r f; do
			sed -i -e "$f" "$tmp/$1.out"
		done
	fi
}
run_on distro ""
run_on ours "$QB_OUR_LIBDIR"

# Make sure the second run really used our library.
if ! LD_LIBRARY_PATH=$QB_OUR_LIBDIR ldd "$prog" | grep -q "$QB_OUR_LIBDIR/libqb.so.100"; then
	echo "compat: $prog does not resolve libqb.so.100 to our build"; exit 99
fi

status=0
for side in distro ours; do
	echo "== $side: exit $(cat "$tmp/$side.rc")"
	sed 's/^/  | /' "$tmp/$side.err" | head -20
done
if [ "$mode" = status ]; then
	for side in distro ours; do
		[ "$(cat "$tmp/$side.rc")" = 0 ] || { echo "compat: $side exited non-zero"; status=1; }
	done
else
	if ! cmp -s "$tmp/distro.rc" "$tmp/ours.rc"; then
		echo "compat: exit status differs"; status=1
	fi
	if ! diff -u "$tmp/distro.out" "$tmp/ours.out"; then
		echo "compat: output differs (distro -> ours)"; status=1
	fi
fi
[ $status = 0 ] && echo "compat: $(wc -l <"$tmp/ours.out") lines agree"
exit $status
