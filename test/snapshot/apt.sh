#!/bin/sh
# Snapshots of a real repository (dpkg-deb, apt-ftparchive) served over HTTP
# by a counting server, published, then read by a real apt-get with a
# private configuration: exact versions per snapshot and per pointer, one
# request when nothing changed, diff --json, promote, list, show.
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
repo_add "$SRC" alpha 1.0-1
repo_add "$SRC" beta 1.0-1
repo_add "$SRC" gamma 1.0-1
repo_add "$SRC" common 1.0-1 all
repo_add "$SRC" docs 1.0-1 all
repo_index "$SRC"
serve "$SRC" SRC
mkdir -p "$T/pub"
serve "$T/pub" PUB

cat >"$T/jcicd.yaml" <<EOF
snapshots:
  publish_root: pub
  base_url: $PUB_URL
  sources:
    - name: build
      url: $SRC_URL
      suite: stable
      components: [main]
      architectures: [amd64]
EOF
C="--config $T/jcicd.yaml"

exits 0 "first poll makes snapshot 1" jcicd snapshot poll $C --json
is "$(printf '%s' "$OUT" | json 'd["number"], d["packages"], d["debs_fetched"], d["published"]')" \
	"(1, 5, 5, True)" "snapshot 1 has the 5 packages, all fetched"
ok "snapshot 1 is a tree under the publish root" test -f "$T/pub/snapshots/1/dists/stable/Release"
is "$(readlink "$T/pub/latest")" "snapshots/1" "latest points at snapshot 1"

control SRC reset >/dev/null
exits 0 "poll with nothing changed" jcicd snapshot poll $C --json
is "$(printf '%s' "$OUT" | json 'd["number"], d["changed"], d["requests"]')" "(None, False, 1)" \
	"no snapshot, and the poll says one request"
is "$(requests SRC)" "1" "the server counted exactly one request"
is "$(control SRC stats | json 'd["statuses"]')" "{'304': 1}" "and answered it 304 Not Modified"

# the build server publishes: beta and common change, gamma goes, delta comes
repo_add "$SRC" beta 1.1-1
repo_add "$SRC" common 2.0-1 all
repo_remove "$SRC" gamma
repo_add "$SRC" delta 0.1-1
repo_index "$SRC"
control SRC reset >/dev/null
exits 0 "poll after the change" jcicd snapshot poll $C --json
is "$(printf '%s' "$OUT" | json 'd["number"], d["packages"], d["debs_fetched"], d["debs_reused"]')" \
	"(2, 5, 3, 2)" "snapshot 2: 3 new packages fetched, 2 reused from the pool"
# Release, the index, and the 3 new packages: nothing already in the pool
is "$(requests SRC)" "5" "the source served 5 requests (Release, Packages.gz, 3 .debs)"

exits 0 "diff 1 2 --json" jcicd snapshot diff 1 2 $C --json
diag "$OUT"
is "$(printf '%s' "$OUT" | "$PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
print(sorted((x["name"], x["version"]) for x in d["added"]),
      sorted((x["name"], x["version"]) for x in d["removed"]),
      sorted((x["name"], x["from"], x["to"]) for x in d["changed"]), d["summary"])')" \
	"[('delta', '0.1-1')] [('gamma', '1.0-1')] [('beta', '1.0-1', '1.1-1'), ('common', '1.0-1', '2.0-1')] {'added': 1, 'removed': 1, 'changed': 2, 'unchanged': 2}" \
	"diff lists exactly the changed packages"
exits 0 "diff 1 2 as text" jcicd snapshot diff 1 2 $C
is "$OUT" "! beta amd64 1.0-1 -> 1.1-1
! common all 1.0-1 -> 2.0-1
+ delta amd64 0.1-1
- gamma amd64 1.0-1
snapshot 1 -> 2: 1 added, 1 removed, 2 changed, 2 unchanged" "diff text"

# a real apt-get on snapshot 1, snapshot 2 and the pointers
for n in 1 2; do
	apt_setup "$T/apt$n" "deb [trusted=yes] $PUB_URL/snapshots/$n stable main"
	ok "apt-get update on snapshot $n" apt_run "$T/apt$n" update
done
is "$(candidate "$T/apt1" beta) $(candidate "$T/apt1" common) $(candidate "$T/apt1" gamma)" \
	"1.0-1 1.0-1 1.0-1" "snapshot 1 has beta, common and gamma at 1.0-1"
is "$(candidate "$T/apt2" beta) $(candidate "$T/apt2" common) $(candidate "$T/apt2" delta) $(candidate "$T/apt2" alpha)" \
	"1.1-1 2.0-1 0.1-1 1.0-1" "snapshot 2 has the new versions"
