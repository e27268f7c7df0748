#!/bin/bash
# test/openstack/configure.sh - writes every configuration file of the
# loopback cloud (called by up.sh on every run; Debian's originals are kept
# once as *.dist).  PW is the password of every account.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
: "${PW:?}"
HOST=jcicd-fake   # nova-compute's host name; the linuxbridge agent must match
WORKERS=${JCICD_OS_API_WORKERS:-2}

keep() { [ -f "$1.dist" ] || cp "$1" "$1.dist" 2>/dev/null || true; }
DBURL="mysql+pymysql://%s:$PW@127.0.0.1/%s?charset=utf8"
ksauth() { # section user: keystone credentials of a service user
	cat <<EOF
[$1]
auth_type = password
auth_url = http://127.0.0.1:5000
www_authenticate_uri = http://127.0.0.1:5000
project_domain_name = Default
user_domain_name = Default
project_name = service
username = $2
password = $PW
region_name = RegionOne
EOF
}

keep /etc/keystone/keystone.conf
cat >/etc/keystone/keystone.conf <<EOF
[DEFAULT]
log_dir = /var/log/keystone
log_file = keystone.log
[database]
connection = $(printf "$DBURL" keystone keystone)
[token]
provider = fernet
expiration = 86400
[identity]
# test cloud: the cheapest bcrypt cost makes POST /v3/auth/tokens ~10x faster
password_hash_rounds = 4
[oslo_policy]
policy_dirs = /etc/keystone/policy.d
EOF

keep /etc/glance/glance-api.conf
cat >/etc/glance/glance-api.conf <<EOF
[DEFAULT]
log_dir = /var/log/glance
log_file = glance-api.log
[database]
connection = $(printf "$DBURL" glance glance)
[glance_store]
stores = file,http
default_store = file
filesystem_store_datadir = /var/lib/glance/images
$(ksauth keystone_authtoken glance)
[oslo_concurrency]
lock_path = /var/lock/glance
[paste_deploy]
flavor = keystone
EOF

keep /etc/placement/placement.conf
cat >/etc/placement/placement.conf <<EOF
[DEFAULT]
log_dir = /var/log/placement
log_file = placement.log
[api]
auth_strategy = keystone
$(ksauth keystone_authtoken placement)
[oslo_policy]
policy_dirs = /etc/placement/policy.d
[placement_database]
connection = $(printf "$DBURL" placement placement)
EOF

keep /etc/nova/nova.conf
NOVA_COMMON=$(
	cat <<EOF
[DEFAULT]
host = $HOST
my_ip = 127.0.0.1
state_path = /var/lib/nova
log_dir = /var/log/nova
transport_url = rabbit://openstack:$PW@127.0.0.1:5672/
compute_driver = fake.FakeDriver
# no periodic polling of neutron for network info: neutron tells nova
# (network-changed events) when a port changes, e.g. a floating IP
heal_instance_info_cache_interval = -1
# the fake driver keeps servers only in memory; don't let the power-state
# sync flip servers to SHUTOFF after nova-compute restarts
sync_power_state_interval = -1
instance_usage_audit = false
# the fake driver does not wait for vif-plugged events anyway
vif_plugging_is_fatal = false
vif_plugging_timeout = 0
graceful_shutdown_timeout = 5
[api]
auth_strategy = keystone
[conductor]
workers = 1
[scheduler]
workers = 1
discover_hosts_in_cells_interval = 60
[quota]
instances = 1000
cores = 4000
ram = 8192000
[glance]
region_name = RegionOne
$(ksauth keystone_authtoken nova)
$(ksauth neutron neutron)
$(ksauth placement placement)
$(ksauth service_user nova)
send_service_user_token = true
[oslo_concurrency]
lock_path = /var/lock/nova
[oslo_messaging_notifications]
driver = noop
[vnc]
enabled = false
[wsgi]
api_paste_config = /etc/nova/api-paste.ini
EOF
)
# API, conductor, scheduler read nova.conf (with the databases); nova-compute
# gets a copy without database credentials, as in a real deployment
printf '%s\n[api_database]\nconnection = %s\n[database]\nconnection = %s\n' "$NOVA_COMMON" \
	"$(printf "$DBURL" nova nova_api)" "$(printf "$DBURL" nova nova)" >/etc/nova/nova.conf
printf '%s\n' "$NOVA_COMMON" >/etc/nova/nova-compute-fake.conf
chgrp nova /etc/nova/nova.conf /etc/nova/nova-compute-fake.conf
chmod 640 /etc/nova/nova.conf /etc/nova/nova-compute-fake.conf
# nova-compute itself: the nova-compute package would drag in libvirt/qemu,
# and only ships this wrapper around python3-nova's code
cat >"$ETC/bin/nova-compute" <<'EOF'
#!/usr/bin/python3
import sys
from nova.cmd.compute import main
if __name__ == "__main__":
    sys.exit(main())
