/*
 * jcicd/snapshot.h - numbered, immutable snapshots of APT repositories.
 *
 * A poll looks at every configured source repository with one conditional
 * request each.  When something changed, it fetches the changed indices and
 * the packages the pool lacks, checks every file against the SHA256 its
 * Release or Packages file gives, records snapshot N+1 in the state
 * database and publishes it.  Snapshot numbers are positive, increase
 * strictly and are never reused; a recorded snapshot never changes.
 *
 * The publish layout is fixed (other tools write apt sources from it):
 *
 *   <publish_root>/snapshots/<N>/dists/<suite>/{Release,InRelease,Release.gpg}
 *   <publish_root>/snapshots/<N>/dists/<suite>/<component>/binary-<arch>/
 *                                {Packages,Packages.gz,by-hash/SHA256/<hash>}
 *   <publish_root>/snapshots/<N>/pool/<component>/<p>/<name>_<version>_<arch>.deb
 *   <publish_root>/<pointer>  ->  snapshots/<N>      (latest, unstable, testing, stable...)
 *
 * so "deb [signed-by=KEY] <base_url>/snapshots/<N> <suite> <component>"
 * pins exact content and "<base_url>/<pointer>" follows promotions.  A tree
 * is built beside its final place and renamed in; pointers are symlinks
 * replaced by rename: a reader sees a whole old or a whole new tree, never a
 * part of one.  Packages are hard links to the store's content-addressed
 * pool (copies when the publish root is on another file system).
 *
 * One writer at a time per state directory (poll, publish, promote, prune,
 * watch): a second one gets JC_ELOCKED naming the holder.  Reading verbs
 * (list, show, diff) need no lock.  Every writer first finishes what an
 * interrupted one left (kill -9 at any point is safe): half-built trees are
 * removed, recorded snapshots published, pointers made to match the
 * database.
 */
#ifndef JCICD_SNAPSHOT_H
#define JCICD_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>

#include "jcicd/config.h"
#include "jcicd/error.h"
#include "jcicd/log.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct jc_snapshots jc_snapshots;

/* One source repository: the directory that holds dists/ and pool/. */
typedef struct jc_snapshot_source {
	const char *name;                    /* unique; NULL: derived from url or path */
	const char *url;                     /* http:// or https:// ... */
	const char *path;                    /* ... or a local directory (exactly one) */
	const char *suite;                   /* dists/<suite> (a suite or a codename) */
	const char *const *components;       /* e.g. {"main"} */
	size_t n_components;
	const char *const *architectures;    /* e.g. {"amd64"} */
	size_t n_architectures;
	const char *keyring;                 /* verify InRelease / Release.gpg with these
					      * keys; NULL: accept unsigned */
} jc_snapshot_source;

#define JC_SNAPSHOT_OPTIONS_VERSION 1
typedef struct jc_snapshot_options {
	unsigned version;
	const char *state_dir;               /* NULL: the default state directory */
	const char *publish_root;            /* where trees are published; required to write */
	const char *base_url;                /* how clients reach publish_root (for apt lines) */
	const jc_snapshot_source *sources;
	size_t n_sources;
	const char *suite;                   /* published suite; NULL: the first source's */
	const char *origin;                  /* NULL: "jcicd" */
	const char *label;                   /* NULL: "jcicd" */
	const char *const *pointers;         /* moved to every new snapshot; NULL: {"latest"} */
	size_t n_pointers;
	const char *sign_key;                /* sign InRelease and Release.gpg; NULL: unsigned */
	const char *gnupghome;               /* where sign_key lives; NULL: gpg's default */
	const char *passphrase_file;         /* the key's passphrase, if it has one */
	long long interval_ms;               /* watch: between polls; 0: 15 min */
	int jitter_percent;                  /* watch: +- this much at random; <0: 0, 0: 10 */
	long long lock_timeout_ms;           /* wait for another writer; 0: fail at once */
	int max_parallel;                    /* downloads at once; 0: 8 */
	int gzip_level;                      /* Packages.gz, 1..9; 0: 6 */
	const char *ca_file;                 /* TLS trust for https sources; NULL: system */
	bool insecure;                       /* do not verify TLS peers */
	bool no_sync;                        /* skip flushing to disk before commits
					      * (faster; unsafe on power loss) */
	const jc_logger *logger;             /* borrowed */
} jc_snapshot_options;

#define JC_SNAPSHOT_OPTIONS_INIT { JC_SNAPSHOT_OPTIONS_VERSION, NULL, NULL, NULL, NULL, 0, NULL, \
				   NULL, NULL, NULL, 0, NULL, NULL, NULL, 0, 0, 0, 0, 0, NULL, \
				   false, false, NULL }

