# tap.sh - a small TAP producer for shell tests (sourced).
#
#   . "$TOP_SRCDIR/test/lib/tap.sh"
#   ok "apply creates 3 servers" test "$n" = 3
#   is "$(jcicd list spec)" "$expected" "list prints the names"
#   skip "etcd not available"
#   done_testing
#
# Each test gets its own scratch directory ($T) and state dir, removed at exit.
set -u
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
: "${JCICD:=$TOP_BUILDDIR/jenkins-glue/jcicd}"
export TOP_SRCDIR TOP_BUILDDIR JCICD
TAP_N=0
TAP_FAILED=0
T=$(mktemp -d /tmp/jcicd-tap-XXXXXX)
export JCICD_STATE_DIR="$T/state"
unset JCICD_CONFIG JCICD_CLOUD OS_CLOUD JCICD_LOCAL_FAIL_RATE JCICD_LOCAL_FAIL_ROLES JCICD_LOCAL_BUILD_MS
# pids of processes whose working directory is below DIR (the local cloud
# runs each server's userdata in its server directory)
pids_below() {
	for p in /proc/[0-9]*; do
		case $(readlink "$p/cwd" 2>/dev/null) in "$1"/*) echo "${p#/proc/}" ;; esac
	done
}
tap_cleanup() {
	# stop what a test's local clouds left running, then remove the scratch
	# dir; leave it first, or a test that cd'd into it would kill itself
	cd / || return
	pids=$(pids_below "$T")
	[ -n "$pids" ] && kill -KILL $pids 2>/dev/null
	[ -n "${TAP_KEEP:-}" ] || rm -rf "$T"
}
trap tap_cleanup EXIT

jcicd() { "$JCICD" "$@"; }

_tap_result() { # status description
	TAP_N=$((TAP_N + 1))
	if [ "$1" = 0 ]; then
		echo "ok $TAP_N - $2"
	else
		echo "not ok $TAP_N - $2"
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
}

# ok DESCRIPTION COMMAND...: passes when the command succeeds
ok() {
	local d=$1; shift
	if "$@" >"$T/.out" 2>&1; then _tap_result 0 "$d"; else
		_tap_result 1 "$d"; sed 's/^/# /' "$T/.out" | head -40; fi
}

# is ACTUAL EXPECTED DESCRIPTION
is() {
	if [ "$1" = "$2" ]; then _tap_result 0 "$3"; else
		_tap_result 1 "$3"
		printf '#   got:      %s\n' "$1" | head -40
		printf '#   expected: %s\n' "$2" | head -40
	fi
}

# like ACTUAL REGEX DESCRIPTION
like() {
	if printf '%s' "$1" | grep -Eq -- "$2"; then _tap_result 0 "$3"; else
		_tap_result 1 "$3"
		printf '#   got:      %s\n' "$1" | head -40
		printf '#   expected to match: %s\n' "$2"
	fi
}

# unlike ACTUAL REGEX DESCRIPTION
unlike() {
	if ! printf '%s' "$1" | grep -Eq -- "$2"; then _tap_result 0 "$3"; else
		_tap_result 1 "$3"
		printf '#   got:      %s\n' "$1" | head -40
		printf '#   expected not to match: %s\n' "$2"
	fi
}

# exits STATUS DESCRIPTION COMMAND...: passes when the command exits STATUS;
# its output is in $OUT (stdout) and $ERR (stderr) afterwards
exits() {
	local want=$1 d=$2 rc; shift 2
	"$@" >"$T/.stdout" 2>"$T/.stderr"; rc=$?
	OUT=$(cat "$T/.stdout"); ERR=$(cat "$T/.stderr")
	if [ "$rc" = "$want" ]; then _tap_result 0 "$d"; else
		_tap_result 1 "$d (exit $rc, wanted $want)"
		sed 's/^/#   stdout: /' "$T/.stdout" | head -20
		sed 's/^/#   stderr: /' "$T/.stderr" | head -20
	fi
}

skip() {
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N # SKIP $1"
}

diag() { echo "# $*"; }

done_testing() {
	echo "1..$TAP_N"
	[ "$TAP_FAILED" = 0 ]
}
