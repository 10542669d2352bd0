#!/bin/sh
# Run Debian's usbguard (daemon and CLI talk over libqb IPC) on our
# libqb.so.100 and on the distro's, and compare what the CLI prints.
#
#   usbguard.sh [COMBO...]   COMBO: ours | "distro ours" | "ours distro"
#                            (daemon library, client library; default: ours)
#
# The distro run (daemon and clients on the system libqb) always goes first
# and is the reference: every other combination must print the same
# transcript, byte for byte (CLI output and exit status of each command,
# the events `usbguard watch` receives, the device authorization the daemon
# writes to sysfs, the rule file it saves).
#
# Inside private network, mount and pid namespaces: fresh /dev/shm and /run,
# and a tmpfs over /sys/bus holding a fake USB bus (a root hub and one
# keyboard: uevent, descriptors, authorized files), so usbguard manages a
# device without touching real hardware.
#
# Exit status: 0 pass, 1 fail, 77 skip (usbguard missing, no namespaces,
# sanitizer build, or usbguard does not run here even on the distro
# library). About 2 s per combination.
set -u

STEP_TIMEOUT=${QB_USBGUARD_STEP_TIMEOUT:-10}
TOTAL_TIMEOUT=${QB_USBGUARD_TIMEOUT:-60}
name=usbguard
label=
. "$(dirname "$0")/lib.sh"

