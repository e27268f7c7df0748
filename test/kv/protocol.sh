#!/bin/sh
# The jorc verbs and their exit codes, end to end through the CLI, on every
# backend: sqlite always, etcd when $JCICD_TEST_ETCD is set.
. "$TOP_SRCDIR/test/lib/tap.sh"
. "$TOP_SRCDIR/test/kv/common.sh"
make_node_scripts
SPEC="$TOP_SRCDIR/examples/stacks/full.yaml"

[ -n "${JCICD_TEST_ETCD:-}" ] || skip "etcd: JCICD_TEST_ETCD is not set (test/services/etcd.sh start)"

for B in $(backends); do
	use_backend "$B" "$(AGENT_YAML)"
	VF="$T/$B-local-version"
	exits 0 "$B: current-version before any" jcicd current-version
	is "$OUT" "None" "$B: prints None when no version was set"
	exits 3 "$B: pending-update with no version anywhere is 3" jcicd pending-update --version-file "$VF" --hostname cp1-t1
	exits 0 "$B: trigger-update" jcicd trigger-update 101
	exits 0 "$B: current_version (underscore)" jcicd current_version
	is "$OUT" "101" "$B: current-version prints it"
	exits 0 "$B: an update is pending (0)" jcicd pending-update --version-file "$VF" --hostname cp1-t1
	is "$OUT" "Yes, there is an update pending" "$B: says so, like jorc"
	exits 0 "$B: local-version writes" jcicd local-version 101 --version-file "$VF"
	exits 1 "$B: no update pending (1) once local matches" jcicd pending-update --version-file "$VF" --hostname cp1-t1
	is "$OUT" "No updates pending" "$B: says so"
	exits 2 "$B: KV unreachable with a local version is 2" jcicd pending-update --version-file "$VF" --kv etcd://127.0.0.1:1
	exits 3 "$B: KV unreachable without a local version is 3" jcicd pending-update --version-file "$T/none" --kv etcd://127.0.0.1:1

	# three nodes converge once each; one fails its validation
	for h in cp1-t1 cp2-t1 ct1-t1; do
		exits 0 "$B: agent --once on $h" jcicd agent --once --hostname $h --dir "$T/$B-$h"
	done
	echo fail >"$T/ctl/validate-oc1-t1"
	exits 1 "$B: agent --once with a failing validation exits 1" jcicd agent --once --hostname oc1-t1 --dir "$T/$B-oc1-t1"
	exits 0 "$B: running-versions" jcicd running-versions
	is "$OUT" "101" "$B: one version runs"
	exits 0 "$B: hosts-at-version" jcicd hosts-at-version 101
	is "$(echo $OUT)" "cp1-t1 cp2-t1 ct1-t1" "$B: the failing host is not at the version"
	exits 0 "$B: verify-hosts with all present" sh -c 'printf "cp1_t1\ncp2-t1\n" | "$JCICD" verify-hosts 101'
	exits 1 "$B: verify-hosts with one missing" sh -c 'printf "cp1-t1\noc1-t1\n" | "$JCICD" verify-hosts 101'
	like "$OUT" "oc1-t1 is not at 101" "$B: names the missing host"
	exits 1 "$B: verify-hosts --from-spec: the spec wants more" jcicd verify-hosts 101 --from-spec "$SPEC" --tag t1
	exits 0 "$B: verify-hosts --from-spec honours --override" \
		jcicd verify-hosts 101 --from-spec "$SPEC" --tag t1 --override "bootstrap=0,haproxy=0,oc=0,ocdb=0,cp=2,ct=1,gcp=0,st=0"
	exits 0 "$B: check-single-version" jcicd check-single-version 101
	exits 1 "$B: get-failures finds the failing host" jcicd get-failures --hosts
	is "$OUT" "Node: oc1-t1, Check: validation" "$B: get-failures --hosts format"
	exits 1 "$B: get_failures without --hosts" jcicd get_failures
	like "$OUT" "oc1-t1: validation failed at 101: 10-service exited 1: check-http: http://oc1-t1:8774 answered 503" \
		"$B: says what failed, where and why"
	exits 1 "$B: local-health of the failing host" jcicd local-health --hostname oc1-t1
	exits 0 "$B: local-health of a healthy host" jcicd local-health --hostname cp1-t1

	# a new version; one node moves
	exits 0 "$B: trigger-update 102" jcicd trigger-update 102
	exits 0 "$B: agent --once moves cp1" jcicd agent --once --hostname cp1-t1 --dir "$T/$B-cp1-t1"
	exits 1 "$B: check-single-version while two run" jcicd check-single-version 102 -v
	like "$OUT" "cp2-t1 runs 101" "$B: -v names who runs what"
	exits 0 "$B: running-versions lists both" jcicd running-versions
	is "$(echo $OUT)" "101 102" "$B: 101 and 102"

	# pause: check-puppet 9, the agent validates but does not upgrade
	exits 0 "$B: manage-config pauses cp" jcicd manage-config state role enable_puppet=false --name cp
	exits 9 "$B: check-puppet is 9 for a paused host" jcicd check-puppet --name cp2-t1
	exits 0 "$B: check_puppet is 0 elsewhere" jcicd check_puppet --name ct1-t1
	exits 0 "$B: a paused agent still validates" jcicd agent --once --hostname cp2-t1 --dir "$T/$B-cp2-t1"
	exits 0 "$B: hosts-at-version 101" jcicd hosts-at-version 101
	like "$OUT" "cp2-t1" "$B: the paused host did not upgrade"
	exits 0 "$B: manage-config --action delete lifts the pause" jcicd manage-config state role enable_puppet --name cp --action delete
	exits 0 "$B: check-puppet is 0 again" jcicd check-puppet --name cp2-t1
	exits 2 "$B: a bad scope is refused (jorc took 'glob')" jcicd manage-config state glob x=y
	exits 2 "$B: a role scope needs a name" jcicd manage-config state role x=y

	# wait: success, and a deadline listing laggards and failures
	printf 'cp1-t1\n' >"$T/hosts1"
	exits 0 "$B: wait for a host already there" jcicd wait --version 102 --hosts-from "$T/hosts1" --timeout 5
	printf 'cp1-t1\ncp2-t1\noc1-t1\nnope1-t1\n' >"$T/hosts4"
	exits 1 "$B: wait times out" jcicd wait --version 102 --hosts-from "$T/hosts4" --timeout 1
	like "$OUT" "1 of 4 hosts at 102 and healthy" "$B: wait counts who is there"
	like "$OUT" "lagging: cp2-t1: runs 101" "$B: wait names a laggard and what it runs"
	like "$OUT" "lagging: nope1-t1: not registered" "$B: wait names a host that never reported"
	exits 0 "$B: wait --json" jcicd wait --version 102 --hosts-from "$T/hosts1" --timeout 1 --json
	is "$(printf '%s' "$OUT" | python3 -c 'import json,sys; print(json.load(sys.stdin)["ready"])')" "['cp1-t1']" "$B: wait --json lists who is ready"
	exits 2 "$B: wait without hosts is a usage error" jcicd wait --version 1
	exits 2 "$B: trigger-update with a bad version" jcicd trigger-update "a b"
	exits 0 "$B: kv list shows the protocol keys" jcicd kv list "$PREFIX" --keys-only
	like "$OUT" "${PREFIX}hosts/cp1-t1/health" "$B: per-host health key"
	unlike "$OUT" "${PREFIX}hosts/cp1-t1/version" "$B: no second key per report"
	like "$OUT" "${PREFIX}desired/version" "$B: desired version key"
	exits 0 "$B: kv get the health record" jcicd kv get "${PREFIX}hosts/cp1-t1/health"
	like "$OUT" '"running":"102"' "$B: the health record carries the running version"
done

# kv.source_address: refused where the file says, used where it is right
printf 'kv:\n  url: %s\n  source_address: eth0\n' "$(kv_url sqlite)" >"$T/src-bad.yaml"
exits 2 "a source address that is not an IP is refused" env JCICD_CONFIG="$T/src-bad.yaml" "$JCICD" current-version
like "$ERR" "src-bad.yaml:3:19: kv.source_address: 'eth0' is not an IPv4 or IPv6 address" "says where and why"
for B in $(backends); do
	printf 'kv:\n  url: %s\n  prefix: /src-%s/\n  source_address: 127.0.0.5\n' "$(kv_url $B)" $$ >"$T/src-$B.yaml"
	exits 0 "$B: trigger-update from a source address" env JCICD_CONFIG="$T/src-$B.yaml" "$JCICD" trigger-update 7
	exits 0 "$B: current-version from a source address" env JCICD_CONFIG="$T/src-$B.yaml" "$JCICD" current-version
	is "$OUT" "7" "$B: it reads what it wrote"
done

exits 2 "unknown KV scheme" jcicd current-version --kv consul://x
exits 0 "--help" jcicd pending-update --help
like "$OUT" "0 an update is pending, 1 none, 2" "pending-update --help documents the exit codes"
done_testing
