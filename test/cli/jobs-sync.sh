#!/bin/sh
# jcicd jobs sync and jobs trigger against the Jenkins stand-in (whose
# fidelity test/cli/jobs-clients.sh proves with the real clients): cold sync
# then zero POSTs; a job edited by hand on the server is found and fixed; a
# server that only re-formatted a job is left alone; --delete-old removes
# only this set's obsolete jobs; crumbs with a password; auth failure exits
# 3; trigger --follow streams the console and exits with the build result.
. "$TOP_SRCDIR/test/lib/tap.sh"
if [ -z "${JCICD_TEST_JENKINS:-}" ]; then
	skip "no Jenkins stand-in (test/services/jenkins.sh start; scripts/test does it)"
	done_testing; exit
fi
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
P=sync-$$-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
U=$JCICD_TEST_JENKINS
TOKEN_FILE=$T/token
cp "$JCICD_TEST_JENKINS_TOKEN_FILE" "$TOKEN_FILE"; chmod 600 "$TOKEN_FILE"
export JCICD_JENKINS_URL="$U" JCICD_JENKINS_USER="$JCICD_TEST_JENKINS_USER" JCICD_JENKINS_TOKEN_FILE="$TOKEN_FILE"
AUTH="$JCICD_TEST_JENKINS_USER:$(cat "$TOKEN_FILE")"
json() { printf '%s' "$OUT" | "$PY" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
writes() { curl -sf "$U/_stand-in/stats" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["config_writes"].get(sys.argv[1], 0))' "$1"; }

cat >"$T/jobs.yaml" <<EOT
set: $P
defaults:
  keep-builds: 5
  timestamps: true
templates:
  stage:
    name: '{prefix}-{stage}'
    description: 'stage {stage}'
    parameters:
      SNAPSHOT: the snapshot
    shell: echo "{stage} of \$SNAPSHOT"
    downstream:
      - job: '{next}'
        current-parameters: true
projects:
  chain:
    prefix: $P
    jobs:
      - stage: {stage: a, next: '{prefix}-b'}
      - stage: {stage: b, next: ''}
jobs:
  $P-ok:
    parameters:
      WHO: {default: world}
    shell: |
      echo "hello \$WHO"
      for i in 1 2 3 4; do echo "tick \$i"; sleep 0.5; done
  $P-fail:
    shell: echo failing; exit 3
  $P-unstable:
    shell: |
      printf '<testsuite><testcase name="a"/><testcase name="b"><failure/></testcase></testsuite>' >r.xml
    junit: r.xml
  $P-long:
    parameters:
      SNAPSHOT: s
    shell: echo started; sleep 60
    on-abort: echo "tearing down \$SNAPSHOT"
EOT

# ---- sync
exits 0 "cold sync" jcicd jobs sync --jobs "$T/jobs.yaml" --json
is "$(json 'd["created"], d["updated"], d["unchanged"], d["posts"]')" "6 0 0 6" "6 jobs created with 6 POSTs"
exits 0 "sync again" jcicd jobs sync --jobs "$T/jobs.yaml" --json
is "$(json 'd["created"], d["updated"], d["unchanged"], d["posts"], d["gets"]')" "0 0 6 0 6" "unchanged: 0 POSTs, one GET per job"
is "$(writes "$P-a")" "1" "the server saw one config write in all"
exits 0 "text output" jcicd jobs sync --jobs "$T/jobs.yaml"
is "$OUT" "jobs: 0 created, 0 updated, 0 deleted, 6 unchanged (6 GETs, 0 POSTs)" "says so"

# a person edits a job in the UI (the server rewrites its config)
curl -sf -u "$AUTH" "$U/job/$P-a/config.xml" | sed 's|<command>echo "a of $SNAPSHOT"</command>|<command>echo edited by hand</command>|' >"$T/edited.xml"
grep -q "edited by hand" "$T/edited.xml"
ok "hand-edit a job on the server" curl -sf -u "$AUTH" -H 'Content-Type: application/xml' --data-binary @"$T/edited.xml" "$U/job/$P-a/config.xml"
exits 0 "dry run" jcicd jobs sync --jobs "$T/jobs.yaml" --dry-run
like "$OUT" "would update +$P-a \(differs at /project/builders/hudson.tasks.Shell/command\)" "the edit is found, with where"
like "$OUT" "would create 0, update 1, delete 0; 5 unchanged" "dry run counts"
exits 0 "sync fixes it" jcicd jobs sync --jobs "$T/jobs.yaml" --json
is "$(json 'd["updated"], d["posts"], [c["name"] for c in d["changes"] if c["action"]=="update"]')" "1 1 ['$P-a']" "one POST, for that job"
like "$(curl -sf -u "$AUTH" "$U/job/$P-a/config.xml")" 'echo "a of \$SNAPSHOT"' "the server has the definition's step again"

# a server that only re-formats (declaration, indentation, quoting, attribute order) changed nothing
curl -sf -u "$AUTH" "$U/job/$P-b/config.xml" | "$PY" -c '
import sys, xml.dom.minidom as m
x = m.parseString(sys.stdin.read().encode())
sys.stdout.write(x.toprettyxml(indent="    "))' | sed "s/class=\"hudson.scm.NullSCM\"/class='hudson.scm.NullSCM'/" >"$T/pretty.xml"
ok "re-format a job on the server" curl -sf -u "$AUTH" -H 'Content-Type: application/xml' --data-binary @"$T/pretty.xml" "$U/job/$P-b/config.xml"
exits 0 "sync after a re-format" jcicd jobs sync --jobs "$T/jobs.yaml" --json
is "$(json 'd["unchanged"], d["posts"]')" "6 0" "canonically the same: nothing POSTed"

# ---- delete-old: only this set's obsolete jobs
curl -sf -u "$AUTH" -H 'Content-Type: application/xml' --data-binary '<project><description>made by hand</description></project>' "$U/createItem?name=$P-handmade" >/dev/null
curl -sf -u "$AUTH" -H 'Content-Type: application/xml' \
	--data-binary "<project><description>x&lt;!-- Managed by jcicd (job set other-$P) --&gt;</description></project>" "$U/createItem?name=$P-other" >/dev/null
sed "/^  $P-fail:/,+1d" "$T/jobs.yaml" >"$T/less.yaml"
exits 0 "sync without a job, no --delete-old" jcicd jobs sync --jobs "$T/less.yaml" --json
is "$(json 'd["deleted"], d["posts"]')" "0 0" "nothing deleted without --delete-old"
exits 0 "sync --delete-old" jcicd jobs sync --jobs "$T/less.yaml" --delete-old --json
is "$(json 'd["deleted"], d["posts"], [c["name"] for c in d["changes"] if c["action"]=="delete"]')" "1 1 ['$P-fail']" "the obsolete job of this set is deleted"
is "$(curl -s -o /dev/null -w '%{http_code}' -u "$AUTH" "$U/job/$P-fail/api/json")" "404" "it is gone"
is "$(curl -s -o /dev/null -w '%{http_code}' -u "$AUTH" "$U/job/$P-handmade/api/json")" "200" "a job nobody manages stays"
is "$(curl -s -o /dev/null -w '%{http_code}' -u "$AUTH" "$U/job/$P-other/api/json")" "200" "another set's job stays"
exits 0 "sync --delete-old again" jcicd jobs sync --jobs "$T/less.yaml" --delete-old --json
is "$(json 'd["deleted"], d["posts"]')" "0 0" "nothing more to delete"
exits 0 "put it back" jcicd jobs sync --jobs "$T/jobs.yaml" -q

# ---- folders
curl -sf -u "$AUTH" -H 'Content-Type: application/xml' --data-binary '<com.cloudbees.hudson.plugins.folder.Folder/>' "$U/createItem?name=$P-folder" >/dev/null
printf 'set: %s-f\njobs:\n  %s-folder/inner: {shell: "echo inside"}\n' "$P" "$P" >"$T/folder.yaml"
exits 0 "sync a job inside a folder" jcicd jobs sync --jobs "$T/folder.yaml" --json
is "$(json 'd["created"]')" "1" "created in the folder"
exits 0 "and again" jcicd jobs sync --jobs "$T/folder.yaml" --json
is "$(json 'd["unchanged"], d["posts"]')" "1 0" "unchanged"

printf 'set: %s-nf\njobs:\n  %s-nofolder/inner: {}\n' "$P" "$P" >"$T/nofolder.yaml"
exits 2 "a job in a folder the server does not have" jcicd jobs sync --jobs "$T/nofolder.yaml"
like "$ERR" "there is no folder $P-nofolder on the server" "says which folder is missing"

# ---- auth
exits 0 "sync with a password (the server then wants a CSRF crumb)" sh -c \
	"curl -sf -u '$AUTH' -H 'Content-Type: application/xml' --data-binary @'$T/edited.xml' '$U/job/$P-a/config.xml' &&
	 JCICD_JENKINS_TOKEN_FILE='$JCICD_TEST_JENKINS_PASSWORD_FILE' '$JCICD' jobs sync --jobs '$T/jobs.yaml' --json"
is "$(json 'd["updated"]')" "1" "updated through the crumb"
echo "not-the-token" >"$T/bad"; chmod 600 "$T/bad"
exits 3 "a wrong token exits 3" jcicd jobs sync --jobs "$T/jobs.yaml" --token-file "$T/bad"
like "$ERR" "401.*Invalid password/token for user" "says why, with the status"
exits 0 "a verbose sync" jcicd jobs sync --jobs "$T/jobs.yaml" --verbose
secret=$(cat "$TOKEN_FILE")
case "$OUT$ERR" in *"$secret"*) _tap_result 1 "the token never appears in the output" ;; *) _tap_result 0 "the token never appears in the output" ;; esac
exits 3 "an unreachable Jenkins exits 3" jcicd jobs sync --jobs "$T/jobs.yaml" --url http://127.0.0.1:1
exits 2 "a user without a token file" jcicd jobs sync --jobs "$T/jobs.yaml" --token-file "$T/nothere"

