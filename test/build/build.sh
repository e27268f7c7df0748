#!/bin/sh
# jcicd build poll|run|status with real git and dpkg-buildpackage: a commit
# makes poll build exactly that package with a higher version (dpkg's
# order); no commit, no build and nothing cloned or fetched (one
# ls-remote per source); two entries build independently; status --json.
. "$TOP_SRCDIR/test/lib/tap.sh"
. "$TOP_SRCDIR/test/build/common.sh"
build_tools_or_skip python3

make_pkg "$T/src/alpha" jcb-alpha
make_pkg "$T/src/beta" jcb-beta
export JCICD_CONFIG="$T/jcicd.yaml"
write_config "$JCICD_CONFIG" "$T/repo" \
	"{name: alpha, git: src/alpha, branch: main}" \
	"{name: beta, git: $T/src/beta}"
REPO="$T/repo"

# 1. the first poll builds both
exits 0 "first poll builds both entries" jcicd build poll
like "$OUT" "alpha: built 1\.0\+git[0-9]{8}\.1\.$(head_of "$T/src/alpha" | cut -c1-7)" "alpha built from its head"
like "$OUT" "2 sources checked, 2 changed, 2 built, 0 failed" "the summary counts both"
a1=$(repo_version "$REPO" jcb-alpha)
b1=$(repo_version "$REPO" jcb-beta)
like "$a1" '^1\.0\+git[0-9]{8}\.1\.[0-9a-f]{7}$' "the repository lists alpha ($a1)"
like "$b1" '^1\.0\+git[0-9]{8}\.1\.[0-9a-f]{7}$' "the repository lists beta ($b1)"
ok "the version sorts after the changelog's 1.0" version_gt "$a1" 1.0
ok "the .deb is in the pool" test -f "$REPO/pool/main/j/jcb-alpha/jcb-alpha_${a1}_all.deb"
ok "a Release names the Packages index" grep -q 'main/binary-amd64/Packages$' "$REPO/dists/unstable/Release"
ok "the built package says its version" \
	sh -c "dpkg-deb --fsys-tarfile '$REPO/pool/main/j/jcb-alpha/jcb-alpha_${a1}_all.deb' | tar -xO ./usr/bin/jcb-alpha | grep -qx 'echo jcb-alpha $a1'"

# 2. nothing moved: nothing built, nothing cloned or fetched
git_calls_reset
exits 0 "a poll without commits succeeds" jcicd build poll
like "$OUT" "0 changed, 0 built" "nothing is built"
is "$(git_calls)" "ls-remote=2 " "git was asked with ls-remote only, once per source"
is "$(repo_version "$REPO" jcb-alpha) $(repo_version "$REPO" jcb-beta)" "$a1 $b1" "the repository is unchanged"

# 3. a commit to alpha builds alpha, and only alpha, with a higher version
commit "$T/src/alpha"
git_calls_reset
exits 0 "a poll after a commit to alpha" jcicd build poll
like "$OUT" "alpha: built .*\.2\.$(head_of "$T/src/alpha" | cut -c1-7) " "alpha built from the new commit, build 2"
like "$OUT" "beta: unchanged" "beta is left alone"
like "$OUT" "1 changed, 1 built" "exactly one build"
a2=$(repo_version "$REPO" jcb-alpha)
ok "alpha's new version $a2 is higher than $a1 (dpkg)" version_gt "$a2" "$a1"
is "$(repo_version "$REPO" jcb-beta)" "$b1" "beta keeps its version"
is "$(grep -c '^fetch$' "$T/git.calls")" 1 "one fetch, for alpha"
ok "the old alpha left the index" sh -c "! grep -q 'Version: $a1\$' '$REPO/dists/unstable/main/binary-amd64/Packages'"

# 4. commits to both: both build (in parallel, each on its own)
commit "$T/src/alpha"
commit "$T/src/beta"
exits 0 "a poll after commits to both" jcicd build poll
like "$OUT" "2 changed, 2 built" "both built"
a3=$(repo_version "$REPO" jcb-alpha)
b3=$(repo_version "$REPO" jcb-beta)
ok "alpha moved up again" version_gt "$a3" "$a2"
ok "beta moved up" version_gt "$b3" "$b1"
like "$b3" '\.2\.[0-9a-f]{7}$' "beta's counter is its own (build 2)"

# 5. status, for people and as JSON
exits 0 "build status" jcicd build status
like "$OUT" "alpha \(git $T/src/alpha\)" "status names the source"
ok "status lists the published package" has_line "$OUT" "  package   jcb-alpha $a3 all"
is "$(status_field alpha last_commit_seen)" "$(head_of "$T/src/alpha")" "--json: the last commit seen"
is "$(status_field alpha last_built_commit)" "$(head_of "$T/src/alpha")" "--json: the last built commit"
is "$(status_field alpha last_built_version)" "$a3" "--json: the last built version"
is "$(status_field alpha last_result)" "ok" "--json: the last result"
is "$(status_field alpha builds)" "3" "--json: three builds of alpha"
ok "--json: the log is kept" test -s "$(status_field alpha log)"
ok "the log holds dpkg-buildpackage's output" grep -q 'dpkg-buildpackage' "$(status_field alpha log)"
exits 0 "poll --json" jcicd build poll --json
is "$(printf '%s' "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["checked"], d["built"], [e["result"] for e in d["entries"]])')" \
	"2 0 ['unchanged', 'unchanged']" "poll --json counts and per-entry results"

# 6. run forces a build of the named entry: a new version from the same commit
exits 0 "build run beta" jcicd build run beta
b4=$(repo_version "$REPO" jcb-beta)
ok "run gives beta a higher version ($b4)" version_gt "$b4" "$b3"
is "$(repo_version "$REPO" jcb-alpha)" "$a3" "run beta leaves alpha alone"
exits 2 "run of an unknown entry is bad input" jcicd build run alpah
like "$ERR" "no build source named alpah \(did you mean alpha\?\)" "an unknown entry gets a did-you-mean"

# 7. the --sources file replaces the configured list; relative to itself
mkdir -p "$T/conf"
printf 'sources:\n  - {name: beta, git: ../src/beta}\n' >"$T/conf/sources.yaml"
exits 0 "poll --sources" jcicd build poll --sources "$T/conf/sources.yaml"
like "$OUT" "1 source checked" "only the file's entry is polled"

# 8. the other verbs
exits 0 "--help for every verb" sh -c "for v in poll run status publish watch; do '$JCICD' build \$v --help | grep -q \"jcicd build \$v\" || exit 1; done"
exits 0 "build publish rewrites the indices" jcicd build publish
is "$(repo_version "$REPO" jcb-alpha) $(repo_version "$REPO" jcb-beta)" "$a3 $b4" "publish lists the same versions"
exits 0 "watch --count 1 polls once" jcicd build watch --count 1 --interval 1s
like "$OUT" "poll: 2 checked, 0 changed" "the watch's poll"
done_testing
