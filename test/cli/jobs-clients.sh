#!/bin/sh
# The Jenkins stand-in (test/jenkins/stand-in.py) is faithful enough for the
# real clients: python3-jenkins (test/jenkins/clients.py) and Jenkins Job
# Builder's `jenkins-jobs update`, both from Debian, do their work against it.
# Only then do the other tests believe what it says about jcicd.
. "$TOP_SRCDIR/test/lib/tap.sh"
if [ -z "${JCICD_TEST_JENKINS:-}" ]; then
	skip "no Jenkins stand-in (test/services/jenkins.sh start; scripts/test does it)"
	done_testing; exit
fi
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
P=clients-$$-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
U=$JCICD_TEST_JENKINS
AUTH="$JCICD_TEST_JENKINS_USER:$(cat "$JCICD_TEST_JENKINS_TOKEN_FILE")"

# ---- python3-jenkins
"$PY" "$TOP_SRCDIR/test/jenkins/clients.py" "$P" >"$T/clients.out" 2>&1
while IFS= read -r line; do
	case $line in
	PASS*) _tap_result 0 "${line#PASS }" ;;
	FAIL*) _tap_result 1 "${line#FAIL }" ;;
	*) echo "# $line" ;;
	esac
done <"$T/clients.out"
n=$(grep -c '^PASS\|^FAIL' "$T/clients.out")
is "$n" "11" "every python3-jenkins check ran"

# ---- jenkins-jobs update
if ! command -v jenkins-jobs >/dev/null 2>&1; then
	skip "jenkins-jobs is not installed"
	done_testing; exit
fi
export HOME="$T" XDG_CACHE_HOME="$T/cache"
cat >"$T/jjb.ini" <<EOT
[job_builder]
print_job_urls=False
[jenkins]
url=$U
user=$JCICD_TEST_JENKINS_USER
password=$(cat "$JCICD_TEST_JENKINS_TOKEN_FILE")
EOT
chmod 600 "$T/jjb.ini"
cat >"$T/jjb.yaml" <<EOT
- job-template:
    name: '{prefix}-{stage}'
    id: stage
    description: 'stage {stage}'
    parameters:
      - string:
          name: SNAPSHOT
    builders:
      - shell: 'echo {stage} \$SNAPSHOT'
    publishers:
      - trigger-parameterized-builds:
          - project: '{next}'
            condition: SUCCESS
            current-parameters: true
- project:
    name: jjb
    prefix: $P-jjb
    jobs:
      - stage: {stage: one, next: '{prefix}-two'}
      - stage: {stage: two, next: '{prefix}-three'}
      - stage: {stage: three, next: ''}
EOT
writes() { # the server's count of config writes for a job
	curl -sf "$U/_stand-in/stats" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["config_writes"].get(sys.argv[1], 0))' "$1"
}
# a job nobody manages with JJB, to see --delete-old leave it alone
curl -sf -u "$AUTH" -H 'Content-Type: application/xml' --data-binary '<project><description>hand-made</description></project>' \
	"$U/createItem?name=$P-handmade" >/dev/null

exits 0 "jenkins-jobs update (cold)" jenkins-jobs --conf "$T/jjb.ini" update "$T/jjb.yaml"
like "$ERR" "Number of jobs updated: 3" "JJB created 3 jobs"
for s in one two three; do
	curl -sf -u "$AUTH" "$U/job/$P-jjb-$s/config.xml" -o "$T/server/$P-jjb-$s/config.xml" --create-dirs
done
exits 0 "jenkins-jobs test of the same YAML" jenkins-jobs test "$T/jjb.yaml" -o "$T/jjb-test" --config-xml
exits 0 "the server keeps what JJB sent (canonically)" "$PY" "$TOP_SRCDIR/test/lib/compare-jobs.py" "$T/server" "$T/jjb-test"
like "$(head -c 60 "$T/server/$P-jjb-one/config.xml")" "^<\?xml version='1.1' encoding='UTF-8'\?>" "it re-serialises as Jenkins does (XML 1.1 declaration)"

exits 0 "jenkins-jobs update again" jenkins-jobs --conf "$T/jjb.ini" update "$T/jjb.yaml"
like "$ERR" "Number of jobs updated: 0" "with its cache, JJB sends nothing"
is "$(writes "$P-jjb-one")" "1" "the server saw no config write"

exits 0 "jenkins-jobs update with a cold cache" jenkins-jobs --conf "$T/jjb.ini" --flush-cache update "$T/jjb.yaml"
like "$ERR" "Number of jobs updated: 3" "a cold cache makes JJB reconfigure every unchanged job"
is "$(writes "$P-jjb-one")" "2" "the server saw the needless write (what jcicd avoids)"

# chains run: one -> two -> three with the parameter passed along
exits 0 "the JJB chain runs on the stand-in" jcicd jobs trigger "$P-jjb-one" --param SNAPSHOT=41 --follow \
	--url "$U" --user "$JCICD_TEST_JENKINS_USER" --token-file "$JCICD_TEST_JENKINS_TOKEN_FILE" --poll-interval 0.2s
i=0
until curl -sf -u "$AUTH" "$U/job/$P-jjb-three/1/api/json" 2>/dev/null | grep -q '"building": false'; do
	i=$((i + 1)); [ $i -gt 300 ] && break; sleep 0.1
done
like "$(curl -sf -u "$AUTH" "$U/job/$P-jjb-three/1/consoleText")" "echo three 41" "three ran with SNAPSHOT=41, started by two"

sed '/stage: three/d; s/{prefix}-three/'"''"'/' "$T/jjb.yaml" >"$T/jjb2.yaml"
exits 0 "jenkins-jobs update --delete-old without job three" jenkins-jobs --conf "$T/jjb.ini" update --delete-old "$T/jjb2.yaml"
is "$(curl -s -o /dev/null -w '%{http_code}' -u "$AUTH" "$U/job/$P-jjb-three/api/json")" "404" "JJB deleted the obsolete job"
is "$(curl -s -o /dev/null -w '%{http_code}' -u "$AUTH" "$U/job/$P-handmade/api/json")" "200" "and left the job it does not manage"
for j in one two handmade; do
	n=$P-jjb-$j; [ $j = handmade ] && n=$P-handmade
	curl -sf -u "$AUTH" -X POST "$U/job/$n/doDelete" >/dev/null
done
done_testing
