# aptrepo.sh - test APT repositories built with the real tools (sourced by
# shell tests after tap.sh): dpkg-deb for packages, apt-ftparchive for
# Packages and Release, gpg for InRelease and Release.gpg, the counting
# server (countserver.py) to serve them, and a private apt-get.
#
#   need_tools || { skip ...; done_testing; exit 0; }
#   repo_init "$T/src" stable main amd64
#   repo_add "$T/src" hello 1.0-1 [amd64|all] [component]
#   repo_remove "$T/src" hello
#   repo_index "$T/src"            # Packages, Packages.gz, Release
#   repo_sign "$T/src" "$GNUPGHOME" KEYID   # InRelease, Release.gpg
#   serve "$T/src" NAME            # starts a server; sets NAME_URL and NAME_PORT
#   requests NAME                  # requests counted so far
#   apt_run DIR ARGS...            # apt-get with a private configuration in DIR

# the system's python: a version manager's shim can cost half a second a call
if [ -x /usr/bin/python3 ]; then PYTHON=/usr/bin/python3; else PYTHON=python3; fi

need_tools() {
	local t
	for t in dpkg-deb apt-ftparchive apt-get gpg "$PYTHON" curl; do
		command -v "$t" >/dev/null 2>&1 || { MISSING_TOOL=$t; return 1; }
	done
}

# repo_init DIR SUITE COMPONENTS ARCHES (space-separated lists in quotes)
repo_init() {
	local dir=$1
	mkdir -p "$dir/pool" "$dir/.build"
	printf '%s\n' "$2" >"$dir/.suite"
	printf '%s\n' "$3" >"$dir/.components"
	printf '%s\n' "$4" >"$dir/.arches"
}

# repo_add DIR NAME VERSION [ARCH] [COMPONENT] [PAYLOAD]: one real .deb
# (replaces any other version of NAME in that component)
repo_add() {
	local dir=$1 name=$2 ver=$3 arch=${4:-amd64} comp=${5:-main} payload=${6:-}
	local b="$dir/.build/$name"
	rm -rf "$b"
	mkdir -p "$b/DEBIAN" "$b/usr/share/jcicd-test" "$dir/pool/$comp"
	cat >"$b/DEBIAN/control" <<EOF
Package: $name
Version: $ver
Architecture: $arch
Maintainer: jcicd tests <tests@jcicd.invalid>
Description: jcicd test package $name
 A package made by the jcicd tests, version $ver.
EOF
	printf '%s %s %s\n' "$name" "$ver" "$payload" >"$b/usr/share/jcicd-test/$name.txt"
	rm -f "$dir/pool/$comp/${name}_"*.deb
	dpkg-deb --root-owner-group -Zgzip -z1 -b "$b" "$dir/pool/$comp/${name}_${ver#*:}_${arch}.deb" >/dev/null
}

