/* snapshot-internal.h - what the files of the snapshot module share. */
#ifndef JCICD_SNAPSHOT_INTERNAL_H
#define JCICD_SNAPSHOT_INTERNAL_H

#include "common.h"
#include "jcicd/http.h"
#include "jcicd/repo.h"
#include "jcicd/snapshot.h"
#include "pool-internal.h"
#include "repo-internal.h"
#include "store-internal.h"

/* A file of a snapshot's pool/ tree, as the poll that made it knows it. */
typedef struct jc_snap_file {
	const char *path;               /* pool/<component>/<p>/<file> */
	const char *sha256;
	bool in_pool;                   /* there before the poll's downloads */
	bool placed;                    /* linked into hint_tree already */
} jc_snap_file;

struct jc_snapshots {
	jc_snapshot_options o;          /* every string points into `strings` */
	jc_strv strings;
	jc_snapshot_source *sources;
	const char **source_names;      /* resolved names, one per source */
	jc_store *store;
	jc_pool *pool;
	jc_http *http;                  /* opened on first use */
	int lock_fd;                    /* the writer lock while held, else -1 */
	char *gpg_dir;                  /* <state>/gnupg: cached keyring homes */
	/* set by a poll while it publishes what it just recorded, so that
	 * publishing need not read the Packages files back */
	long hint_number;
	const jc_snap_file *hint;
	size_t n_hint;
	const char *hint_tree;          /* begun by jc_snap_prelink, or NULL */
};

/* A poll begins its snapshot's tree before the number exists: while the
 * missing packages download, this links every file it saw in the pool
 * into `dir` (<publish root>/snapshots/.tmp-..., which recovery removes)
 * and marks it placed.  Publishing then renames the tree into place and
 * links only the rest.  Runs in a thread of its own beside the
 * downloads. */
char *jc_snap_prelink_dir(jc_snapshots *s);
int jc_snap_prelink(jc_snapshots *s, const char *dir, jc_snap_file *files, size_t n, jc_error *err);

/* the writer lock: taken by every verb that changes something; taking it
 * also finishes whatever an interrupted writer left behind */
int jc_snap_lock(jc_snapshots *s, jc_error *err);
void jc_snap_unlock(jc_snapshots *s);
int jc_snap_lock_file(int *fd, const char *path, long long timeout_ms, const char *what, jc_error *err);

int jc_snap_need_root(jc_snapshots *s, jc_error *err);
/* Kills the process with SIGKILL when $JCICD_TEST_CRASH_AT names this
 * point: the crash tests stop a writer at every step this way. */
void jc_snap_crash_point(const char *name);
int jc_snap_http(jc_snapshots *s, jc_http **out, jc_error *err);
char *jc_snap_tree(const jc_snapshots *s, long number);   /* <root>/snapshots/<N> */
int64_t jc_snap_now(void);                                /* wall clock, seconds */

/* publish.c */
int jc_snap_recover(jc_snapshots *s, jc_error *err);
int jc_snap_publish_tree(jc_snapshots *s, long number, jc_error *err);
int jc_snap_set_pointer(jc_snapshots *s, const char *name, long number, const char *who,
			const char *why, long *previous, jc_error *err);
int jc_snap_apply_pointers(jc_snapshots *s, jc_error *err);
/* Publishes a recorded snapshot, marks it published, moves the automatic
 * pointers (never backwards). */
int jc_snap_publish_recorded(jc_snapshots *s, long number, jc_error *err);

/* prune.c: completes snapshots left in state 'pruning' */
int jc_snap_finish_prunes(jc_snapshots *s, jc_error *err);

/* query.c */
int jc_snap_newest(jc_snapshots *s, long *number, jc_error *err);
int jc_snap_state(jc_snapshots *s, long number, char **state, jc_error *err);

/* One index of a snapshot, as recorded. */
typedef struct jc_snap_index {
	char *component;
	char *architecture;
	char packages_sha256[JC_SHA256_HEX_SIZE];
	long long packages_size;
	char gz_sha256[JC_SHA256_HEX_SIZE];
	long long gz_size;
	long n_packages;
} jc_snap_index;

int jc_snap_indices(jc_snapshots *s, long number, jc_snap_index **out, size_t *n, jc_error *err);
void jc_snap_indices_free(jc_snap_index *idx, size_t n);

/* Streams the paragraphs of a Packages file kept in the pool. */
int jc_snap_read_packages(jc_snapshots *s, const char *packages_sha256, jc_deb822_fn fn,
			  void *payload, jc_error *err);

#endif