is "$(candidate "$T/apt2" gamma)" "" "gamma is not in snapshot 2"
(cd "$T/apt1/dl" && apt_run "$T/apt1" download beta common >/dev/null 2>&1)
is "$(cd "$T/apt1/dl" && ls)" "beta_1.0-1_amd64.deb
common_1.0-1_all.deb" "apt-get download from snapshot 1 gets exactly its versions"
is "$(sha256sum <"$T/apt1/dl/beta_1.0-1_amd64.deb")" \
	"$(sha256sum <"$T/pub/snapshots/1/pool/main/b/beta_1.0-1_amd64.deb")" "the downloaded file is the snapshot's"
exits 0 "install --simulate from snapshot 2" apt_run "$T/apt2" install --simulate beta common delta
is "$(printf '%s\n' "$OUT" | grep '^Inst' | sort)" "Inst beta (1.1-1 jcicd:stable [amd64])
Inst common (2.0-1 jcicd:stable [all])
Inst delta (0.1-1 jcicd:stable [amd64])" "apt would install exactly snapshot 2's versions"

# pointers: latest follows, testing is promoted by hand
is "$(readlink "$T/pub/latest")" "snapshots/2" "latest moved to snapshot 2"
exits 0 "promote 1 testing" jcicd snapshot promote 1 testing --who ci --why "verdict 41 passed" $C
is "$OUT" "testing: snapshot 0 -> 1 (by ci: verdict 41 passed)" "promote says what it did"
apt_setup "$T/aptt" "deb [trusted=yes] $PUB_URL/testing stable main"
ok "apt-get update on the testing pointer" apt_run "$T/aptt" update
is "$(candidate "$T/aptt" beta)" "1.0-1" "testing serves snapshot 1"
exits 0 "promote 2 testing" jcicd snapshot promote 2 testing --who ci --why "verdict 42 passed" $C --json
is "$(printf '%s' "$OUT" | json 'd["previous"], d["number"], d["who"]')" "(1, 2, 'ci')" "promote --json"
ok "apt-get update follows the pointer" apt_run "$T/aptt" update
is "$(candidate "$T/aptt" beta)" "1.1-1" "testing now serves snapshot 2"

exits 0 "history testing --json" jcicd snapshot history testing $C --json
is "$(printf '%s' "$OUT" | json '[(h["previous"], h["number"], h["who"], h["why"]) for h in d]')" \
	"[(None, 1, 'ci', 'verdict 41 passed'), (1, 2, 'ci', 'verdict 42 passed')]" "the history of testing, with who and why"
exits 0 "list --json" jcicd snapshot list $C --json
is "$(printf '%s' "$OUT" | json '[(s["number"], s["state"], s["pointers"]) for s in d["snapshots"]], [(p["name"], p["number"], p["why"]) for p in d["pointers"]]')" \
	"([(2, 'published', ['latest', 'testing']), (1, 'published', [])], [('latest', 2, 'new snapshot'), ('testing', 2, 'verdict 42 passed')])" \
	"list shows both snapshots and the pointers"
exits 0 "show testing --json --packages" jcicd snapshot show testing $C --json --packages
is "$(printf '%s' "$OUT" | json 'd["number"], d["apt_source"], [(p["name"], p["version"]) for p in d["package_list"]], d["sources"][0]["release_file"]')" \
	"(2, 'deb [trusted=yes] $PUB_URL/snapshots/2 stable main', [('alpha', '1.0-1'), ('beta', '1.1-1'), ('common', '2.0-1'), ('delta', '0.1-1'), ('docs', '1.0-1')], 'Release')" \
	"show resolves the pointer and lists the packages"
exits 0 "apt-source 1" jcicd snapshot apt-source 1 $C
is "$OUT" "deb [trusted=yes] $PUB_URL/snapshots/1 stable main" "apt-source pins a number"
exits 0 "apt-source testing --signed-by" jcicd snapshot apt-source testing --signed-by /etc/jcicd.gpg $C
is "$OUT" "deb [signed-by=/etc/jcicd.gpg] $PUB_URL/testing stable main" "apt-source keeps a pointer a pointer"

# a server with Last-Modified only, and a Release rewritten within the same
# second: the racy timestamp is not trusted, so the change is seen
stop_servers
serve "$SRC" SRC --no-etag
serve "$T/pub" PUB
sed -i "s|url: .*|url: $SRC_URL|" "$T/jcicd.yaml"
exits 0 "poll a moved source (new URL: full check)" jcicd snapshot poll $C --json
is "$(printf '%s' "$OUT" | json 'd["number"]')" "None" "same content: no new snapshot"
repo_add "$SRC" alpha 1.0-2
repo_index "$SRC"
control SRC reset >/dev/null
exits 0 "poll right after a change, Last-Modified only" jcicd snapshot poll $C --json
is "$(printf '%s' "$OUT" | json 'd["number"]')" "3" "the change in the same second is not missed"
control SRC reset >/dev/null
exits 0 "an unchanged poll, Last-Modified only" jcicd snapshot poll $C --json
is "$(requests SRC)" "1" "still exactly one request"
done_testing
