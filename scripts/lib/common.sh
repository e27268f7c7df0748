# scripts/lib/common.sh - shared by scripts/demo and scripts/test (sourced).
set -euo pipefail
export LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# What building jcicd needs, and what its tests drive for real.
BUILD_PACKAGES="autoconf automake libtool pkg-config make gcc libcurl4-openssl-dev libjson-c-dev
libxml2-dev libyaml-dev libsqlite3-dev libgpgme-dev libssl-dev zlib1g-dev libdeflate-dev check"
# what the demo's chain drives: git, the Debian package tools, apt-ftparchive
DEMO_PACKAGES="git dpkg-dev debhelper fakeroot apt-utils"
# what the tests drive: every test/packages/*.list, one package a line
test_packages() { cat "$TOP"/test/packages/*.list 2>/dev/null | sed 's/#.*//' | tr -s ' \n' ' '; }

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# need_packages PKG...: installs the ones that are missing (as root, with
# apt-get); does nothing, and needs no network, when all are there.
need_packages() {
	local missing="" p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	[ "$(id -u)" = 0 ] || die "missing packages:$missing (run as root, or: sudo apt-get install$missing)"
	say "installing:$missing"
	if ! apt-get install -y -q --no-install-recommends $missing >/tmp/jcicd-apt.log 2>&1; then
		apt-get update -q >/dev/null 2>&1 || true
		apt-get install -y -q --no-install-recommends $missing >/tmp/jcicd-apt.log 2>&1 \
			|| { tail -20 /tmp/jcicd-apt.log; die "apt-get install failed (log: /tmp/jcicd-apt.log)"; }
	fi
}

# build DIR [CONFIGURE-ARGS...]: an out-of-tree build under $TOP/DIR
build() {
	local dir=$1; shift
	if [ ! -x "$TOP/configure" ] || [ "$TOP/configure.ac" -nt "$TOP/configure" ] \
	   || [ "$TOP/Makefile.am" -nt "$TOP/configure" ]; then
		say "autoreconf"
		(cd "$TOP" && autoreconf -fi >/dev/null 2>&1) || (cd "$TOP" && autoreconf -fi)
	fi
	mkdir -p "$TOP/$dir"
	if [ ! -f "$TOP/$dir/Makefile" ] || [ "$TOP/configure" -nt "$TOP/$dir/Makefile" ]; then
		say "configure $dir $*"
		(cd "$TOP/$dir" && "$TOP/configure" -q "$@") >/dev/null
	fi
	say "make ($dir)"
	make -C "$TOP/$dir" -j"$(nproc)" -s >/dev/null
}
