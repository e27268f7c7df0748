# jobs tests (automake fragment, included by test/Makefile.inc)
if HAVE_CHECK
UNIT_TESTS += test/unit/test-jobs
check_PROGRAMS += test/unit/test-jobs
TESTS += test/unit/test-jobs
test_unit_test_jobs_SOURCES = test/unit/test-jobs.c test/unit/tests.h
test_unit_test_jobs_CFLAGS = $(UNIT_CFLAGS)
test_unit_test_jobs_LDADD = $(UNIT_LDADD)
endif
# job XML golden files and the JJB cross-check; the Jenkins stand-in and
# what runs against it (skipped without JCICD_TEST_JENKINS)
JOBS_TESTS = \
	test/cli/jobs-golden.sh \
	test/cli/jobs-jjb.sh \
	test/cli/jobs-clients.sh \
	test/cli/jobs-sync.sh \
	test/cli/jobs-pipeline.sh
TESTS += $(JOBS_TESTS)
EXTRA_DIST += $(JOBS_TESTS) test/jenkins
