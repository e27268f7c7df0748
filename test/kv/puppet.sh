#!/bin/sh
# A node converges with a real `puppet apply` (Debian's puppet) of a tiny
# manifest that uses the role and version facts the agent passes; a
# manifest that fails to compile (puppet exit 1) keeps the version from
# being reported.
. "$TOP_SRCDIR/test/lib/tap.sh"
. "$TOP_SRCDIR/test/kv/common.sh"
if ! command -v puppet >/dev/null 2>&1; then
	skip "puppet is not installed (test/packages/kv.list)"
	done_testing
	exit 0
fi
make_node_scripts
mkdir -p "$T/puppet" "$T/out"
cat >"$T/site.pp" <<EOS
if \$facts['version'] == 'broken' {
  fail("version \${facts['version']} cannot be configured")
}
file { "$T/out/\${facts['role']}-\${facts['tag']}.conf":
  content => "role=\${facts['role']} version=\${facts['version']}\n",
}
EOS
AGENT_STEP_TIMEOUT=5m
use_backend sqlite "$(AGENT_YAML | sed "s|converge_command: .*|converge_command: \"puppet apply --detailed-exitcodes --logdest console --confdir $T/puppet --vardir $T/puppet/var --codedir $T/puppet/code $T/site.pp\"|")"
cat >"$T/spec.yaml" <<'EOS'
resources:
  ct: {number: 1, flavor: small, image: trusty}
EOS
printf '#!/bin/sh\nexec "$JCICD" agent\n' >"$T/userdata.sh"
chmod +x "$T/userdata.sh"
exits 0 "one node whose agent converges with puppet apply" jcicd apply "$T/spec.yaml" "$T/userdata.sh" --tag p1
exits 0 "trigger-update 31" jcicd trigger-update 31
exits 0 "the node reaches 31" jcicd wait --version 31 --hosts-from - --timeout 240 <<EOS
ct1-p1
EOS
is "$(cat "$T/out/ct-p1.conf" 2>/dev/null)" "role=ct version=31" "puppet wrote the file from the role and version facts"
exits 0 "trigger-update broken" jcicd trigger-update broken
ok "puppet fails to compile the catalog" wait_for 240 sh -c "\"\$JCICD\" get-failures --hosts | grep -q 'Node: ct1-p1, Check: converge'"
exits 1 "get-failures" jcicd get-failures
like "$OUT" "ct1-p1: converge failed at broken: converge exited 1: .*version broken cannot be configured" \
	"the failure carries puppet's message"
exits 0 "hosts-at-version 31" jcicd hosts-at-version 31
is "$OUT" "ct1-p1" "the node still reports 31: a failed converge reports no version"
exits 0 "delete" jcicd delete --tag p1
done_testing
