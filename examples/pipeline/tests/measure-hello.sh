#!/bin/sh
# A measurement: milliseconds for 50 runs of hello-jcicd on the first node.
# The last line is the value.
set -e
for d in "$JCICD_STATE_DIR"/local-cloud/servers/*/; do
	grep -q "stack $JCICD_TAG," "$d/console.log" 2>/dev/null && break
done
start=$(date +%s%N)
i=0
while [ $i -lt 50 ]; do "$d/root/usr/bin/hello-jcicd" >/dev/null; i=$((i + 1)); done
echo $(( ($(date +%s%N) - start) / 1000000 ))