if [ "${1:-}" != --inner ]; then
	label=${*:-ours}
	no_sanitizers
	need usbguard usbguard-daemon unshare ip mount timeout
	ours=$(resolve_lib ours) || exit $?
	missing=$(missing_symbols "$ours" "$(command -v usbguard)" "$(command -v usbguard-daemon)")
	[ -z "$missing" ] || { echo "FAIL: $name: $ours/libqb.so.100 lacks $(echo $missing)"; exit 1; }
	[ $# -gt 0 ] || set -- ours
	enter_ns "$TOTAL_TIMEOUT" --pid "$0" "$ours" "$@"
fi

# ---------------------------------------------------------------------------
# Inner part: root (pid 1) inside fresh network, mount and pid namespaces.
ours=$2
shift 2
tmp=$(mktemp -d /tmp/qb-usbguard-test.XXXXXX) || exit 99
dpid= wpid=
cleanup() {
	for p in $wpid $dpid; do kill -9 "$p" 2>/dev/null; done
	if [ -n "${QB_USBGUARD_KEEP:-}" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'echo "$name: interrupted"; exit 1' TERM INT HUP

private_dirs
mount -t tmpfs -o mode=0755,size=1m qbsys /sys/bus 2>/dev/null ||
	skip "cannot mount a tmpfs over /sys/bus for the fake USB bus"
bus=/sys/bus/qbfake/pci0
hub=$bus/usb1
kbd=$hub/1-1
mkdir -p /sys/bus/usb/devices "$kbd/port"
printf 'DRIVER=xhci_hcd\nPCI_CLASS=C0330\n' >"$bus/uevent"
# (device, configuration, interface, endpoint descriptors, in octal)
printf 'MAJOR=189\nMINOR=0\nDEVNAME=bus/usb/001/001\nDEVTYPE=usb_device\nDRIVER=usb\nPRODUCT=1d6b/2/600\nTYPE=9/0/1\nBUSNUM=001\nDEVNUM=001\n' >"$hub/uevent"
printf '\022\001\000\002\011\000\001\100\153\035\002\000\000\006\003\002\001\001\011\002\031\000\001\001\000\340\000\011\004\000\000\001\011\000\000\000\007\005\201\003\004\000\014' >"$hub/descriptors"
echo 1d6b >"$hub/idVendor"; echo 0002 >"$hub/idProduct"
echo "Linux xhci-hcd" >"$hub/manufacturer"; echo "xHCI Host Controller" >"$hub/product"
echo 0000:00:14.0 >"$hub/serial"
printf 'MAJOR=189\nMINOR=1\nDEVNAME=bus/usb/001/002\nDEVTYPE=usb_device\nDRIVER=usb\nPRODUCT=1d6b/104/100\nTYPE=0/0/0\nBUSNUM=001\nDEVNUM=002\n' >"$kbd/uevent"
printf '\022\001\000\002\000\000\000\100\153\035\004\001\000\001\001\002\003\001\011\002\031\000\001\001\000\200\062\011\004\000\000\001\003\001\001\000\007\005\201\003\010\000\012' >"$kbd/descriptors"
echo 1d6b >"$kbd/idVendor"; echo 0104 >"$kbd/idProduct"
echo QBTest >"$kbd/manufacturer"; echo "QB Keyboard" >"$kbd/product"; echo 0001 >"$kbd/serial"
echo hotplug >"$kbd/port/connect_type"
ln -s ../../qbfake/pci0/usb1 /sys/bus/usb/devices/usb1
ln -s ../../qbfake/pci0/usb1/1-1 /sys/bus/usb/devices/1-1

cat >"$tmp/daemon.conf" <<CONF
RuleFile=$tmp/rules.conf
ImplicitPolicyTarget=block
PresentDevicePolicy=apply-policy
PresentControllerPolicy=keep
InsertedDevicePolicy=apply-policy
AuthorizedDefault=none
RestoreControllerDeviceState=false
DeviceManagerBackend=uevent
IPCAllowedUsers=root
IPCAllowedGroups=root
DeviceRulesWithPort=false
AuditBackend=FileAudit
AuditFilePath=$tmp/audit.log
HidePII=false
CONF
chmod 0600 "$tmp/daemon.conf"

# scenario DAEMON_LIB CLIENT_LIB OUT: one daemon run, transcript in OUT
scenario() {
	out=$3
	: >"$out"
	echo 1 >"$hub/authorized"; echo 1 >"$hub/authorized_default"; echo 0 >"$kbd/authorized"
	echo 'allow id 1d6b:0002' >"$tmp/rules.conf"; chmod 0600 "$tmp/rules.conf"
	shm_list >"$tmp/shm.before"
	(uselib "$1"; exec usbguard-daemon -k -c "$tmp/daemon.conf") >"$tmp/daemon.log" 2>&1 &
	dpid=$!
	uselib "$2"
	wait_for "$STEP_TIMEOUT" usbguard get-parameter ImplicitPolicyTarget ||
		{ fail "usbguard-daemon does not answer after ${STEP_TIMEOUT}s"; tail -5 "$tmp/daemon.log"; return 1; }
	m=$(maps_lib "$dpid" "$1") || fail "usbguard-daemon maps $m, not ${1:-the system libqb}"
	usbguard watch >"$tmp/watch" 2>&1 &
	wpid=$!
	wait_for "$STEP_TIMEOUT" grep -q 'Connected' "$tmp/watch" || fail "usbguard watch did not connect"
	u() {
		echo "== usbguard $*" >>"$out"
		timeout -k 2 "$STEP_TIMEOUT" usbguard "$@" >>"$out" 2>&1
		echo "rc=$?" >>"$out"
	}
	u list-devices
	u list-rules
	u get-parameter ImplicitPolicyTarget
	u get-parameter InsertedDevicePolicy
	u allow-device 3
	echo "authorized=$(cat "$kbd/authorized")" >>"$out"
	u list-devices --allowed
	u block-device 3
	echo "authorized=$(cat "$kbd/authorized")" >>"$out"
	u list-devices --blocked
	u allow-device -p 3
	u append-rule 'block name "QB Mouse"'
	u append-rule -a 1 'allow id 1d6b:0104 name "QB Keyboard"'
	u list-rules
	u remove-rule 4
	u list-rules
	u generate-policy
	u allow-device 99
	u get-parameter NoSuchParameter
	u set-parameter ImplicitPolicyTarget allow
	u get-parameter ImplicitPolicyTarget
	u set-parameter ImplicitPolicyTarget block
	# the last event is the parameter change above; then stop the watcher
	wait_for "$STEP_TIMEOUT" grep -q 'value_new=block' "$tmp/watch" ||
		fail "usbguard watch did not receive the last parameter change"
	kill "$wpid"; wait "$wpid" 2>/dev/null; wpid=
	echo "== watch" >>"$out"; cat "$tmp/watch" >>"$out"
	echo "== rules.conf" >>"$out"; cat "$tmp/rules.conf" >>"$out"
	kill -TERM "$dpid"
	wait_exit "$dpid" "$STEP_TIMEOUT"
	dpid=
	[ $wait_rc = 0 ] || fail "usbguard-daemon exited with status $wait_rc"
	shm_list >"$tmp/shm.after"
	cmp -s "$tmp/shm.before" "$tmp/shm.after" ||
		fail "files left in /dev/shm: $(diff "$tmp/shm.before" "$tmp/shm.after" | grep '^>' | tr '\n' ' ')"
}

label=distro
scenario "" "" "$tmp/t.distro"
if [ $failed != 0 ]; then
	sed 's/^/    | /' "$tmp/t.distro" | tail -20
	skip "usbguard does not run here on the distro libqb (reference run failed)"
fi
grep -q '^3: block id 1d6b:0104' "$tmp/t.distro" ||
	skip "usbguard does not see the fake USB device here, even on the distro libqb"
n=0
for combo in "$@"; do
	set -- $combo
	d=$1; c=${2:-$1}
	label=$combo
	[ "$d" = ours ] && dl=$ours || dl=
	[ "$c" = ours ] && cl=$ours || cl=
	failed=0
	scenario "$dl" "$cl" "$tmp/t.$n"
	if ! cmp -s "$tmp/t.distro" "$tmp/t.$n"; then
		fail "transcript differs from the distro run (< distro, > $combo):"
		diff "$tmp/t.distro" "$tmp/t.$n" | head -30 | sed 's/^/    | /'
	fi
	if [ $failed = 0 ]; then
		echo "PASS: $name (daemon=$d clients=$c): $(grep -c '^== usbguard' "$tmp/t.$n") CLI commands, watch events, sysfs authorization and rule file identical to the distro run"
	else
		tail -10 "$tmp/daemon.log" | sed 's/^/    | /'
		anyfail=1
	fi
	n=$((n + 1))
done
[ -z "${anyfail:-}" ]
