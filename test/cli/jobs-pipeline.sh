#!/bin/sh
# jcicd's own pipeline jobs (jenkins-glue/jobs/jcicd.yaml), synced by jcicd to
# a private Jenkins stand-in and run there for real.  The build machine's
# `jcicd` is a stub that records each call and answers as told (the stage
# commands themselves are tested where they live); this proves the wiring:
# a new snapshot starts the chain, SNAPSHOT travels along, a failure stops
# it, an abort tears down the fresh stack, the poll waits while the chain runs,
# promotion happens only after the stages before it, production only by hand.
. "$TOP_SRCDIR/test/lib/tap.sh"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
if ! command -v jq >/dev/null 2>&1; then
	skip "jq is not installed (test/packages/jobs.list; the poll job reads JSON with it)"
	done_testing; exit
fi

# the build machine: a stub jcicd first on PATH
mkdir -p "$T/stub" "$T/ctl"
cat >"$T/stub/jcicd" <<EOT
#!/bin/sh
# stub jcicd: records the call, answers as $T/ctl says
echo "\$*" >>"$T/calls"
case "\$1 \$2" in
"snapshot poll")
	if [ -f "$T/ctl/new" ]; then echo "{\"number\": \$(cat "$T/ctl/new"), \"changed\": true}"; rm -f "$T/ctl/new"
	else echo '{"number": null, "changed": false}'; fi ;;
stage*)
	stage=\$2 junit=\$(echo "\$*" | sed -n 's/.*--junit \([^ ]*\).*/\1/p')
	[ -f "$T/ctl/hang-\$stage" ] && { echo "\$stage is taking long"; sleep 60; }
	if [ -f "$T/ctl/fail-\$stage" ]; then
		printf '<testsuite name="%s"><testcase name="t"><failure message="broken"/></testcase></testsuite>\n' "\$stage" >"\$junit"
		echo "\$stage: 1 test failed"; exit 1
	fi
	printf '<testsuite name="%s"><testcase name="t"/></testsuite>\n' "\$stage" >"\$junit" ;;
esac
exit 0
EOT
chmod +x "$T/stub/jcicd"
openssl rand -hex 16 >"$T/token" 2>/dev/null || od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$T/token"
chmod 600 "$T/token"
PATH="$T/stub:$PATH" setsid "$PY" "$TOP_SRCDIR/test/jenkins/stand-in.py" --port 0 --port-file "$T/port" \
	--home "$T/jenkins" --token-file "$T/token" --executors 4 --quiet-period 0.1 </dev/null >"$T/stand-in.log" 2>&1 &
SI=$!
trap 'kill $SI 2>/dev/null; tap_cleanup' EXIT
i=0
while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
U=http://127.0.0.1:$(cat "$T/port")
export JCICD_JENKINS_URL=$U JCICD_JENKINS_USER=jcicd JCICD_JENKINS_TOKEN_FILE=$T/token
AUTH="jcicd:$(cat "$T/token")"
DEF=$TOP_SRCDIR/jenkins-glue/jobs/jcicd.yaml

