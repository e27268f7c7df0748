#!/bin/sh
# hello-jcicd works on every node of the stack (the local cloud keeps each
# node's root under its server directory).
set -e
n=0
for d in "$JCICD_STATE_DIR"/local-cloud/servers/*/; do
	grep -q "stack $JCICD_TAG," "$d/console.log" 2>/dev/null || continue
	"$d/root/usr/bin/hello-jcicd"
	n=$((n + 1))
done
[ "$n" -gt 0 ] || { echo "no node of stack $JCICD_TAG found"; exit 1; }
echo "$n nodes say hello"
