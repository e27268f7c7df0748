# snapshot tests (automake fragment, included by test/Makefile.inc)
if HAVE_CHECK
UNIT_TESTS += \
	test/unit/test-repo \
	test/unit/test-pool \
	test/unit/test-snapshot
test_unit_test_repo_SOURCES = test/unit/test-repo.c test/unit/tests.h
test_unit_test_repo_CFLAGS = $(UNIT_CFLAGS)
test_unit_test_repo_LDADD = $(UNIT_LDADD)
test_unit_test_pool_SOURCES = test/unit/test-pool.c test/unit/tests.h
test_unit_test_pool_CFLAGS = $(UNIT_CFLAGS)
test_unit_test_pool_LDADD = $(UNIT_LDADD)
test_unit_test_snapshot_SOURCES = test/unit/test-snapshot.c test/unit/tests.h
test_unit_test_snapshot_CFLAGS = $(UNIT_CFLAGS)
test_unit_test_snapshot_LDADD = $(UNIT_LDADD)
endif
