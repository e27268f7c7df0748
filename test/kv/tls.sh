#!/bin/sh
# etcd over TLS (etcds://): requests and watch streams go through libcurl
# (kv-etcd-tls.c), a server certificate the client does not trust is
# refused, and `jcicd agent` keeps the agent in its own process, since
# jcicd-agent links no TLS library.  Needs etcd and openssl (skips
# without them).
. "$TOP_SRCDIR/test/lib/tap.sh"
. "$TOP_SRCDIR/test/kv/common.sh"
if [ -z "${JCICD_TEST_ETCD:-}" ] || ! command -v openssl >/dev/null 2>&1; then
	skip "etcd over TLS: needs JCICD_TEST_ETCD (test/services/etcd.sh start) and openssl"
	done_testing
	exit 0
fi
# a private etcd on its own ports (faults.sh has 24790 and its peer 24800)
export JCICD_ETCD_PORT=24820
export JCICD_ETCD_DIR="$T/etcd"
export JCICD_ETCD_TLS="$T/tls"
ETCD_SH="$TOP_SRCDIR/test/services/etcd.sh"
APID=
stop_all() {
	[ -n "$APID" ] && kill "$APID" 2>/dev/null
	"$ETCD_SH" stop >/dev/null 2>&1
	tap_cleanup
}
trap stop_all EXIT
mkdir -p "$T/tls"
ok "a self-signed certificate for 127.0.0.1" openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout "$T/tls/key.pem" -out "$T/tls/cert.pem"
exits 0 "a private etcd serves clients over TLS" "$ETCD_SH" start
like "$OUT" "JCICD_TEST_ETCD=https://127.0.0.1:$JCICD_ETCD_PORT" "on https"

cat >"$T/jcicd.yaml" <<EOS
kv:
  url: etcds://127.0.0.1:$JCICD_ETCD_PORT
  prefix: /tls-test/
  ca_file: $T/tls/cert.pem
  timeout: 5s
EOS
export JCICD_CONFIG="$T/jcicd.yaml"
unset JCICD_KV
exits 0 "kv put over TLS" jcicd kv put /tls-test/hello world
exits 0 "kv get over TLS" jcicd kv get /tls-test/hello
is "$OUT" "world" "the value came back"

mkdir -p "$T/agent"
"$JCICD" agent --hostname tls1 --dir "$T/agent" --update-command '' --upgrade-command '' \
	--converge-command true --validation-dir '' --jitter 0 --lease-ttl 5 >"$T/agent.log" 2>&1 &
APID=$!
ok "an agent registers over TLS" wait_for 30 sh -c "\"\$JCICD\" kv list /tls-test/hosts/ --keys-only | grep -q tls1/alive"
like "$(readlink "/proc/$APID/exe")" "/(lt-)?jcicd\$" "with etcds:// the agent stays in jcicd"
echo tls1 >"$T/hosts"
exits 0 "trigger-update 5" jcicd trigger-update 5
exits 0 "its watch (a TLS stream) sees 5 and it converges" jcicd wait --version 5 --hosts-from "$T/hosts" --timeout 60
like "$(cat "$T/agent.log")" "tls1 healthy at 5" "the agent says so"
kill "$APID"
wait "$APID" 2>/dev/null
APID=

# kv.source_address through libcurl: requests and the watch's stream
src_yaml() { printf 'kv:\n  url: etcds://127.0.0.1:%s\n  prefix: /tls-test/\n  ca_file: %s\n  source_address: %s\n  timeout: 3s\n' \
	"$JCICD_ETCD_PORT" "$T/tls/cert.pem" "$1" >"$T/src-$1.yaml"; }
src_yaml 127.0.0.6
exits 0 "kv put from a source address over TLS" jcicd kv put /tls-test/src yes --config "$T/src-127.0.0.6.yaml"
src_yaml 192.0.2.1
exits 3 "an address this machine lacks: unreachable (3)" jcicd kv get /tls-test/src --config "$T/src-192.0.2.1.yaml"
like "$ERR" "https://127.0.0.1:$JCICD_ETCD_PORT/v3/kv/range.*(bind|192.0.2.1)" "it names the URL and the bind"
mkdir -p "$T/agent2"
"$JCICD" agent --config "$T/src-127.0.0.6.yaml" --hostname tls2 --dir "$T/agent2" --update-command '' \
	--upgrade-command '' --converge-command true --validation-dir '' --jitter 0 --lease-ttl 5 >"$T/agent2.log" 2>&1 &
APID=$!
ok "an agent registers from 127.0.0.6" wait_for 30 sh -c "\"\$JCICD\" kv list /tls-test/hosts/ --keys-only | grep -q tls2/alive"
# /proc/net/tcp: local 127.0.0.6 is 0600007F; the port in hex
PORT_HEX=$(printf '%04X' "$JCICD_ETCD_PORT")
ok "its watch stream comes from 127.0.0.6" wait_for 10 grep -q " 0600007F:[0-9A-F]* 0100007F:$PORT_HEX 01 " /proc/net/tcp
kill "$APID"
wait "$APID" 2>/dev/null
APID=

# a client that does not trust the server's certificate
printf 'kv:\n  url: etcds://127.0.0.1:%s\n  timeout: 3s\n' "$JCICD_ETCD_PORT" >"$T/untrusted.yaml"
exits 3 "without its CA the server is refused (3, unreachable)" jcicd kv get /tls-test/hello --config "$T/untrusted.yaml"
like "$ERR" "https://127.0.0.1:$JCICD_ETCD_PORT/v3/kv/range.*(certificate|SSL)" "it names the URL and the TLS problem"
done_testing
