# kv module: sources and headers (automake fragment, included by libjcicd/Makefile.inc)
libjcicd_libjcicd_core_la_SOURCES += \
	libjcicd/kv-internal.h \
	libjcicd/kv.c \
	libjcicd/kv-sqlite.c \
	libjcicd/kv-etcd.c
jcicdinclude_HEADERS += libjcicd/include/jcicd/kv.h
jcicdsysinclude_HEADERS += libjcicd/include/jcicd/sys/kv.h
# orchestrate: the version protocol and rollouts
libjcicd_libjcicd_core_la_SOURCES += \
	libjcicd/orchestrate-internal.h \
	libjcicd/orchestrate.c \
	libjcicd/rollout.c \
	libjcicd/orchestrate-config.c
jcicdinclude_HEADERS += libjcicd/include/jcicd/orchestrate.h
# agent: the node-side loop
libjcicd_libjcicd_core_la_SOURCES += libjcicd/agent.c
jcicdinclude_HEADERS += libjcicd/include/jcicd/agent.h
