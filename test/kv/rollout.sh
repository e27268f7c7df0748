#!/bin/sh
# Acceptance: a 5-node stack on the local cloud rolled out to a new
# snapshot in waves (roles in role_dependencies order); one node whose
# validation fails halts the wave with a clear report; after the node is
# fixed, `rollout resume` completes.  On sqlite, and on etcd when set.
. "$TOP_SRCDIR/test/lib/tap.sh"
. "$TOP_SRCDIR/test/kv/common.sh"
make_node_scripts
AGENT_RETRIES=10   # retried 1, 2, 4, 8... s after a failure: heals once fixed
ROLLOUT_YAML='  rollout:
    waves: [1, 50%, 100%]
    max_failures: 0
    wave_timeout: 180s
    role_dependencies: {cp: db, lb: [cp, db]}'
cat >"$T/spec.yaml" <<'EOS'
resources:
  db: {number: 1, flavor: small, image: trusty}
  cp: {number: 3, flavor: small, image: trusty}
  lb: {number: 1, flavor: small, image: trusty}
EOS
cat >"$T/userdata.sh" <<'EOS'
#!/bin/sh
exec "$JCICD" agent --apt-base-url http://127.0.0.1:9/repo --apt-sources-file "$JCICD_SERVER_DIR/sources.list"
EOS
chmod +x "$T/userdata.sh"
# the order rollouts open hosts in (jc_orch_host_hash: FNV-1a, then a
# murmur3 finaliser)
HASH_ORDER='
import sys
def h(s):
    x = 2166136261
    for c in s.encode():
        x = ((x ^ c) * 16777619) & 0xffffffff
    x ^= x >> 16; x = (x * 0x85ebca6b) & 0xffffffff
    x ^= x >> 13; x = (x * 0xc2b2ae35) & 0xffffffff
    x ^= x >> 16
    return x
for n in sorted(sys.argv[1:], key=lambda n: (h(n), n)): print(n)'

[ -n "${JCICD_TEST_ETCD:-}" ] || skip "etcd: JCICD_TEST_ETCD is not set (test/services/etcd.sh start)"

for B in $(backends); do
	use_backend "$B" "$(AGENT_YAML)"
	tag="r$B"
	rm -f "$T"/ctl/converge-* "$T"/ctl/validate-*
	exits 2 "$B: a rollout before any agent registered is refused" jcicd rollout 20261100
	like "$ERR" "no host is registered" "$B: and says why"
	exits 0 "$B: and writes nothing (no rollout record, no desired version)" \
		sh -c "! \"\$JCICD\" kv get ${PREFIX}rollout && ! \"\$JCICD\" kv get ${PREFIX}desired/version"
	exits 0 "$B: a 5-node stack (db, 3 cp, lb) running agents" jcicd apply "$T/spec.yaml" "$T/userdata.sh" --tag "$tag"
	exits 0 "$B: trigger-update 20261101 (the running snapshot)" jcicd trigger-update 20261101
	exits 0 "$B: all 5 at 20261101" jcicd wait --version 20261101 --from-spec "$T/spec.yaml" --tag "$tag" --timeout 180

	# cp hosts open in hash order: make the second one to open fail, so the
	# first cp wave passes and the second halts
	second=$(python3 -c "$HASH_ORDER" "cp1-$tag" "cp2-$tag" "cp3-$tag" | sed -n 2p)
	echo fail >"$T/ctl/validate-$second"
	exits 1 "$B: rollout 20261102 halts on the failing node" jcicd rollout 20261102 --timeout 180
	printf '%s\n' "$OUT$ERR" | sed "s/^/# $B rollout: /"
	like "$ERR" "rollout of 20261102 halted at wave [23] of 3 \(roles cp, [23] hosts open\): 1 failed \(budget 0\)" \
		"$B: the report says which wave, which roles, how many failed"
	like "$ERR" "failed: +$second: validation failed at 20261102: 10-service exited 1: check-http: http://$second:8774 answered 503" \
		"$B: the report names the node, the step and the check's output"
	exits 1 "$B: get-failures reports the node" jcicd get-failures --hosts
	is "$OUT" "Node: $second, Check: validation" "$B: get-failures names it"
	exits 0 "$B: rollout status" jcicd rollout status --json
	is "$(printf '%s' "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["state"], d["failed"], d["levels"])')" \
		"halted ['$second'] ['db', 'cp', 'lb']" "$B: status: halted, the failed host, roles in dependency order"
	exits 0 "$B: the db wave moved" jcicd hosts-at-version 20261102
	like "$OUT" "db1-$tag" "$B: db (no dependencies) went first"
	exits 0 "$B: lb is held back" jcicd hosts-at-version 20261101
	like "$OUT" "lb1-$tag" "$B: lb (depends on cp) did not move"
	d=$(grep -l "\[agent\] lb1-$tag " "$JCICD_STATE_DIR"/local-cloud/servers/*/console.log | xargs dirname)
	like "$(grep '^deb' "$d/sources.list")" "snapshots/20261101 " "$B: lb's APT still points at the old snapshot"
	exits 1 "$B: pending-update on lb: nothing pending while gated" \
		jcicd pending-update --hostname "lb1-$tag" --version-file "$d/agent/current_version"

	# the node is fixed; the agent converges again by itself; resume
	rm -f "$T/ctl/validate-$second"
	exits 0 "$B: rollout resume completes" jcicd rollout resume
	exits 0 "$B: all 5 at 20261102" jcicd wait --version 20261102 --from-spec "$T/spec.yaml" --tag "$tag" --timeout 180
	exits 0 "$B: check-single-version" jcicd check-single-version 20261102
	exits 0 "$B: status done" jcicd rollout status --json
	is "$(printf '%s' "$OUT" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')" "done" "$B: state done"
	like "$(grep '^deb' "$d/sources.list")" "snapshots/20261102 " "$B: lb's APT points at the new snapshot"
	exits 0 "$B: no gate is left" sh -c "! \"\$JCICD\" kv get ${PREFIX}desired/gate"

	# pause and abort from another process
	exits 0 "$B: a rollout to a version nobody can reach (paused from elsewhere)" sh -c '
		echo hang >"$1/ctl/converge-db1-$2"
		"$JCICD" rollout 20261103 --timeout 180 >"$1/r3.out" 2>&1 & rp=$!
		sleep 2; "$JCICD" rollout pause; wait $rp; echo "exit $?" >>"$1/r3.out"' _ "$T" "$tag"
	like "$(cat "$T/r3.out")" "the rollout of 20261103 was paused" "$B: the running rollout stops when paused"
	like "$(cat "$T/r3.out")" "exit 1" "$B: and exits 1"
	exits 1 "$B: a second rollout while one is paused is refused" jcicd rollout 20261104
	exits 0 "$B: abort it" jcicd rollout abort
	exits 0 "$B: status" jcicd rollout status --json
	is "$(printf '%s' "$OUT" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')" "aborted" "$B: aborted"
	exits 2 "$B: bad waves" jcicd rollout 9 --waves 1,lots
	exits 0 "$B: delete the stack" jcicd delete --tag "$tag"
done
done_testing
