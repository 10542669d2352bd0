#!/bin/sh
# install-test.sh DEBDIR: install our libqb100, libqb-dev and libqb-tools
# over the distribution's with apt-get, run Debian's own corosync (not
# rebuilt, no LD_LIBRARY_PATH) on them, then go back to the distribution's
# 2.0.6-2 with apt-get --allow-downgrades and check nothing of ours is left.
#
# All of it happens in a throw-away root: an overlay of / whose upper layer
# is a tmpfs, in a private mount namespace, entered with chroot. apt-get and
# dpkg change only the tmpfs, so the machine's own libqb (the reference
# the compat tests and benchmarks use) is never touched, on a developer's
# machine and in CI alike. Needs root, unshare(1) and overlayfs.
#
# The distribution's .debs for the downgrade come from apt's cache, or
# `apt-get download` fetches them. Exit: 0 pass, 1 fail, 77 skip.
set -u
DISTRO_VERSION=${QB_DISTRO_VERSION:-2.0.6-2}
PKGS="libqb100 libqb-dev libqb-tools"
here=$(cd "$(dirname "$0")" && pwd -P)

skip() { echo "SKIP: install-test: $*"; exit 77; }
die() { echo "FAIL: install-test: $*"; exit 1; }

# ---------------------------------------------------------------------------
# Step 3 (inside the chroot): the actual install / run / downgrade sequence.
if [ "${1:-}" = --in-root ]; then
	set -u
	cd /qbpkg || exit 1
	export DEBIAN_FRONTEND=noninteractive
	unset LD_LIBRARY_PATH LD_PRELOAD
	failed=0
	fail() { echo "FAIL: install-test: $*"; failed=1; }
	versions() { dpkg-query -W -f '${Package}=${Version} ' $PKGS; }
	ours=$(dpkg-deb -f debs/libqb100_*.deb Version)
	multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)

	echo "install-test: before: $(versions)"
	echo "install-test: + apt-get install ./libqb100_*.deb ./libqb-dev_*.deb ./libqb-tools_*.deb"
	apt-get install -y /qbpkg/debs/libqb100_*.deb /qbpkg/debs/libqb-dev_*.deb \
		/qbpkg/debs/libqb-tools_*.deb >apt-up.log 2>&1 || {
		tail -30 apt-up.log; echo "FAIL: install-test: apt-get install of our packages"; exit 1; }
	echo "install-test: after install: $(versions)"
	for p in $PKGS; do
		v=$(dpkg-query -W -f '${Version}' $p)
		[ "$v" = "$ours" ] || fail "dpkg-query -W $p shows '$v', not $ours"
	done
	dpkg -V $PKGS || fail "dpkg -V: installed files differ from our packages"
	reallib=$(dpkg -L libqb100 | grep "/libqb\.so\.100\.[0-9.]*\$")
	[ -f "$reallib" ] || fail "libqb100 ships no real libqb.so.100.* file"
	[ "$(readlink -f /usr/lib/$multiarch/libqb.so.100)" = "$reallib" ] ||
		fail "libqb.so.100 does not point at our $reallib"

	# The autopkgtest (debian/tests/) against the installed packages.
	if command -v autopkgtest >/dev/null 2>&1; then
		autopkgtest --no-built-binaries /qbpkg/src -- null >autopkgtest.log 2>&1
	else
		sh /qbpkg/src/debian/tests/ipc-blackbox >autopkgtest.log 2>&1
	fi
	rc=$?
	if [ $rc = 0 ]; then
		grep -E '^PASS|^ipc-blackbox +PASS|^built against' autopkgtest.log | sort -u | sed 's/^/install-test: autopkgtest: /'
	else
		tail -40 autopkgtest.log; fail "autopkgtest (exit $rc)"
	fi

	# Debian's corosync, on the system loader path = our package now.
	QB_COROSYNC_STRICT=1 sh ./corosync/corosync.sh distro >corosync-ours.log 2>&1
	rc=$?
	cat corosync-ours.log
	[ $rc = 0 ] || fail "corosync on our installed package (exit $rc)"
	grep -q "daemon maps $reallib\$" corosync-ours.log ||
		fail "the running corosync did not map $reallib (our package's file)"

	echo "install-test: + apt-get install --allow-downgrades libqb100=$DISTRO_VERSION libqb-dev=$DISTRO_VERSION libqb-tools=$DISTRO_VERSION"
	# (the .debs are in apt's cache already; without package lists, from
	# a machine that never ran apt-get update, apt knows no 2.0.6-2: then
	# the same files are given by name)
	if ! apt-get install -y --allow-downgrades --no-download libqb100="$DISTRO_VERSION" \
		libqb-dev="$DISTRO_VERSION" libqb-tools="$DISTRO_VERSION" >apt-down.log 2>&1; then
		if grep -q "Version '$DISTRO_VERSION' for '.*' was not found" apt-down.log; then
			echo "install-test: apt has no lists with $DISTRO_VERSION; installing the cached .debs by file"
			apt-get install -y --allow-downgrades --no-download /qbpkg/distro/*.deb >apt-down.log 2>&1
		else
			false
		fi || { tail -30 apt-down.log; echo "FAIL: install-test: apt-get downgrade"; exit 1; }
	fi
	echo "install-test: after downgrade: $(versions)"
	for p in $PKGS; do
		v=$(dpkg-query -W -f '${Version}' $p)
		[ "$v" = "$DISTRO_VERSION" ] || fail "after the downgrade $p is '$v'"
	done
	dpkg -V $PKGS || fail "dpkg -V: the distro's files are not intact after the downgrade"
	# Every path our packages shipped is gone, or belongs to a distro
	# package again (dpkg -V above vouches for its content).
	left=0
	for d in debs/libqb100_*.deb debs/libqb-dev_*.deb debs/libqb-tools_*.deb; do
		for f in $(dpkg-deb --fsys-tarfile "$d" | tar -t | sed 's|^\./|/|; s|/$||' | grep -v '^/*$'); do
			[ -e "$f" ] || [ -L "$f" ] || continue
			[ -d "$f" ] && [ ! -L "$f" ] && continue
			if ! dpkg -S "$f" >/dev/null 2>&1; then
				echo "    left behind: $f"; left=$((left + 1))
			fi
		done
	done
	[ $left = 0 ] || fail "$left files of ours left behind after the downgrade"
	[ ! -e "$reallib" ] || fail "$reallib still present"
	nm -D --defined-only "/usr/lib/$multiarch/libqb.so.100" | grep -qw qb_log_reflect_pid &&
		fail "the library after the downgrade still exports qb_log_reflect_pid"
	ldconfig -p | grep -Eq "libqb\.so\.100 .*=> (/usr)?/lib/$multiarch/libqb\.so\.100\$" ||
		fail "ldconfig cache lacks the distro's libqb.so.100"
	# and corosync still runs on the distribution's library
	QB_COROSYNC_STRICT=1 sh ./corosync/corosync.sh distro >corosync-distro.log 2>&1 ||
		{ cat corosync-distro.log; fail "corosync on the distro library after the downgrade"; }
	grep "daemon maps" corosync-distro.log | sed 's/^/install-test: after downgrade: /'
	if [ $failed = 0 ]; then
		echo "PASS: install-test: apt-get installed $ours over $DISTRO_VERSION, Debian's corosync ran on $reallib (cmapctl, cfgtool, quorumtool answered), downgrade to $DISTRO_VERSION left nothing of ours"
	fi
	exit $failed
fi

# ---------------------------------------------------------------------------
# Step 2 (private mount namespace): build the overlay root and chroot in.
if [ "${1:-}" = --in-ns ]; then
	w=$2
	mount -t tmpfs -o mode=0755,size=2g qbpkg "$w" || die "cannot mount a tmpfs on $w"
	mkdir -p "$w/upper" "$w/work" "$w/root"
	mount -t overlay overlay -o "lowerdir=/,upperdir=$w/upper,workdir=$w/work" "$w/root" ||
		skip "cannot mount an overlay of / (overlayfs missing?)"
	r=$w/root
	mount -t proc proc "$r/proc" || die "cannot mount /proc in the root"
	mount --rbind /sys "$r/sys" && mount --make-rslave "$r/sys"
	mount --rbind /dev "$r/dev" && mount --make-rslave "$r/dev"
	mount -t tmpfs -o mode=1777 qbshm "$r/dev/shm"
	mount -t tmpfs -o mode=0755 qbrun "$r/run"
	mount -t tmpfs -o mode=1777 qbtmp "$r/tmp"
	mkdir -p "$r/run/lock" "$r/qbpkg/debs"
	cp "$3"/*.deb "$r/qbpkg/debs/"
	rm -f "$r"/qbpkg/debs/*-dbgsym_*.deb
	cp "$4"/*.deb "$r/var/cache/apt/archives/"
	mkdir -p "$r/qbpkg/distro" && cp "$4"/*.deb "$r/qbpkg/distro/"
	cp "$here/install-test.sh" "$r/qbpkg/"
	# corosync.sh sources ../consumers/lib.sh: keep the two folders
	mkdir -p "$r/qbpkg/corosync" "$r/qbpkg/consumers"
	cp "$here/../tests/corosync/corosync.sh" "$r/qbpkg/corosync/"
	cp "$here/../tests/consumers/lib.sh" "$r/qbpkg/consumers/"
	mkdir -p "$r/qbpkg/src" && cp -r "$here/../debian" "$r/qbpkg/src/"
	exec chroot "$r" /bin/sh /qbpkg/install-test.sh --in-root
fi

# ---------------------------------------------------------------------------
# Step 1: checks, the distro's .debs, then a private mount namespace.
debdir=${1:?usage: install-test.sh DEBDIR}
debdir=$(cd "$debdir" && pwd -P) || die "no $1"
[ "$(id -u)" = 0 ] || skip "needs root (mounts an overlay root)"
for t in unshare chroot mount apt-get dpkg-deb corosync; do
	command -v $t >/dev/null 2>&1 || skip "$t not found"
done
for p in $PKGS; do
	ls "$debdir"/${p}_*.deb >/dev/null 2>&1 || die "no $p .deb in $debdir (make deb)"
done
unshare -m --propagation private true 2>/dev/null || skip "mount namespaces not permitted"
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null ||
	grep -qw overlay /proc/filesystems || skip "overlayfs not available"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/qb-install-test.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/distro" "$tmp/root"
arch=$(dpkg --print-architecture)
for p in $PKGS; do
	f=/var/cache/apt/archives/${p}_$(echo "$DISTRO_VERSION" | sed 's/:/%3a/')_$arch.deb
	if [ -f "$f" ]; then cp "$f" "$tmp/distro/"; continue; fi
	(cd "$tmp/distro" && apt-get download "$p=$DISTRO_VERSION" >/dev/null 2>&1) ||
		die "cannot get $p $DISTRO_VERSION (apt-get download $p=$DISTRO_VERSION)"
done
start=$(date +%s)
timeout -k 10 600 unshare -m --propagation private \
	sh "$here/install-test.sh" --in-ns "$tmp/root" "$debdir" "$tmp/distro"
rc=$?
echo "install-test: took $(( $(date +%s) - start ))s"
exit $rc
