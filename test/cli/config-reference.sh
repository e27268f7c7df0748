#!/bin/sh
# examples/jcicd.yaml, the complete reference, is read by the commands of
# every section it documents (so it cannot drift from the parsers), and a
# typo in it is reported with its place and a suggestion.
. "$TOP_SRCDIR/test/lib/tap.sh"
C="$TOP_SRCDIR/examples/jcicd.yaml"
KV="sqlite://$T/kv.db"      # the reference names system paths: keep off them

exits 0 "jobs: the section and the file it includes" jcicd jobs list --config "$C"
like "$OUT" "jcicd-poll" "its jobs are jcicd's own pipeline"
exits 0 "build: the section and its sources file parse" jcicd build status --config "$C" --json
like "$OUT" "hello-jcicd" "the sources file's entry is there"
exits 0 "snapshots: the section parses" jcicd snapshot list --config "$C" --publish-root "$T/publish"
exits 0 "kv: the section parses" jcicd current-version --config "$C" --kv "$KV"
exits 1 "kv.rollout: the section parses (no rollout yet)" jcicd rollout status --config "$C" --kv "$KV"
exits 2 "pipeline: every stage parses" jcicd stage nosuch --snapshot 1 --config "$C"
like "$ERR" "its stages: acceptance, nonfunctional, upgrade, staging, production" "all five stages are there"
printf 'state:\n  dir: %s/from-file\n' "$T" >"$T/state.yaml"
exits 0 "state: a command with \$JCICD_STATE_DIR set" jcicd snapshot list --config "$T/state.yaml" --publish-root "$T/publish"
ok "\$JCICD_STATE_DIR wins over state.dir" sh -c "[ -f '$JCICD_STATE_DIR/jcicd.db' ] && [ ! -e '$T/from-file' ]"
exits 0 "without it" env -u JCICD_STATE_DIR "$JCICD" snapshot list --config "$T/state.yaml" --publish-root "$T/publish"
ok "state.dir is used" test -f "$T/from-file/jcicd.db"
exits 0 "--state-dir wins over both" jcicd snapshot list --config "$T/state.yaml" --state-dir "$T/flag" --publish-root "$T/publish"
ok "the flag's directory is used" test -f "$T/flag/jcicd.db"

sed 's/^  publish_root:/  publish_rot:/' "$C" >"$T/typo.yaml"
line=$(grep -n '^  publish_rot:' "$T/typo.yaml" | cut -d: -f1)
exits 2 "a misspelt key is bad input" jcicd snapshot list --config "$T/typo.yaml"
like "$ERR" "typo.yaml:$line:3: .*publish_rot.*did you mean \"publish_root\"" "it says where, what and what was meant"
sed 's/^snapshots:/snapshot:/' "$C" >"$T/typo2.yaml"
exits 2 "a misspelt section is bad input" jcicd jobs list --config "$T/typo2.yaml"
like "$ERR" "did you mean \"snapshots\"" "with the section it meant"
done_testing
