#!/bin/sh
# gen-man.sh JCICD SRCDIR VERSION: writes jcicd(1) on stdout: the
# hand-written head and tail around every command's own --help, so the
# manual cannot drift from the code.
set -eu
J=$1; S=$2; V=$3
esc() { sed -e 's/\\/\\e/g' -e 's/^\./\\\&./' -e "s/^'/\\\\\\&'/"; }
sed -e "s/@VERSION@/$V/" -e "s/@DATE@/$(date -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}" +%Y-%m-%d)/" "$S/jcicd.1.in"
echo ".SH COMMANDS"
"$J" --help | sed -n 's/^  \([a-z][a-z-]*\( [a-z][a-z-]*\)\{0,1\}\)  .*/\1/p' | while read -r cmd; do
	# shellcheck disable=SC2086
	help=$("$J" $cmd --help 2>&1) || true
	echo ".SS \"jcicd $cmd\""
	echo ".nf"
	printf '%s\n' "$help" | sed '/^Common options:$/,$d' | esc
	echo ".fi"
done
cat "$S/jcicd.1.tail"
