#!/bin/sh
# Builds the libFuzzer targets with clang (ASan+UBSan+fuzzer) against the
# library sources and runs each for a while; prints TAP (one test a target).
#   test/fuzz/run.sh [SECONDS]
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-60}
out=${FUZZ_OUT:-/tmp/jcicd-fuzz}
mkdir -p "$out"
cd "$top"
[ -f config.h ] || [ -f _build/test/config.h ] || { echo "Bail out! configure first (scripts/test does)"; exit 2; }
cfg=$( [ -f config.h ] && echo . || echo _build/test )
srcs="libjcicd/util.c libjcicd/error.c libjcicd/log.c libjcicd/os.c libjcicd/yaml.c libjcicd/spec.c"
flags="-g -O1 -fsanitize=fuzzer,address,undefined -I$cfg -Ilibjcicd -Ilibjcicd/include $(pkg-config --cflags yaml-0.1)"
libs="$(pkg-config --libs yaml-0.1) -lpthread"
n=0
for t in yaml spec userdata deb822 wire; do
	n=$((n + 1))
	extra=""
	# what a mirror sends: Release files and Packages indices
	[ "$t" = deb822 ] && extra="libjcicd/repo-deb822.c libjcicd/repo-release.c libjcicd/repo-hash.c -lcrypto -lz -ldeflate"
	# what etcd's gateway (or whatever holds its port) answers
	[ "$t" = wire ] && extra="libjcicd/wire.c"
	if ! clang $flags test/fuzz/fuzz-$t.c $srcs $extra $libs -o "$out/fuzz-$t" 2>"$out/build-$t.log"; then
		echo "not ok $n - fuzz-$t builds"; sed 's/^/# /' "$out/build-$t.log" | head; continue
	fi
	mkdir -p "$out/corpus-$t"
	[ -d "test/fuzz/corpus/$t" ] && cp -n test/fuzz/corpus/$t/* "$out/corpus-$t/" 2>/dev/null || true
	if "$out/fuzz-$t" -max_total_time="$secs" -max_len=4096 -artifact_prefix="$out/crash-$t-" \
		"$out/corpus-$t" >"$out/run-$t.log" 2>&1; then
		echo "ok $n - fuzz-$t: ${secs}s, $(grep -oE 'DONE.*exec/s: [0-9]+' "$out/run-$t.log" | sed 's/ *DONE *//')"
	else
		echo "not ok $n - fuzz-$t found a crash (artifacts in $out)"
		grep -E "ERROR|SUMMARY" "$out/run-$t.log" | head -5 | sed 's/^/# /'
	fi
done
echo "1..$n"
