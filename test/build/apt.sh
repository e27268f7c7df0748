#!/bin/sh
# jcicd build poll with APT entries, against real repositories made with
# dpkg-deb and apt-ftparchive, served over HTTP (the counting server) and
# read from a local path: a binary package is carried over into the build
# repository; an unchanged repository costs one conditional request and no
# download; a new version upstream is picked up; a pin keeps a newer
# version out; a missing version is a clear error; a .deb that does not
# match its index publishes nothing.
. "$TOP_SRCDIR/test/lib/tap.sh"
. "$TOP_SRCDIR/test/build/common.sh"
. "$TOP_SRCDIR/test/lib/aptrepo.sh"
build_tools_or_skip python3 apt-ftparchive curl gpg
trap stop_servers EXIT

UP="$T/up"
repo_init "$UP" stable main amd64
repo_add "$UP" jcb-tool 1.0-1 all
repo_add "$UP" jcb-other 2.0-1 amd64
repo_index "$UP"
serve "$UP" UP
REPO="$T/repo"
export JCICD_CONFIG="$T/jcicd.yaml"
config() { # [PIN]
	write_config "$JCICD_CONFIG" "$REPO" \
		"{name: tool, apt: {url: $UP_URL, suite: stable}, binary: jcb-tool${1:+, pin: \"$1\"}}" \
		"{name: other, apt: {path: $UP, suite: stable, component: main}, binary: jcb-other}"
}
# the paths the server was asked for since the last reset, one per line
asked() {
	control UP stats | "$PYTHON" -c 'import json,sys; print("\n".join(sorted(json.load(sys.stdin)["paths"])))'
}
sha_of() { sha256sum "$1" | cut -d' ' -f1; }
config

# 1. the first poll carries both packages over, byte for byte
exits 0 "the first poll carries both binaries over" jcicd build poll
like "$OUT" "tool: built 1\.0-1 " "the HTTP entry gives jcb-tool 1.0-1"
like "$OUT" "other: built 2\.0-1 " "the path entry gives jcb-other 2.0-1"
is "$(repo_version "$REPO" jcb-tool) $(repo_version "$REPO" jcb-other)" "1.0-1 2.0-1" \
	"the build repository lists both, with their upstream versions"
ok "the .deb is in the pool" test -f "$REPO/pool/main/j/jcb-tool/jcb-tool_1.0-1_all.deb"
is "$(sha_of "$REPO/pool/main/j/jcb-tool/jcb-tool_1.0-1_all.deb")" "$(sha_of "$UP/pool/main/jcb-tool_1.0-1_all.deb")" \
	"it is the upstream file, unchanged"
like "$(status_field tool last_commit_seen)" "^1\.0-1@[0-9a-f]{64}#" "status shows the version and hash seen"

# 2. nothing moved upstream: one conditional request, nothing downloaded
control UP reset >/dev/null
exits 0 "a poll of an unchanged repository" jcicd build poll
like "$OUT" "0 changed, 0 built" "nothing is built"
paths=$(asked)
ok "no index and no package was downloaded" sh -c "! printf '%s\n' '$paths' | grep -Eq 'Packages|\\.deb'"
ok "only the Release was asked for ($(echo $paths))" sh -c "! printf '%s\n' '$paths' | grep -qv 'Release'"
like "$(requests UP)" "^[12]$" "one or two requests (InRelease 404, then Release 304)"

# 3. a new version upstream is picked up
repo_add "$UP" jcb-tool 1.1-1 all
repo_index "$UP"
exits 0 "a poll after a new upstream version" jcicd build poll
like "$OUT" "tool: built 1\.1-1 " "jcb-tool 1.1-1 is carried over"
like "$OUT" "1 changed, 1 built" "only that entry"
is "$(repo_version "$REPO" jcb-tool)" "1.1-1" "the build repository moved to 1.1-1"

# 4. a pin keeps a newer version out (1.1-1 and 1.2-1 both upstream)
cp "$UP/pool/main/jcb-tool_1.1-1_all.deb" "$T/keep.deb"
repo_add "$UP" jcb-tool 1.2-1 all
cp "$T/keep.deb" "$UP/pool/main/jcb-tool_1.1-1_all.deb"
repo_index "$UP"
ok "upstream has both versions" sh -c "grep -c '^Package: jcb-tool' '$UP/dists/stable/main/binary-amd64/Packages' | grep -qx 2"
config "1.1*"
exits 0 "a poll with pin 1.1*" jcicd build poll
is "$(repo_version "$REPO" jcb-tool)" "1.1-1" "the pin keeps 1.2-1 out"
config
exits 0 "a poll without the pin" jcicd build poll
like "$OUT" "tool: built 1\.2-1 " "without it, 1.2-1 is carried over"
is "$(repo_version "$REPO" jcb-tool)" "1.2-1" "the build repository lists 1.2-1"

