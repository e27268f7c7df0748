# test/kv/common.sh - shared by the kv, agent and rollout tests (sourced
# after test/lib/tap.sh).
#
# backends: "sqlite" always, "etcd" when $JCICD_TEST_ETCD names a running
# etcd (test/services/etcd.sh); each test on etcd gets its own key prefix.
backends() {
	echo sqlite
	[ -n "${JCICD_TEST_ETCD:-}" ] && echo etcd
	return 0
}

# kv_url BACKEND: the store for this test
kv_url() {
	case $1 in
	sqlite) echo "sqlite://$T/$1-kv.db" ;;
	etcd) echo "etcd://${JCICD_TEST_ETCD#http://}" ;;
	esac
}

# use_backend BACKEND [AGENT-YAML]: writes $T/jcicd-BACKEND.yaml (kv
# section, and the agent section given) and points JCICD_CONFIG at it
use_backend() {
	B=$1
	PREFIX="/test-$$-$(date +%s%N | tail -c 7)-$B/"
	CFG="$T/jcicd-$B.yaml"
	{
		echo "kv:"
		echo "  url: $(kv_url "$B")"
		echo "  prefix: $PREFIX"
		echo "  timeout: 5s"
		[ -n "${ROLLOUT_YAML:-}" ] && printf '%s\n' "$ROLLOUT_YAML"
		[ -n "${2:-}" ] && printf '%s\n' "$2"
	} >"$CFG"
	export JCICD_CONFIG="$CFG"
	unset JCICD_KV
}

# wait_for SECONDS COMMAND...: polls (every 0.2 s) until the command succeeds
wait_for() {
	local n=$(($1 * 5)); shift
	while [ $n -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
		n=$((n - 1))
	done
	return 1
}

# a converge command and validation directory the test controls per host:
#   $T/ctl/converge-<host>:   "fail" (exit 4), "hang" (sleep), else succeed
#   $T/ctl/validate-<host>:   "fail" makes the validation script exit 1
make_node_scripts() {
	mkdir -p "$T/ctl" "$T/validation"
	cat >"$T/converge.sh" <<EOS
#!/bin/sh
mode=\$(cat "$T/ctl/converge-\$JCICD_HOSTNAME" 2>/dev/null)
echo "converge \$JCICD_HOSTNAME role=\$FACTER_role version=\$FACTER_version mode=\$mode" >>"$T/ctl/log"
case \$mode in
fail) echo "Error: Could not apply catalog (simulated)"; exit 4 ;;
hang) touch "$T/ctl/hanging-\$JCICD_HOSTNAME"; sleep 300 ;;
esac
exit 2
EOS
	cat >"$T/validation/10-service" <<EOS
#!/bin/sh
if [ "\$(cat "$T/ctl/validate-\$JCICD_HOSTNAME" 2>/dev/null)" = fail ]; then
	echo "check-http: http://\$JCICD_HOSTNAME:8774 answered 503"
	exit 1
fi
echo ok
EOS
	chmod +x "$T/converge.sh" "$T/validation/10-service"
}

# the agent section for those scripts: no root-level apt, fast leases
AGENT_YAML() {
	cat <<EOS
agent:
  jitter: ${AGENT_JITTER:-0}
  lease_ttl: ${AGENT_TTL:-3}
  update_command: "echo apt-get update"
  upgrade_command: "echo apt-get dist-upgrade"
  converge_command: "$T/converge.sh"
  validation_dir: $T/validation
  step_timeout: ${AGENT_STEP_TIMEOUT:-20s}
  retries: ${AGENT_RETRIES:-0}
  retry_backoff: 1s
  validate_interval: 0
EOS
}
