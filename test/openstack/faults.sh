#!/bin/sh
# jcicd through test/openstack/fault-proxy.py in front of the real Keystone,
# Nova, Neutron and Glance, with 20% of the requests failing (429 with
# Retry-After, 503, 500 before and after the server acted, resets before and
# after, delays, cut bodies): apply still ends with exactly the desired set,
# no duplicates, and says what it retried; re-apply and delete work too.
. "$TOP_SRCDIR/test/lib/tap.sh"
. "$TOP_SRCDIR/test/openstack/testlib.sh"

TAG="flt-$RUN_ID"
# a fixed default seed: which faults a run meets must not be luck (the
# threads' order can still move a fault from one request to another)
SEED=${JCICD_FAULT_SEED:-71c5030119}
os_stack "$TAG"
diag "fault proxy seed $SEED (JCICD_FAULT_SEED=$SEED repeats the choices)"
/usr/bin/python3 "$OSD/fault-proxy.py" --port-file "$T/ports" --stats "$T/stats.json" --rate 0.2 --seed "$SEED" \
	identity=http://127.0.0.1:5000 compute=http://127.0.0.1:8774 network=http://127.0.0.1:9696 \
	image=http://127.0.0.1:9292 >"$T/proxy.log" 2>&1 &
OS_PROXY_PID=$!
for _ in $(seq 100); do [ -s "$T/ports" ] && break; sleep 0.1; done
ok "the fault proxy listens" test -s "$T/ports"
if [ ! -s "$T/ports" ]; then
	sed 's/^/# /' "$T/proxy.log"
	done_testing
	exit 1
fi
# the demo cloud, every service through the proxy
/usr/bin/python3 - "$OS_CLIENT_CONFIG_FILE" "$CLOUD" "$T/ports" "$T/proxied.yaml" <<'EOF'
import json, sys, yaml
src, name, ports, out = sys.argv[1:]
c = yaml.safe_load(open(src))["clouds"][name]
p = dict(line.split() for line in open(ports))
c["auth"]["auth_url"] = "http://127.0.0.1:%s/v3" % p["identity"]
c["compute_endpoint_override"] = "http://127.0.0.1:%s/v2.1" % p["compute"]
c["network_endpoint_override"] = "http://127.0.0.1:%s" % p["network"]
c["image_endpoint_override"] = "http://127.0.0.1:%s" % p["image"]
json.dump({"clouds": {"proxied": c}}, open(out, "w"))
EOF
P="--cloud proxied --clouds-yaml $T/proxied.yaml"

exits 0 "apply through 20% faults" jcicd apply "$OSD/data/faults.yaml" --tag "$TAG" $P --verbose
like "$OUT" "stack $TAG: 8 servers ACTIVE \(8 created, 0 kept\)" "all 8 servers ACTIVE"
printf '%s\n' "$ERR" | grep -E '^\[(http|openstack|apply)\] [^d]' | grep -v ': ACTIVE$' | head -30 | sed 's/^/#   /'
retried=$(retries_of "$ERR")
diag "apply: $(requests_of "$ERR") HTTP requests, $retried retried"
# a lost create is looked up by name, not retried by the http layer: both
# count as saying what it did about a fault
like "$ERR" "retrying in [0-9.]+ s \(attempt 2 of|may or may not have happened; looking for" \
	"apply says what it retried or looked up, request by request"
is "$(nova_names "$TAG" | tr '\n' ' ')" \
	"gw1_$TAG node1_$TAG node2_$TAG node3_$TAG node4_$TAG node5_$TAG node6_$TAG node7_$TAG " \
	"the reference client sees exactly the 8 names"
is "$(nova_names "$TAG" | uniq -d)" "" "no duplicates"
is "$(osc server list --tags "jcicd-stack-$TAG" -f value -c Status | sort -u)" "ACTIVE" "all ACTIVE"
is "$(osc server list --name "^gw1_$TAG\$" -f json | py 'len([a for n in d[0]["Networks"].values() for a in n if a.startswith("203.0.113.")])')" \
	"1" "gw1 has exactly one floating IP"
faults=$(py 'sum(d["faults"].values())' <"$T/stats.json")
diag "proxy: $(py 'd["requests"]' <"$T/stats.json") requests, $faults faults: $(py 'd["faults"]' <"$T/stats.json")"
diag "proxy: faults on creates: $(py '[f[4] for f in d["fault_log"] if f[2] == "POST" and f[3] == "/v2.1/servers"]' <"$T/stats.json")"
ok "the proxy did inject faults" test "$faults" -gt 0

exits 0 "re-apply through faults" jcicd apply "$OSD/data/faults.yaml" --tag "$TAG" $P
like "$OUT" "stack $TAG: 8 servers ACTIVE \(0 created, 8 kept\)" "re-apply creates nothing"
exits 0 "status through faults" jcicd status --tag "$TAG" $P
is "$(printf '%s\n' "$OUT" | grep -c ' ACTIVE ')" "8" "status: 8 ACTIVE"
exits 0 "delete through faults" jcicd delete --tag "$TAG" $P
like "$OUT" "stack $TAG: 8 servers deleted" "delete: 8 servers"
is "$(nova_names "$TAG")" "" "the reference client sees none left"
is "$(osc floating ip list --long -f json | py 'len([f for f in d if "'"$TAG"'" in (f.get("Description") or "")])')" "0" \
	"no floating IP of the stack is left"
done_testing
