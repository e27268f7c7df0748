#!/bin/sh
# test/services/etcd.sh start|stop|restart - a real etcd (Debian's
# etcd-server) on 127.0.0.1 with a temporary data directory.
#
#   start    installs etcd-server when missing, starts etcd (idempotent) and
#            prints JCICD_TEST_ETCD=http://127.0.0.1:PORT
#   stop     SIGTERM, waits for the process to exit (a restart right after
#            an unwaited stop fails with "address already in use"), removes
#            the data directory
#   restart  stop and start again on the same data (revisions survive)
#
# JCICD_ETCD_PORT (default 23790) picks the client port (the peer port is
# PORT+10), so a test can run a private etcd it may restart.
# JCICD_ETCD_TLS=DIR serves clients over TLS with DIR/cert.pem and
# DIR/key.pem (the certificate is its own CA: DIR/cert.pem verifies it).
set -eu
PORT=${JCICD_ETCD_PORT:-23790}
PEER=$((PORT + 10))
DIR=${JCICD_ETCD_DIR:-/tmp/jcicd-etcd-$PORT}
PIDFILE=$DIR.pid
URL=http://127.0.0.1:$PORT
TLS_ARGS=
CURL_TLS=
if [ -n "${JCICD_ETCD_TLS:-}" ]; then
	URL=https://127.0.0.1:$PORT
	TLS_ARGS="--cert-file $JCICD_ETCD_TLS/cert.pem --key-file $JCICD_ETCD_TLS/key.pem"
	CURL_TLS="--cacert $JCICD_ETCD_TLS/cert.pem"
fi

up() { curl -sf -m 2 $CURL_TLS "$URL/version" >/dev/null 2>&1; }

running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

install_etcd() {
	command -v etcd >/dev/null 2>&1 && return 0
	echo "installing etcd-server" >&2
	apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=900 etcd-server >&2 ||
		{ apt-get update -q >&2 && apt-get install -y -q --no-install-recommends \
			-o DPkg::Lock::Timeout=900 etcd-server >&2; }
	# the package may start a system etcd on the default ports: not ours
	command -v systemctl >/dev/null 2>&1 && systemctl disable --now etcd >/dev/null 2>&1 || true
	command -v etcd >/dev/null 2>&1
}

start() {
	install_etcd
	if running && up; then
		echo "JCICD_TEST_ETCD=$URL"
		return 0
	fi
	if up; then
		# not ours: its data and settings are unknown, and ours could not bind
		echo "something else already answers on $URL: stop it or choose another JCICD_ETCD_PORT" >&2
		return 1
	fi
	mkdir -p "$DIR"
	# 10,000 watch streams (bench/fleet) need as many descriptors
	ulimit -n 65536 2>/dev/null || ulimit -n 20000 2>/dev/null || true
	nohup etcd --name jcicd-test --data-dir "$DIR/data" \
		--listen-client-urls "$URL" --advertise-client-urls "$URL" $TLS_ARGS \
		--listen-peer-urls "http://127.0.0.1:$PEER" \
		--initial-advertise-peer-urls "http://127.0.0.1:$PEER" \
		--initial-cluster "jcicd-test=http://127.0.0.1:$PEER" \
		--initial-cluster-state new --initial-cluster-token "jcicd-test-$PORT" \
		--logger zap --log-level warn >"$DIR.log" 2>&1 </dev/null &
	echo $! >"$PIDFILE"
	i=0
	while ! up; do
		i=$((i + 1))
		if [ $i -gt 150 ] || ! running; then
			echo "etcd did not come up on $URL; its log:" >&2
			tail -20 "$DIR.log" >&2
			return 1
		fi
		sleep 0.2
	done
	echo "etcd $(curl -s $CURL_TLS "$URL/version") on $URL (data $DIR)" >&2
	echo "JCICD_TEST_ETCD=$URL"
}

halt() {
	if [ -f "$PIDFILE" ]; then
		pid=$(cat "$PIDFILE")
		kill -TERM "$pid" 2>/dev/null || true
		i=0
		while kill -0 "$pid" 2>/dev/null; do
			i=$((i + 1))
			[ $i -eq 150 ] && kill -KILL "$pid" 2>/dev/null
			[ $i -gt 200 ] && { echo "etcd $pid does not exit" >&2; return 1; }
			sleep 0.1
		done
		rm -f "$PIDFILE"
	fi
}

case ${1:-} in
start) start ;;
stop) halt; rm -rf "$DIR" "$DIR.log" ;;
restart) halt; start ;;
*) echo "usage: $0 start|stop|restart" >&2; exit 2 ;;
esac
