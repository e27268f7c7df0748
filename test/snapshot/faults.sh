#!/bin/sh
# Faults between the source and the poll, injected by the test server in
# front of a real repository: a corrupted package or index, a truncated
# download, a 404 in the middle of a poll, a source that is gone.  Each is a
# clear error, nothing is published, the previous snapshot is still served
# (a real apt-get checks), and no snapshot number is used twice.  Transient
# faults (one truncation, one 503, one reset) are retried and the poll
# succeeds.
. "$TOP_SRCDIR/test/lib/tap.sh"
. "$TOP_SRCDIR/test/lib/aptrepo.sh"
if ! need_tools; then
	skip "$MISSING_TOOL is not installed (test/packages/snapshot.list)"
	done_testing; exit 0
fi
trap 'stop_servers; tap_cleanup' EXIT
json() { "$PYTHON" -c "import json,sys; d=json.load(sys.stdin); r=($1); print(r)"; }

SRC="$T/src"
repo_init "$SRC" stable main amd64
for p in alpha beta gamma; do repo_add "$SRC" $p 1.0-1; done
repo_index "$SRC"
serve "$SRC" SRC
mkdir -p "$T/pub"
serve "$T/pub" PUB
cat >"$T/jcicd.yaml" <<EOF
snapshots:
  publish_root: pub
  base_url: $PUB_URL
  sources:
    - {name: build, url: $SRC_URL, suite: stable, components: [main], architectures: [amd64]}
EOF
C="--config $T/jcicd.yaml"
exits 0 "snapshot 1" jcicd snapshot poll $C
apt_setup "$T/apt" "deb [trusted=yes] $PUB_URL/latest stable main"

# still_served DESCRIPTION: latest is snapshot 1 and apt-get reads it
still_served() {
	is "$(ls "$T/pub/snapshots") $(readlink "$T/pub/latest")" "1 snapshots/1" "$1: nothing was published"
	ok "$1: apt-get update on latest still works" apt_run "$T/apt" update
	is "$(candidate "$T/apt" beta) $(candidate "$T/apt" gamma)" "1.0-1 1.0-1" "$1: latest still serves snapshot 1"
}

repo_add "$SRC" beta 1.1-1
repo_add "$SRC" gamma 1.1-1
repo_index "$SRC"

# (first the index: once it verified, it stays in the pool)
control SRC "fault?path=/dists/stable/main/binary-amd64/Packages.gz&mode=corrupt" >/dev/null
exits 1 "a corrupted index fails the poll" jcicd snapshot poll $C
like "$ERR" "Packages.gz does not match its index: SHA256" "the error says the index does not match its Release"
still_served "corrupted index"
control SRC clear >/dev/null

# (faults hit every new package: a package that verified would be kept in
# the pool even when the poll fails, and not fetched again)
control SRC "fault?path=/pool/main/*_1.1-1_amd64.deb&mode=corrupt" >/dev/null
exits 1 "a corrupted package fails the poll" jcicd snapshot poll $C
like "$ERR" "$SRC_URL/pool/main/(beta|gamma)_1.1-1_amd64.deb does not match its index: SHA256 [0-9a-f]{64}, expected [0-9a-f]{64}" \
	"the error names the URL and both hashes"
still_served "corrupted package"
control SRC clear >/dev/null

control SRC reset >/dev/null
control SRC "fault?path=/pool/main/*_1.1-1_amd64.deb&mode=truncate" >/dev/null
exits 1 "a download that is always cut short fails" jcicd snapshot poll $C
like "$ERR" "gave up after 4 attempts: $SRC_URL/pool/main/(beta|gamma)_1.1-1_amd64.deb is truncated: [0-9]+ of [0-9]+ bytes arrived" \
	"the error names the file, says truncated, after the retries"
is "$(control SRC stats | json 'd["paths"].get("/pool/main/gamma_1.1-1_amd64.deb")')" "4" "it was tried 4 times"
still_served "truncated download"
control SRC clear >/dev/null

control SRC reset >/dev/null
control SRC "fault?path=/pool/main/gamma_1.1-1_amd64.deb&mode=404" >/dev/null
exits 1 "a 404 in the middle of a poll fails it" jcicd snapshot poll $C
like "$ERR" "HTTP 404 from $SRC_URL/pool/main/gamma_1.1-1_amd64.deb" "the error has the status and the URL"
still_served "404 mid-poll"
control SRC clear >/dev/null

for f in InRelease Release; do control SRC "fault?path=/dists/stable/$f&mode=404" >/dev/null; done
exits 1 "a source without Release fails" jcicd snapshot poll $C
like "$ERR" "neither dists/stable/InRelease nor dists/stable/Release exists at $SRC_URL" "the error says what is missing"
control SRC clear >/dev/null

# unreachable: a port nobody listens on (exit status 3)
sed "s|url: $SRC_URL|url: http://127.0.0.1:9|" "$T/jcicd.yaml" >"$T/down.yaml"
exits 3 "an unreachable source exits 3" jcicd snapshot poll --config "$T/down.yaml"
like "$ERR" "http://127.0.0.1:9/dists/stable/(In)?Release" "the error names the URL"
still_served "unreachable source"

# transient faults are retried within one poll
repo_add "$SRC" delta 1.0-1
repo_index "$SRC"
control SRC reset >/dev/null
control SRC "fault?path=/pool/main/delta_1.0-1_amd64.deb&mode=truncate&times=1" >/dev/null
control SRC "fault?path=/pool/main/gamma_1.1-1_amd64.deb&mode=503&times=1" >/dev/null
control SRC "fault?path=/dists/stable/Release&mode=reset&times=1" >/dev/null
exits 0 "one truncation, one 503 and one reset are retried" jcicd snapshot poll $C --json
is "$(printf '%s' "$OUT" | json 'd["number"], d["debs_fetched"], d["debs_reused"]')" "(2, 2, 2)" \
	"snapshot 2 (no failed poll took a number); beta, verified by the poll that failed on gamma, was kept"
is "$(control SRC stats | json 'd["paths"]["/pool/main/delta_1.0-1_amd64.deb"], d["paths"]["/pool/main/gamma_1.1-1_amd64.deb"], d["paths"]["/dists/stable/Release"]')" \
	"(2, 2, 2)" "each faulty request was made twice"
ok "apt-get update on latest" apt_run "$T/apt" update
is "$(candidate "$T/apt" beta) $(candidate "$T/apt" gamma) $(candidate "$T/apt" delta)" "1.1-1 1.1-1 1.0-1" \
	"latest serves snapshot 2"
exits 0 "list" jcicd snapshot list $C --json
is "$(printf '%s' "$OUT" | json '[s["number"] for s in d["snapshots"]]')" "[2, 1]" "snapshots 1 and 2, nothing else"
done_testing
