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

# integration tests against the loopback cloud of test/openstack/up.sh
# (started by test/services/openstack.sh; they skip without it)
TESTS += \
	test/openstack/apply.sh \
	test/openstack/errors.sh \
	test/openstack/faults.sh
# files, not the directory: an in-tree build leaves its logs there (and
# automake does not distribute TESTS scripts by itself)
EXTRA_DIST += \
	test/openstack/apply.sh \
	test/openstack/errors.sh \
	test/openstack/faults.sh \
	test/openstack/up.sh \
	test/openstack/down.sh \
	test/openstack/lib.sh \
	test/openstack/configure.sh \
	test/openstack/setup-cloud.py \
	test/openstack/packages.list \
	test/openstack/testlib.sh \
	test/openstack/fault-proxy.py \
	test/openstack/data/stack.yaml \
	test/openstack/data/userdata.sh.tmpl \
	test/openstack/data/key.pub \
	test/openstack/data/small.yaml \
	test/openstack/data/faults.yaml \
	test/openstack/data/error.yaml \
	test/openstack/data/bad-flavor.yaml \
	test/openstack/data/bad-image.yaml \
	test/openstack/data/dup-image.yaml
