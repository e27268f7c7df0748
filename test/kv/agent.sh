#!/bin/sh
# Agents as real processes on the local cloud (the userdata starts
# `jcicd agent`), converging with a command the test controls: success,
# failure, a hang past the step deadline, kill -9 mid-converge (the lease
# expires, the restarted agent converges), and one agent per host.
. "$TOP_SRCDIR/test/lib/tap.sh"
. "$TOP_SRCDIR/test/kv/common.sh"
make_node_scripts
AGENT_STEP_TIMEOUT=4s
cat >"$T/spec.yaml" <<'EOS'
resources:
  db: {number: 1, flavor: small, image: trusty}
  cp: {number: 2, flavor: small, image: trusty}
EOS
cat >"$T/userdata.sh" <<'EOS'
#!/bin/sh
# what cloud-init would run: the agent, for the life of the node
exec "$JCICD" agent --apt-base-url http://127.0.0.1:9/repo --apt-suite stable \
	--apt-sources-file "$JCICD_SERVER_DIR/sources.list"
EOS
chmod +x "$T/userdata.sh"

server_dir() { # hostname -> its local cloud directory
	grep -l "\[agent\] $1 " "$JCICD_STATE_DIR"/local-cloud/servers/*/console.log 2>/dev/null | head -1 | xargs -r dirname
}

[ -n "${JCICD_TEST_ETCD:-}" ] || skip "etcd: JCICD_TEST_ETCD is not set (test/services/etcd.sh start)"

for B in $(backends); do
	use_backend "$B" "$(AGENT_YAML)"
	tag="a$B"
	rm -f "$T"/ctl/converge-* "$T"/ctl/validate-* "$T"/ctl/hanging-*
	exits 0 "$B: a 3-node stack whose userdata starts the agent" jcicd apply "$T/spec.yaml" "$T/userdata.sh" --tag "$tag"
	hosts="db1-$tag cp1-$tag cp2-$tag"
	printf '%s\n' $hosts >"$T/hosts-$B"
	ok "$B: all three agents register" wait_for 90 sh -c "[ \$(\"\$JCICD\" kv list ${PREFIX}hosts/ --keys-only | grep -c /alive) = 3 ]"

	exits 0 "$B: trigger-update 1" jcicd trigger-update 1
	exits 0 "$B: wait: every node at 1 and healthy" jcicd wait --version 1 --from-spec "$T/spec.yaml" --tag "$tag" --timeout 180
	like "$OUT" "3 of 3 hosts at 1 and healthy" "$B: wait says all three"
	d=$(server_dir "cp1-$tag")
	is "$(grep '^deb' "$d/sources.list")" "deb [trusted=yes] http://127.0.0.1:9/repo/snapshots/1 stable main" \
		"$B: the agent pointed APT at snapshot 1"
	like "$(cat "$T/ctl/log")" "converge cp1-$tag role=cp version=1" "$B: converge ran with role and version facts"

	# a converge failure: reported, the version is not
	echo fail >"$T/ctl/converge-cp2-$tag"
	exits 0 "$B: trigger-update 2" jcicd trigger-update 2
	exits 1 "$B: wait fails fast when a node fails" jcicd wait --version 2 --hosts-from "$T/hosts-$B" --timeout 180 --max-failures 0
	like "$OUT" "failed:  cp2-$tag: converge failed at 2: converge exited 4: Error: Could not apply catalog" \
		"$B: wait names the failed node, the step and the message"
	printf 'db1-%s\ncp1-%s\n' "$tag" "$tag" >"$T/hosts2-$B"
	exits 0 "$B: the two healthy nodes reach 2" jcicd wait --version 2 --hosts-from "$T/hosts2-$B" --timeout 180
	exits 1 "$B: get-failures reports the failing node" jcicd get-failures --hosts
	is "$OUT" "Node: cp2-$tag, Check: converge" "$B: get-failures --hosts names it"
	exits 0 "$B: hosts-at-version 1" jcicd hosts-at-version 1
	is "$OUT" "cp2-$tag" "$B: the failed node still reports its old version"

	# a converge that hangs past the step deadline is killed and reported
	echo hang >"$T/ctl/converge-cp1-$tag"
	rm -f "$T/ctl/converge-cp2-$tag"
	exits 0 "$B: trigger-update 3" jcicd trigger-update 3
	exits 1 "$B: wait with a hung node" jcicd wait --version 3 --hosts-from "$T/hosts-$B" --timeout 180 --max-failures 0
	like "$OUT" "cp1-$tag: converge failed at 3: converge exited 1[0-9]+ at its deadline: timed out after 4 s" \
		"$B: the hung converge was killed at its deadline and reported"

	# kill -9 mid-converge: the lease expires, the node leaves the view;
	# a restarted agent converges
	rm -f "$T/ctl/hanging-cp1-$tag"
	exits 0 "$B: trigger-update 4" jcicd trigger-update 4
	ok "$B: cp1 is converging (hangs)" wait_for 90 test -f "$T/ctl/hanging-cp1-$tag"
	pid=$(cat "$d/agent/agent.lock")
	like "$(readlink "/proc/$pid/exe")" "/jcicd-agent\$" "$B: 'jcicd agent' handed the node over to jcicd-agent"
	ok "$B: which maps neither libcurl nor libxml2" sh -c "! grep -E 'libcurl|libxml2' /proc/$pid/maps"
	ok "$B: kill -9 the agent mid-converge" kill -9 "$pid"
	ok "$B: its lease expires and its keys go" wait_for 90 sh -c "! \"\$JCICD\" kv get ${PREFIX}hosts/cp1-$tag/alive"
	rm -f "$T/ctl/converge-cp1-$tag"
	(cd "$d" && JCICD_HOSTNAME="cp1-$tag" JCICD_ROLE=cp JCICD_TAG="$tag" JCICD_SERVER_DIR="$d" \
		nohup "$JCICD" agent --apt-sources-file "$d/sources.list" >>"$d/console.log" 2>&1 &)
	exits 0 "$B: the restarted agent converges to 4" jcicd wait --version 4 --hosts-from "$T/hosts-$B" --timeout 180
	exits 1 "$B: a second agent on the same host is refused" sh -c "cd '$d' && JCICD_HOSTNAME=cp1-$tag JCICD_SERVER_DIR='$d' \"\$JCICD\" agent --once"
	like "$ERR" "another agent \(pid [0-9]+\) runs for cp1-$tag" "$B: it names the agent holding the lock"

	pid2=$(cat "$d/agent/agent.lock")
	exits 0 "$B: delete the stack" jcicd delete --tag "$tag"
	kill "$pid2" 2>/dev/null   # the agent restarted by hand is not the cloud's
	ok "$B: the agents' leases expire after the stack is gone" \
		wait_for 90 sh -c "[ -z \"\$(\"\$JCICD\" kv list ${PREFIX}hosts/ --keys-only)\" ]"
done

# without jcicd-agent beside it, jcicd runs the agent itself and says so
ONCE="--once --hostname once1 --dir $T/once --update-command '' --upgrade-command '' --converge-command true --validation-dir ''"
exits 0 "no jcicd-agent: the agent runs in jcicd" sh -c "JCICD_AGENT_BINARY=$T/no/jcicd-agent \"\$JCICD\" agent --kv sqlite://$T/once.db $ONCE"
like "$ERR" "cannot run $T/no/jcicd-agent \(No such file or directory\); the agent runs in jcicd itself" "it says why"
# jcicd-agent links no TLS library: etcds:// is refused, with what to run
exits 1 "jcicd-agent refuses etcds://" sh -c "\"\$(dirname \"\$JCICD\")/jcicd-agent\" --kv etcds://127.0.0.1:1 $ONCE"
like "$ERR" "etcds:// \(TLS\) is not built into jcicd-agent, which links no TLS library; run 'jcicd agent', which does" \
	"it says what runs it"
done_testing
