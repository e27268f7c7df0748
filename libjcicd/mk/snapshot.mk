# snapshot module: sources and headers (automake fragment, included by libjcicd/Makefile.inc)
# repo: the APT repository model; pool: the store's content-addressed files;
# snapshot: numbered, immutable, published snapshots of APT sources.
libjcicd_libjcicd_core_la_SOURCES += \
	libjcicd/repo-internal.h \
	libjcicd/repo-hash.c \
	libjcicd/repo-deb822.c \
	libjcicd/repo-release.c \
	libjcicd/repo-version.c \
	libjcicd/repo-gpg.c \
	libjcicd/repo-fetch.c \
	libjcicd/pool-internal.h \
	libjcicd/pool.c
jcicdinclude_HEADERS += \
	libjcicd/include/jcicd/repo.h
libjcicd_libjcicd_core_la_SOURCES += \
	libjcicd/snapshot-internal.h \
	libjcicd/snapshot.c \
	libjcicd/snapshot-config.c \
	libjcicd/snapshot-poll.c \
	libjcicd/snapshot-publish.c \
	libjcicd/snapshot-query.c \
	libjcicd/snapshot-prune.c \
	libjcicd/snapshot-watch.c
jcicdinclude_HEADERS += \
	libjcicd/include/jcicd/snapshot.h
