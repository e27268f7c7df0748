#!/bin/sh
# Cross-check with the reference generator: the same jobs written as Jenkins
# Job Builder YAML (test/data/jobs-jjb/<case>.yaml), rendered by
# `jenkins-jobs test` (Debian jenkins-job-builder), must be jcicd's jobs after
# XML canonicalisation.  test/lib/compare-jobs.py compares with Python's own
# C14N (not jcicd's) and lists each difference it allows, with its reason.
. "$TOP_SRCDIR/test/lib/tap.sh"
D=$TOP_SRCDIR/test/data
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
if ! command -v jenkins-jobs >/dev/null 2>&1; then
	skip "jenkins-jobs is not installed (test/packages/jobs.list; scripts/test installs it)"
	done_testing; exit
fi
diag "$(jenkins-jobs --version 2>&1 | head -1)"
export HOME="$T" XDG_CACHE_HOME="$T/cache"

first=1
for c in features templates many pipeline; do
	def=$D/jobs/$c.yaml
	[ "$c" = pipeline ] && def=$TOP_SRCDIR/jenkins-glue/jobs/jcicd.yaml
	exits 0 "$c: jcicd jobs generate" jcicd jobs generate "$T/jcicd-$c" --jobs "$def"
	exits 0 "$c: jenkins-jobs test" jenkins-jobs test "$D/jobs-jjb/$c.yaml" -o "$T/jjb-$c" --config-xml
	"$PY" "$TOP_SRCDIR/test/lib/compare-jobs.py" "$T/jcicd-$c" "$T/jjb-$c" >"$T/cmp-$c" 2>&1
	rc=$?
	if [ "$first" = 1 ]; then grep '^# justified' "$T/cmp-$c"; first=0; fi
	n=$(find "$T/jjb-$c" -name config.xml | wc -l)
	if [ "$rc" = 0 ]; then
		_tap_result 0 "$c: all $n jobs equivalent to JJB's after canonicalisation"
	else
		_tap_result 1 "$c: jobs differ from JJB's"
		grep -v '^# justified\|^same ' "$T/cmp-$c" | sed 's/^/# /' | head -80
	fi
done

# the comparison is not vacuous: an edit on one side is caught
f=$T/jcicd-pipeline/jcicd-acceptance/config.xml
sed 's/--junit junit.xml/--junit other.xml/' "$f" >"$f.new" && mv "$f.new" "$f"
exits 1 "a changed shell step is a difference" "$PY" "$TOP_SRCDIR/test/lib/compare-jobs.py" "$T/jcicd-pipeline" "$T/jjb-pipeline"
like "$OUT" "differs jcicd-acceptance" "the comparison names the job"
done_testing
