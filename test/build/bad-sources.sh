#!/bin/sh
# Bad sources files (and bad build sections of jcicd.yaml): every verb
# exits 2 with FILE:LINE:COL and why, and changes nothing - the state
# directory and the build repository stay byte for byte as they were.
. "$TOP_SRCDIR/test/lib/tap.sh"
. "$TOP_SRCDIR/test/build/common.sh"
build_tools_or_skip

make_pkg "$T/src/one" jcs-one
REPO="$T/repo"
cd "$T" || exit 1
write_config "$T/good.yaml" "$REPO" "{name: one, git: src/one}"
exits 0 "a good configuration builds" jcicd build poll --config "$T/good.yaml"
commit "$T/src/one"   # a poll that got through would build this

fingerprint() {
	(cd "$T" && find state repo -type f ! -name '*.lock' | sort | xargs sha256sum) | sha256sum
}
before=$(fingerprint)

# case NAME FILE-TEXT EXPECTED-STDERR-REGEX: as a --sources file
sources_case() {
	printf '%b' "$2" >"$T/bad-$1.yaml"
	exits 2 "$1: poll exits 2" jcicd build poll --config "$T/good.yaml" --sources "$T/bad-$1.yaml"
	like "$ERR" "^jcicd build poll: $3" "$1: $3"
}
sources_case typo 'sources:\n  - git: src/one\n    brnach: main\n' \
	"$T/bad-typo.yaml:3:5: unknown key \"brnach\" .*did you mean \"branch\"\\?"
sources_case top-typo 'sourcs:\n  - git: src/one\n' \
	"$T/bad-top-typo.yaml:1:1: unknown key \"sourcs\" in a sources file; did you mean \"sources\"\\?"
sources_case yaml 'sources:\n  - git: [src/one\n' "$T/bad-yaml.yaml:[0-9]+:[0-9]+: invalid YAML"
sources_case list '- git: src/one\n' "$T/bad-list.yaml:1:1: a sources file must be a mapping"
sources_case no-kind 'sources:\n  - name: one\n' "$T/bad-no-kind.yaml:2:5: .*exactly one of git"
sources_case two-kinds 'sources:\n  - {git: src/one, apt: {url: http://h, suite: s}, source: x}\n' \
	"$T/bad-two-kinds.yaml:2:5: .*exactly one of git"
sources_case duplicate 'sources:\n  - {git: a/one}\n  - {git: b/one}\n' \
	"$T/bad-duplicate.yaml:3:5: a second build source named one \\(the first is at line 2"
sources_case name 'sources:\n  - {git: src/one, name: One_}\n' "$T/bad-name.yaml:2:26: .*not a usable entry name"
sources_case timeout 'sources:\n  - {git: src/one, timeout: soon}\n' \
	"$T/bad-timeout.yaml:2:29: .*duration.*not \"soon\""
sources_case version 'sources:\n  - {git: src/one, version: "{version}+{sha}"}\n' \
	"$T/bad-version.yaml:2:29: .*unknown placeholder \\{sha\\}"
sources_case no-build 'sources:\n  - {git: src/one, version: "{version}+git{short}"}\n' \
	"$T/bad-no-build.yaml:2:29: .*has no \\{build\\}"
sources_case apt-url 'sources:\n  - apt: {url: ftp://h, suite: s}\n    binary: b\n' \
	"$T/bad-apt-url.yaml:2:16: .*http:// or https://"
sources_case arch 'sources:\n  - {git: src/one, architectures: {a: b}}\n' \
	"$T/bad-arch.yaml:2:35: architectures of a build source must be a list"
sources_case empty 'sources: []\n' "no build sources"
exits 2 "a missing --sources file exits 2" jcicd build poll --config "$T/good.yaml" --sources "$T/nowhere.yaml"
like "$ERR" "$T/nowhere.yaml: cannot read" "the error names the file"

# the build section of jcicd.yaml itself
config_case() {
	printf '%b' "$2" >"$T/cfg-$1.yaml"
	exits 2 "$1: poll exits 2" jcicd build poll --config "$T/cfg-$1.yaml"
	like "$ERR" "^jcicd build poll: $3" "$1: $3"
	exits 2 "$1: status exits 2 too" jcicd build status --config "$T/cfg-$1.yaml"
}
config_case repo-typo "build:\n  repositry: {path: repo}\n" \
	"$T/cfg-repo-typo.yaml:2:3: unknown key \"repositry\".*did you mean \"repository\"\\?"
config_case parallel "build:\n  repository: {path: repo}\n  max_parallel: 0\n  sources: [{git: src/one}]\n" \
	"$T/cfg-parallel.yaml:3:17: build.max_parallel"
config_case no-path "build:\n  repository: {suite: s}\n" "$T/cfg-no-path.yaml:2:15: build.repository needs a path"
config_case no-file "build:\n  repository: {path: repo}\n  sources: nofile.yaml\n" \
	"$T/cfg-no-file.yaml:3:12: build.sources: no sources file $T/nofile.yaml"
config_case entry "build:\n  repository: {path: repo}\n  sources:\n    - {git: src/one, brnach: main}\n" \
	"$T/cfg-entry.yaml:4:22: unknown key \"brnach\""
printf 'build:\n  sources: [{git: src/one}]\n' >"$T/cfg-no-repo.yaml"
exits 2 "no repository: poll exits 2" jcicd build poll --config "$T/cfg-no-repo.yaml"
like "$ERR" "no build repository: set build.repository.path" "and says what to set"

# bad flags
exits 2 "--jobs 0" jcicd build poll --config "$T/good.yaml" --jobs 0
exits 2 "--timeout soon" jcicd build poll --config "$T/good.yaml" --timeout soon
exits 2 "watch --interval 0" jcicd build watch --config "$T/good.yaml" --interval 0s

is "$(fingerprint)" "$before" "nothing in the state directory or the repository changed"
ok "no build ran: the commit is still unbuilt" sh -c \
	"! PATH='$T/bin:$PATH' '$JCICD' build status --config '$T/good.yaml' --json | grep -q '$(head_of "$T/src/one")'"
done_testing
