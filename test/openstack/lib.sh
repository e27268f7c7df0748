# test/openstack/lib.sh - paths and process helpers shared by up.sh,
# configure.sh and down.sh (sourced).
RUN=/run/jcicd-openstack          # PID files of what up.sh started
LOG=/var/log/jcicd-openstack      # daemons' stdout/stderr, apt and dbsync logs
ETC=/etc/jcicd-openstack          # uwsgi inis, nova-compute wrapper, clouds.yaml
STATE=/var/lib/jcicd-openstack    # schema markers, the application credential
PY=/usr/bin/python3               # never a pyenv/venv python: Debian's modules
# every service's order for stopping (backends last)
SERVICES="nova-compute nova-scheduler nova-conductor nova-api neutron-linuxbridge-agent
neutron-rpc-server neutron-api placement glance-api keystone"
BACKENDS="rabbitmq epmd mariadb"

step() { # message: progress on stderr, with the seconds since $T0
	local ds=$((($(date +%s%N) - ${T0:-$(date +%s%N)}) / 100000000))
	printf '[%4d.%ds] %s\n' $((ds / 10)) $((ds % 10)) "$*" >&2
}
die() { echo "error: $*" >&2; exit 1; }
alive() { local f=$RUN/$1.pid; [ -s "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null; }
port_busy() { ss -Hltn "sport = :$1" | grep -q .; }
start_bg() { # name user command args...  (a foreground command, daemonised here)
	local name=$1 user=$2
	shift 2
	alive "$name" && return 0
	touch "$LOG/$name.log"
	chown "$user" "$LOG/$name.log"
	start-stop-daemon --start --background --make-pidfile --pidfile "$RUN/$name.pid" \
		--chuid "$user" --chdir / --output "$LOG/$name.log" --exec "$1" -- "${@:2}"
}
wait_http() { # url seconds
	local i
	for i in $(seq $((${2:-60} * 10))); do
		curl -s -o /dev/null --max-time 2 "$1" && return 0
		sleep 0.1
	done
	die "timeout waiting for $1"
}
start_uwsgi() { # name port user
	alive "$1" && return 0
	port_busy "$2" && die "port $2 ($1) is in use by a process up.sh did not start"
	start_bg "$1" "$3" /usr/bin/uwsgi --ini "$ETC/$1-uwsgi.ini"
}
