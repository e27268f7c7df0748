#!/bin/sh
# What goes wrong on a real (loopback) OpenStack, and how jcicd says it:
# unknown and ambiguous names (exit 2, nothing created), a refused password
# (exit 3, the password never shown), other ways to log in (secure.yaml, an
# application credential, the OS_* variables), and servers that go to
# ERROR (the fault and request id, deleted and created again within --retry).
. "$TOP_SRCDIR/test/lib/tap.sh"
. "$TOP_SRCDIR/test/openstack/testlib.sh"

# ---- names that match nothing, or several things
TAG="bad-$RUN_ID"
os_stack "$TAG"
exits 2 "an unknown flavor is bad input" jcicd apply "$OSD/data/bad-flavor.yaml" --tag "$TAG" --cloud "$CLOUD"
like "$ERR" "flavor \"m1.tinyy\" \(role web\) not found; did you mean \"m1.tiny\"\?" "... that says which and suggests one"
exits 2 "an unknown image is bad input" jcicd apply "$OSD/data/bad-image.yaml" --tag "$TAG" --cloud "$CLOUD"
like "$ERR" "image \"fake-imag\" \(role web\) not found; did you mean \"fake-image\"\?" "... likewise"
exits 2 "an image name two images have is bad input" jcicd apply "$OSD/data/dup-image.yaml" --tag "$TAG" --cloud "$CLOUD"
like "$ERR" "image name \"dup-image\" \(role web\) matches 2 images \([0-9a-f-]+, [0-9a-f-]+\): give the id" \
	"... that lists the candidates"
is "$(nova_names "$TAG")" "" "none of it created a server"

# ---- a refused password: exit 3, and the password is never shown
BADPW="wrong-$RUN_ID-pw"
/usr/bin/python3 - "$OS_CLIENT_CONFIG_FILE" "$CLOUD" "$T" "$BADPW" <<'EOF'
import json, os, sys, yaml
src, name, tmp, bad = sys.argv[1:]
c = yaml.safe_load(open(src))["clouds"][name]
wrong = json.loads(json.dumps(c))
wrong["auth"]["password"] = bad
json.dump({"clouds": {"wrong": wrong}}, open(os.path.join(tmp, "wrong.yaml"), "w"))
# secure.yaml: clouds.yaml without the password, which secure.yaml holds
os.makedirs(os.path.join(tmp, "sec"))
nopw = json.loads(json.dumps(c))
pw = nopw["auth"].pop("password")
json.dump({"clouds": {"sec": nopw}}, open(os.path.join(tmp, "sec", "clouds.yaml"), "w"))
json.dump({"clouds": {"sec": {"auth": {"password": pw}}}}, open(os.path.join(tmp, "sec", "secure.yaml"), "w"))
# the same cloud as OS_* variables
a = c["auth"]
with open(os.path.join(tmp, "openrc"), "w") as f:
    for k, v in [("OS_AUTH_URL", a["auth_url"]), ("OS_USERNAME", a["username"]), ("OS_PASSWORD", a["password"]),
                 ("OS_PROJECT_NAME", a["project_name"]), ("OS_USER_DOMAIN_NAME", a["user_domain_name"]),
                 ("OS_PROJECT_DOMAIN_NAME", a["project_domain_name"]), ("OS_REGION_NAME", c["region_name"])]:
        f.write("%s=%s\n" % (k, v))
EOF
exits 3 "a wrong password: exit 3" jcicd apply "$OSD/data/small.yaml" --tag "$TAG" --cloud wrong --clouds-yaml "$T/wrong.yaml"
like "$ERR" "Keystone refused the credentials of user demo \(from $T/wrong.yaml\).*HTTP 401" \
	"... saying whose credentials Keystone refused"
exits 3 "... and as JSON" jcicd status --tag "$TAG" --cloud wrong --clouds-yaml "$T/wrong.yaml" --json --verbose
is "$(printf '%s' "$OUT" | py 'd["error"]["exit_status"], d["error"]["http_status"]')" "3 401" "--json: exit status 3, HTTP 401"
all="$OUT$ERR"
ok "the password appears nowhere, not even with --verbose" sh -c '! printf "%s" "$1" | grep -q -- "$2"' - "$all" "$BADPW"

# ---- other ways to log in
exits 0 "secure.yaml beside clouds.yaml holds the password" sh -c "cd '$T/sec' && unset OS_CLIENT_CONFIG_FILE && '$JCICD' status --tag '$TAG' --cloud sec"
like "$OUT" "stack $TAG has no servers" "... and the cloud answers"
exits 0 "the OS_* variables (--cloud env)" sh -c "unset OS_CLIENT_CONFIG_FILE; set -a; . '$T/openrc'; '$JCICD' status --tag '$TAG' --cloud env"
exits 0 "... and OS_CLOUD without --cloud" env OS_CLOUD="$CLOUD" "$JCICD" status --tag "$TAG"
like "$OUT" "stack $TAG has no servers" "... both reach the cloud"

APP="app-$RUN_ID"
os_stack "$APP"
exits 0 "an application credential builds a stack" jcicd apply "$OSD/data/small.yaml" --tag "$APP" \
	--cloud "${JCICD_TEST_OPENSTACK_APPCRED_CLOUD:-jcicd-appcred}"
like "$OUT" "stack $APP: 2 servers ACTIVE" "... of 2 ACTIVE servers"
ok "... that the password user sees in its project" test "$(nova_names "$APP" | wc -l)" = 2
exits 0 "... and deletes it" jcicd delete --tag "$APP" --cloud "${JCICD_TEST_OPENSTACK_APPCRED_CLOUD:-jcicd-appcred}"

# ---- ERROR servers: the fault and the request id, replaced within --retry
ERRTAG="err-$RUN_ID"
os_stack "$ERRTAG"
exits 1 "a server that always goes to ERROR fails the apply" \
	jcicd apply "$OSD/data/error.yaml" --tag "$ERRTAG" --cloud "$CLOUD" --retry 1
like "$ERR" "big1_$ERRTAG: ERROR \(No valid host was found.*create request req-[0-9a-f-]+\); deleting it to create it again \(retry 1 of 1\)" \
	"the retry is reported with Nova's fault and the create's request id"
like "$ERR" "big1_$ERRTAG: ERROR after 2 attempts, out of retries" "... and the end of the budget"
like "$ERR" "stack $ERRTAG: 1 server failed: big1_$ERRTAG failed: No valid host was found" "the error names the server and why"
like "$OUT" "\+ ok1_$ERRTAG ACTIVE" "the other server is ACTIVE"
exits 0 "status" jcicd status --tag "$ERRTAG" --cloud "$CLOUD"
like "$OUT" "big1_$ERRTAG +ERROR .*fault: No valid host was found.*create request req-" "status shows the ERROR server's fault"
is "$(nova_names "$ERRTAG" | tr '\n' ' ')" "big1_$ERRTAG ok1_$ERRTAG " "one server per name: the first ERROR server was deleted"
exits 1 "apply again replaces the ERROR server (and it fails again)" \
	jcicd apply "$OSD/data/error.yaml" --tag "$ERRTAG" --cloud "$CLOUD" --retry 0
like "$ERR" "big1_$ERRTAG: ERROR after 1 attempt, out of retries" "--retry 0: one attempt"
exits 0 "delete" jcicd delete --tag "$ERRTAG" --cloud "$CLOUD"
is "$(nova_names "$ERRTAG")" "" "nothing left"
done_testing
