#!/bin/sh
# A measurement: kilobytes the snapshot's packages take on the first node of
# the stack (what its root holds).  The last line is the value.
set -e
for d in "$JCICD_STATE_DIR"/local-cloud/servers/*/; do
	grep -q "stack $JCICD_TAG," "$d/console.log" 2>/dev/null && break
done
du -sk "$d/root/usr" | cut -f1
