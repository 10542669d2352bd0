#!/bin/sh
# make-deb.sh SRCDIR OUTDIR: build the Debian packages from a copy of SRCDIR
# (its git-tracked and untracked-but-not-ignored files, or every file when it
# is not a git checkout) and leave the .debs, the .changes, the .buildinfo
# and lintian's report in OUTDIR. Fails when the build fails or lintian
# reports an error. DEB_BUILD_OPTIONS (nocheck, parallel=N) is honoured.
set -eu
src=$(cd "$1" && pwd -P)
out=$2
version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
upstream=${version%-*}
work=$(mktemp -d "${TMPDIR:-/tmp}/libqb-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
tree=$work/libqb-$upstream
mkdir -p "$tree"
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$src" && git ls-files -z --cached --others --exclude-standard |
		xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
		tar --null -T - -cf -) | tar -xf - -C "$tree"
else
	(cd "$src" && tar --exclude=./deb --exclude=./rpm -cf - .) | tar -xf - -C "$tree"
fi
missing=$(cd "$tree" && dpkg-checkbuilddeps 2>&1) || {
	echo "make deb: $missing (apt-get build-dep ./ or apt-get install them)"; exit 1; }
start=$(date +%s)
(cd "$tree" && dpkg-buildpackage -b -us -uc) >"$work/build.log" 2>&1 || {
	tail -80 "$work/build.log"; echo "make deb: dpkg-buildpackage failed"; exit 1; }
echo "make deb: dpkg-buildpackage took $(( $(date +%s) - start ))s"
mkdir -p "$out"
rm -f "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
cp "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$out"/
cp "$work/build.log" "$out/build.log"
grep -E '^dpkg-gensymbols|^dh_auto_test|^# (TOTAL|PASS|SKIP|FAIL)' "$out/build.log" || true
changes=$(ls "$out"/*.changes)
if command -v lintian >/dev/null 2>&1; then
	lintian --info --display-info --pedantic "$changes" >"$out/lintian.txt" 2>&1 || true
	errors=$(grep -c '^E: ' "$out/lintian.txt" || true)
	warnings=$(grep -c '^W: ' "$out/lintian.txt" || true)
	grep -E '^[EW]: ' "$out/lintian.txt" | sort -u || true
	echo "make deb: lintian: $errors errors, $warnings warnings (full report: $out/lintian.txt)"
	[ "$errors" = 0 ] || exit 1
else
	echo "make deb: lintian not installed, not checked"
fi
ls -l "$out"/*.deb
