# openstack tests (automake fragment, included by test/Makefile.inc)
if HAVE_CHECK
UNIT_TESTS += \
	test/unit/test-openstack-config \
	test/unit/test-openstack-auth \
	test/unit/test-openstack-compute
test_unit_test_openstack_config_SOURCES = test/unit/test-openstack-config.c test/unit/tests.h
test_unit_test_openstack_config_CFLAGS = $(UNIT_CFLAGS)
test_unit_test_openstack_config_LDADD = $(UNIT_LDADD)
test_unit_test_openstack_auth_SOURCES = test/unit/test-openstack-auth.c test/unit/tests.h
test_unit_test_openstack_auth_CFLAGS = $(UNIT_CFLAGS)
test_unit_test_openstack_auth_LDADD = $(UNIT_LDADD)
test_unit_test_openstack_compute_SOURCES = test/unit/test-openstack-compute.c test/unit/tests.h
test_unit_test_openstack_compute_CFLAGS = $(UNIT_CFLAGS)
test_unit_test_openstack_compute_LDADD = $(UNIT_LDADD)
endif
