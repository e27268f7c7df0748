# test/openstack/testlib.sh - what the OpenStack integration tests share
# (sourced after test/lib/tap.sh).  Skips the whole test when no loopback
# cloud was started (test/services/openstack.sh sets the variables).
if [ -z "${JCICD_TEST_OPENSTACK_CLOUD:-}" ] || [ -z "${JCICD_TEST_OPENSTACK_CLOUDS_YAML:-}" ]; then
	skip "no loopback OpenStack (JCICD_TEST_OPENSTACK_CLOUD is unset; scripts/test starts one)"
	done_testing
	exit 0
fi
export OS_CLIENT_CONFIG_FILE="$JCICD_TEST_OPENSTACK_CLOUDS_YAML"
unset OS_CLIENT_SECURE_FILE OS_AUTH_URL OS_PASSWORD OS_USERNAME OS_PROJECT_NAME
CLOUD=$JCICD_TEST_OPENSTACK_CLOUD
ADMIN=${JCICD_TEST_OPENSTACK_ADMIN_CLOUD:-jcicd-admin}
OSD="$TOP_SRCDIR/test/openstack"
EX="$TOP_SRCDIR/examples/stacks"
MAP="$EX/loopback.map.yaml"
# a tag of this run, so leftovers of an interrupted run never count
RUN_ID=$(printf '%x' "$(( $(date +%s) % 1048576 ))")$$

# The reference client, as the operator would run it (Debian's python).
osc() { /usr/bin/openstack --os-cloud "$CLOUD" --os-compute-api-version 2.92 "$@" 2>>"$T/osc.err"; }
osc_admin() { /usr/bin/openstack --os-cloud "$ADMIN" --os-compute-api-version 2.92 "$@" 2>>"$T/osc.err"; }
# py 'expression over d' < json: evaluate with d = the parsed document
py() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# Stacks to delete at exit whatever happened (then tap.sh's own cleanup).
OS_STACKS=""
os_stack() { OS_STACKS="$OS_STACKS $1"; }
os_cleanup() {
	for t in $OS_STACKS; do
		"$JCICD" delete --tag "$t" --cloud "$CLOUD" --quiet >/dev/null 2>&1 || true
	done
	[ -n "${OS_PROXY_PID:-}" ] && kill "$OS_PROXY_PID" 2>/dev/null
	tap_cleanup
}
trap os_cleanup EXIT

# The server names of a stack as Nova has them, sorted, one a line.
nova_names() { osc server list --tags "jcicd-stack-$1" -f value -c Name | sort; }

# "[openstack] cloud X: N HTTP requests (R retried) ..." from --verbose output
requests_of() { printf '%s\n' "$1" | sed -n 's/.*\[openstack\].*: \([0-9]*\) HTTP requests\{0,1\} .*/\1/p' | tail -1; }
retries_of() { printf '%s\n' "$1" | sed -n 's/.*\[openstack\].* HTTP requests\{0,1\} (\([0-9]*\) retried).*/\1/p' | tail -1; }
