# jobs module: sources and headers (automake fragment, included by libjcicd/Makefile.inc)
libjcicd_libjcicd_core_la_SOURCES += \
	libjcicd/jobs-internal.h \
	libjcicd/jobs-vars.c \
	libjcicd/jobs-job.c \
	libjcicd/jobs-def.c \
	libjcicd/jobs-xml.c \
	libjcicd/jobs-jenkins.c \
	libjcicd/jobs-sync.c \
	libjcicd/jobs-trigger.c
jcicdinclude_HEADERS += libjcicd/include/jcicd/jobs.h
