# openstack module: sources and headers (automake fragment, included by libjcicd/Makefile.inc)
