#!/bin/sh
# Job XML as golden files, the way Jenkins Job Builder keeps its fixtures:
# test/data/jobs/<case>.yaml beside <case>/<job>/config.xml, plus the jobs of
# jcicd's own pipeline (jenkins-glue/jobs/jcicd.yaml -> test/data/jobs/pipeline/),
# and the bad-definition corpus: test/data/jobs-invalid/<case>/{jobs.yaml,error}
# (adding a case is adding two files).
# Regenerate with GOLDEN_UPDATE=1 after a deliberate change, and review the diff.
. "$TOP_SRCDIR/test/lib/tap.sh"
D=$TOP_SRCDIR/test/data/jobs

golden_dir() { # case definition
	rm -rf "$T/$1"
	if ! jcicd jobs generate "$T/$1" --jobs "$2" >/dev/null 2>"$T/$1.err"; then
		_tap_result 1 "golden $1: generate"; sed 's/^/# /' "$T/$1.err"; return
	fi
	if [ -n "${GOLDEN_UPDATE:-}" ]; then rm -rf "${D:?}/$1"; cp -r "$T/$1" "$D/$1"; fi
	if diff -ru "$D/$1" "$T/$1" >"$T/$1.diff"; then
		_tap_result 0 "golden $1 ($(find "$D/$1" -name config.xml | wc -l) jobs)"
	else
		_tap_result 1 "golden $1"; sed 's/^/# /' "$T/$1.diff" | head -60
	fi
}

for y in "$D"/*.yaml; do
	c=$(basename "$y" .yaml)
	[ -d "$D/$c" ] || [ -n "${GOLDEN_UPDATE:-}" ] && [ "$c" != many ] && golden_dir "$c" "$y"
done
golden_dir pipeline "$TOP_SRCDIR/jenkins-glue/jobs/jcicd.yaml"

# generate is idempotent: the second run leaves every file alone
exits 0 "generate the 200-job set" jcicd jobs generate "$T/many" --jobs "$D/many.yaml"
is "$OUT" "200 jobs in $T/many (200 files written)" "200 jobs from templates, all written"
exits 0 "generate it again" jcicd jobs generate "$T/many" --jobs "$D/many.yaml" --json
is "$(printf '%s' "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["jobs"]), len(set(d["jobs"])), d["written"])')" \
	"200 200 0" "200 distinct names, nothing rewritten"
exits 0 "list" jcicd jobs list --jobs "$TOP_SRCDIR/jenkins-glue/jobs/jcicd.yaml"
is "$(printf '%s\n' "$OUT" | tr '\n' ' ')" \
	"jcicd-poll jcicd-acceptance jcicd-nonfunctional jcicd-upgrade jcicd-promote-testing jcicd-staging jcicd-promote-stable jcicd-production " \
	"the pipeline's jobs, in definition order"

# the jobs section of jcicd.yaml can include the same definition
mkdir -p "$T/proj"
cat >"$T/proj/jcicd.yaml" <<EOT
jobs:
  jenkins: {url: http://127.0.0.1:9, user: u, token-file: secret/token}
  include: $TOP_SRCDIR/jenkins-glue/jobs/jcicd.yaml
EOT
exits 0 "generate from the jobs section of jcicd.yaml" sh -c "cd '$T/proj' && '$JCICD' jobs generate out"
ok "the same jobs as from the file" diff -r "$D/pipeline" "$T/proj/out"
exits 2 "no definition at all is a usage error" sh -c "cd '$T' && '$JCICD' jobs list"
like "$ERR" "no job definition: give --jobs FILE, or a jobs section in jcicd.yaml" "says where a definition comes from"

# the bad-definition corpus: exit 2, the exact error with file:line:col
for c in "$TOP_SRCDIR"/test/data/jobs-invalid/*/; do
	name=$(basename "$c")
	exits 2 "invalid $name: exit 2" sh -c 'cd "$1" && "$JCICD" jobs list --jobs jobs.yaml' _ "$c"
	is "$ERR" "jcicd jobs list: $(cat "$c/error")" "invalid $name: the error"
done
exits 2 "a missing definition file" jcicd jobs list --jobs "$T/nothere.yaml"
like "$ERR" "nothere.yaml" "names the file"
exits 0 "--help" jcicd jobs generate --help
like "$OUT" "Usage: jcicd jobs generate DIR" "generate --help prints its usage"
done_testing
