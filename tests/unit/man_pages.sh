#!/bin/sh
# Every exported function declared in a public header gets a man page from
# docs/xml2man.py, and every page is free of roff warnings.
# Skips (77) when doxygen or python3 is missing.
set -u
src=${top_srcdir:-.}
command -v doxygen >/dev/null 2>&1 || { echo "doxygen missing"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "python3 missing"; exit 77; }
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
QB_DOC_INPUT="$src/include/qb" QB_DOC_OUTPUT="$tmp" doxygen "$src/docs/Doxyfile" || exit 99
python3 "$src/docs/xml2man.py" "$tmp/xml" "$tmp/man3" "libqb test" || exit 1
status=0
checked=0
for sym in $(sed -e 's/[[:space:]].*//' "$src/lib/libqb.sym"); do
	# only names declared (as functions) in a public header need a page
	grep -qE "[[:space:]*(]$sym[[:space:]]*\(" "$src"/include/qb/*.h || continue
	checked=$((checked + 1))
	[ -f "$tmp/man3/$sym.3" ] || { echo "no man page for $sym"; status=1; }
done
echo "checked $checked exported functions"
[ "$checked" -gt 100 ] || { echo "suspiciously few functions found"; status=1; }
if command -v man >/dev/null 2>&1; then
	for page in "$tmp"/man3/*.3; do
		w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
		[ -z "$w" ] || { echo "$page: $w"; status=1; }
	done
fi
exit $status
