/* cloud-internal.h - the built-in providers. */
#ifndef JCICD_CLOUD_INTERNAL_H
#define JCICD_CLOUD_INTERNAL_H

#include "jcicd/sys/cloud.h"

extern const jc_cloud_provider jc_local_provider;
extern const jc_cloud_provider jc_openstack_provider;

#endif