# 5. a pin nothing matches: the entry, the repository and what is there
config "9.*"
exits 1 "a pin that matches nothing fails" jcicd build poll
like "$OUT" "tool: FAILED: binary package jcb-tool matching \"9\.\*\" is not in $UP_URL \(suite stable, component main\)" \
	"the error names the entry, the package, the pin and the repository"
like "$OUT" "versions there: 1\.1-1, 1\.2-1" "and lists the versions there"
is "$(repo_version "$REPO" jcb-tool)" "1.2-1" "the build repository keeps 1.2-1"
like "$(status_field tool last_result)" "failed" "status says failed"

# 6. a .deb that does not match its index: nothing published
config
repo_add "$UP" jcb-tool 1.3-1 all
repo_index "$UP"
# one byte changed: the same size, another SHA256
"$PYTHON" -c 'import sys; f = open(sys.argv[1], "r+b"); f.seek(-10, 2); b = f.read(1); f.seek(-10, 2); f.write(bytes([b[0] ^ 1]))' \
	"$UP/pool/main/jcb-tool_1.3-1_all.deb"
exits 1 "a poll where the .deb does not match the index fails" jcicd build poll
like "$OUT" "tool: FAILED: .*jcb-tool_1\.3-1_all\.deb.*SHA256" "the error names the file and says its SHA256 did not match"
is "$(repo_version "$REPO" jcb-tool)" "1.2-1" "the build repository keeps 1.2-1"
ok "1.3-1 is not in the pool" sh -c "! ls '$REPO'/pool/main/j/jcb-tool/ | grep -q 1.3-1"
is "$(repo_version "$REPO" jcb-other)" "2.0-1" "the other entry is untouched"

# 7. the path entry picks up a new version too; a real apt-get reads the result
# (the repaired .deb differs from the one listed before by its content: two
# builds within one second would otherwise be the same bytes, and the same
# SHA256 as an attempt that failed is not tried again)
repo_add "$UP" jcb-tool 1.3-1 all main repaired
repo_add "$UP" jcb-other 2.1-1 amd64
repo_index "$UP"
exits 0 "a poll after new versions of both" jcicd build poll
like "$OUT" "other: built 2\.1-1 " "the path entry moved to 2.1-1"
like "$OUT" "tool: built 1\.3-1 " "the repaired 1.3-1 is carried over"
apt_setup "$T/apt" "deb [trusted=yes] file:$REPO unstable main"
exits 0 "apt-get update reads the build repository" apt_run "$T/apt" update
is "$(candidate "$T/apt" jcb-tool) $(candidate "$T/apt" jcb-other)" "1.3-1 2.1-1" "apt sees the carried-over versions"

# 8. a source package rebuilt: .dsc and tarball from dpkg-source -b, Sources
# from apt-ftparchive; the rebuild's version says where it came from
SRCUP="$T/srcup"
repo_init "$SRCUP" stable main amd64
# src_release VERSION: jcb-src at VERSION (native) in SRCUP's pool and indices
src_release() {
	[ -d "$T/srcpkg/jcb-src" ] || make_pkg "$T/srcpkg/jcb-src" jcb-src
	sed -i "1s/([^)]*)/($1)/" "$T/srcpkg/jcb-src/debian/changelog"
	mkdir -p "$SRCUP/pool/main"
	rm -f "$SRCUP"/pool/main/jcb-src_*
	(cd "$T/srcpkg" && dpkg-source -b jcb-src >/dev/null 2>&1) &&
	mv "$T/srcpkg"/jcb-src_"$1"* "$SRCUP/pool/main/" &&
	repo_index "$SRCUP" &&
	mkdir -p "$SRCUP/dists/stable/main/source" &&
	(cd "$SRCUP" && apt-ftparchive sources pool/main) >"$SRCUP/dists/stable/main/source/Sources" 2>/dev/null &&
	gzip -9n <"$SRCUP/dists/stable/main/source/Sources" >"$SRCUP/dists/stable/main/source/Sources.gz" &&
	rm "$SRCUP/dists/stable/Release" &&
	(cd "$SRCUP" && apt-ftparchive -o APT::FTPArchive::Release::Suite=stable \
		-o APT::FTPArchive::Release::Architectures=amd64 -o APT::FTPArchive::Release::Components=main \
		release dists/stable) >"$T/Release.tmp" &&
	mv "$T/Release.tmp" "$SRCUP/dists/stable/Release"
}
ok "a source package upstream (dpkg-source -b, apt-ftparchive sources)" src_release 1.0
ok "the Release names the Sources" grep -q 'main/source/Sources.gz$' "$SRCUP/dists/stable/Release"
write_config "$JCICD_CONFIG" "$REPO" \
	"{name: tool, apt: {url: $UP_URL, suite: stable}, binary: jcb-tool}" \
	"{name: other, apt: {path: $UP, suite: stable, component: main}, binary: jcb-other}" \
	"{name: rebuilt, apt: {path: $SRCUP, suite: stable}, source: jcb-src}"
