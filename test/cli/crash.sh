#!/bin/sh
# kill -9 of `jcicd apply` at random points (while creating, while waiting),
# then a normal re-run: the stack converges to exactly the desired set, one
# server per name, all ACTIVE.
. "$TOP_SRCDIR/test/lib/tap.sh"
EX="$TOP_SRCDIR/examples/stacks"
cat >"$T/big.yaml" <<'YAML'
resources:
  cp: {number: 20, flavor: large, image: trusty}
  st: {number: 10, flavor: storage, image: trusty}
YAML

for delay in 0.02 0.05 0.1 0.15 0.3; do
	JCICD_LOCAL_BUILD_MS=400 "$JCICD" apply "$T/big.yaml" "$EX/node-userdata.sh" --tag k1 -q >/dev/null 2>&1 &
	pid=$!
	sleep "$delay"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	n=$(jcicd status --tag k1 --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["servers"]))')
	diag "killed after ${delay}s: $n servers existed"
done
exits 0 "re-run after kill -9 converges" jcicd apply "$T/big.yaml" "$EX/node-userdata.sh" --tag k1 --json
exits 0 "status" jcicd status --tag k1 --json
summary=$(printf '%s' "$OUT" | python3 -c '
import json, sys
s = json.load(sys.stdin)["servers"]
names = [x["name"] for x in s]
print(len(s), len(set(names)), sum(1 for x in s if x["status"] == "ACTIVE"))')
is "$summary" "30 30 30" "exactly 30 servers, 30 distinct names, all ACTIVE"
exits 0 "a further apply is a no-op" jcicd apply "$T/big.yaml" "$EX/node-userdata.sh" --tag k1 --json
is "$(printf '%s' "$OUT" | python3 -c 'import json,sys; print(json.load(sys.stdin)["create"])')" "0" "nothing to create"
procs=$(pids_below "$JCICD_STATE_DIR/local-cloud/servers" | wc -l)
is "$procs" "30" "one userdata process per server, none orphaned"
exits 0 "delete" jcicd delete k1
is "$(pids_below "$JCICD_STATE_DIR/local-cloud/servers" | wc -l)" "0" "delete stopped every process"
done_testing
