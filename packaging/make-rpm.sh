#!/bin/sh
# make-rpm.sh SRCDIR SPEC OUTDIR: source and binary RPMs of SRCDIR (its
# git-tracked and untracked-but-not-ignored files) built with rpmbuild from
# the configured SPEC, left in OUTDIR. On a system whose package database is
# not rpm's (Debian), the build dependencies cannot be checked: --nodeps.
set -eu
src=$(cd "$1" && pwd -P)
spec=$2
out=$3
command -v rpmbuild >/dev/null 2>&1 || { echo "make rpm: rpmbuild not found (apt-get install rpm)"; exit 1; }
version=$(sed -n 's/^Version: *//p' "$spec")
work=$(mktemp -d "${TMPDIR:-/tmp}/libqb-rpm.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/libqb-$version" "$work/top/SOURCES"
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$src" && git ls-files -z --cached --others --exclude-standard |
		xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
		tar --null -T - -cf -) | tar -xf - -C "$work/libqb-$version"
else
	(cd "$src" && tar --exclude=./deb --exclude=./rpm -cf - .) | tar -xf - -C "$work/libqb-$version"
fi
tar -C "$work" -czf "$work/top/SOURCES/libqb-$version.tar.gz" "libqb-$version"
nodeps=
command -v dpkg >/dev/null 2>&1 && nodeps=--nodeps
start=$(date +%s)
rpmbuild -ba $nodeps --define "_topdir $work/top" "$spec" >"$work/build.log" 2>&1 || {
	tail -80 "$work/build.log"; echo "make rpm: rpmbuild failed"; exit 1; }
echo "make rpm: rpmbuild took $(( $(date +%s) - start ))s"
mkdir -p "$out"
rm -f "$out"/*.rpm
find "$work/top/RPMS" "$work/top/SRPMS" -name '*.rpm' -exec cp {} "$out"/ \;
cp "$work/build.log" "$out/build.log"
grep -E '^# (TOTAL|PASS|SKIP|FAIL):' "$out/build.log" | sed 's/^/make rpm: %check /' || true
for r in "$out"/*.rpm; do
	case $r in *.src.rpm) echo "make rpm: ${r##*/}"; continue ;; esac
	echo "make rpm: ${r##*/}: $(rpm -qpl "$r" 2>/dev/null | grep -vc '/\.build-id') files; requires" \
		$(rpm -qp --requires "$r" 2>/dev/null | grep -Ev '^(rpmlib|rtld|ld-linux|libc\.so)' | sort -u)
done
