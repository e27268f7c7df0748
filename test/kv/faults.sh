#!/bin/sh
# Faults around etcd: agents watching a private, real etcd keep working
# when it restarts (their watches resume from the last revision, so a
# version set while they reconnect is not missed), and a failed-over
# endpoint list keeps them going.  Needs etcd (skips without it).
. "$TOP_SRCDIR/test/lib/tap.sh"
. "$TOP_SRCDIR/test/kv/common.sh"
make_node_scripts
if [ -z "${JCICD_TEST_ETCD:-}" ]; then
	skip "etcd: JCICD_TEST_ETCD is not set (test/services/etcd.sh start)"
	done_testing
	exit 0
fi
# a private etcd this test may restart, on its own ports and data
export JCICD_ETCD_PORT=24790
export JCICD_ETCD_DIR="$T/etcd"
ETCD_SH="$TOP_SRCDIR/test/services/etcd.sh"
stop_etcd() { "$ETCD_SH" stop >/dev/null 2>&1; tap_cleanup; }
trap stop_etcd EXIT
exits 0 "a private etcd starts" "$ETCD_SH" start
like "$OUT" "JCICD_TEST_ETCD=http://127.0.0.1:$JCICD_ETCD_PORT" "it says where"
JCICD_TEST_ETCD="http://127.0.0.1:$JCICD_ETCD_PORT"
use_backend etcd "$(AGENT_YAML)"
# the first endpoint is dead: every client fails over to the live one
sed -i "s|url: etcd://|url: etcd://127.0.0.1:1,|" "$CFG"

cat >"$T/spec.yaml" <<'EOS'
resources:
  cp: {number: 2, flavor: small, image: trusty}
EOS
printf '#!/bin/sh\nexec "$JCICD" agent\n' >"$T/userdata.sh"
chmod +x "$T/userdata.sh"
exits 0 "two agents on the local cloud, through a dead endpoint first" jcicd apply "$T/spec.yaml" "$T/userdata.sh" --tag f1
exits 0 "trigger-update 1" jcicd trigger-update 1
exits 0 "both at 1" jcicd wait --version 1 --from-spec "$T/spec.yaml" --tag f1 --timeout 30

# restart etcd under the agents; set the version at once, before their
# watches had a chance to reconnect
exits 0 "etcd restarts (stop waits for the process to exit)" "$ETCD_SH" restart
exits 0 "trigger-update 2 right after the restart" jcicd trigger-update 2
exits 0 "both agents got version 2 anyway" jcicd wait --version 2 --from-spec "$T/spec.yaml" --tag f1 --timeout 40
like "$(cat "$JCICD_STATE_DIR"/local-cloud/servers/*/console.log)" "etcd watch on .*; resuming from revision [0-9]+" \
	"the agents logged that their watch resumed"

# etcd down for a while: the agents wait; when it is back they go on
pid=$(cat "$T/etcd.pid")
ok "etcd goes away (SIGTERM, data kept)" kill "$pid"
ok "and is gone" wait_for 20 sh -c "! kill -0 $pid"
sleep 3   # the agents' watches and keep-alives fail meanwhile
exits 3 "while etcd is down, current-version says unreachable (3)" jcicd current-version
exits 0 "etcd is back (same data)" "$ETCD_SH" start
exits 0 "trigger-update 3" jcicd trigger-update 3
exits 0 "both agents reach 3 after the outage" jcicd wait --version 3 --from-spec "$T/spec.yaml" --tag f1 --timeout 60
exits 0 "delete the stack" jcicd delete --tag f1

# auth: a user and password, a token from etcd, refused when wrong
if command -v etcdctl >/dev/null 2>&1; then
	EP="--endpoints=127.0.0.1:$JCICD_ETCD_PORT"
	ok "create a root user" sh -c "ETCDCTL_API=3 etcdctl $EP user add root:s3cret-pw >/dev/null"
	ok "create a node user with the node role" sh -c "ETCDCTL_API=3 etcdctl $EP user add node:n0de-pw >/dev/null &&
		ETCDCTL_API=3 etcdctl $EP role add jcicd >/dev/null &&
		ETCDCTL_API=3 etcdctl $EP role grant-permission jcicd --prefix=true readwrite / >/dev/null &&
		ETCDCTL_API=3 etcdctl $EP user grant-role node jcicd >/dev/null"
	ok "enable auth" sh -c "ETCDCTL_API=3 etcdctl $EP auth enable >/dev/null"
	exits 3 "without credentials the store refuses (3)" jcicd trigger-update 5
	printf 'n0de-pw\n' >"$T/pw"
	printf 'kv:\n  url: etcd://127.0.0.1:%s\n  prefix: %s\n  username: node\n  password_file: %s\n' \
		"$JCICD_ETCD_PORT" "$PREFIX" "$T/pw" >"$T/auth.yaml"
	exits 0 "with a user and password: trigger-update" jcicd trigger-update 5 --config "$T/auth.yaml"
	exits 0 "current-version through the token" jcicd current-version --config "$T/auth.yaml"
	is "$OUT" "5" "reads back 5"
	printf 'wrong\n' >"$T/pw"
	exits 3 "a wrong password is refused (3)" jcicd current-version --config "$T/auth.yaml"
	like "$ERR" "authentication as 'node' failed" "the error says so"
	case "$ERR" in *wrong*) fail=1 ;; *) fail=0 ;; esac
	is "$fail" "0" "the password is not in the error"
else
	skip "etcdctl is not installed (etcd-client): auth not tested"
fi
done_testing
