# pipeline module: sources and headers (automake fragment, included by libjcicd/Makefile.inc)
libjcicd_libjcicd_core_la_SOURCES += \
	libjcicd/pipeline-internal.h \
	libjcicd/pipeline-def.c \
	libjcicd/pipeline-records.c \
	libjcicd/pipeline-tests.c \
	libjcicd/junit.c \
	libjcicd/report.c \
	libjcicd/pipeline-stage.c
jcicdinclude_HEADERS += libjcicd/include/jcicd/pipeline.h
