#!/bin/sh
# Golden files (the way Jenkins Job Builder keeps fixtures): the exact text
# of plan, list and ssh-config for known inputs on a fresh local cloud.
# Regenerate with GOLDEN_UPDATE=1 after a deliberate change, and review the diff.
. "$TOP_SRCDIR/test/lib/tap.sh"
G="$TOP_SRCDIR/test/data/golden"
EX="$TOP_SRCDIR/examples/stacks"

golden() { # name command...
	local name=$1; shift
	"$@" >"$T/$name.out" 2>"$T/$name.err"
	if [ -n "${GOLDEN_UPDATE:-}" ]; then cp "$T/$name.out" "$G/$name.out"; fi
	if diff -u "$G/$name.out" "$T/$name.out" >"$T/$name.diff"; then
		_tap_result 0 "golden $name"
	else
		_tap_result 1 "golden $name"; sed 's/^/# /' "$T/$name.diff" | head -40
	fi
}

cd "$EX" || exit 1
golden plan-fresh jcicd plan full.yaml --tag g1 --mappings local.map.yaml
golden list-override jcicd list full.yaml --tag g1 --override cp=3,st=1
golden list-hostnames jcicd list full.yaml --tag g1 --hostnames
jcicd apply full.yaml node-userdata.sh --tag g1 --mappings local.map.yaml --override cp=1,st=0 -q >/dev/null 2>&1
golden plan-partial jcicd plan full.yaml --tag g1 --mappings local.map.yaml
golden ssh-config-bastion jcicd ssh-config --tag g1 --spec full.yaml
golden ssh-config-user jcicd ssh-config --tag g1 --spec full.yaml --user ubuntu
jcicd apply full.yaml node-userdata.sh --tag g2 --mappings staging.map.yaml --override cp=1,st=0,haproxy=0,oc=0,ocdb=0,ct=0 -q >/dev/null 2>&1
golden ssh-config-no-bastion jcicd ssh-config --tag g2 --spec full.yaml
jcicd delete g1 -q >/dev/null; jcicd delete g2 -q >/dev/null
done_testing
