#!/bin/sh
# test/services/jenkins.sh start|stop - the Jenkins stand-in (test/jenkins/
# stand-in.py) on 127.0.0.1, with the Debian clients the tests drive against it
# (python3-jenkins, jenkins-job-builder).  start prints:
#   JCICD_TEST_JENKINS=http://127.0.0.1:PORT
#   JCICD_TEST_JENKINS_USER=jcicd
#   JCICD_TEST_JENKINS_TOKEN_FILE=FILE       (an API token: no crumb needed)
#   JCICD_TEST_JENKINS_PASSWORD_FILE=FILE    (a password: POSTs need a crumb)
# Idempotent: a running stand-in is reused.  stop stops only what start started.
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
HOME_DIR=${JCICD_TEST_JENKINS_HOME:-/tmp/jcicd-test-jenkins}
PORT=${JCICD_TEST_JENKINS_PORT:-28080}
PIDFILE=$HOME_DIR/stand-in.pid
# Debian's python3 (where python3-jenkins lives), whatever python3 PATH has
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

print_env() {
	echo "JCICD_TEST_JENKINS=http://127.0.0.1:$PORT"
	echo "JCICD_TEST_JENKINS_USER=jcicd"
	echo "JCICD_TEST_JENKINS_TOKEN_FILE=$HOME_DIR/token"
	echo "JCICD_TEST_JENKINS_PASSWORD_FILE=$HOME_DIR/password"
}

case "${1:-}" in
start)
	missing=""
	for p in $(sed 's/#.*//' "$TOP/test/packages/jobs.list"); do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		echo "installing:$missing" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >&2 ||
			{ apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >&2; }
	fi
	if running; then
		print_env
		exit 0
	fi
	mkdir -p "$HOME_DIR"
	chmod 700 "$HOME_DIR"
	umask 077
	[ -s "$HOME_DIR/token" ] || "$PY" -c 'import secrets; print(secrets.token_hex(17))' >"$HOME_DIR/token"
	[ -s "$HOME_DIR/password" ] || "$PY" -c 'import secrets; print(secrets.token_urlsafe(12))' >"$HOME_DIR/password"
	rm -f "$HOME_DIR/port"
	setsid "$PY" "$TOP/test/jenkins/stand-in.py" --port "$PORT" --port-file "$HOME_DIR/port" \
		--home "$HOME_DIR/home" --user jcicd --token-file "$HOME_DIR/token" \
		--password-file "$HOME_DIR/password" --executors 8 --log "$HOME_DIR/access.log" \
		</dev/null >>"$HOME_DIR/stand-in.log" 2>&1 &
	echo $! >"$PIDFILE"
	i=0
	while [ ! -s "$HOME_DIR/port" ]; do
		i=$((i + 1))
		if [ $i -gt 100 ] || ! running; then
			echo "the Jenkins stand-in did not start:" >&2
			tail -20 "$HOME_DIR/stand-in.log" >&2
			exit 1
		fi
		sleep 0.1
	done
	print_env
	;;
stop)
	if running; then
		kill "$(cat "$PIDFILE")"
		i=0
		while running && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		running && kill -9 "$(cat "$PIDFILE")"
	fi
	rm -f "$PIDFILE"
	;;
*)
	echo "usage: $0 start|stop" >&2
	exit 2
	;;
esac
