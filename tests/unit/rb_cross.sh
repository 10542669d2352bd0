#!/bin/sh
# Ring buffer shared between a process on the distro libqb and a process on
# ours, in every combination: each library as creator and as opener, as
# writer and as reader, plain and overwrite mode, /dev/shm names and
# absolute-path names (as IPC uses). Both sides run tests/compat/rb_peer,
# built once against the distro headers.
set -u
: "${top_builddir:=.}"
: "${QB_OUR_LIBDIR:=$top_builddir/lib/.libs}"
peer=$top_builddir/tests/compat/rb_peer
if [ -n "${QB_SANITIZERS:-}" ]; then
	echo "SKIP: rb_cross: sanitizer build (uninstrumented program, instrumented library)"
	exit 77
fi
[ -x "$peer" ] || { echo "rb_cross: $peer not built"; exit 99; }
QB_OUR_LIBDIR=$(cd "$QB_OUR_LIBDIR" && pwd -P)
tmp=$(mktemp -d /tmp/qb-rb-cross.XXXXXX) || exit 99
trap 'rm -rf "$tmp"' EXIT

run_on() { # LIB CMD...
	lib=$1; shift
	if [ "$lib" = ours ]; then
		LD_LIBRARY_PATH=$QB_OUR_LIBDIR "$@"
	else
		env -u LD_LIBRARY_PATH "$@"
	fi
}

fail=0
n=0
# one exchange: creator-lib opener-lib creator-role name count [overwrite]
exchange() {
	clib=$1; olib=$2; crole=$3; name=$4; count=$5; mode=${6:-}
	if [ "$crole" = write ]; then orole=read; else orole=write; fi
	n=$((n + 1))
	ready=$tmp/ready.$n
	RB_PEER_READY=$ready run_on "$clib" "$peer" create "$crole" "$name" "$count" $mode \
		2>"$tmp/c.$n" &
	cpid=$!
	i=0
	while [ ! -e "$ready" ] && [ $i -lt 500 ]; do sleep 0.02; i=$((i + 1)); done
	run_on "$olib" "$peer" open "$orole" "$name" "$count" $mode 2>"$tmp/o.$n"
	orc=$?
	wait $cpid
	crc=$?
	what="creator=$clib/$crole opener=$olib/$orole $mode name=$name"
	if [ $orc = 0 ] && [ $crc = 0 ]; then
		echo "PASS: $what"
	else
		echo "FAIL: $what (creator $crc, opener $orc)"
		sed 's/^/  creator: /' "$tmp/c.$n"; sed 's/^/  opener: /' "$tmp/o.$n"
		fail=1
	fi
	for f in "/dev/shm/qb-$name-header" "/dev/shm/qb-$name-data" "$name-header" "$name-data"; do
		if [ -e "$f" ]; then echo "FAIL: leftover $f"; rm -f "$f"; fail=1; fi
	done
}

for clib in distro ours; do
	for olib in distro ours; do
		for crole in write read; do
			exchange $clib $olib $crole "rbx-$$-$n" 3000
			exchange $clib $olib $crole "/dev/shm/qb-rbxabs-$$-$n" 500
			exchange $clib $olib $crole "rbx-$$-$n" 3000 overwrite
		done
	done
done
exit $fail
