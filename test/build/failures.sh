#!/bin/sh
# What goes wrong in a build: a broken debian/rules, a missing build
# dependency, a hung build, an unreachable repository.  Each gets a clear
# error and its log, the entry is marked failed, nothing of it is published
# (the previous version stays), and the other entries are built all the same.
. "$TOP_SRCDIR/test/lib/tap.sh"
. "$TOP_SRCDIR/test/build/common.sh"
build_tools_or_skip python3

make_pkg "$T/src/good" jcf-good
make_pkg "$T/src/bad" jcf-bad
make_pkg "$T/src/deps" jcf-deps "true" "dpkg-dev, jcicd-no-such-package-xyz (>= 2)"
make_pkg "$T/src/hung" jcf-hung "sleep 317"
export JCICD_CONFIG="$T/jcicd.yaml"
REPO="$T/repo"
write_config "$JCICD_CONFIG" "$REPO" "{name: good, git: src/good}" "{name: bad, git: src/bad}"

exits 0 "both build at first" jcicd build poll
good1=$(repo_version "$REPO" jcf-good)
bad1=$(repo_version "$REPO" jcf-bad)
ok "bad is published at first ($bad1)" test -n "$bad1"

# 1. a broken debian/rules: bad fails, good still builds
sed -i 's/^\ttrue$/\techo broken-on-purpose >\&2; exit 3/' "$T/src/bad/debian/rules"
"$REAL_GIT" $GIT_AS -C "$T/src/bad" commit -q -am "break the build"
commit "$T/src/good"
pool_before=$(find "$REPO/pool" -name 'jcf-bad_*' | sort)
exits 1 "a failed build makes poll exit 1" jcicd build poll
like "$OUT" "bad: FAILED: jcf-bad 1\.0\+git[0-9]+\.2\.[0-9a-f]+: dpkg-buildpackage failed \(exit 2\)" "the error names the package, its version and what failed"
like "$OUT" "  log: $T/state/build/logs/bad/" "the failure points at its log"
like "$OUT" "good: built" "the other entry is built all the same"
like "$ERR" "dpkg-buildpackage failed" "stderr says why the exit is 1"
good2=$(repo_version "$REPO" jcf-good)
ok "good moved up ($good2)" version_gt "$good2" "$good1"
is "$(repo_version "$REPO" jcf-bad)" "$bad1" "bad keeps its previous version in the repository"
is "$(find "$REPO/pool" -name 'jcf-bad_*' | sort)" "$pool_before" "no file of the failed build reached the pool"
is "$(status_field bad last_result)" "failed" "status: bad failed"
is "$(status_field bad last_built_version)" "$bad1" "status: the last good version is still $bad1"
like "$(status_field bad last_error)" "dpkg-buildpackage failed" "status: the error"
log=$(status_field bad log)
ok "the full log is kept ($log)" grep -q broken-on-purpose "$log"
ok "the log says it failed" grep -q 'FAILED' "$log"

# 2. a failed commit is not rebuilt on every poll; the next commit is
exits 0 "the next poll does not retry the failed commit" jcicd build poll
like "$OUT" "bad: unchanged at .* \(failed" "it is reported as unchanged, last failed"
sed -i 's/^\techo broken-on-purpose.*$/\ttrue/' "$T/src/bad/debian/rules"
"$REAL_GIT" $GIT_AS -C "$T/src/bad" commit -q -am "fix the build"
exits 0 "a fixing commit builds again" jcicd build poll
bad3=$(repo_version "$REPO" jcf-bad)
ok "bad is published again, higher ($bad3 > $bad1)" version_gt "$bad3" "$bad1"
like "$bad3" '\.3\.[0-9a-f]{7}$' "the failed attempt used up build number 2"

# 3. a missing build dependency is named before dpkg-buildpackage runs
write_config "$JCICD_CONFIG" "$REPO" "{name: good, git: src/good}" "{name: deps, git: src/deps}" \
	"{name: extra, git: src/good, build_depends: 'jcicd-no-such-extra'}"
exits 1 "missing build dependencies fail the build" jcicd build poll
like "$OUT" "deps: FAILED: missing build dependencies: jcicd-no-such-package-xyz \(>= 2\)" "the error names what is missing"
like "$OUT" "install_build_deps" "and says how to have it installed"
like "$OUT" "extra: FAILED: missing build dependencies: jcicd-no-such-extra" "extra build_depends are checked too"
ok "the check is in the log" grep -q dpkg-checkbuilddeps "$(status_field deps log)"
ok "dpkg-buildpackage never ran" sh -c "! grep -q '\\\$ dpkg-buildpackage' '$(status_field deps log)'"
is "$(repo_version "$REPO" jcf-deps)" "" "nothing of deps is published"
is "$(repo_version "$REPO" jcf-good)" "$good2" "good is unchanged (nothing moved)"

# 4. a hung build is stopped at its deadline, with everything it started
write_config "$JCICD_CONFIG" "$REPO" "{name: good, git: src/good}" "{name: hung, git: src/hung, timeout: 15s}"
start=$(date +%s)
exits 1 "a hung build fails" jcicd build run hung
took=$(($(date +%s) - start))
ok "it was stopped near its deadline (${took}s)" test "$took" -lt 60
like "$OUT" "hung: FAILED: .*(deadline|did not finish)" "the error says the deadline passed"
is "$(pids_below "$T/state/build")" "" "no process of the build is left"
ok "its log is kept" grep -q 'sleep 317' "$(status_field hung log)"
is "$(repo_version "$REPO" jcf-hung)" "" "nothing of hung is published"

# 5. an unreachable repository: exit 3, the others built
write_config "$JCICD_CONFIG" "$REPO" "{name: good, git: src/good}" "{name: gone, git: $T/no/such/repo.git}"
commit "$T/src/good"
exits 3 "an unreachable source makes poll exit 3" jcicd build poll
like "$OUT" "gone: UNREACHABLE: cannot reach git repository $T/no/such/repo.git" "the error names the repository"
like "$OUT" "good: built" "good is built all the same"
is "$(status_field gone last_result)" "unreachable" "status: unreachable"
ok "good moved up" version_gt "$(repo_version "$REPO" jcf-good)" "$good2"
# a branch that does not exist is a failure of that entry, not of the host
write_config "$JCICD_CONFIG" "$REPO" "{name: good, git: src/good, branch: nope}"
exits 1 "a missing branch fails the entry" jcicd build poll
like "$OUT" "good: FAILED: .*src/good has no branch nope" "the error names the branch"
good_before=$(status_field good builds)
write_config "$JCICD_CONFIG" "$REPO" "{name: good, git: src/good, branch: main}"
exits 0 "back on a branch that exists: nothing to rebuild" jcicd build poll
like "$OUT" "0 changed, 0 built" "the failed ls-remote did not make the old commit look new"
is "$(status_field good builds)" "$good_before" "and used no build number"

# 6. an APT entry whose repository is not there: a clear failure, the rest builds
commit "$T/src/good"
write_config "$JCICD_CONFIG" "$REPO" "{name: good, git: src/good}" \
	"{name: carried, apt: {path: $T/mirror, suite: stable}, binary: jq}"
exits 1 "an APT entry without its repository fails" jcicd build poll
like "$OUT" "carried: FAILED: .*neither dists/stable/InRelease nor dists/stable/Release exists at $T/mirror" \
	"with an error that says what is missing where"
like "$OUT" "good: built" "good is built all the same"
done_testing
