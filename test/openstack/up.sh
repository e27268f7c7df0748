#!/bin/bash
# test/openstack/up.sh - a small but real OpenStack cloud on 127.0.0.1 from
# Debian 12 packages, for jcicd's integration tests and bench/apply-openstack.
#
#   Keystone v3 (fernet)        http://127.0.0.1:5000/v3
#   Glance (file store)         http://127.0.0.1:9292
#   Placement                   http://127.0.0.1:8778
#   Nova v2.1 (<= 2.93)         http://127.0.0.1:8774/v2.1
#     api, conductor, scheduler, and nova-compute with the fake virt driver
#   Neutron (ML2/linuxbridge)   http://127.0.0.1:9696
#     api, rpc server, linuxbridge agent on an isolated bridge; the router
#     service plugin (no L3 agent) makes floating IPs real API/DB objects
#   MariaDB and RabbitMQ on loopback as backends.
#
# What it creates for the tests (idempotently):
#   projects/users   admin/admin, demo/demo (member), an application
#                    credential of demo ("jcicd-test")
#   flavors          m1.tiny m1.small m1.medium m1.large, and jc.huge (more
#                    RAM than the fake host has: its servers go to ERROR)
#   images           fake-image; two images both named dup-image
#   networks         test-net 10.99.0.0/24 (shared; servers get real fixed
#                    IPs), ext-net 203.0.113.0/24 (external, floating IPs),
#                    router jcicd-router joining them
#   clouds.yaml      $ETC/clouds.yaml: jcicd-admin, jcicd-demo, jcicd-appcred
#
# Usage:  up.sh [--reset] [--no-install]
#   --reset        stop, wipe every OpenStack database and state, start
#   --no-install   fail instead of running apt-get for missing packages
# Env:    JCICD_OS_PASSWORD (default "ostack", alphanumeric) for every account
# Processes run under start-stop-daemon; their PIDs are in $RUN/*.pid and
# down.sh stops exactly those.  Needs root (and CAP_NET_ADMIN for the bridge).
set -euo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive
umask 022

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

PW=${JCICD_OS_PASSWORD:-ostack}
RESET=0 NOINSTALL=0
for a in "$@"; do
	case $a in
	--reset) RESET=1 ;;
	--no-install) NOINSTALL=1 ;;
	-h | --help) sed -n '2,33p' "$0"; exit 0 ;;
	*) echo "up.sh: unknown argument $a" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || die "must run as root"
case $PW in *[!A-Za-z0-9]* | '') die "JCICD_OS_PASSWORD must be alphanumeric" ;; esac
T0=$(date +%s%N)

# ---------------------------------------------------------------------------
# 1. packages
# ---------------------------------------------------------------------------
PKGS=$(sed 's/#.*//' "$HERE/packages.list" | tr -s ' \n' ' ')
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	[ $NOINSTALL = 1 ] && die "missing packages:$missing"
	step "installing:$missing"
	# Decline every debconf-driven auto-configuration (database, rabbit,
	# endpoint registration, admin bootstrap): we configure everything.
	debconf-set-selections <<'EOF'
