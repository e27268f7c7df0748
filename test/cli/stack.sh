#!/bin/sh
# The stack verbs end to end on the local cloud: apply, re-apply (no-op),
# overrides in every verb, ERROR retries, delete, the original syntax.
. "$TOP_SRCDIR/test/lib/tap.sh"
EX="$TOP_SRCDIR/examples/stacks"
SPEC="$EX/full.yaml"
MAP="$EX/local.map.yaml"
UD="$EX/node-userdata.sh"

exits 0 "validate the example spec" jcicd validate "$SPEC" --mappings "$MAP"
is "$OUT" "$SPEC: valid, 8 roles, 10 servers" "validate counts roles and servers"

exits 0 "plan on an empty cloud" jcicd plan "$SPEC" --tag t1 --mappings "$MAP"
like "$OUT" "Plan: 10 to create, 0 to keep, 0 to replace." "plan says 10 to create"

exits 0 "apply creates the stack" jcicd apply "$SPEC" "$UD" --tag t1 --mappings "$MAP" --json
n=$(printf '%s' "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["create"], d["keep"], d["ok"], sum(1 for s in d["servers"] if s["status"]=="ACTIVE"))')
is "$n" "10 0 True 10" "apply --json: 10 created, all ACTIVE"

exits 0 "re-apply" jcicd apply "$SPEC" "$UD" --tag t1 --mappings "$MAP" --json
n=$(printf '%s' "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["create"], d["keep"], sum(s["attempts"] for s in d["servers"]))')
is "$n" "0 10 0" "re-apply creates nothing"

exits 0 "status" jcicd status --tag t1 --spec "$SPEC" --mappings "$MAP"
is "$(printf '%s\n' "$OUT" | grep -c ACTIVE)" "10" "status lists 10 ACTIVE servers"
like "$(printf '%s\n' "$OUT" | head -1)" "^bootstrap1_t1 +ACTIVE +127\.1\.[0-9.]+ 127\.2\.[0-9.]+\*" "bootstrap has a floating address"

# every userdata ran as its server, with its identity
c=$(cat "$JCICD_STATE_DIR"/local-cloud/servers/*/console.log | grep -c '^booted .* (role .*, stack t1)$')
is "$c" "10" "every server's userdata ran with its hostname, role and tag"

exits 0 "ssh-config" jcicd ssh-config --tag t1 --spec "$SPEC" --mappings "$MAP"
is "$(printf '%s\n' "$OUT" | grep -c ProxyCommand)" "9" "9 hosts go through the bastion"

# overrides are honoured by every verb
exits 0 "list with an override" jcicd list "$SPEC" --tag t1 --override cp=4
is "$(printf '%s\n' "$OUT" | grep -c '^cp[0-9]_t1$')" "4" "list honours --override (the original's list did not)"
exits 0 "list --hostnames with the original syntax" jcicd list "$SPEC" --project_tag t1 --override_instance_number "cp=3:st=0" --hostnames
is "$(printf '%s\n' "$OUT" | tr '\n' ' ')" "bootstrap1-t1 haproxy1-t1 oc1-t1 ocdb1-t1 ct1-t1 cp1-t1 cp2-t1 cp3-t1 gcp1-t1 " "hostnames, st=0 drops the role"
exits 0 "plan with an override" jcicd plan "$SPEC" --tag t1 --mappings "$MAP" --override cp=4
like "$OUT" "Plan: 2 to create, 10 to keep" "plan honours --override"
exits 0 "apply with an override (original positional syntax)" jcicd apply "$SPEC" "$UD" --project_tag t1 --mappings "$MAP" --override_instance_number "cp=4"
like "$OUT" "stack t1: 12 servers ACTIVE \(2 created, 10 kept\)" "apply creates exactly cp3 and cp4"
exits 0 "status with the override" jcicd status --tag t1 --spec "$SPEC" --mappings "$MAP" --override cp=5 --json
n=$(printf '%s' "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["servers"]), d["missing"])')
is "$n" "12 ['cp5_t1']" "status honours --override: cp5 is missing"

# a second stack is independent, and delete touches exactly one stack
exits 0 "a second stack" jcicd apply "$SPEC" "$UD" --tag t2 --mappings "$MAP" --override "cp=1,st=0,gcp=0,ct=0,oc=0,ocdb=0,haproxy=0"
exits 0 "delete the first stack" jcicd delete --tag t1
is "$OUT" "stack t1: 12 servers deleted" "delete reports what it deleted"
exits 0 "status of the deleted stack" jcicd status --tag t1 --json
is "$(printf '%s' "$OUT" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["servers"]))')" "0" "nothing of t1 is left"
exits 0 "the other stack is untouched" jcicd status --tag t2
is "$(printf '%s\n' "$OUT" | grep -c ACTIVE)" "2" "t2 still has its 2 servers"
alive=$(pids_below "$JCICD_STATE_DIR/local-cloud/servers" | wc -l)
is "$alive" "2" "only t2's 2 userdata processes are still running"
exits 0 "delete with the original syntax" jcicd delete t2
exits 0 "delete an empty stack is fine" jcicd delete t2

# ERROR servers: recreated within --retry, then a clear failure
JCICD_LOCAL_FAIL_ROLES=ct exits 1 "apply with a role that always fails" \
	jcicd apply "$SPEC" "$UD" --tag t3 --mappings "$MAP" --retry 2
like "$ERR" "stack t3: 1 server failed: ct1_t3 failed: injected fault" "the failure names the server and its fault"
like "$ERR" "ct1_t3: ERROR \(.*\); deleting it to create it again \(retry 2 of 2\)" "each retry is reported"
exits 0 "status shows the fault" jcicd status --tag t3
like "$OUT" "ct1_t3 +ERROR +fault: injected fault" "status shows the ERROR server and its fault"
exits 0 "without the fault, apply replaces the ERROR server" jcicd apply "$SPEC" "$UD" --tag t3 --mappings "$MAP"
like "$OUT" "stack t3: 10 servers ACTIVE \(1 created, 9 kept\)" "the ERROR server was replaced"
exits 0 "delete t3" jcicd delete --tag t3

# usage errors
exits 2 "apply without a tag" jcicd apply "$SPEC"
like "$ERR" "--tag is required" "says the tag is missing"
exits 2 "unknown option" jcicd apply "$SPEC" --tga x
exits 2 "unknown command" jcicd aply
exits 2 "bad --retry" jcicd apply "$SPEC" --tag t1 --retry lots
exits 2 "unknown cloud" jcicd apply "$SPEC" --tag t1 --cloud nosuchcloud
exits 0 "--help" jcicd apply --help
like "$OUT" "Usage: jcicd apply SPEC" "apply --help prints its usage"
exits 0 "--json errors" jcicd --help
exits 2 "error as JSON" jcicd validate "$TOP_SRCDIR/test/data/bad-specs/unknown-key-typo/spec.yaml" --json
is "$(printf '%s' "$OUT" | python3 -c 'import json,sys; e=json.load(sys.stdin)["error"]; print(e["line"], e["column"], e["exit_status"])')" "4 5 2" "--json errors carry the place"
done_testing
