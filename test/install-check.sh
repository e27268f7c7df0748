#!/bin/sh
# After `make install`, a user's program builds with pkg-config alone and
# runs.  Usage: test/install-check.sh BUILDDIR (prints TAP)
set -u
B=$1
P=$(mktemp -d /tmp/jcicd-install-XXXXXX)
trap 'rm -rf "$P"' EXIT
n=0
t() { n=$((n + 1)); if "$@" >"$P/out" 2>&1; then echo "ok $n - $D"; else echo "not ok $n - $D"; sed 's/^/# /' "$P/out" | tail -20; fi; }
D="make install (DESTDIR)"; t make -C "$B" install DESTDIR="$P/root" -s
libdir=$(sed -n 's/^libdir = //p' "$B/Makefile"); prefix=$(sed -n 's/^prefix = //p' "$B/Makefile")
libdir=$(echo "$libdir" | sed "s|\${exec_prefix}|$prefix|")
export PKG_CONFIG_PATH="$P/root$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$P/root" LD_LIBRARY_PATH="$P/root$libdir"
D="pkg-config --cflags --libs jcicd"; t pkg-config --cflags --libs jcicd
D="the example compiles against the installed headers"; t sh -c "cc -std=c11 -Wall -Werror $(dirname "$0")/../examples/apply-stack.c \$(pkg-config --cflags --libs jcicd) -o $P/apply-stack"
printf 'resources:\n  web: {number: 1, flavor: small, image: trusty}\n' >"$P/spec.yaml"
D="the installed example runs"; t env JCICD_STATE_DIR="$P/state" "$P/apply-stack" "$P/spec.yaml" inst1
D="only the public API is exported"; t sh -c "! nm -D --defined-only $P/root$libdir/libjcicd.so | grep -v ' jc_' | grep ' T '"
D="the installed headers are all there"; t test -f "$P/root$prefix/include/jcicd.h" -a -f "$P/root$prefix/include/jcicd/sys/cloud.h"
bindir="$prefix/bin"
D="jcicd-agent is installed beside jcicd, without libcurl, libxml2 or GPGME"
t sh -c "test -x $P/root$bindir/jcicd-agent && ! ldd $P/root$bindir/jcicd-agent | grep -E 'libcurl|libxml2|libgpgme|libjcicd'"
D="the installed 'jcicd agent' runs as jcicd-agent"
t sh -c "JCICD_STATE_DIR=$P/state2 $P/root$bindir/jcicd agent --once --kv sqlite://$P/kv.db --hostname inst1 \
	--dir $P/agent --update-command '' --upgrade-command '' --validation-dir '' \
	--converge-command 'readlink /proc/\$PPID/exe >$P/agent-exe' && grep -x '$P/root$bindir/jcicd-agent' $P/agent-exe"
pkill -KILL -f "$P/state" 2>/dev/null
echo "1..$n"
