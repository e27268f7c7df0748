#!/bin/sh
# The stack verbs on a real (loopback) OpenStack: apply, the cross-check with
# the reference client, a no-op re-apply and its request count, status and
# ssh-config with a floating IP, an override, servers jcicd did not make,
# delete (servers and floating IPs, waited for).
. "$TOP_SRCDIR/test/lib/tap.sh"
. "$TOP_SRCDIR/test/openstack/testlib.sh"

TAG="ap-$RUN_ID"
SPEC="$OSD/data/stack.yaml"
UD="$OSD/data/userdata.sh.tmpl"
KEY="jc-key-$RUN_ID"
os_stack "$TAG"
ok "a key pair for the stack" osc keypair create --public-key "$OSD/data/key.pub" "$KEY"

exits 0 "plan on the real cloud" jcicd plan "$SPEC" --tag "$TAG" --cloud "$CLOUD" --mappings "$MAP"
like "$OUT" "Plan: 5 to create, 0 to keep, 0 to replace." "plan: 5 to create"

exits 0 "apply creates the stack" jcicd apply "$SPEC" "$UD" --tag "$TAG" --cloud "$CLOUD" --mappings "$MAP" \
	--key-name "$KEY"
like "$OUT" "stack $TAG: 5 servers ACTIVE \(5 created, 0 kept\)" "apply: 5 created and ACTIVE"
like "$ERR" "bastion1_$TAG: floating IP 203\.0\.113\." "the bastion got a floating IP from ext-net"

# ---- what the reference client sees (each openstack command costs seconds
# of CPU: one list serves several checks)
osc server list --long --tags "jcicd-stack-$TAG" -f json >"$T/list.json"
is "$(py '" ".join(sorted(s["Name"] for s in d))' <"$T/list.json")" \
	"bastion1_$TAG db1_$TAG web1_$TAG web2_$TAG web3_$TAG" "openstack server list: exactly the 5 names"
is "$(py '" ".join(sorted("%s:%s:%s:%s" % (s["Name"].split("_")[0], s["Flavor"], s["Image Name"], s["Status"]) for s in d))' <"$T/list.json")" \
	"bastion1:m1.tiny:fake-image:ACTIVE db1:m1.small:fake-image:ACTIVE web1:m1.tiny:fake-image:ACTIVE web2:m1.tiny:fake-image:ACTIVE web3:m1.tiny:fake-image:ACTIVE" \
	"server list --long: flavors, image and status as the spec and mappings say"
is "$(py '" ".join(sorted("%s:%s" % (s["Name"].split("_")[0], ",".join(sorted(s["Networks"]))) for s in d))' <"$T/list.json")" \
	"bastion1:test-net db1:test-net web1:test-net web2:test-net web3:test-net" \
	"every server is on test-net (db by the cloud's default_networks)"
like "$(py '" ".join(a for s in d if s["Name"].startswith("bastion1_") for a in s["Networks"]["test-net"])' <"$T/list.json")" \
	"^10\.99\.0\.[0-9]+ 203\.0\.113\.[0-9]+$" "Nova shows the bastion's fixed and floating address"
is "$(py 'sorted(set(s["Properties"].get("jcicd_stack") for s in d))' <"$T/list.json")" "['$TAG']" \
	"every server carries its stack in metadata"

web1=$(py '[s["ID"] for s in d if s["Name"].startswith("web1_")][0]' <"$T/list.json")
osc_admin server show "$web1" -f json >"$T/web1.json"
is "$(py 'sorted(d["tags"])' <"$T/web1.json")" "['jcicd', 'jcicd-stack-$TAG']" "server show: the ownership tags"
is "$(py 'd["key_name"], d["config_drive"], d["OS-EXT-AZ:availability_zone"], d["properties"]["tier"]' <"$T/web1.json")" \
	"$KEY True nova front" "server show: key, config drive, availability zone, metadata"
is "$(py '[g["name"] for g in d["security_groups"]]' <"$T/web1.json")" "['default']" "server show: the security group"
is "$(py 'd["OS-EXT-SRV-ATTR:hostname"]' <"$T/web1.json")" "web1-$TAG" "server show: the hostname"
is "$(py '__import__("base64").b64decode(d["OS-EXT-SRV-ATTR:user_data"]).decode()' <"$T/web1.json")" \
	"#!/bin/sh
# rendered per server by jcicd before it reaches Nova
echo \"I am web1-$TAG, a web of stack $TAG\"" "server show: the user_data is the rendered template"

