#!/bin/sh
# The snapshot verbs as a user meets them: --help, usage errors (exit 2,
# nothing changed), configuration errors at file:line:col, one writer at a
# time (a second gets a clear error), watch with a count and with SIGTERM.
. "$TOP_SRCDIR/test/lib/tap.sh"
. "$TOP_SRCDIR/test/lib/aptrepo.sh"
if ! need_tools; then
	skip "$MISSING_TOOL is not installed (test/packages/snapshot.list)"
	done_testing; exit 0
fi
trap 'stop_servers; tap_cleanup' EXIT
json() { "$PYTHON" -c "import json,sys; d=json.load(sys.stdin); r=($1); print(r)"; }

for verb in poll publish list show diff promote history prune watch apt-source; do
	exits 0 "snapshot $verb --help" jcicd snapshot $verb --help
	like "$OUT" "^Usage: jcicd snapshot $verb" "$verb --help starts with its usage"
	like "$OUT" "--publish-root DIR" "$verb --help lists the snapshot options"
done
exits 2 "snapshot without a verb" jcicd snapshot
like "$ERR" "'snapshot' needs a verb" "says a verb is needed"
exits 0 "the example configuration parses" jcicd snapshot list --config "$TOP_SRCDIR/examples/jcicd-snapshots.yaml"
exits 0 "jcicd --help lists the snapshot verbs" jcicd --help
like "$OUT" "snapshot promote +point testing/stable" "promote is listed"

# usage errors change nothing
exits 2 "poll with no source" jcicd snapshot poll --publish-root "$T/pub"
like "$ERR" "no snapshot sources: add snapshots.sources to jcicd.yaml \(or pass --source\)" "says how to add one"
exits 2 "--suite without --source" jcicd snapshot poll --suite stable
exits 2 "--source without --suite" jcicd snapshot poll --source "$T/src"
exits 2 "prune without --keep" jcicd snapshot prune --publish-root "$T/pub"
like "$ERR" "--keep is required" "says --keep is required"
exits 2 "prune --keep 0" jcicd snapshot prune --keep 0
exits 2 "diff with one argument" jcicd snapshot diff 1
exits 2 "promote to a bad pointer name" jcicd snapshot promote 1 Stable
exits 2 "watch --interval nonsense" jcicd snapshot watch --interval soon
exits 2 "an unknown option" jcicd snapshot poll --publish-rot x
ok "none of that created a publish root" test ! -e "$T/pub"

cat >"$T/bad.yaml" <<'EOF'
snapshots:
  publish_root: pub
  sources:
    - url: http://127.0.0.1:1/
      suite: stable
      components: [main]
      architecturs: [amd64]
EOF
exits 2 "a configuration error" jcicd snapshot poll --config "$T/bad.yaml"
like "$ERR" "bad.yaml:7:7: unknown key \"architecturs\" in snapshots.sources\[0\]; did you mean \"architectures\"\?" \
	"the error points at the key and suggests the right one"

# a real source, and a slow package to hold the writer lock
SRC="$T/src"
repo_init "$SRC" stable main amd64
repo_add "$SRC" alpha 1.0-1
repo_add "$SRC" slow 1.0-1
repo_index "$SRC"
serve "$SRC" SRC
cat >"$T/jcicd.yaml" <<EOF
snapshots:
  publish_root: pub
  base_url: http://apt.example/jcicd
  interval: 1s
  sources:
    - {name: build, url: $SRC_URL, suite: stable, components: [main], architectures: [amd64]}
EOF
C="--config $T/jcicd.yaml"
exits 1 "show of a snapshot that does not exist" jcicd snapshot show 1 $C
like "$ERR" "there is no snapshot 1" "says so"

exits 0 "snapshot 1" jcicd snapshot poll $C
repo_add "$SRC" slow 1.1-1
repo_index "$SRC"
control SRC "fault?path=/pool/main/slow_1.1-1_amd64.deb&mode=slow&delay_ms=30000&times=1" >/dev/null
"$JCICD" snapshot poll $C >"$T/first.out" 2>&1 &
first=$!
for i in $(seq 1 600); do grep -q "fetching" "$T/first.out" 2>/dev/null && break; sleep 0.1; done
exits 1 "a second poll while the first one runs" jcicd snapshot poll $C
like "$ERR" "the snapshot store is busy: pid $first \(.*jcicd snapshot poll.*\) holds .*/snapshot.lock" \
	"the error names the holder and the lock"
exits 1 "promote --wait 200ms gives up" jcicd snapshot promote 1 testing --wait 200ms $C
like "$ERR" "busy.*\(waited for it\)" "and says it waited"
wait $first
is "$?" "0" "the first poll finished"
exits 0 "promote waits for nobody now" jcicd snapshot promote 1 testing $C
exits 0 "list" jcicd snapshot list $C
like "$OUT" "^NUMBER +CREATED +STATE +PACKAGES +POINTERS" "a header"
like "$OUT" "2 +[0-9T:Z-]+ +published +2 +latest" "snapshot 2 with latest"
like "$OUT" "1 +[0-9T:Z-]+ +published +2 +testing" "snapshot 1 with testing"
exits 0 "show" jcicd snapshot show 1 $C
like "$OUT" "apt +deb \[trusted=yes\] http://apt.example/jcicd/snapshots/1 stable main" "show prints the apt line"
exits 0 "prune --dry-run" jcicd snapshot prune --keep 1 --dry-run $C
is "$OUT" "(dry run) 0 snapshots removed, 2 kept; 0 pool files (0.0 MB) removed" "nothing to prune: testing names 1"

# watch: three polls a second apart, one line of JSON each
repo_add "$SRC" alpha 1.1-1
repo_index "$SRC"
exits 0 "watch --count 3" jcicd snapshot watch --count 3 --jitter 0 $C --json
is "$(printf '%s\n' "$OUT" | "$PYTHON" -c '
import json, sys
print([(d["number"], d["changed"]) for d in map(json.loads, sys.stdin)])')" \
	"[(3, True), (None, False), (None, False)]" "the first poll made snapshot 3, then nothing changed"

"$JCICD" snapshot watch $C >"$T/watch.out" 2>&1 &
watcher=$!
for i in $(seq 1 600); do grep -q "no change" "$T/watch.out" 2>/dev/null && break; sleep 0.1; done
exits 1 "a second watch is refused" jcicd snapshot watch $C
like "$ERR" "snapshot watch is busy: pid $watcher" "naming the first watcher"
kill -TERM $watcher
wait $watcher
is "$?" "0" "watch stops cleanly on SIGTERM"
done_testing
