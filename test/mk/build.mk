# build tests (automake fragment, included by test/Makefile.inc)
if HAVE_CHECK
UNIT_TESTS += test/unit/test-build
test_unit_test_build_SOURCES = test/unit/test-build.c test/unit/tests.h
test_unit_test_build_CFLAGS = $(UNIT_CFLAGS)
test_unit_test_build_LDADD = $(UNIT_LDADD)
endif