/*
 * The `snapshots` section of jcicd.yaml as options.  Errors point at
 * file:line:col, unknown keys get a "did you mean".  Paths are resolved
 * against the file's directory.  A missing section gives empty options.
 */
typedef struct jc_snapshot_config jc_snapshot_config;
JC_EXTERN int jc_snapshot_config_load(jc_snapshot_config **out, const jc_config *config,
				      jc_error *err);
JC_EXTERN void jc_snapshot_config_free(jc_snapshot_config *config);
/* Borrowed from config (strings too); copy the struct to override fields. */
JC_EXTERN const jc_snapshot_options *jc_snapshot_config_options(const jc_snapshot_config *config);

/* Opens the snapshot state of a state directory (options and strings are
 * copied).  Checks the options; touches no source and no publish root. */
JC_EXTERN int jc_snapshot_open(jc_snapshots **out, const jc_snapshot_options *opts, jc_error *err);
JC_EXTERN void jc_snapshot_free(jc_snapshots *snapshots);

/* ---- poll */

#define JC_SNAPSHOT_POLL_NO_PUBLISH 1u   /* record only; `publish` later */

typedef struct jc_snapshot_poll_result {
	long number;               /* the new snapshot; 0 when none was made */
	bool changed;              /* a source's Release changed */
	bool published;
	long previous;             /* the newest snapshot before this poll, 0 if none */
	long n_packages;           /* in the new snapshot */
	long debs_fetched;         /* packages downloaded */
	long debs_reused;          /* packages the pool had already */
	long indices_fetched;
	long requests;             /* to the sources, retries included */
	long long bytes_fetched;
	long long elapsed_ms;
} jc_snapshot_poll_result;

JC_EXTERN int jc_snapshot_poll(jc_snapshot_poll_result *out, jc_snapshots *snapshots, unsigned flags,
			       jc_error *err);

/* Publishes snapshot `number` (0: every recorded one not yet published, and
 * any published one whose tree is missing), and makes pointers match the
 * database.  *published counts the trees built. */
JC_EXTERN int jc_snapshot_publish(long *published, jc_snapshots *snapshots, long number,
				  jc_error *err);

/* ---- what there is */

typedef struct jc_snapshot_source_info {
	char *name;
	char *location;            /* URL or directory */
	char *suite;
	char *release_file;        /* "InRelease" or "Release" */
	char *release_sha256;
	char *release_date;        /* the source's Date field */
	char *signed_by;           /* signing key fingerprint; NULL when not verified */
} jc_snapshot_source_info;

typedef struct jc_snapshot_index_info {
	char *component;
	char *architecture;
	char *packages_sha256;
	long long packages_size;
	long n_packages;
} jc_snapshot_index_info;

typedef struct jc_snapshot_info {
	long number;
	long long created_at;      /* seconds since the epoch */
	long long published_at;    /* 0 when not published */
	char *state;               /* "recorded", "published", "pruning", "pruned" */
	char *suite;
	long n_packages;
	long long size;            /* bytes of packages */
	char **pointers;           /* pointers that name it */
	size_t n_pointers;
	jc_snapshot_source_info *sources;   /* jc_snapshot_show only */
	size_t n_sources;
	jc_snapshot_index_info *indices;    /* jc_snapshot_show only */
	size_t n_indices;
} jc_snapshot_info;

/* Snapshots, newest first; pruned ones only with include_pruned. */
JC_EXTERN int jc_snapshot_list(jc_snapshot_info **out, size_t *n, jc_snapshots *snapshots,
			       bool include_pruned, jc_error *err);
JC_EXTERN int jc_snapshot_show(jc_snapshot_info **out, jc_snapshots *snapshots, long number,
			       jc_error *err);
JC_EXTERN void jc_snapshot_info_free(jc_snapshot_info *info, size_t n);

/* "12" or a pointer name ("testing") to a snapshot number. */
JC_EXTERN int jc_snapshot_resolve(long *number, jc_snapshots *snapshots, const char *ref,
				  jc_error *err);

typedef struct jc_snapshot_package {
	const char *name;
	const char *version;
	const char *architecture;
	const char *component;
	const char *filename;      /* relative to the snapshot's root */
	const char *sha256;
	long long size;
} jc_snapshot_package;

typedef int (*jc_snapshot_package_fn)(const jc_snapshot_package *pkg, void *payload);
/* Calls fn for each package of a snapshot, per component and architecture
 * in name order; a non-zero return stops (and is returned). */
JC_EXTERN int jc_snapshot_packages(jc_snapshots *snapshots, long number, jc_snapshot_package_fn fn,
				   void *payload, jc_error *err);

typedef enum jc_snapshot_change_kind {
	JC_SNAPSHOT_ADDED = 1,
	JC_SNAPSHOT_REMOVED = 2,
	JC_SNAPSHOT_CHANGED = 3
} jc_snapshot_change_kind;