EOF
chmod 755 "$ETC/bin/nova-compute"

keep /etc/neutron/neutron.conf
cat >/etc/neutron/neutron.conf <<EOF
[DEFAULT]
log_dir = /var/log/neutron
core_plugin = ml2
# routers and floating IPs as API/DB objects; there is no L3 agent, so
# nothing is routed, but association and Nova's view of it are real
service_plugins = router
auth_strategy = keystone
transport_url = rabbit://openstack:$PW@127.0.0.1:5672/
# tell nova when a port changes (a floating IP is associated): nova then
# refreshes the server's addresses
notify_nova_on_port_status_changes = false
notify_nova_on_port_data_changes = true
api_workers = 1
rpc_workers = 1
rpc_state_report_workers = 0
graceful_shutdown_timeout = 5
[agent]
root_helper = sudo neutron-rootwrap /etc/neutron/rootwrap.conf
[database]
connection = $(printf "$DBURL" neutron neutron)
$(ksauth keystone_authtoken neutron)
$(ksauth nova nova)
[oslo_concurrency]
lock_path = /var/lock/neutron
[oslo_messaging_notifications]
driver = noop
[oslo_policy]
policy_dirs = /etc/neutron/policy.d
[experimental]
# Zed marks the linux bridge driver experimental
linuxbridge = true
EOF
keep /etc/neutron/plugins/ml2/ml2_conf.ini
cat >/etc/neutron/plugins/ml2/ml2_conf.ini <<'EOF'
[ml2]
type_drivers = flat,vlan
tenant_network_types =
# binds ports on hosts with a live linuxbridge agent
mechanism_drivers = linuxbridge
extension_drivers = port_security
[ml2_type_flat]
# physnet1: test-net (bridged by the agent); physnet2: ext-net (floating IPs
# only, never bound to a host)
flat_networks = physnet1,physnet2
[securitygroup]
enable_security_group = True
EOF
keep /etc/neutron/plugins/ml2/linuxbridge_agent.ini
cat >/etc/neutron/plugins/ml2/linuxbridge_agent.ini <<EOF
[DEFAULT]
# must equal nova-compute's host for port binding
host = $HOST
[agent]
polling_interval = 2
[linux_bridge]
bridge_mappings = physnet1:br-jcicd
[securitygroup]
enable_security_group = false
firewall_driver = noop
[vxlan]
enable_vxlan = false
EOF
for f in /etc/keystone/keystone.conf /etc/glance/glance-api.conf /etc/placement/placement.conf \
	/etc/neutron/neutron.conf /etc/neutron/plugins/ml2/ml2_conf.ini \
	/etc/neutron/plugins/ml2/linuxbridge_agent.ini; do
	d=$(basename "$(dirname "$f")")
	[ "$d" = ml2 ] && d=neutron
	chgrp "$d" "$f"
	chmod 640 "$f"
done

uwsgi_ini() { # name port wsgi-file user processes threads
	cat >"$ETC/$1-uwsgi.ini" <<EOF
[uwsgi]
plugins = python3,http
$(printf "$UWSGI_FRONT" "$2")
wsgi-file = $3
master = true
processes = $5
threads = $6
enable-threads = true
lazy-apps = true
die-on-term = true
no-orphans = true
buffer-size = 65535
chdir = /var/lib/$4
EOF
}
# Keep-alive as a production front end does it: uWSGI's HTTP router keeps
# client connections open and hands each request to a free worker.  (A
# worker behind http11-socket would sit on an idle kept-alive connection
# while other clients queue; plain http-socket closes after every response
# and must say so, or keep-alive clients see "connection reset by peer".)
if [ "${JCICD_OS_KEEPALIVE:-1}" = 1 ]; then
	UWSGI_FRONT='http = 127.0.0.1:%s\nhttp-keepalive = 1\nhttp-timeout = 120'
else
	UWSGI_FRONT='http-socket = 127.0.0.1:%s\nadd-header = Connection: close'
fi
uwsgi_ini keystone 5000 /usr/bin/keystone-wsgi-public keystone "$WORKERS" 2
uwsgi_ini placement 8778 /usr/bin/placement-api placement 1 1
uwsgi_ini glance-api 9292 /usr/bin/glance-wsgi-api glance 1 1
uwsgi_ini neutron-api 9696 /usr/bin/neutron-api neutron 1 1
uwsgi_ini nova-api 8774 /usr/bin/nova-api-wsgi nova "$WORKERS" 1
