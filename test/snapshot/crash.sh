#!/bin/sh
# kill -9 of poll, publish, promote and prune, at every step (the library
# kills itself at named points when JCICD_TEST_CRASH_AT says so) and at
# random moments; after each, the published trees are whole, and a normal
# re-run leaves the store consistent, every snapshot complete, no number
# reused and no snapshot's content changed (test/lib/snapshot-check.py).
. "$TOP_SRCDIR/test/lib/tap.sh"
. "$TOP_SRCDIR/test/lib/aptrepo.sh"
if ! need_tools; then
	skip "$MISSING_TOOL is not installed (test/packages/snapshot.list)"
	done_testing; exit 0
fi
trap 'stop_servers; tap_cleanup' EXIT
json() { "$PYTHON" -c "import json,sys; d=json.load(sys.stdin); r=($1); print(r)"; }
check() { # DESCRIPTION [--settled]
	local d=$1; shift
	exits 0 "$d" "$PYTHON" "$TOP_SRCDIR/test/lib/snapshot-check.py" "$JCICD_STATE_DIR" "$T/pub" --memory "$T/memory.json" "$@"
	[ -n "$OUT" ] && diag "$OUT"
}
newest() { jcicd snapshot list $C --all --json | json 'max([s["number"] for s in d["snapshots"]] or [0])'; }

SRC="$T/src"
repo_init "$SRC" stable main amd64
i=0
while [ $i -lt 40 ]; do repo_add "$SRC" "pkg$i" 1.0-1; i=$((i + 1)); done
repo_index "$SRC"
serve "$SRC" SRC
cat >"$T/jcicd.yaml" <<EOF
snapshots:
  publish_root: pub
  pointers: [latest, unstable]
  sources:
    - {name: build, url: $SRC_URL, suite: stable, components: [main], architectures: [amd64]}
EOF
C="--config $T/jcicd.yaml"
exits 0 "snapshot 1" jcicd snapshot poll $C
ROUND=1
change() { # a new version of 4 packages
	ROUND=$((ROUND + 1))
	for k in 0 1 2 3; do repo_add "$SRC" "pkg$(( (ROUND * 4 + k) % 40 ))" "1.$ROUND-1"; done
	repo_index "$SRC"
}

for point in poll-fetched poll-recorded publish-linked publish-built publish-renamed pointer-recorded pointer-symlinked; do
	change
	before=$(newest)
	JCICD_TEST_CRASH_AT=$point exits 137 "poll killed at $point" jcicd snapshot poll $C
	check "after the kill at $point: what is visible is whole"
	exits 0 "poll after the kill at $point" jcicd snapshot poll $C --json
	check "after the re-run: consistent" --settled
	after=$(newest)
	ok "a new snapshot above $before (now $after), no number reused" test "$after" -gt "$before"
done

# promote, interrupted between the database and the symlink
JCICD_TEST_CRASH_AT=pointer-recorded exits 137 "promote killed after recording" jcicd snapshot promote 2 testing --who t $C
ok "the testing symlink is not there yet" test ! -e "$T/pub/testing"
exits 0 "any writer repairs the pointers" jcicd snapshot publish $C
is "$(readlink "$T/pub/testing")" "snapshots/2" "testing now points at snapshot 2"
JCICD_TEST_CRASH_AT=pointer-symlinked exits 137 "promote killed before the rename" jcicd snapshot promote 3 testing $C
is "$(readlink "$T/pub/testing")" "snapshots/2" "readers still see the old target"
exits 0 "re-run the promotion" jcicd snapshot promote 3 testing $C
check "after the promotions" --settled

for point in prune-marked prune-moved prune-sweeping; do
	change
	exits 0 "one more snapshot" jcicd snapshot poll $C
	JCICD_TEST_CRASH_AT=$point exits 137 "prune killed at $point" jcicd snapshot prune --keep 2 $C
	check "after the kill at $point: what is visible is whole"
	exits 0 "prune after the kill at $point" jcicd snapshot prune --keep 2 $C --json
	check "after the re-run: consistent" --settled
done
exits 0 "list after the prunes" jcicd snapshot list $C --json
is "$(printf '%s' "$OUT" | json 'len(d["snapshots"])')" "3" "the 2 newest and testing's are left"

# kill -9 at random moments, with packages served slowly
control SRC "fault?path=/pool/*&mode=slow&delay_ms=150" >/dev/null
for r in 1 2 3 4 5 6; do
	change
	before=$(newest)
	delay=$(awk -v s="$r" 'BEGIN { srand(s * 7919); printf "%.2f", 0.05 + rand() * 0.6 }')
	"$JCICD" snapshot poll $C -q >/dev/null 2>&1 &
	pid=$!
	sleep "$delay"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	if [ $((r % 2)) = 0 ]; then
		"$JCICD" snapshot prune --keep 2 $C -q >/dev/null 2>&1 &
		pid=$!
		sleep 0.0$r
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	check "random kill $r after ${delay}s: what is visible is whole"
	exits 0 "poll after random kill $r" jcicd snapshot poll $C
	check "after re-run $r: consistent" --settled
	ok "no number reused after random kill $r" test "$(newest)" -gt "$before"
done
exits 0 "a last prune" jcicd snapshot prune --keep 1 $C
check "at the end" --settled
done_testing
