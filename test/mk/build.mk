# build tests (automake fragment, included by test/Makefile.inc)
if HAVE_CHECK
UNIT_TESTS += test/unit/test-build
test_unit_test_build_SOURCES = test/unit/test-build.c test/unit/tests.h
test_unit_test_build_CFLAGS = $(UNIT_CFLAGS)
test_unit_test_build_LDADD = $(UNIT_LDADD)
endif
# the build server with real git, dpkg-buildpackage, dpkg-deb, apt-ftparchive and apt-get
BUILD_TESTS = \
	test/build/build.sh \
	test/build/failures.sh \
	test/build/bad-sources.sh \
	test/build/chain.sh \
	test/build/apt.sh
TESTS += $(BUILD_TESTS)
# files, not the directory: make check leaves its logs in the build tree's test/build
EXTRA_DIST += $(BUILD_TESTS) test/build/common.sh examples/packages
