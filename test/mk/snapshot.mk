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

# against real tools: dpkg-deb, apt-ftparchive, gpg, a counting HTTP server
# (test/lib/countserver.py) and a private apt-get; each skips when a tool is
# missing (test/packages/snapshot.list; scripts/test installs them)
SNAPSHOT_TESTS = \
	test/snapshot/apt.sh \
	test/snapshot/signed.sh \
	test/snapshot/faults.sh \
	test/snapshot/crash.sh \
	test/snapshot/readers.sh \
	test/snapshot/cli.sh
TESTS += $(SNAPSHOT_TESTS)
EXTRA_DIST += $(SNAPSHOT_TESTS)