# ---- trigger
exits 0 "trigger --follow a build that succeeds" jcicd jobs trigger "$P-ok" --param WHO=jcicd --follow --poll-interval 0.2s
like "$OUT" "hello jcicd" "the console is streamed, with the parameter"
like "$(printf '%s\n' "$OUT" | grep '^tick' | tr '\n' ' ')" "^tick 1 tick 2 tick 3 tick 4 $" "every line once, in order"
like "$ERR" "$P-ok #1: SUCCESS" "says the result"
# the console arrives while the build runs, not at the end
jcicd jobs trigger "$P-ok" --follow --poll-interval 0.2s 2>/dev/null | while IFS= read -r l; do echo "$(date +%s%N) $l"; done >"$T/stamped"
t1=$(grep -E '^[0-9]+ tick 1$' "$T/stamped" | cut -d' ' -f1); t4=$(grep -E '^[0-9]+ Finished: SUCCESS$' "$T/stamped" | cut -d' ' -f1)
ok "tick 1 arrived over a second before the end" test $(((t4 - t1) / 1000000)) -gt 1000
exits 1 "trigger --follow a build that fails exits 1" jcicd jobs trigger "$P-fail" --follow
like "$OUT" "failing" "its console"
like "$ERR" "FAILURE" "says FAILURE"
exits 1 "an UNSTABLE build (a failed test) exits 1" jcicd jobs trigger "$P-unstable" --follow --json
is "$(json 'd["result"], d["number"]')" "UNSTABLE 1" "--json has the result"
exits 2 "a parameter the job does not have" jcicd jobs trigger "$P-ok" --param WOH=x
like "$ERR" "job $P-ok has no parameter WOH; did you mean WHO\?" "did you mean"
exits 2 "a job the server does not have" jcicd jobs trigger "$P-nothere"
exits 3 "trigger with a wrong token" jcicd jobs trigger "$P-ok" --token-file "$T/bad"
exits 0 "trigger without --follow" jcicd jobs trigger "$P-ok"
like "$ERR" "queued: $U/queue/item/[0-9]+/" "prints the queue item"

