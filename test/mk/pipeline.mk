# pipeline tests (automake fragment, included by test/Makefile.inc)
if HAVE_CHECK
UNIT_TESTS += test/unit/test-pipeline
check_PROGRAMS += test/unit/test-pipeline
TESTS += test/unit/test-pipeline
test_unit_test_pipeline_SOURCES = test/unit/test-pipeline.c test/unit/tests.h
test_unit_test_pipeline_CFLAGS = $(UNIT_CFLAGS)
test_unit_test_pipeline_LDADD = $(UNIT_LDADD)
endif
# the whole chain on the embedded default (snapshots, stages, agents, report)
TESTS += test/pipeline/pipeline.sh
EXTRA_DIST += test/pipeline/pipeline.sh test/pipeline/make-package.sh