keystone keystone/configure_db boolean false
keystone keystone/create-admin-tenant boolean false
keystone keystone/register-endpoint boolean false
glance-common glance/configure_db boolean false
glance-common glance/configure_rabbit boolean false
glance-common glance/configure_ksat boolean false
glance-api glance/configure_api-endpoint boolean false
placement-common placement/configure_db boolean false
placement-common placement/configure_ksat boolean false
placement-api placement/configure_api-endpoint boolean false
nova-common nova/configure_db boolean false
nova-common nova/configure_rabbit boolean false
nova-common nova/configure_ksat boolean false
nova-common nova/configure_neutron boolean false
nova-common nova/configure_placement boolean false
nova-api novaapi/configure_db boolean false
nova-api nova/configure_api-endpoint boolean false
neutron-common neutron/configure_db boolean false
neutron-common neutron/configure_rabbit boolean false
neutron-common neutron/configure_ksat boolean false
neutron-common neutron/configure_nova boolean false
neutron-api neutron/configure_api-endpoint boolean false
EOF
	# maintainer scripts must not start daemons: we start our own
	made_policy=0
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		made_policy=1
	fi
	mkdir -p "$LOG"
	ti=$(date +%s)
	apt_install() {
		apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=900 \
			-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
			$missing >"$LOG/apt.log" 2>&1
	}
	if ! apt_install; then
		apt-get update -q -o DPkg::Lock::Timeout=900 >/dev/null 2>&1 || true
		apt_install || { [ $made_policy = 1 ] && rm -f /usr/sbin/policy-rc.d; tail -30 "$LOG/apt.log" >&2; die "apt-get install failed (log: $LOG/apt.log)"; }
	fi
	[ $made_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
	step "apt-get install took $(($(date +%s) - ti)) s"
	# on a systemd host the packages enabled their own units: keep them
	# from fighting ours for the ports
	if [ -d /run/systemd/system ]; then
		for u in keystone glance-api placement-api nova-api nova-api-metadata nova-conductor \
			nova-scheduler neutron-api neutron-rpc-server neutron-linuxbridge-agent \
			neutron-dhcp-agent neutron-metadata-agent; do
			systemctl stop "$u" 2>/dev/null || true
			systemctl mask "$u" 2>/dev/null || true
		done
	fi
fi

mkdir -p "$RUN" "$LOG" "$ETC/bin" "$STATE"
chmod 755 "$ETC"
chmod 700 "$STATE"
# /var/lock is a tmpfs: the lock directories come back on every run
for d in nova glance neutron placement keystone; do
	install -d -o $d -g $d /var/lock/$d /var/log/$d /var/lib/$d
done

# ---------------------------------------------------------------------------
# 2. --reset: stop everything and wipe state
# ---------------------------------------------------------------------------
DBS="keystone glance placement nova_api nova nova_cell0 neutron"
if [ $RESET = 1 ]; then
	step "reset: stopping services and wiping OpenStack state"
	"$HERE/down.sh" --keep-backends >/dev/null || true
fi

# ---------------------------------------------------------------------------
# 3. backends: MariaDB, RabbitMQ (loopback only)
# ---------------------------------------------------------------------------
if ! alive mariadb; then
	if port_busy 3306; then
		step "port 3306 is served by a MariaDB this script did not start: using it (root socket)"
	else
		install -d -o mysql -g mysql /run/mysqld
		# fsync off: this is throw-away test data
		start_bg mariadb root /usr/sbin/mariadbd --user=mysql --bind-address=127.0.0.1 \
			--skip-name-resolve --max-connections=500 --innodb-buffer-pool-size=64M \
			--performance-schema=OFF --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 \
			--innodb-flush-method=nosync
	fi
fi
cat >/etc/rabbitmq/rabbitmq-env.conf <<'EOF'
NODENAME=rabbit@localhost
NODE_IP_ADDRESS=127.0.0.1
NODE_PORT=5672
SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
EOF
if ! alive rabbitmq; then
	if port_busy 5672; then
		step "port 5672 is served by a RabbitMQ this script did not start: using it"
	else
		port_busy 4369 || start_bg epmd rabbitmq /usr/bin/epmd -address 127.0.0.1
		HOME=/var/lib/rabbitmq RUNNING_UNDER_SYSTEMD=true \
			start_bg rabbitmq rabbitmq /usr/lib/rabbitmq/bin/rabbitmq-server
	fi
fi
for _ in $(seq 300); do mysql -e 'select 1' >/dev/null 2>&1 && break; sleep 0.1; done
mysql -e 'select 1' >/dev/null || die "MariaDB did not come up (see $LOG/mariadb.log)"
if [ $RESET = 1 ]; then
	for db in $DBS; do mysql -e "DROP DATABASE IF EXISTS $db"; done
	rm -rf /etc/keystone/fernet-keys /etc/keystone/credential-keys /var/lib/glance/images/* \
		/var/lib/nova/instances/* "$STATE"/*.done "$STATE"/appcred.json
fi
{
	for db in $DBS; do echo "CREATE DATABASE IF NOT EXISTS $db;"; done
	for u in keystone glance placement nova neutron; do
		echo "CREATE USER IF NOT EXISTS '$u'@'127.0.0.1' IDENTIFIED BY '$PW';"
		echo "ALTER USER '$u'@'127.0.0.1' IDENTIFIED BY '$PW';"
	done
	for pair in keystone:keystone glance:glance placement:placement nova:nova_api \
		nova:nova nova:nova_cell0 neutron:neutron; do
		echo "GRANT ALL ON ${pair#*:}.* TO '${pair%%:*}'@'127.0.0.1';"
	done
} | mysql
step "mariadb up, databases ready"

# ---------------------------------------------------------------------------
# 4. configuration (rewritten on every run; Debian's originals kept as *.dist)
# ---------------------------------------------------------------------------
PW=$PW "$HERE/configure.sh"
# a changed configuration (this script's, or another password) restarts the
# OpenStack services this script runs, so what runs is what is written
stamp=$(cat /etc/keystone/keystone.conf /etc/glance/glance-api.conf /etc/placement/placement.conf \
	/etc/nova/nova.conf /etc/nova/nova-compute-fake.conf /etc/neutron/neutron.conf \
	/etc/neutron/plugins/ml2/*.ini "$ETC"/*-uwsgi.ini | md5sum | cut -d' ' -f1)
if [ -f "$STATE/config.md5" ] && [ "$(cat "$STATE/config.md5")" != "$stamp" ]; then
	step "configuration changed: restarting the OpenStack services"
	"$HERE/down.sh" --keep-backends >/dev/null 2>&1 || true
fi
echo "$stamp" >"$STATE/config.md5"

# RabbitMQ must be up before anything uses it
if alive rabbitmq; then
	for _ in $(seq 120); do
		rabbitmqctl -q -n rabbit@localhost await_startup >/dev/null 2>&1 && break
		sleep 0.5
	done
fi
rabbitmqctl -q -n rabbit@localhost add_user openstack "$PW" >/dev/null 2>&1 ||
	rabbitmqctl -q -n rabbit@localhost change_password openstack "$PW" >/dev/null
rabbitmqctl -q -n rabbit@localhost set_permissions -p / openstack '.*' '.*' '.*' >/dev/null
step "rabbitmq up"

# ---------------------------------------------------------------------------
# 5. per-service pipelines in parallel: schema sync (skipped when done for
#    this package version), then start.  Only nova-compute (it talks to
#    placement as it starts) waits for the Keystone users.
# ---------------------------------------------------------------------------
ver() { dpkg-query -W -f='${Version}' "$1"; }
dbsync() { # marker package user command
	local m=$STATE/$1.done v
	v=$(ver "$2")
	[ -f "$m" ] && [ "$(cat "$m")" = "$v" ] && return 0
	(cd /tmp && su -s /bin/sh -c "$4" "$3") >"$LOG/dbsync-$1.log" 2>&1 ||
		{ cat "$LOG/dbsync-$1.log" >&2; return 1; }
	echo "$v" >"$m"
	step "  $1 schema created"
}
fernet_keys() { # dir: the layout keystone-manage fernet_setup writes (0 staged, 1 primary)
	[ -e "$1/0" ] && return 0
	install -d -m 700 -o keystone -g keystone "$1"
	for k in 0 1; do
		$PY -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode(), end="")' >"$1/$k"
		chown keystone:keystone "$1/$k"
		chmod 600 "$1/$k"
	done
}
(
	fernet_keys /etc/keystone/fernet-keys
	fernet_keys /etc/keystone/credential-keys
	dbsync keystone keystone keystone 'keystone-manage db_sync'
	if [ ! -f "$STATE/keystone-bootstrap.done" ] || [ "$(cat "$STATE/keystone-bootstrap.done")" != "$PW" ]; then
		(cd /tmp && su keystone -s /bin/sh -c "keystone-manage bootstrap --bootstrap-password '$PW' \
			--bootstrap-username admin --bootstrap-project-name admin --bootstrap-role-name admin \
			--bootstrap-service-name keystone --bootstrap-region-id RegionOne \
			--bootstrap-admin-url http://127.0.0.1:5000/v3/ --bootstrap-internal-url http://127.0.0.1:5000/v3/ \
			--bootstrap-public-url http://127.0.0.1:5000/v3/" >"$LOG/keystone-bootstrap.log" 2>&1) ||
			{ cat "$LOG/keystone-bootstrap.log" >&2; exit 1; }
		echo "$PW" >"$STATE/keystone-bootstrap.done"
		step "  keystone bootstrapped"
	fi
	start_uwsgi keystone 5000 keystone
) &
PK=$!
(dbsync glance glance-api glance 'glance-manage db_sync' && start_uwsgi glance-api 9292 glance) &
PG=$!
(dbsync placement placement-api placement 'placement-manage db sync' && start_uwsgi placement 8778 placement) &
PP=$!
(dbsync neutron neutron-api neutron 'neutron-db-manage --config-file /etc/neutron/neutron.conf --config-file /etc/neutron/plugins/ml2/ml2_conf.ini upgrade heads' &&
	start_uwsgi neutron-api 9696 neutron &&
	start_bg neutron-rpc-server neutron $PY /usr/bin/neutron-rpc-server \
		--config-file /etc/neutron/neutron.conf --config-file /etc/neutron/plugins/ml2/ml2_conf.ini) &
PN=$!
# create_cell exits 2 when an identical cell1 exists already
(dbsync nova python3-nova nova 'nova-manage api_db sync && nova-manage cell_v2 map_cell0 && { nova-manage cell_v2 create_cell --name=cell1; [ $? -le 2 ]; } && nova-manage db sync' &&
	start_uwsgi nova-api 8774 nova &&
	start_bg nova-conductor nova $PY /usr/bin/nova-conductor --config-file /etc/nova/nova.conf) &
PV=$!
wait $PK || die "keystone setup failed"
wait_http http://127.0.0.1:5000/v3 120
step "keystone up"

# ---------------------------------------------------------------------------
# 6. Keystone: service users, the demo project and user, the catalog
# ---------------------------------------------------------------------------
JCICD_OS_PASSWORD=$PW $PY "$HERE/setup-cloud.py" keystone
step "keystone users, projects and catalog ready"

# ---------------------------------------------------------------------------
# 7. nova-compute (fake driver) and the linuxbridge agent, then every API
# ---------------------------------------------------------------------------
wait $PV || die "nova setup failed"
# the scheduler and nova-compute talk to placement as they start: they need
# their Keystone users (a scheduler started earlier dies of a 401)
start_bg nova-scheduler nova $PY /usr/bin/nova-scheduler --config-file /etc/nova/nova.conf
start_bg nova-compute nova $PY "$ETC/bin/nova-compute" --config-file /etc/nova/nova-compute-fake.conf
wait $PN || die "neutron setup failed"
if ! ip link show br-jcicd >/dev/null 2>&1; then
	ip link add br-jcicd type bridge || die "cannot create bridge br-jcicd (needs CAP_NET_ADMIN)"
	touch "$RUN/br-jcicd.created"
fi
ip link set br-jcicd up
start_bg neutron-linuxbridge-agent root $PY /usr/bin/neutron-linuxbridge-agent \
	--config-file /etc/neutron/neutron.conf --config-file /etc/neutron/plugins/ml2/linuxbridge_agent.ini
wait $PG || die "glance setup failed"
wait $PP || die "placement setup failed"
for u in 9292/ 8778/ 9696/ 8774/; do wait_http "http://127.0.0.1:$u" 120; done
step "all HTTP APIs answer"

# ---------------------------------------------------------------------------
# 8. wait for nova-compute, map it, then the test resources and clouds.yaml
# ---------------------------------------------------------------------------
JCICD_OS_PASSWORD=$PW $PY "$HERE/setup-cloud.py" wait-compute
(cd /tmp && su nova -s /bin/sh -c 'nova-manage cell_v2 discover_hosts' >"$LOG/discover-hosts.log" 2>&1) ||
	{ cat "$LOG/discover-hosts.log" >&2; die "nova-manage cell_v2 discover_hosts failed"; }
step "nova-compute registered and mapped to cell1"
JCICD_OS_PASSWORD=$PW $PY "$HERE/setup-cloud.py" resources
step "flavors, images, networks, router, application credential and clouds.yaml ready"
# every process this script runs must still be running
dead=""
for n in $SERVICES; do
	[ -e "$RUN/$n.pid" ] && ! alive "$n" && dead="$dead $n"
done
if [ -n "$dead" ]; then
	for n in $dead; do echo "---- $n" >&2; tail -5 "$LOG/$n.log" >&2; done
	die "died after starting:$dead (logs in $LOG and /var/log/{nova,neutron,...})"
fi
step "cloud is up (clouds.yaml: $ETC/clouds.yaml; stop with $HERE/down.sh)"
