#!/bin/sh
# examples/apply-stack, a C program linking libjcicd, applies a spec on the
# local cloud like the CLI would.
. "$TOP_SRCDIR/test/lib/tap.sh"
prog="$TOP_BUILDDIR/examples/apply-stack"
cat >"$T/spec.yaml" <<'YAML'
resources:
  web: {number: 2, flavor: small, image: trusty}
YAML
exits 0 "the example program applies a stack" "$prog" "$T/spec.yaml" ex1
is "$OUT" "$(printf 'web1_ex1 ACTIVE 127.1.0.1\nweb2_ex1 ACTIVE 127.1.0.2')" "it prints the servers it made"
exits 0 "the CLI sees the same stack" jcicd status --tag ex1
is "$(printf '%s\n' "$OUT" | grep -c ACTIVE)" "2" "two ACTIVE servers"
exits 2 "bad input gives the documented exit status" "$prog" "$T/nonexistent.yaml" ex1
like "$ERR" "nonexistent.yaml: cannot read this file" "and a clear message"
jcicd delete ex1 -q >/dev/null
done_testing
