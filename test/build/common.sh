# common.sh - what the build server tests share (sourced after tap.sh):
# tiny Debian source trees in real git repositories, a git that records
# how it was called, and a jcicd.yaml for them.
#
# The packages of these tests build with plain dpkg tools (no debhelper),
# so a build takes a second or two; chain.sh builds the real example.

# Skip the whole script (TAP "1..0 # SKIP") without the tools.
build_tools_or_skip() {
	local t
	for t in git dpkg-buildpackage dpkg-checkbuilddeps dpkg-deb "$@"; do
		if ! command -v "$t" >/dev/null 2>&1; then
			echo "1..0 # SKIP $t is not installed (test/packages/build.list; scripts/test installs it)"
			exit 0
		fi
	done
}

GIT_AS="-c user.name=jcicd-test -c user.email=test@jcicd.invalid -c init.defaultBranch=main"

# A git that appends each call ("ls-remote", "fetch", ...) to $T/git.calls
# before running the real one; on PATH for jcicd only.
REAL_GIT=$(command -v git)
mkdir -p "$T/bin"
cat >"$T/bin/git" <<EOF
#!/bin/sh
# log the subcommand (the first argument that is not an option or -C's value)
sub=""; skip=0
for a in "\$@"; do
	if [ \$skip = 1 ]; then skip=0; continue; fi
	case \$a in -C|-c) skip=1 ;; -*) ;; *) sub=\$a; break ;; esac
done
echo "\$sub" >>"$T/git.calls"
exec "$REAL_GIT" "\$@"
EOF
chmod +x "$T/bin/git"
jcicd() { PATH="$T/bin:$PATH" "$JCICD" "$@"; }
git_calls() { cat "$T/git.calls" 2>/dev/null | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' '; }
git_calls_reset() { : >"$T/git.calls"; }

# make_pkg DIR NAME [RULES_BUILD_LINE] [BUILD_DEPENDS]: a git repository at
# DIR (branch main) holding the source package NAME, version 1.0, whose
# binary NAME (Architecture: all) installs /usr/bin/NAME printing
# "NAME <version>".  RULES_BUILD_LINE is run by debian/rules build.
make_pkg() {
	local dir=$1 name=$2 build=${3:-true} bdeps=${4:-}
	mkdir -p "$dir/debian/source"
	cat >"$dir/debian/control" <<EOF
Source: $name
Section: misc
Priority: optional
Maintainer: jcicd tests <test@jcicd.invalid>
Build-Depends: ${bdeps:-dpkg-dev}
Rules-Requires-Root: no

Package: $name
Architecture: all
Description: a package of the jcicd build tests
 It prints its name and version.
EOF
	cat >"$dir/debian/changelog" <<EOF
$name (1.0) unstable; urgency=medium

  * First.

 -- jcicd tests <test@jcicd.invalid>  Mon, 01 Jan 2024 00:00:00 +0000
EOF
	echo "3.0 (native)" >"$dir/debian/source/format"
	printf '%s\n' "#!/usr/bin/make -f" \
		"V := \$(shell dpkg-parsechangelog -SVersion)" \
		"build build-arch build-indep:" \
		"	$build" \
		"binary binary-indep: build" \
		"	rm -rf debian/tmp" \
		"	install -d debian/tmp/DEBIAN debian/tmp/usr/bin" \
		"	printf '#!/bin/sh\\necho $name %s\\n' '\$(V)' >debian/tmp/usr/bin/$name" \
		"	chmod 0755 debian/tmp/usr/bin/$name" \
		"	dpkg-gencontrol -p$name -Pdebian/tmp" \
		"	dpkg-deb --root-owner-group --build debian/tmp .." \
		"binary-arch:" \
		"clean:" \
		"	rm -rf debian/tmp debian/files" \
		".PHONY: build build-arch build-indep binary binary-indep binary-arch clean" >"$dir/debian/rules"
	chmod +x "$dir/debian/rules"
	echo "$name" >"$dir/README"
	"$REAL_GIT" -C "$dir" init -q -b main
	"$REAL_GIT" -C "$dir" add -A
	"$REAL_GIT" $GIT_AS -C "$dir" commit -q -m "$name: first"
}

# commit DIR [MESSAGE]: a change to the README, committed
commit() {
	echo "${2:-a change} $(date +%s%N)" >>"$1/README"
	"$REAL_GIT" $GIT_AS -C "$1" commit -q -am "${2:-a change}"
}
head_of() { "$REAL_GIT" -C "$1" rev-parse HEAD; }

# write_config FILE REPO_DIR ENTRY_YAML...: a jcicd.yaml with a build
# section; each ENTRY_YAML is one item of build.sources (a flow mapping)
write_config() {
	local file=$1 repo=$2 e; shift 2
	{
		echo "build:"
		echo "  repository: {path: $repo, suite: unstable, component: main, architectures: [amd64]}"
		echo "  max_parallel: 2"
		echo "  timeout: 5m"
		echo "  sources:"
		for e in "$@"; do echo "    - $e"; done
	} >"$file"
}

# the version of PACKAGE in the build repository's Packages ("" if none)
repo_version() { # REPO PACKAGE
	awk -v p="$2" '$1 == "Package:" { on = ($2 == p) } on && $1 == "Version:" { print $2 }' \
		"$1/dists/unstable/main/binary-amd64/Packages" 2>/dev/null
}

# a field of one entry of `jcicd build status --json`
status_field() { # ENTRY FIELD [jcicd args...]
	local entry=$1 field=$2; shift 2
	jcicd build status --json "$@" | python3 -c '
import json, sys
entry, field = sys.argv[1], sys.argv[2]
for e in json.load(sys.stdin)["entries"]:
    if e["name"] == entry:
        v = e.get(field)
        print("" if v is None else v)' "$entry" "$field"
}

# has_line TEXT LINE: TEXT has LINE, exactly
has_line() { printf '%s\n' "$1" | grep -qxF -- "$2"; }

# dpkg's answer: version_gt A B
version_gt() { dpkg --compare-versions "$1" gt "$2"; }
