#!/bin/sh
# The whole chain on the embedded default: a build repository, numbered
# snapshots, and examples/pipeline's five stages on the local cloud, whose
# nodes run the real agent, real apt-get (private root) and validation.
#   snapshot 1: every stage passes (upgrade skipped: nothing to upgrade from)
#   snapshot 2: upgrade goes 1 -> 2 in waves; testing and stable move to 2
#   snapshot 3: a package twice the size: nonfunctional fails (regression
#               against the baseline of snapshot 2)
#   snapshot 4: a broken package: acceptance fails, the chain stops, the
#               stack is torn down, the verdict and JUnit file say why
. "$TOP_SRCDIR/test/lib/tap.sh"
command -v apt-ftparchive >/dev/null || { skip "apt-ftparchive is not installed (apt-utils)"; done_testing; exit; }
P="$T/pipeline"
cp -r "$TOP_SRCDIR/examples/pipeline" "$P"
chmod -R u+w "$P"
unset JCICD_STATE_DIR      # the example's jcicd.yaml sets state.dir
export JCICD_CONFIG="$P/jcicd.yaml"
MK="$TOP_SRCDIR/test/pipeline/make-package.sh"
REPO="$P/state/build-repo"
cd "$P" || exit 1
count_servers() { ls "$P/state/local-cloud/servers" 2>/dev/null | wc -l; }
pointers() { # "pointer=N ..." of every snapshot pointer
	jcicd snapshot list --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
snaps = d["snapshots"] if isinstance(d, dict) else d
print(" ".join(sorted("%s=%s" % (p, s["number"]) for s in snaps for p in s.get("pointers", []))))'
}
verdicts() { # snapshot -> "stage:verdict ..." of its newest records
	jcicd history --snapshot "$1" --json | python3 -c '
import json, sys
latest = {}
for s in json.load(sys.stdin)["stages"]:
    latest[s["stage"]] = s["verdict"]
print(" ".join("%s:%s" % kv for kv in latest.items()))'
}

sh "$MK" "$REPO" 1.0-1 "hello from jcicd 1.0-1" 64
exits 0 "snapshot 1 from the build repository" jcicd snapshot poll
exits 2 "pipeline run for snapshot 1 stops before production: no approval" \
	jcicd pipeline run --snapshot 1 --report "$T/report1.html"
like "$ERR" "stage production needs an approval for snapshot 1: .jcicd approve --snapshot 1 --stage production" \
	"it says how to approve"
is "$(verdicts 1)" "acceptance:passed nonfunctional:passed upgrade:skipped staging:passed" \
	"snapshot 1 passed every stage up to production"
exits 0 "approve it" jcicd approve --snapshot 1 --stage production --who tester --why "first release"
exits 0 "production, approved" jcicd stage production --snapshot 1
is "$(verdicts 1)" "acceptance:passed nonfunctional:passed upgrade:skipped staging:passed production:passed" \
	"snapshot 1: every stage passed, upgrade skipped (nothing before it)"
is "$(pointers)" "latest=1 stable=1 testing=1" "a skipped upgrade (nothing before snapshot 1) does not hold testing back"
is "$(count_servers)" "6" "fresh stacks were torn down; staging and production (3 nodes each) live on"
ok "each node unpacked the snapshot's package" sh -c "grep -l 'hello-jcicd 1.0-1' '$P'/state/local-cloud/servers/*/root/installed | wc -l | grep -qx 6"

sh "$MK" "$REPO" 1.1-1 "hello from jcicd 1.1-1" 64
exits 0 "snapshot 2" jcicd snapshot poll
exits 0 "pipeline run for snapshot 2" jcicd pipeline run --snapshot 2 --approved-by tester --json
is "$(verdicts 2)" "acceptance:passed nonfunctional:passed upgrade:passed staging:passed production:passed" \
	"snapshot 2: every stage passed"
up=$(jcicd history --snapshot 2 --json | python3 -c 'import json,sys; print([s["from_snapshot"] for s in json.load(sys.stdin)["stages"] if s["stage"]=="upgrade"][0])')
is "$up" "1" "upgrade started from the last good snapshot, 1"
is "$(pointers)" "latest=2 stable=2 testing=2" "testing and stable moved to 2 after upgrade and staging"
ok "staging and production nodes run 1.1-1" sh -c "grep -l 'hello-jcicd 1.1-1' '$P'/state/local-cloud/servers/*/root/installed | wc -l | grep -qx 6"

