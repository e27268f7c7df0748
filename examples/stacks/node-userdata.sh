#!/bin/sh
# Userdata for the local cloud: what cloud-init would run on first boot.
# The local provider runs it with JCICD_HOSTNAME, JCICD_ROLE and JCICD_TAG set.
echo "booted $JCICD_HOSTNAME (role $JCICD_ROLE, stack $JCICD_TAG)"
# a real node would now install puppet and start the jcicd agent; this one
# just stays up like a VM would
exec sleep 86400
