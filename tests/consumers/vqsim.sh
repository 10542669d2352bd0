#!/bin/sh
# Run Debian's corosync-vqsim (votequorum simulator: one forked process per
# node, driven by a qb_loop) with the same scripted commands on the distro
# libqb and on ours; the output must be identical.
#
#   vqsim.sh [--full]        default: a few commands (the make-check slice)
#
# vqsim prints the state each node reports right after a state-changing
# command (up, down, split, join, qdevice) as soon as it arrives, so those
# lines race with the nodes (they differ between two runs on the same
# library); they are dropped. Everything else is compared: the prompts, the
# `show` output after the cluster settled (commands are fed 0.3 s apart),
# settings and every message vqsim prints itself (e.g. when a libqb call it
# checks reports an error).
#
# Exit status: 0 pass, 1 fail, 77 skip (corosync-vqsim missing, sanitizer
# build, no namespaces). About 3 s (default) or 6 s (--full) per library.
set -u

# The make-check slice (no --full) skips with this reason while it is
# non-empty: a switch for the case where the output is known to differ.
# Empty: since qb_loop_poll_add sets errno as libqb does (issue 13), vqsim
# prints the same on both libraries. --full always runs for real.
SLICE_SKIP_REASON=

TOTAL_TIMEOUT=${QB_VQSIM_TIMEOUT:-60}
name=vqsim
label=
. "$(dirname "$0")/lib.sh"

if [ "${1:-}" != --inner ]; then
	label=ours
	no_sanitizers
	need corosync-vqsim unshare ip mount timeout
	ours=$(resolve_lib ours) || exit $?
	missing=$(missing_symbols "$ours" "$(command -v corosync-vqsim)")
	[ -z "$missing" ] || { echo "FAIL: $name: $ours/libqb.so.100 lacks $(echo $missing)"; exit 1; }
	[ "${1:-}" = --full ] || [ -z "$SLICE_SKIP_REASON" ] || skip "$SLICE_SKIP_REASON"
	enter_ns "$TOTAL_TIMEOUT" "$0" "$ours" "${1:-}"
fi

# ---------------------------------------------------------------------------
# Inner part: private network and mount namespaces.
ours=$2
full=$3
label=ours
tmp=$(mktemp -d /tmp/qb-vqsim-test.XXXXXX) || exit 99
trap 'rm -rf "$tmp"' EXIT
private_dirs

cat >"$tmp/vq.conf" <<'CONF'
totem {
	version: 2
	cluster_name: qbvq
}
nodelist {
	node { ring0_addr: 127.0.0.1 nodeid: 1 }
	node { ring0_addr: 127.0.0.2 nodeid: 2 }
	node { ring0_addr: 127.0.0.3 nodeid: 3 }
	node { ring0_addr: 127.0.0.4 nodeid: 4 }
}
quorum {
	provider: corosync_votequorum
}
CONF
if [ "$full" != --full ]; then
	printf '%s\n' 'up 1,2,3' show 'split 1:1 2:2,3' show 'join 1 2' show \
		'bogus command' exit >"$tmp/vq.in"
else
	printf '%s\n' 'up 1,2,3,4' show 'split 1:1,2 2:3,4' show 'down 4' \
		'join 1 2' show 'up 4' 'qdevice on 1,2,3,4' show 'autofence on' \
		'timeout 500' show 'down 1' show 'bogus command' help exit >"$tmp/vq.in"
fi

# vq LIBDIR OUT: one run (vqsim needs its stdin to be a pipe, fed slowly;
# it refuses a config path longer than a few characters, hence the cd)
vq() {
	while read -r l; do echo "$l"; sleep 0.3; done <"$tmp/vq.in" |
		(cd "$tmp" && uselib "$1" && exec timeout -k 2 30 corosync-vqsim -c vq.conf) >"$2.raw" 2>&1
	vq_rc=$?
	awk '/^#vqsim> / { cmd = $2; print; next }
	     cmd ~ /^(up|down|split|move|join|qdevice)$/ && /^[0-9]+:[0-9]+: q=/ { next }
	     { print }' "$2.raw" >"$2"
	echo "exit status $vq_rc" >>"$2"
}

vq "" "$tmp/distro"
grep -q 'q=' "$tmp/distro" && grep -q '^exit status 0$' "$tmp/distro" || {
	sed 's/^/    | /' "$tmp/distro.raw" | head -20
	skip "corosync-vqsim does not run here on the distro libqb"
}
vq "$ours" "$tmp/ours"
if cmp -s "$tmp/distro" "$tmp/ours"; then
	echo "PASS: $name: $(grep -c '^#vqsim> ' "$tmp/ours") commands, output identical on both libraries"
	exit 0
fi
fail "output differs (< distro, > ours):"
diff "$tmp/distro" "$tmp/ours" | head -30 | sed 's/^/    | /'
exit 1