idle() { # waits until nothing is queued or building, three looks in a row
	# (the executors and the queue are two requests: between them a build
	# can leave the queue for an executor, or finish and queue the next)
	n=0 quiet=0
	while [ $n -lt 600 ]; do
		s=$(curl -sf -u "$AUTH" "$U/computer/api/json" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["busyExecutors"])')
		q=$(curl -sf -u "$AUTH" "$U/queue/api/json" | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
		if [ "$s$q" = 00 ]; then
			quiet=$((quiet + 1))
			[ $quiet -ge 3 ] && return 0
		else
			quiet=0
		fi
		sleep 0.1; n=$((n + 1))
	done
	return 1
}
calls() { tr '\n' ';' <"$T/calls" 2>/dev/null; : >"$T/calls"; }
result() { curl -sf -u "$AUTH" "$U/job/$1/lastBuild/api/json" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["result"])'; }

exits 0 "sync the pipeline's jobs" jcicd jobs sync --jobs "$DEF" --json
like "$OUT" '"created":8' "8 jobs created"

exits 0 "poll, nothing new" jcicd jobs trigger jcicd-poll --follow
ok "everything settles" idle
is "$(calls)" "snapshot poll --json;" "no snapshot.properties: no stage runs"

echo 12 >"$T/ctl/new"
exits 0 "poll, snapshot 12 is new" jcicd jobs trigger jcicd-poll --follow
like "$OUT" "new snapshot 12: starting the pipeline" "the poll says so"
ok "the chain runs to its end" idle
is "$(calls)" "snapshot poll --json;stage acceptance --snapshot 12 --tag acceptance-12-1 --junit junit.xml;stage nonfunctional --snapshot 12 --tag nonfunctional-12-1 --junit junit.xml;stage upgrade --snapshot 12 --tag upgrade-12-1 --junit junit.xml;promote --snapshot 12 --to testing;stage staging --snapshot 12 --junit junit.xml;promote --snapshot 12 --to stable;" \
	"every stage in order with SNAPSHOT=12, promotions after the stages they need; not production"
is "$(curl -sf -u "$AUTH" "$U/job/jcicd-upgrade/lastBuild/testReport/api/json" | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["passCount"], d["failCount"])')" \
	"1 0" "the stage's JUnit results were published"

echo 13 >"$T/ctl/new"; touch "$T/ctl/fail-acceptance"
exits 0 "poll, snapshot 13 (acceptance will fail)" jcicd jobs trigger jcicd-poll --follow
ok "settles" idle
is "$(calls)" "snapshot poll --json;stage acceptance --snapshot 13 --tag acceptance-13-2 --junit junit.xml;" "a failed acceptance stops the chain"
is "$(result jcicd-acceptance)" "FAILURE" "acceptance is FAILURE"
is "$(curl -sf -u "$AUTH" "$U/job/jcicd-acceptance/lastBuild/testReport/api/json" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["failCount"])')" \
	"1" "with its failed test published"
rm -f "$T/ctl/fail-acceptance"

echo 14 >"$T/ctl/new"; touch "$T/ctl/hang-nonfunctional"
exits 0 "poll, snapshot 14 (nonfunctional will hang)" jcicd jobs trigger jcicd-poll --follow
i=0
until grep -q "stage nonfunctional" "$T/calls" 2>/dev/null || [ $i -gt 300 ]; do sleep 0.1; i=$((i + 1)); done
# while the chain runs, the next poll waits (block-downstream)
exits 0 "poll again while the chain runs" jcicd jobs trigger jcicd-poll
q=$(printf '%s' "$ERR" | sed -n 's|.*/queue/item/\([0-9]*\)/.*|\1|p')
sleep 0.5
like "$(curl -sf -u "$AUTH" "$U/queue/item/$q/api/json" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["why"])')" \
	"^Downstream project jcicd-[a-z-]+ is already building" "the poll is blocked while its downstream builds"
n=$(curl -sf -u "$AUTH" "$U/job/jcicd-nonfunctional/lastBuild/api/json" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["number"])')
ok "abort the hanging stage" curl -sf -u "$AUTH" -X POST "$U/job/jcicd-nonfunctional/$n/stop"
ok "settles" idle
is "$(calls)" "snapshot poll --json;stage acceptance --snapshot 14 --tag acceptance-14-3 --junit junit.xml;stage nonfunctional --snapshot 14 --tag nonfunctional-14-2 --junit junit.xml;delete --tag nonfunctional-14-2;snapshot poll --json;" \
	"the aborted stage's stack is torn down, the chain stops, then the waiting poll runs"
is "$(result jcicd-nonfunctional)" "ABORTED" "nonfunctional is ABORTED"
rm -f "$T/ctl/hang-nonfunctional"

touch "$T/ctl/fail-staging"
exits 1 "staging fails" jcicd jobs trigger jcicd-staging --param SNAPSHOT=12 --follow
ok "settles" idle
is "$(calls)" "stage staging --snapshot 12 --junit junit.xml;" "no promotion to stable after a failed staging, and no teardown of the long-lived stack"
rm -f "$T/ctl/fail-staging"

exits 0 "production, by hand" jcicd jobs trigger jcicd-production --param SNAPSHOT=12 --follow
ok "settles" idle
is "$(calls)" "stage production --snapshot 12 --junit junit.xml;" "production ran its stage, and nothing after it"
exits 0 "the jobs are still what the definition says" jcicd jobs sync --jobs "$DEF" --json
like "$OUT" '"posts":0' "zero POSTs"
done_testing
