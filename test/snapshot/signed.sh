#!/bin/sh
# Signatures: a signed source verified against a keyring (InRelease, and
# Release + Release.gpg), snapshots signed with a publishing key and read by
# apt-get with signed-by; a bad signature, a foreign key and a missing
# signature publish nothing and the previous snapshot is still served.
. "$TOP_SRCDIR/test/lib/tap.sh"
. "$TOP_SRCDIR/test/lib/aptrepo.sh"
if ! need_tools; then
	skip "$MISSING_TOOL is not installed (test/packages/snapshot.list)"
	done_testing; exit 0
fi
cleanup() {
	stop_servers
	for h in "$T"/gnupg-* "$T"/state/gnupg/keyring-*; do
		[ -d "$h" ] && gpgconf --homedir "$h" --kill all >/dev/null 2>&1
	done
	tap_cleanup
}
trap cleanup EXIT
json() { "$PYTHON" -c "import json,sys; d=json.load(sys.stdin); r=($1); print(r)"; }

BUILD_FPR=$(make_key "$T/gnupg-build" build)
OTHER_FPR=$(make_key "$T/gnupg-other" other)
PUB_FPR=$(make_key "$T/gnupg-pub" publisher)
export_key "$T/gnupg-build" "$BUILD_FPR" "$T/build.gpg"
export_key "$T/gnupg-pub" "$PUB_FPR" "$T/publisher.gpg"
export_key "$T/gnupg-other" "$OTHER_FPR" "$T/other.gpg"
ok "three signing keys" test -s "$T/build.gpg" -a -s "$T/publisher.gpg" -a -n "$OTHER_FPR"

SRC="$T/src"
repo_init "$SRC" stable main amd64
repo_add "$SRC" alpha 1.0-1
repo_add "$SRC" beta 1.0-1
repo_index "$SRC"
repo_sign "$SRC" "$T/gnupg-build" "$BUILD_FPR"
serve "$SRC" SRC
mkdir -p "$T/pub"
serve "$T/pub" PUB
cat >"$T/jcicd.yaml" <<EOF
snapshots:
  publish_root: pub
  base_url: $PUB_URL
  signing:
    key: $PUB_FPR
    gnupghome: gnupg-pub
  sources:
    - name: build
      url: $SRC_URL
      suite: stable
      components: [main]
      architectures: [amd64]
      keyring: build.gpg
EOF
C="--config $T/jcicd.yaml"

exits 0 "poll a signed source" jcicd snapshot poll $C --json
is "$(printf '%s' "$OUT" | json 'd["number"]')" "1" "snapshot 1"
exits 0 "show 1" jcicd snapshot show 1 $C --json
is "$(printf '%s' "$OUT" | json 'd["sources"][0]["release_file"], d["sources"][0]["signed_by"]')" \
	"('InRelease', '$BUILD_FPR')" "the source's InRelease was verified, signed by the build key"
D="$T/pub/snapshots/1/dists/stable"
ok "the snapshot has InRelease and Release.gpg" test -s "$D/InRelease" -a -s "$D/Release.gpg"
ok "gpgv accepts InRelease with the publisher's key" gpgv --keyring "$T/publisher.gpg" "$D/InRelease"
ok "gpgv accepts Release.gpg" gpgv --keyring "$T/publisher.gpg" "$D/Release.gpg" "$D/Release"

apt_setup "$T/apt" "deb [signed-by=$T/publisher.gpg] $PUB_URL/snapshots/1 stable main"
exits 0 "apt-get update verifies the signed snapshot" apt_run "$T/apt" update
like "$OUT" "Get:1 $PUB_URL/snapshots/1 stable InRelease" "apt read the InRelease"
is "$(candidate "$T/apt" beta)" "1.0-1" "and sees beta 1.0-1"
apt_setup "$T/apt-wrong" "deb [signed-by=$T/other.gpg] $PUB_URL/snapshots/1 stable main"
exits 100 "apt-get refuses the snapshot with another key" apt_run "$T/apt-wrong" update -o APT::Update::Error-Mode=any
like "$ERR" "NO_PUBKEY|not signed|signatures couldn't be verified|is not signed" "apt says the signature is not from that key"

