# build module: sources and headers (automake fragment, included by libjcicd/Makefile.inc)
# the package build server: sources, change detection, builds, the build repository
libjcicd_libjcicd_core_la_SOURCES += \
	libjcicd/build-internal.h \
	libjcicd/build.c \
	libjcicd/build-config.c \
	libjcicd/build-version.c \
	libjcicd/build-git.c \
	libjcicd/build-apt.c \
	libjcicd/build-run.c \
	libjcicd/build-publish.c
jcicdinclude_HEADERS += \
	libjcicd/include/jcicd/build.h
