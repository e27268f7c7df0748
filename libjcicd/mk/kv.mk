# kv module: sources and headers (automake fragment, included by
# libjcicd/Makefile.inc).  All of it but rollouts and etcd over TLS is the
# node part (jcicd-agent).
libjcicd_libjcicd_node_la_SOURCES += \
	libjcicd/kv-internal.h \
	libjcicd/kv.c \
	libjcicd/kv-sqlite.c \
	libjcicd/kv-sqlite-vfs.c \
	libjcicd/kv-etcd-internal.h \
	libjcicd/kv-etcd.c \
	libjcicd/kv-etcd-plain.c \
	libjcicd/wire.h \
	libjcicd/wire.c
# https:// endpoints: libcurl
libjcicd_libjcicd_core_la_SOURCES += libjcicd/kv-etcd-tls.c
jcicdinclude_HEADERS += libjcicd/include/jcicd/kv.h
jcicdsysinclude_HEADERS += libjcicd/include/jcicd/sys/kv.h
# orchestrate: the version protocol and rollouts
libjcicd_libjcicd_node_la_SOURCES += \
	libjcicd/orchestrate-internal.h \
	libjcicd/orchestrate.c \
	libjcicd/orchestrate-config.c
libjcicd_libjcicd_core_la_SOURCES += libjcicd/rollout.c
jcicdinclude_HEADERS += libjcicd/include/jcicd/orchestrate.h
# agent: the node-side loop
libjcicd_libjcicd_node_la_SOURCES += libjcicd/agent.c
jcicdinclude_HEADERS += libjcicd/include/jcicd/agent.h