repo_remove() {
	rm -f "$1"/pool/*/"${2}_"*.deb
}

# repo_index DIR: indices and Release as a build server would write them
repo_index() {
	local dir=$1 suite comps arches c a
	suite=$(cat "$dir/.suite"); comps=$(cat "$dir/.components"); arches=$(cat "$dir/.arches")
	rm -rf "$dir/dists/$suite"
	for c in $comps; do
		for a in $arches; do
			mkdir -p "$dir/dists/$suite/$c/binary-$a"
			mkdir -p "$dir/pool/$c"
			(cd "$dir" && apt-ftparchive --arch "$a" packages "pool/$c") \
				>"$dir/dists/$suite/$c/binary-$a/Packages" 2>/dev/null
			gzip -9n <"$dir/dists/$suite/$c/binary-$a/Packages" >"$dir/dists/$suite/$c/binary-$a/Packages.gz"
		done
	done
	(cd "$dir" && apt-ftparchive -o APT::FTPArchive::Release::Origin=jcicd-test \
		-o APT::FTPArchive::Release::Label=jcicd-test \
		-o APT::FTPArchive::Release::Suite="$suite" -o APT::FTPArchive::Release::Codename="$suite" \
		-o APT::FTPArchive::Release::Architectures="$arches" \
		-o APT::FTPArchive::Release::Components="$comps" release "dists/$suite") >"$dir/Release.tmp"
	mv "$dir/Release.tmp" "$dir/dists/$suite/Release"
}

# make_key GNUPGHOME NAME: a passphrase-less signing key; prints its fingerprint
make_key() {
	local home=$1 name=$2
	mkdir -p "$home"; chmod 700 "$home"
	gpg --homedir "$home" --batch --pinentry-mode loopback --passphrase '' \
		--quick-gen-key "$name <$name@jcicd.invalid>" ed25519 sign never >/dev/null 2>&1
	gpg --homedir "$home" --batch --with-colons --list-secret-keys "$name@jcicd.invalid" 2>/dev/null |
		awk -F: '/^fpr/ { print $10; exit }'
}

# export_key GNUPGHOME FPR FILE: the public key, binary, for keyrings and signed-by
export_key() {
	gpg --homedir "$1" --batch --export "$2" >"$3"
}

repo_sign() {
	local dir=$1 home=$2 key=$3 suite
	suite=$(cat "$dir/.suite")
	rm -f "$dir/dists/$suite/InRelease" "$dir/dists/$suite/Release.gpg"
	gpg --homedir "$home" --batch --yes --pinentry-mode loopback --passphrase '' -u "$key" \
		--clearsign -o "$dir/dists/$suite/InRelease" "$dir/dists/$suite/Release" 2>/dev/null
	gpg --homedir "$home" --batch --yes --pinentry-mode loopback --passphrase '' -u "$key" \
		-abs -o "$dir/dists/$suite/Release.gpg" "$dir/dists/$suite/Release" 2>/dev/null
}

# serve DIR NAME [server options]: sets ${NAME}_URL and ${NAME}_PORT
serve() {
	local dir=$1 name=$2 pf="$T/.port-$2" i; shift 2
	rm -f "$pf"
	"$PYTHON" "$TOP_SRCDIR/test/lib/countserver.py" --directory "$dir" --port-file "$pf" "$@" \
		>"$T/.server-$name.log" 2>&1 &
	eval "${name}_PID=$!"
	for i in $(seq 1 100); do [ -s "$pf" ] && break; sleep 0.05; done
	eval "${name}_PORT=$(cat "$pf")"
	eval "${name}_URL=http://127.0.0.1:\$${name}_PORT"
	SERVER_PIDS="${SERVER_PIDS:-} $(eval echo \$${name}_PID)"
}

stop_servers() {
	[ -n "${SERVER_PIDS:-}" ] && kill $SERVER_PIDS 2>/dev/null
	SERVER_PIDS=""
}

# control NAME PATH: a control request to server NAME
control() {
	local port
	port=$(eval echo \$${1}_PORT)
	curl -fsS "http://127.0.0.1:$port/__jcicd/$2"
}

requests() {
	control "$1" stats | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["requests"])'
}

# apt_setup DIR "SOURCES LINE": a private apt configuration (the system's is
# never read or written)
apt_setup() {
	local v=$1
	mkdir -p "$v/etc/sources.list.d" "$v/etc/preferences.d" "$v/etc/apt.conf.d" "$v/state/lists/partial" \
		"$v/cache/archives/partial" "$v/dl"
	printf '%s\n' "$2" >"$v/etc/sources.list"
	: >"$v/status"
}

apt_run() {
	local v=$1; shift
	apt-get -q -o Dir::Etc::sourcelist="$v/etc/sources.list" -o Dir::Etc::sourceparts="$v/etc/sources.list.d" \
		-o Dir::Etc::preferencesparts="$v/etc/preferences.d" -o Dir::Etc::parts="$v/etc/apt.conf.d" \
		-o Dir::State="$v/state" -o Dir::State::status="$v/status" -o Dir::Cache="$v/cache" \
		-o APT::Architecture=amd64 -o APT::Architectures=amd64 -o Acquire::Languages=none \
		-o Debug::NoLocking=1 -o APT::Sandbox::User=root -o Acquire::Retries=0 "$@"
}

apt_cache() {
	local v=$1; shift
	apt-cache -o Dir::Etc::sourcelist="$v/etc/sources.list" -o Dir::Etc::sourceparts="$v/etc/sources.list.d" \
		-o Dir::Etc::preferencesparts="$v/etc/preferences.d" -o Dir::Etc::parts="$v/etc/apt.conf.d" \
		-o Dir::State="$v/state" -o Dir::State::status="$v/status" -o Dir::Cache="$v/cache" \
		-o APT::Architecture=amd64 -o APT::Architectures=amd64 "$@"
}

# candidate DIR PACKAGE: the version apt would install
candidate() {
	apt_cache "$1" policy "$2" 2>/dev/null | awk '/Candidate:/ { print $2 }'
}