# a regression: the same package, but it grew
sh "$MK" "$REPO" 1.2-1 "hello from jcicd 1.2-1" 256
exits 0 "snapshot 3 (a fat hello)" jcicd snapshot poll
exits 1 "pipeline run for snapshot 3 fails in nonfunctional" jcicd pipeline run --snapshot 3 --approved-by tester
is "$(verdicts 3)" "acceptance:passed nonfunctional:failed" "the chain stopped at nonfunctional"
like "$OUT" "nonfunctional +failed .*installed-size regressed" "the verdict names the measurement"
exits 0 "its history" jcicd history --snapshot 3 --json
m=$(jcicd report --snapshot 3 --out "$T/report3-size.html" >/dev/null && grep -o 'installed-size</td><td>[0-9]* KiB</td><td>[0-9]* (snapshot 2)' "$T/report3-size.html")
like "$m" "\(snapshot 2\)" "the report compares against the baseline of snapshot 2"

# out of order and unapproved stages are refused
exits 2 "upgrade before nonfunctional passed is refused" jcicd stage upgrade --snapshot 3
like "$ERR" "snapshot 3 has not passed stage nonfunctional" "and the error says which stage is missing"
exits 2 "promote is gated on the stages" jcicd promote --snapshot 3 --to testing
like "$ERR" "has not passed stage nonfunctional" "promote says why not"

sh "$MK" "$REPO" 1.3-1 "goodbye" 64
exits 0 "snapshot 4 (a broken hello)" jcicd snapshot poll
exits 1 "pipeline run for the broken snapshot fails" jcicd pipeline run --snapshot 4 --approved-by tester --report "$T/report4.html"
is "$(verdicts 4)" "acceptance:failed" "the chain stopped at acceptance"
like "$OUT" "acceptance +failed .*validation failed at 4: 10-hello exited 1: hello-jcicd said: goodbye" \
	"the verdict names the node, the step and what it printed"
is "$(count_servers)" "6" "the failed acceptance stack was torn down"
junit=$(jcicd history --snapshot 4 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["stages"][0]["junit"])')
ok "a JUnit file with the failure" grep -q '<failure message="nodes did not converge to 4' "$junit"
exits 0 "staging still runs snapshot 2" jcicd hosts-at-version 2 --prefix /jcicd/stacks/staging/
is "$(printf '%s\n' $OUT | wc -l)" "3" "all three staging nodes"

# keep-on-failure keeps the stack for inspection
exits 1 "acceptance again, keeping the failed stack" jcicd stage acceptance --snapshot 4 --keep-on-failure
like "$ERR" "keeping stack acceptance-4-[0-9]+ for inspection" "it says where the stack is"
tag=$(printf '%s' "$ERR" | grep -o 'delete --tag acceptance-4-[0-9]*' | head -1 | cut -d' ' -f3)
exits 0 "the kept stack exists" jcicd status --tag "$tag"
is "$(printf '%s\n' "$OUT" | grep -c ACTIVE)" "3" "with its three nodes"
exits 0 "delete it" jcicd delete --tag "$tag"

# the report, rendered by a real browser
ok "the report of run 1 was written" test -s "$T/report1.html"
exits 0 "a report of snapshot 2" jcicd report --snapshot 2 --out "$T/report2.html"
like "$(cat "$T/report2.html")" "hello-jcicd</td><td>1.0-1</td><td>1.1-1" "it lists the package change 1.0-1 -> 1.1-1"
if command -v chromium >/dev/null; then
	chrome() {
		timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
			--disable-background-networking --disable-component-update --disable-sync \
			--user-data-dir="$T/chromium" --window-size=1100,1400 "$@" 2>/dev/null
	}
	chrome --screenshot="$T/report4.png" "file://$T/report4.html" >/dev/null
	ok "chromium renders the failed run's report to a PNG" sh -c "[ \$(stat -c %s '$T/report4.png') -gt 10000 ]"
	dom=$(chrome --dump-dom "file://$T/report4.html")
	like "$dom" 'id="verdict">failed<' "the rendered page shows the failed verdict"
	like "$dom" "hello-jcicd said: goodbye" "and why acceptance failed"
	[ -n "${JCICD_KEEP_SCREENSHOTS:-}" ] && cp "$T"/*.png "$JCICD_KEEP_SCREENSHOTS"/
else
	skip "chromium is not installed: no screenshot of the report"
fi
jcicd delete staging -q >/dev/null 2>&1
jcicd delete production -q >/dev/null 2>&1
done_testing
