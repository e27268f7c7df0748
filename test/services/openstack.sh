#!/bin/sh
# test/services/openstack.sh start|stop - the loopback OpenStack cloud of
# test/openstack/up.sh for the integration tests (see test/services/README).
#   start  installs what is missing, brings the cloud up (idempotent: what
#          runs already is kept) and prints the tests' variables
#   stop   stops only the services this start started
# The variables name the cloud but do not set OS_CLOUD: exported to every
# test, it would point the local-cloud tests at OpenStack.
set -eu
HERE=$(cd "$(dirname "$0")/../openstack" && pwd)
RUN=/run/jcicd-openstack
MINE=$RUN/started-by-service
SERVICES="nova-compute nova-scheduler nova-conductor nova-api neutron-linuxbridge-agent
neutron-rpc-server neutron-api placement glance-api keystone rabbitmq epmd mariadb"

running() {
	for n in $SERVICES; do
		[ -s "$RUN/$n.pid" ] && kill -0 "$(cat "$RUN/$n.pid")" 2>/dev/null && echo "$n"
	done
	return 0
}

case ${1:-} in
start)
	[ "$(id -u)" = 0 ] || { echo "openstack: needs root (apt-get, daemons, a bridge)" >&2; exit 1; }
	before=$(running | tr '\n' ' ')
	rc=0
	"$HERE/up.sh" >&2 || rc=$?
	# what this start started is stop's to stop, even when up.sh failed
	mkdir -p "$RUN"
	for n in $(running); do
		case " $before " in *" $n "*) ;; *) echo "$n" ;; esac
	done >>"$MINE"
	[ "$rc" = 0 ] || exit "$rc"
	echo "JCICD_TEST_OPENSTACK_CLOUD=jcicd-demo"
	echo "JCICD_TEST_OPENSTACK_ADMIN_CLOUD=jcicd-admin"
	echo "JCICD_TEST_OPENSTACK_APPCRED_CLOUD=jcicd-appcred"
	echo "JCICD_TEST_OPENSTACK_CLOUDS_YAML=/etc/jcicd-openstack/clouds.yaml"
	;;
stop)
	[ -s "$MINE" ] || exit 0
	"$HERE/down.sh" --only "$(sort -u "$MINE" | tr '\n' ' ')" >&2
	rm -f "$MINE"
	;;
*)
	echo "usage: $0 start|stop" >&2
	exit 2
	;;
esac