typedef struct jc_snapshot_change {
	jc_snapshot_change_kind kind;
	const char *name;
	const char *architecture;
	const char *from;          /* newest version in A; NULL when added */
	const char *to;            /* newest version in B; NULL when removed */
	const char *from_all;      /* every version in A, space-separated (usually == from) */
	const char *to_all;
} jc_snapshot_change;

typedef struct jc_snapshot_diff_summary {
	long added, removed, changed, unchanged;
} jc_snapshot_diff_summary;

typedef int (*jc_snapshot_change_fn)(const jc_snapshot_change *change, void *payload);
/* The packages (name and architecture) that differ from snapshot a to b,
 * in name order. */
JC_EXTERN int jc_snapshot_diff(jc_snapshot_diff_summary *out, jc_snapshots *snapshots, long a, long b,
			       jc_snapshot_change_fn fn, void *payload, jc_error *err);

/* ---- pointers and promotion */

typedef struct jc_snapshot_pointer {
	char *name;
	long number;
	long long updated_at;
	char *who;
	char *why;
} jc_snapshot_pointer;

JC_EXTERN int jc_snapshot_pointers(jc_snapshot_pointer **out, size_t *n, jc_snapshots *snapshots,
				   jc_error *err);
JC_EXTERN void jc_snapshot_pointers_free(jc_snapshot_pointer *pointers, size_t n);

/* Points `pointer` at published snapshot `number`, recording who and why
 * in the promotion history.  *previous (may be NULL) gets the number it
 * pointed at before, 0 if none. */
JC_EXTERN int jc_snapshot_promote(long *previous, jc_snapshots *snapshots, long number,
				  const char *pointer, const char *who, const char *why,
				  jc_error *err);

/* True for a usable pointer name: [a-z][a-z0-9_-]*, at most 64
 * characters, not "snapshots". */
JC_EXTERN bool jc_snapshot_pointer_name_ok(const char *name);

/* ---- prune */

typedef struct jc_snapshot_prune_result {
	long kept;                 /* snapshots still published */
	long removed;              /* snapshots removed */
	long files_removed;        /* pool files no snapshot needed any more */
	long long bytes_removed;
} jc_snapshot_prune_result;

/* Removes published snapshots beyond the `keep` newest, except those a
 * pointer names, then pool files nothing references.  Memory use does not
 * grow with the number of snapshots or pool files.  dry_run only counts
 * the snapshots. */
JC_EXTERN int jc_snapshot_prune(jc_snapshot_prune_result *out, jc_snapshots *snapshots, long keep,
				bool dry_run, jc_error *err);

/* ---- watch */

typedef void (*jc_snapshot_cycle_fn)(const jc_snapshot_poll_result *result, const jc_error *err,
				     void *payload);
typedef bool (*jc_snapshot_stop_fn)(void *payload);

#define JC_SNAPSHOT_WATCH_OPTIONS_VERSION 1
typedef struct jc_snapshot_watch_options {
	unsigned version;
	long max_cycles;           /* 0: until stop says so */
	jc_snapshot_stop_fn stop;  /* asked often (at least every 200 ms while waiting) */
	jc_snapshot_cycle_fn on_cycle;  /* after each poll (err NULL when it succeeded) */
	void *payload;
} jc_snapshot_watch_options;

#define JC_SNAPSHOT_WATCH_OPTIONS_INIT { JC_SNAPSHOT_WATCH_OPTIONS_VERSION, 0, NULL, NULL, NULL }

/*
 * Polls every interval_ms (+- jitter_percent at random, so many watchers
 * spread out), the first time at once.  One watcher per state directory
 * (JC_ELOCKED for a second one).  A failed poll is reported through
 * on_cycle and the watch goes on; a cycle that finds another writer busy is
 * skipped.  Returns when stop says so or after max_cycles.
 */
JC_EXTERN int jc_snapshot_watch(jc_snapshots *snapshots, const jc_snapshot_watch_options *opts,
				jc_error *err);

/* ---- how clients reach a snapshot */

/* "<base_url>/snapshots/<number>" (no trailing slash).  Caller frees. */
JC_EXTERN int jc_snapshot_url(char **out, const char *base_url, long number, jc_error *err);
/* "<base_url>/<pointer>".  Caller frees. */
JC_EXTERN int jc_snapshot_pointer_url(char **out, const char *base_url, const char *pointer,
				      jc_error *err);
/*
 * A sources.list line: "deb [signed-by=KEYRING] URL SUITE COMPONENT..." or,
 * with no keyring, "deb [trusted=yes] ...".  Caller frees.
 */
JC_EXTERN int jc_snapshot_apt_line(char **out, const char *url, const char *suite,
				   const char *const *components, size_t n_components,
				   const char *signed_by, jc_error *err);

#ifdef __cplusplus
}
#endif
#endif
