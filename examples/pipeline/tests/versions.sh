#!/bin/sh
# Every node of the stack reports the snapshot under test as its running
# version (converged and validated).  jcicd gives tests JCICD_HOSTS,
# JCICD_SNAPSHOT, JCICD_KV and JCICD_KV_PREFIX.
set -e
printf '%s\n' $JCICD_HOSTS | "${JCICD:-jcicd}" verify-hosts "$JCICD_SNAPSHOT" --kv "$JCICD_KV" --prefix "$JCICD_KV_PREFIX"
echo "all of $JCICD_HOSTS run $JCICD_SNAPSHOT"