# ---- a no-op re-apply: a token, the version document, one page
exits 0 "re-apply" jcicd apply "$SPEC" "$UD" --tag "$TAG" --cloud "$CLOUD" --mappings "$MAP" --key-name "$KEY" --verbose
like "$OUT" "stack $TAG: 5 servers ACTIVE \(0 created, 5 kept\)" "re-apply creates nothing"
n=$(requests_of "$ERR")
diag "no-op re-apply: $n HTTP requests"
ok "no-op re-apply makes at most ceil(5/100)+2 = 3 requests ($n)" test "${n:-99}" -le 3
# the same with 2 servers a page
/usr/bin/python3 - "$OS_CLIENT_CONFIG_FILE" "$CLOUD" "$T/paged.yaml" <<'EOF'
import json, sys, yaml
c = yaml.safe_load(open(sys.argv[1]))["clouds"][sys.argv[2]]
c.setdefault("jcicd", {})["page_limit"] = 2
json.dump({"clouds": {"paged": c}}, open(sys.argv[3], "w"))
EOF
exits 0 "re-apply, 2 servers a page" jcicd apply "$SPEC" "$UD" --tag "$TAG" --cloud paged --clouds-yaml "$T/paged.yaml" \
	--mappings "$MAP" --key-name "$KEY" --verbose
n=$(requests_of "$ERR")
diag "no-op re-apply, page limit 2: $n HTTP requests"
ok "... at most ceil(5/2)+2 = 5 requests ($n)" test "${n:-99}" -le 5
like "$ERR" "limit=2&marker=" "... and it follows the pages"

# ---- status and ssh-config on a stack with a floating IP
exits 0 "status" jcicd status --tag "$TAG" --cloud "$CLOUD" --spec "$SPEC" --mappings "$MAP"
is "$(printf '%s\n' "$OUT" | grep -c ' ACTIVE ')" "5" "status: 5 ACTIVE servers"
like "$(printf '%s\n' "$OUT" | head -1)" "^bastion1_$TAG +ACTIVE +10\.99\.0\.[0-9]+ 203\.0\.113\.[0-9]+\*$" \
	"status: the bastion first, its floating address marked"
exits 0 "status --json" jcicd status --tag "$TAG" --cloud "$CLOUD" --json
is "$(printf '%s' "$OUT" | py 'sum(len(s["floating_addresses"]) for s in d["servers"]), len(d["servers"])')" "1 5" \
	"status --json: one floating address among 5 servers"
fip=$(printf '%s' "$OUT" | py '[s["floating_addresses"][0] for s in d["servers"] if s["floating_addresses"]][0]')
exits 0 "ssh-config" jcicd ssh-config --tag "$TAG" --cloud "$CLOUD" --spec "$SPEC" --mappings "$MAP" --user ubuntu
is "$(printf '%s\n' "$OUT" | grep -A2 "^Host bastion1_$TAG\$" | tr '\n' '|')" \
	"Host bastion1_$TAG|    HostName $fip|    User ubuntu|" "ssh-config: the bastion is reached at its floating IP"
is "$(printf '%s\n' "$OUT" | grep -c "ProxyCommand .*%r@$fip nc %h %p")" "4" "ssh-config: the 4 others go through it"
like "$(printf '%s\n' "$OUT" | grep -A1 "^Host web2_$TAG\$" | tr '\n' '|')" \
	"^Host web2_$TAG\|    HostName 10\.99\.0\.[0-9]+\|\$" "ssh-config: the others at their fixed addresses"

# ---- an override adds exactly what it says
exits 0 "apply --override web=4" jcicd apply "$SPEC" "$UD" --tag "$TAG" --cloud "$CLOUD" --mappings "$MAP" \
	--key-name "$KEY" --override web=4
like "$OUT" "stack $TAG: 6 servers ACTIVE \(1 created, 5 kept\)" "override: web4 created, the rest kept"
is "$(nova_names "$TAG" | grep -c "^web4_$TAG$")" "1" "the reference client sees web4"

# ---- servers jcicd did not make are never touched
ok "a server with the stack's name pattern but no jcicd tags" \
	osc server create --flavor m1.tiny --image fake-image --network test-net --wait "web9_$TAG"
exits 0 "status ignores it" jcicd status --tag "$TAG" --cloud "$CLOUD" --json
is "$(printf '%s' "$OUT" | py 'len(d["servers"]), "web9_'$TAG'" in [s["name"] for s in d["servers"]]')" "6 False" \
	"status: 6 servers, not web9"

# ---- delete: servers and floating IPs, and it waits
exits 0 "delete the stack" jcicd delete --tag "$TAG" --cloud "$CLOUD"
is "$OUT" "stack $TAG: 6 servers deleted" "delete reports 6 servers"
like "$ERR" "releasing floating IP $fip" "delete releases the floating IP"
is "$(osc server list --name "_$TAG\$" -f value -c Name)" "web9_$TAG" \
	"the reference client sees none of the stack, and the server jcicd did not make"
is "$(osc floating ip list -f value -c 'Floating IP Address' | grep -cx "$fip")" "0" "the floating IP is gone"
ok "remove it" osc server delete "web9_$TAG"
ok "remove the key pair" osc keypair delete "$KEY"
exits 0 "deleting an empty stack is fine" jcicd delete --tag "$TAG" --cloud "$CLOUD"
done_testing
