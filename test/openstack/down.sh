#!/bin/bash
# test/openstack/down.sh - stops what up.sh started, by the PIDs it recorded
# in /run/jcicd-openstack/*.pid (never by process name).
#   --keep-backends   leave MariaDB, RabbitMQ and epmd running
#   --only "A B ..."  stop only these (names of $RUN/NAME.pid)
set -uo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
ORDER="$SERVICES $BACKENDS"
while [ $# -gt 0 ]; do
	case $1 in
	--keep-backends) ORDER=$SERVICES ;;
	--only) ORDER=$2; shift ;;
	-h | --help) sed -n '2,5p' "$0"; exit 0 ;;
	*) echo "down.sh: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done

stop() { # name: SIGTERM, then SIGKILL after 30 s
	local f=$RUN/$1.pid pid i
	[ -s "$f" ] || return 0
	pid=$(cat "$f")
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		for i in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		if kill -0 "$pid" 2>/dev/null; then
			echo "$1 (pid $pid) ignored SIGTERM for 30 s; sending SIGKILL" >&2
			kill -KILL "$pid"
		fi
		echo "stopped $1 (pid $pid)" >&2
	fi
	rm -f "$f"
}
# the API and worker processes in parallel, then the backends in order
for n in $ORDER; do
	case " $BACKENDS " in *" $n "*) ;; *) stop "$n" & ;; esac
done
wait
for n in $BACKENDS; do
	case " $ORDER " in *" $n "*) stop "$n" ;; esac
done
# the isolated bridge, only when up.sh made it and the agent is gone
if [ -e "$RUN/br-jcicd.created" ] && ! alive neutron-linuxbridge-agent; then
	ip link del br-jcicd 2>/dev/null && echo "removed bridge br-jcicd" >&2
	rm -f "$RUN/br-jcicd.created"
fi
exit 0
