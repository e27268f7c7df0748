# kv tests (automake fragment, included by test/Makefile.inc)
if HAVE_CHECK
UNIT_TESTS += test/unit/test-kv
test_unit_test_kv_SOURCES = test/unit/test-kv.c test/unit/tests.h
test_unit_test_kv_CFLAGS = $(UNIT_CFLAGS)
test_unit_test_kv_LDADD = $(UNIT_LDADD)
endif
if HAVE_CHECK
UNIT_TESTS += test/unit/test-wire
test_unit_test_wire_SOURCES = test/unit/test-wire.c test/unit/tests.h
test_unit_test_wire_CFLAGS = $(UNIT_CFLAGS)
test_unit_test_wire_LDADD = $(UNIT_LDADD)
endif
if HAVE_CHECK
UNIT_TESTS += test/unit/test-orchestrate
test_unit_test_orchestrate_SOURCES = test/unit/test-orchestrate.c test/unit/tests.h
test_unit_test_orchestrate_CFLAGS = $(UNIT_CFLAGS)
test_unit_test_orchestrate_LDADD = $(UNIT_LDADD)
endif
# CLI, agent and rollout tests against real processes (and a real etcd
# when test/services/etcd.sh started one)
KV_TESTS = \
	test/kv/protocol.sh \
	test/kv/agent.sh \
	test/kv/rollout.sh \
	test/kv/faults.sh \
	test/kv/tls.sh \
	test/kv/puppet.sh
TESTS += $(KV_TESTS)
EXTRA_DIST += $(KV_TESTS) test/kv/common.sh

# bench/fleet: simulated agents against a KV store (not a test; see bench/fleet/run)
noinst_PROGRAMS += bench/fleet/fleet
bench_fleet_fleet_SOURCES = bench/fleet/fleet.c
bench_fleet_fleet_CFLAGS = $(AM_CFLAGS) $(DEPS_CFLAGS)
bench_fleet_fleet_LDADD = libjcicd/libjcicd-core.la $(DEPS_LIBS)
