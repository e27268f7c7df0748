# openstack module: sources and headers (automake fragment, included by libjcicd/Makefile.inc)
libjcicd_libjcicd_core_la_SOURCES += \
	libjcicd/cloud-openstack.h \
	libjcicd/cloud-openstack.c \
	libjcicd/cloud-openstack-config.c \
	libjcicd/cloud-openstack-auth.c \
	libjcicd/cloud-openstack-compute.c \
	libjcicd/cloud-openstack-resolve.c \
	libjcicd/cloud-openstack-fip.c