exits 0 "a poll rebuilds the source package" jcicd build poll
like "$OUT" "rebuilt: built 1\.0\+jcicd1 " "as 1.0+jcicd1"
like "$OUT" "1 changed, 1 built" "and nothing else"
v=$(repo_version "$REPO" jcb-src)
is "$v" "1.0+jcicd1" "the build repository lists the rebuild"
ok "its version sorts after upstream's 1.0" version_gt "$v" 1.0
ok "the rebuilt package says its version" \
	sh -c "dpkg-deb --fsys-tarfile '$REPO/pool/main/j/jcb-src/jcb-src_${v}_all.deb' | tar -xO ./usr/bin/jcb-src | grep -qx 'echo jcb-src $v'"
log=$(status_field rebuilt log)
ok "the log shows dpkg-source -x and the build-dependency check" \
	sh -c "grep -q 'dpkg-source -x jcb-src_1.0.dsc' '$log' && grep -q dpkg-checkbuilddeps '$log'"

exits 0 "a poll with nothing new upstream" jcicd build poll
like "$OUT" "0 changed, 0 built" "rebuilds nothing"
ok "a new upstream version 1.1" src_release 1.1
exits 0 "a poll after it" jcicd build poll
like "$OUT" "rebuilt: built 1\.1\+jcicd2 " "rebuilds it as 1.1+jcicd2"
is "$(repo_version "$REPO" jcb-src)" "1.1+jcicd2" "the build repository moved to 1.1+jcicd2"

# 9. a keyring: a repository signed with its key is read, another key is refused
fpr=$(make_key "$T/gpg-up" upstream)
export_key "$T/gpg-up" "$fpr" "$T/up.key"
fpr2=$(make_key "$T/gpg-other" other)
export_key "$T/gpg-other" "$fpr2" "$T/other.key"
repo_add "$UP" jcb-tool 1.4-1 all
repo_index "$UP"
repo_sign "$UP" "$T/gpg-up" "$fpr"
keyring_config() {
	write_config "$JCICD_CONFIG" "$REPO" \
		"{name: tool, apt: {url: $UP_URL, suite: stable, keyring: $1}, binary: jcb-tool}" \
		"{name: other, apt: {path: $UP, suite: stable, component: main}, binary: jcb-other}" \
		"{name: rebuilt, apt: {path: $SRCUP, suite: stable}, source: jcb-src}"
}
keyring_config "$T/other.key"
exits 1 "a Release signed by a key not in the keyring is refused" jcicd build poll
like "$OUT" "tool: FAILED: .*InRelease" "the error names the InRelease"
is "$(repo_version "$REPO" jcb-tool)" "1.3-1" "the build repository keeps 1.3-1"
keyring_config "$T/up.key"
exits 0 "with the signer's key in the keyring" jcicd build poll
like "$OUT" "tool: built 1\.4-1 " "the signed repository's 1.4-1 is carried over"
is "$(repo_version "$REPO" jcb-tool)" "1.4-1" "the build repository lists 1.4-1"

# 10. build run forces an unchanged entry (its Release answers 304, so the
# index is read at build time)
control UP reset >/dev/null
exits 0 "build run tool rebuilds an unchanged entry" jcicd build run tool
like "$OUT" "tool: built 1\.4-1 " "it carries 1.4-1 over again"
like "$(asked)" "Packages" "the index was read for the forced build"
is "$(repo_version "$REPO" jcb-tool)" "1.4-1" "the build repository still lists 1.4-1"

done_testing
