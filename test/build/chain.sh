#!/bin/sh
# The chain the build server starts, with the real example package
# (examples/packages/hello-jcicd, debhelper): a commit -> jcicd build poll
# -> the build repository (read by a real apt-get) -> jcicd snapshot poll
# -> apt-get install from the snapshot into a private root -> hello-jcicd
# prints the version that was built; then once more after a new commit.
. "$TOP_SRCDIR/test/lib/tap.sh"
. "$TOP_SRCDIR/test/build/common.sh"
build_tools_or_skip dh apt-get

"$TOP_SRCDIR/examples/packages/make-git-repo.sh" "$T/src/hello-jcicd" >/dev/null
export JCICD_CONFIG="$T/jcicd.yaml"
cat >"$JCICD_CONFIG" <<'EOF'
build:
  repository: {path: build-repo, suite: unstable, component: main, architectures: [amd64]}
  timeout: 10m
  sources: sources.yaml
snapshots:
  sources:
    - {name: build, path: build-repo, suite: unstable, components: [main], architectures: [amd64]}
  publish_root: publish
  suite: jcicd
  pointers: [latest]
EOF
# the example sources.yaml, pointed at this test's repository
sed "s|git: ../pipeline/state/src/hello-jcicd|git: $T/src/hello-jcicd|" \
	"$TOP_SRCDIR/examples/packages/sources.yaml" >"$T/sources.yaml"

# apt-get with its own sources, state, cache and dpkg database: it installs
# into $T/root as an ordinary user's tree, the system's APT is untouched
A="$T/apt"
ROOT="$T/root"
mkdir -p "$A/lists/partial" "$A/cache/archives/partial" "$A/etc/apt.conf.d" "$A/etc/preferences.d" \
	"$A/etc/sources.list.d" "$A/etc/trusted.gpg.d" "$ROOT/var/lib/dpkg/info" "$ROOT/var/lib/dpkg/updates"
: >"$ROOT/var/lib/dpkg/status"
apt() { # apt-get or apt-cache, then its arguments
	local tool=$1; shift
	"$tool" -q -o Dir::Etc="$A/etc" -o Dir::Etc::sourcelist="$A/sources.list" -o Dir::State="$A" \
		-o Dir::State::lists="$A/lists" -o Dir::State::status="$ROOT/var/lib/dpkg/status" \
		-o Dir::Cache="$A/cache" -o Debug::NoLocking=1 -o APT::Sandbox::User=root -o Acquire::Languages=none \
		-o DPkg::Options::=--root="$ROOT" -o DPkg::Options::=--admindir="$ROOT/var/lib/dpkg" \
		-o DPkg::Options::=--force-script-chrootless -o DPkg::Options::=--force-not-root \
		-o DPkg::Options::=--log="$A/dpkg.log" "$@"
}
use_repo() { # DIR SUITE
	echo "deb [trusted=yes] file:$1 $2 main" >"$A/sources.list"
	apt apt-get update >"$A/update.log" 2>&1 || { cat "$A/update.log"; return 1; }
}
candidate() { apt apt-cache policy hello-jcicd | awk '$1 == "Candidate:" { print $2 }'; }

# 1. the first build
exits 0 "build poll builds the example" jcicd build poll
v1=$(repo_version "$T/build-repo" hello-jcicd)
like "$v1" '^1\.0\+git[0-9]{8}\.1\.[0-9a-f]{7}$' "hello-jcicd $v1 is in the build repository"
ok "apt-get update reads the build repository" use_repo "$T/build-repo" unstable
is "$(candidate)" "$v1" "apt-cache offers the built version"

# 2. a snapshot of it, installed with apt-get
exits 0 "snapshot poll takes snapshot 1" jcicd snapshot poll
like "$OUT" "snapshot 1 published" "snapshot 1 published"
ok "apt-get update reads snapshot 1" use_repo "$T/publish/snapshots/1" jcicd
exits 0 "apt-get install hello-jcicd from snapshot 1" apt apt-get install -y hello-jcicd
is "$("$ROOT/usr/bin/hello-jcicd")" "hello from jcicd $v1" "hello-jcicd prints the version built"

# 3. a commit: a new version, a new snapshot, an upgrade
echo "# a change, $(date)" >>"$T/src/hello-jcicd/README"
"$REAL_GIT" $GIT_AS -C "$T/src/hello-jcicd" commit -q -am "a change"
exits 0 "build poll after the commit" jcicd build poll
like "$OUT" "hello-jcicd: built .* from $(head_of "$T/src/hello-jcicd" | cut -c1-7)" "the new commit is built"
v2=$(repo_version "$T/build-repo" hello-jcicd)
ok "the new version $v2 is higher than $v1" version_gt "$v2" "$v1"
exits 0 "snapshot poll takes snapshot 2" jcicd snapshot poll
like "$OUT" "snapshot 2 published" "snapshot 2 published"
exits 0 "snapshot diff 1 2" jcicd snapshot diff 1 2
ok "the diff shows the new version" has_line "$OUT" "! hello-jcicd all $v1 -> $v2"
ok "apt-get update reads snapshot 2" use_repo "$T/publish/snapshots/2" jcicd
exits 0 "apt-get upgrade from snapshot 2" apt apt-get upgrade -y
like "$OUT" "Unpacking hello-jcicd \(.*\) over \(.*\)" "hello-jcicd is upgraded"
is "$("$ROOT/usr/bin/hello-jcicd")" "hello from jcicd $v2" "hello-jcicd prints the new version"
is "$(awk '/^Package: hello-jcicd/ { on = 1 } on && /^Version:/ { print $2; exit }' "$ROOT/var/lib/dpkg/status")" \
	"$v2" "dpkg's database has the new version"

# 4. nothing new: no build, no snapshot
exits 0 "build poll without a commit" jcicd build poll
like "$OUT" "0 changed, 0 built" "nothing is built"
exits 0 "snapshot poll" jcicd snapshot poll
is "$(ls "$T/publish/snapshots")" "$(printf '1\n2')" "no third snapshot"
done_testing
