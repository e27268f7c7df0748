#!/bin/sh
# Readers while a pointer is switched back and forth: processes reading the
# pointer's Release and indices the way apt does, and real apt-get updates
# over HTTP, never see a missing, partial or mismatching file.
. "$TOP_SRCDIR/test/lib/tap.sh"
. "$TOP_SRCDIR/test/lib/aptrepo.sh"
if ! need_tools; then
	skip "$MISSING_TOOL is not installed (test/packages/snapshot.list)"
	done_testing; exit 0
fi
trap 'stop_servers; tap_cleanup' EXIT
json() { "$PYTHON" -c "import json,sys; d=json.load(sys.stdin); r=($1); print(r)"; }

SRC="$T/src"
repo_init "$SRC" stable main amd64
i=0
while [ $i -lt 30 ]; do repo_add "$SRC" "pkg$i" 1.0-1; i=$((i + 1)); done
repo_index "$SRC"
mkdir -p "$T/pub"
serve "$T/pub" PUB
cat >"$T/jcicd.yaml" <<EOF2
snapshots:
  publish_root: pub
  sources:
    - {name: build, path: $SRC, suite: stable, components: [main], architectures: [amd64]}
EOF2
C="--config $T/jcicd.yaml"
exits 0 "snapshot 1" jcicd snapshot poll $C
i=0
while [ $i -lt 30 ]; do repo_add "$SRC" "pkg$i" 2.0-1; i=$((i + 3)); done
repo_index "$SRC"
exits 0 "snapshot 2" jcicd snapshot poll $C
exits 0 "flip -> 1" jcicd snapshot promote 1 flip $C

SWITCHES=30
STOP="$T/stop"
for r in 1 2; do
	"$PYTHON" "$TOP_SRCDIR/test/lib/snapshot-reader.py" "$T/pub/flip" "$STOP" >"$T/reader$r.json" &
	eval "reader$r=\$!"
done
# apt-get update in a loop over HTTP, through the pointer
apt_setup "$T/apt" "deb [trusted=yes] $PUB_URL/flip stable main"
(
	n=0 fails=0
	while [ ! -e "$STOP" ] || [ $n = 0 ]; do
		apt_run "$T/apt" update -o APT::Update::Error-Mode=any >"$T/apt.log" 2>&1 || { fails=$((fails + 1)); cp "$T/apt.log" "$T/apt-fail.log"; }
		n=$((n + 1))
	done
	echo "$n $fails" >"$T/apt-runs"
) &
aptloop=$!
switches=0
while [ $switches -lt $SWITCHES ]; do
	"$JCICD" snapshot promote 2 flip $C -q --wait 60s >/dev/null || break
	"$JCICD" snapshot promote 1 flip $C -q --wait 60s >/dev/null || break
	switches=$((switches + 2))
done
touch "$STOP"
wait $reader1 $reader2 $aptloop
diag "$switches pointer switches"
is "$switches" "$SWITCHES" "the pointer was switched $SWITCHES times"
for r in 1 2; do
	diag "reader $r: $(cat "$T/reader$r.json")"
	is "$(json 'd["errors"]' <"$T/reader$r.json")" "[]" "reader $r saw no missing, partial or mismatching file"
	ok "reader $r read during the switches" test "$(json 'd["reads"]' <"$T/reader$r.json")" -gt 0
done
read -r runs fails <"$T/apt-runs"
diag "apt-get update: $runs runs, $fails failed"
[ "$fails" != 0 ] && sed 's/^/#   /' "$T/apt-fail.log"
ok "apt-get update ran during the switches" test "$runs" -ge 1
is "$fails" "0" "every apt-get update succeeded"
done_testing
