# kv module: sources and headers (automake fragment, included by libjcicd/Makefile.inc)
libjcicd_libjcicd_core_la_SOURCES += \
	libjcicd/kv-internal.h \
	libjcicd/kv.c \
	libjcicd/kv-sqlite.c \
	libjcicd/kv-etcd.c
jcicdinclude_HEADERS += libjcicd/include/jcicd/kv.h
jcicdsysinclude_HEADERS += libjcicd/include/jcicd/sys/kv.h
