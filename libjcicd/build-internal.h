/* build-internal.h - what the files of the build module share, and the
 * pure helpers its unit suite tests. */
#ifndef JCICD_BUILD_INTERNAL_H
#define JCICD_BUILD_INTERNAL_H

#include <pthread.h>

#include "common.h"
#include "jcicd/build.h"
#include "store-internal.h"

struct jc_builds {
	jc_build_options o;             /* every string points into `strings` */
	jc_strv strings;
	jc_build_entry *entries;
	jc_store *store;
	char *dir;                      /* <state>/build */
	char *host_arch;                /* dpkg --print-architecture, on first build */
	int lock_fd;                    /* the writer lock while held, else -1 */
	pthread_mutex_t log_lock;       /* the caller's logger is not thread-safe */
};

/* jc_log from any thread */
void jc_bld_log(jc_builds *b, jc_log_level level, const char *fmt, ...) JC_PRINTF(3, 4);

/* ---- versions and changelogs (build-version.c) */

/* The first line of debian/changelog: "source (version) dist; urgency=..".
 * Out strings are the caller's. */
int jc_bld_changelog_head(const char *text, char **source, char **version, char **distribution,
			  const char *name, jc_error *err);

typedef struct jc_bld_version_vars {
	const char *version;            /* the changelog's */
	const char *commit;             /* NULL for APT entries */
	long build;                     /* the entry's counter */
	int64_t when;                   /* epoch seconds (UTC) */
} jc_bld_version_vars;

/* Expands a version format (JC_BUILD_VERSION_FORMAT_*); the result must be
 * a valid Debian version. */
int jc_bld_version_make(char **out, const char *format, const jc_bld_version_vars *vars, jc_error *err);
/* Checks a format's placeholders without expanding it. */
int jc_bld_version_format_check(const char *format, jc_error *err);
/* Debian Policy 5.6.12: [epoch:]upstream[-revision] with their alphabets. */
bool jc_bld_version_valid(const char *version);
/* A changelog entry to put on top of debian/changelog.  Caller frees. */
char *jc_bld_changelog_entry(const char *source, const char *version, const char *distribution,
			     const char *maintainer, const char *text, int64_t when);
/* "hello" -> "h", "libfoo" -> "libf" (the pool directory of a source). */
char *jc_bld_pool_prefix(const char *source);
/* A usable entry name: [a-z0-9][a-z0-9.+_-]*, at most 100 characters. */
bool jc_bld_name_ok(const char *name);
/* A git location is a URL (scheme://, or scp-like host:path) rather than a
 * local path. */
bool jc_bld_git_is_url(const char *location);

/* ---- the state database (build.c) */
typedef struct jc_bld_state {
	char *seen;                     /* what the source looked like last time */
	char *attempted;                /* what the last attempt built */
	char *built;
	char *built_version;
	char *etag, *last_modified;     /* APT entries: validators of the Release */
	long builds;
} jc_bld_state;

int jc_bld_state_get(jc_builds *b, const char *entry, jc_bld_state *st, jc_error *err);
void jc_bld_state_clear(jc_bld_state *st);

/* ---- one build (build-run.c) */

/* A .deb a build made. */
typedef struct jc_bld_deb {
	char *path;                     /* in the build directory */
	char *name, *version, *architecture, *source;
	char *control;                  /* the control paragraph, as dpkg-deb -f printed it */
	char sha256[65];
	long long size;
} jc_bld_deb;

typedef struct jc_bld_job {
	const jc_build_entry *entry;
	jc_bld_state state;
	long build_number;              /* the counter this attempt uses */
	char *ref;                      /* what was seen (commit, commit+commit, Release hash) */
	char *commit;                   /* the commit built (or NULL) */
	char *log_path;
	char *work;                     /* a clean directory for this build */
	int64_t deadline;               /* monotonic ms */
	int last_exit;                  /* exit status of the last command run */
	/* out */
	jc_build_result result;
	jc_error err;
	char *version;
	jc_bld_deb *debs;
	size_t n_debs;
	long long elapsed_ms;
	/* APT entries: what the poll found */
	void *apt;                      /* struct apt_found (build-apt.c) */
} jc_bld_job;

/* Appends a line to the job's log (with a time stamp). */
void jc_bld_logf(jc_bld_job *job, const char *fmt, ...) JC_PRINTF(2, 3);
/* Runs a command for a job: output to its log, the tail kept for errors,
 * stopped at the job's deadline (or timeout_ms when sooner).  A non-zero
 * exit is JC_EFAILED "what failed (exit N): <last lines>". */
int jc_bld_run(jc_builds *b, jc_bld_job *job, const char *const *argv, const char *cwd,
	       long long timeout_ms, const char *what, jc_buf *output, jc_error *err);

/* Builds a prepared source tree (debian/ inside): new changelog entry,
 * build-dependency check, dpkg-buildpackage, the .debs collected. */
int jc_bld_build_tree(jc_builds *b, jc_bld_job *job, const char *tree, const char *commit_text,
		      jc_error *err);
void jc_bld_debs_free(jc_bld_deb *debs, size_t n);
/* Reads the .debs in the job's directory (those for the repository's
 * architectures) into job->debs; none is an error. */
int jc_bld_collect_debs(jc_builds *b, jc_bld_job *job, jc_error *err);
/* Reads a .deb's control paragraph, name, version, architecture, hash. */
int jc_bld_deb_read(jc_builds *b, jc_bld_job *job, const char *path, jc_bld_deb *out, jc_error *err);

/* ---- git (build-git.c) */
/* The head commit of the entry's branch(es), by ls-remote: "sha" or
 * "upstream-sha+packaging-sha". */
int jc_bld_git_head(jc_builds *b, jc_bld_job *job, char **ref, jc_error *err);
/* Fetches and exports the entry at the commit(s), then builds. */
int jc_bld_git_build(jc_builds *b, jc_bld_job *job, jc_error *err);

/* ---- APT entries (build-apt.c) */
int jc_bld_apt_check(jc_builds *b, jc_bld_job *job, char **ref, bool *unchanged, jc_error *err);
int jc_bld_apt_build(jc_builds *b, jc_bld_job *job, jc_error *err);
void jc_bld_apt_free(jc_bld_job *job);

/* ---- the repository (build-publish.c) */
/* Adds the jobs' .debs (successful jobs only) to the pool, records them as
 * their entries' packages, and rewrites the indices. */
int jc_bld_publish(jc_builds *b, jc_bld_job *jobs, size_t n, jc_error *err);
/* Writes the indices when the repository has none yet. */
int jc_bld_publish_ensure(jc_builds *b, jc_error *err);

#endif