# downstream: a -> b, SNAPSHOT passed on
exits 0 "trigger the chain" jcicd jobs trigger "$P-a" --param SNAPSHOT=7 --follow
i=0
until curl -sf -u "$AUTH" "$U/job/$P-b/lastBuild/api/json" 2>/dev/null | grep -q '"result": "SUCCESS"'; do
	i=$((i + 1)); [ $i -gt 200 ] && break; sleep 0.1
done
like "$(curl -sf -u "$AUTH" "$U/job/$P-b/lastBuild/consoleText")" "b of 7" "b ran after a, with SNAPSHOT=7"

# an abort (a person, or the build timeout): exit 1, and the teardown ran
jcicd jobs trigger "$P-long" --param SNAPSHOT=9 --follow >"$T/long.out" 2>"$T/long.err" &
pid=$!
i=0
until curl -sf -u "$AUTH" "$U/job/$P-long/1/consoleText" 2>/dev/null | grep -q '^started'; do
	i=$((i + 1)); [ $i -gt 200 ] && break; sleep 0.1
done
curl -sf -u "$AUTH" -X POST "$U/job/$P-long/1/stop" >/dev/null
wait $pid
is "$?" "1" "an aborted build exits 1"
like "$(cat "$T/long.err")" "ABORTED" "says ABORTED"
like "$(cat "$T/long.out")" "tearing down 9" "the on-abort teardown ran, with the snapshot"

# clean up: an empty definition of the set with --delete-old removes all of it
printf 'set: %s\n' "$P" >"$T/empty.yaml"
exits 0 "delete the whole set" jcicd jobs sync --jobs "$T/empty.yaml" --delete-old --json
is "$(json 'd["deleted"]')" "6" "its 6 jobs"
printf 'set: %s-f\n' "$P" >"$T/empty.yaml"
jcicd jobs sync --jobs "$T/empty.yaml" --delete-old -q >/dev/null
for j in handmade other folder; do curl -sf -u "$AUTH" -X POST "$U/job/$P-$j/doDelete" >/dev/null; done
done_testing