# 1: content changed after signing -> BAD signature
repo_add "$SRC" beta 1.1-1
repo_index "$SRC"
repo_sign "$SRC" "$T/gnupg-build" "$BUILD_FPR"
cp "$SRC/dists/stable/InRelease" "$T/InRelease.good"
sed -i 's/^Origin: jcicd-test/Origin: jcicd-evil/' "$SRC/dists/stable/InRelease"
exits 1 "a tampered InRelease is refused" jcicd snapshot poll $C
# gpg names a bad signature's key by its long key id
like "$ERR" "BAD signature by key $(printf %s "$BUILD_FPR" | cut -c25-40): the file was altered after it was signed" \
	"the error says BAD signature"
is "$(ls "$T/pub/snapshots")" "1" "nothing was published"

# 2: signed by a key that is not in the keyring
repo_sign "$SRC" "$T/gnupg-other" "$OTHER_FPR"
exits 1 "a signature by a foreign key is refused" jcicd snapshot poll $C
like "$ERR" "signed by key .*, which is not in keyring .*build.gpg" "the error names the keyring"

# 3: no signature at all although the source has a keyring
rm -f "$SRC/dists/stable/InRelease" "$SRC/dists/stable/Release.gpg"
exits 1 "an unsigned Release is refused when a keyring is set" jcicd snapshot poll $C
like "$ERR" "has no Release.gpg \(and no InRelease\), but source build has a keyring: refusing an unsigned repository" \
	"the error says why"
is "$(jcicd snapshot list $C --json | json 'len(d["snapshots"])')" "1" "still one snapshot"
ok "snapshot 1 is still served (apt-get update)" apt_run "$T/apt" update
is "$(candidate "$T/apt" beta)" "1.0-1" "with its versions"

# 4: Release + Release.gpg (no InRelease) verify as a detached signature
repo_sign "$SRC" "$T/gnupg-build" "$BUILD_FPR"
rm -f "$SRC/dists/stable/InRelease"
exits 0 "Release with a detached Release.gpg verifies" jcicd snapshot poll $C --json
is "$(printf '%s' "$OUT" | json 'd["number"]')" "2" "snapshot 2"
exits 0 "show 2" jcicd snapshot show 2 $C --json
is "$(printf '%s' "$OUT" | json 'd["sources"][0]["release_file"], d["sources"][0]["signed_by"]')" \
	"('Release', '$BUILD_FPR')" "verified from Release and Release.gpg"
apt_setup "$T/apt2" "deb [signed-by=$T/publisher.gpg] $PUB_URL/latest stable main"
ok "apt-get update on latest (signed)" apt_run "$T/apt2" update
is "$(candidate "$T/apt2" beta)" "1.1-1" "latest serves beta 1.1-1"

# an unchanged signed source is still one request
control SRC reset >/dev/null
exits 0 "unchanged signed source" jcicd snapshot poll $C --json
is "$(printf '%s' "$OUT" | json 'd["changed"], d["requests"]')" "(False, 1)" "no change"
is "$(requests SRC)" "1" "one request, no signature fetched again"

# a publishing key that does not exist: nothing half-published
sed -i "s/key: $PUB_FPR/key: 0000000000000000000000000000000000000000/" "$T/jcicd.yaml"
repo_add "$SRC" alpha 1.1-1
repo_index "$SRC"
repo_sign "$SRC" "$T/gnupg-build" "$BUILD_FPR"
exits 1 "signing with a missing key fails" jcicd snapshot poll $C
like "$ERR" "signing key 0000000000000000000000000000000000000000 is not in the secret keyring" "the error names the key"
is "$(ls "$T/pub/snapshots")" "1
2" "no tree for the snapshot that could not be signed"
sed -i "s/key: 0000000000000000000000000000000000000000/key: $PUB_FPR/" "$T/jcicd.yaml"
exits 0 "with the key back, the recorded snapshot is published" jcicd snapshot publish $C
ok "snapshot 3 is published and signed" gpgv --keyring "$T/publisher.gpg" "$T/pub/snapshots/3/dists/stable/InRelease"
is "$(readlink "$T/pub/latest")" "snapshots/3" "latest followed"
done_testing
