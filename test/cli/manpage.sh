#!/bin/sh
# jcicd(1) is built from the commands' own --help: every command is in it,
# and it renders without warnings.
. "$TOP_SRCDIR/test/lib/tap.sh"
M="$TOP_BUILDDIR/doc/jcicd.1"
ok "the manual was built" test -s "$M"
cmds=$(jcicd --help | sed -n 's/^  \([a-z][a-z-]*\( [a-z][a-z-]*\)\{0,1\}\)  .*/\1/p')
printf '%s\n' "$cmds" | while read -r c; do grep -q "^\.SS \"jcicd $c\"" "$M" || echo "$c"; done >"$T/missing"
is "$(cat "$T/missing")" "" "every command of jcicd --help has its section"
ok "more than 20 commands are documented" test "$(grep -c '^\.SS' "$M")" -gt 20
if command -v groff >/dev/null; then
	groff -man -Tutf8 -wall "$M" >/dev/null 2>"$T/warnings"
	is "$(cat "$T/warnings")" "" "groff renders it without warnings"
else
	skip "groff is not installed"
fi
done_testing
