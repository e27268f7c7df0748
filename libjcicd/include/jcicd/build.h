/*
 * jcicd/build.h - the package build server: watch the configured sources,
 * build new Debian package versions when something changed, and publish
 * them into the build repository that snapshots are taken from.
 *
 * A source entry is one of
 *   - a git repository (URL or path, branch) holding a Debian source tree,
 *     optionally with the debian/ directory from a second, packaging,
 *     repository laid over the upstream tree;
 *   - a source package of an external APT repository, rebuilt here;
 *   - a binary package of an external APT repository, carried over as it is.
 *
 * A poll asks each git entry for its branch head with `git ls-remote` (no
 * clone, no fetch while nothing changed) and each APT entry for its Release
 * with a conditional request.  A changed entry is built in a clean directory
 * from the exported tree at that commit, with dpkg-buildpackage, after a
 * build-dependency check that names what is missing; its version orders
 * after every earlier build and says where it came from (see
 * JC_BUILD_VERSION_FORMAT_GIT).  Independent entries build in parallel up to
 * max_parallel; each has a deadline and its whole log is kept.
 *
 * The build repository is a plain APT repository:
 *
 *   <repo>/pool/<component>/<p>/<source>/<name>_<version>_<arch>.deb
 *   <repo>/dists/<suite>/<component>/binary-<arch>/{Packages,Packages.gz,by-hash/SHA256/<h>}
 *   <repo>/dists/<suite>/{Release,InRelease,Release.gpg}
 *
 * It lists the newest successful build of every entry.  A failed build
 * publishes nothing and leaves the previous version in place.  Files are
 * replaced by rename, indices are also written by hash before the Release
 * that names them (Acquire-By-Hash), and pool files are never overwritten:
 * a reader sees the old repository or the new one, never a half-written one.
 *
 * One writer (poll, run, publish, watch) per state directory at a time; a
 * second gets JC_ELOCKED naming the holder.  Status needs no lock.
 */
#ifndef JCICD_BUILD_H
#define JCICD_BUILD_H

#include <stdbool.h>
#include <stddef.h>

#include "jcicd/config.h"
#include "jcicd/error.h"
#include "jcicd/log.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum jc_build_kind {
	JC_BUILD_GIT = 1,          /* a Debian source tree in git */
	JC_BUILD_APT_SOURCE = 2,   /* rebuild a source package of an APT repository */
	JC_BUILD_APT_BINARY = 3    /* carry a binary package over unchanged */
} jc_build_kind;

/*
 * The version a build gets.  Placeholders: {version} the newest version of
 * debian/changelog (or of the APT source package), {upstream} its upstream
 * part, {date} and {time} the build's UTC date (YYYYMMDD, HHMMSS), {build}
 * the entry's build counter (1, 2, ...), {commit} and {short} the commit
 * built (full and 7 hex digits; for packaging repositories the packaging
 * commit).  "+" sorts after the released version, so a build from the
 * branch after release 1.0-1 is newer than 1.0-1; {date}.{build} keeps later
 * builds of the same changelog version ordered.
 */
#define JC_BUILD_VERSION_FORMAT_GIT "{version}+git{date}.{build}.{short}"
#define JC_BUILD_VERSION_FORMAT_APT "{version}+jcicd{build}"

/* One entry of the sources list.  Strings are borrowed by the options that
 * hold the entry and copied by jc_build_open. */
typedef struct jc_build_entry {
	const char *name;                  /* unique: [a-z0-9][a-z0-9.+_-]* */
	jc_build_kind kind;
	/* JC_BUILD_GIT */
	const char *git;                   /* URL or path of the repository */
	const char *branch;                /* NULL: the remote's HEAD */
	const char *packaging_git;         /* debian/ comes from here; NULL: from git */
	const char *packaging_branch;      /* NULL: the remote's HEAD */
	/* JC_BUILD_APT_SOURCE and JC_BUILD_APT_BINARY */
	const char *apt_url;               /* http(s) URL ... */
	const char *apt_path;              /* ... or a local directory */
	const char *apt_suite;
	const char *apt_component;         /* NULL: "main" */
	const char *apt_keyring;           /* verify InRelease/Release.gpg; NULL: unsigned */
	const char *package;               /* the source or binary package name */
	const char *pin;                   /* version glob ("1.2.*"); NULL: the newest */
	/* options */
	const char *const *architectures;  /* NULL: the repository's (and all) */
	size_t n_architectures;
	const char *const *profiles;       /* build profiles (DEB_BUILD_PROFILES) */
	size_t n_profiles;
	const char *build_depends;         /* extra build dependencies, a Depends line */
	long long timeout_ms;              /* the whole build; 0: the options' default */
	const char *version_format;        /* NULL: JC_BUILD_VERSION_FORMAT_GIT / _APT */
	/* where the entry was written (for messages); may be NULL / 0 */
	const char *file;
	int line;
} jc_build_entry;

#define JC_BUILD_OPTIONS_VERSION 1
typedef struct jc_build_options {
	unsigned version;
	const char *state_dir;             /* NULL: the default state directory */
	const jc_build_entry *entries;
	size_t n_entries;
	/* the build repository */
	const char *repo_dir;              /* required to build or publish */
	const char *suite;                 /* NULL: "unstable" */
	const char *component;             /* NULL: "main" */
	const char *const *architectures;  /* NULL: {"amd64"} */
	size_t n_architectures;
	const char *origin;                /* NULL: "jcicd" */
	const char *label;                 /* NULL: "jcicd build" */
	const char *sign_key;              /* sign InRelease and Release.gpg; NULL: unsigned */
	const char *gnupghome;
	const char *passphrase_file;
	/* building */
	int max_parallel;                  /* builds at once; 0: 2 */
	long long timeout_ms;              /* per build; 0: 1 h */
	long long git_timeout_ms;          /* per ls-remote / fetch; 0: 2 min */
	bool install_build_deps;           /* apt-get build-dep missing ones (as root) */
	const char *maintainer;            /* of the changelog entry; NULL: "jcicd <jcicd@localhost>" */
	/* watch */
	long long interval_ms;             /* 0: 5 min */
	int jitter_percent;                /* <0: 0; 0: 10 */
	long long lock_timeout_ms;         /* wait for another writer; 0: fail at once */
	const jc_logger *logger;           /* borrowed */
} jc_build_options;

#define JC_BUILD_OPTIONS_INIT { JC_BUILD_OPTIONS_VERSION, NULL, NULL, 0, NULL, NULL, NULL, NULL, 0, \
				NULL, NULL, NULL, NULL, NULL, 0, 0, 0, false, NULL, 0, 0, 0, NULL }

/*
 * The build configuration: the `build` section of jcicd.yaml, whose
 * `sources` is either the list itself or the path of a sources.yaml holding
 * it (a file whose top level has a `sources` list).  Errors point at
 * file:line:col, unknown keys get a "did you mean".  Paths are resolved
 * against the directory of the file they are written in.  A missing
 * section gives empty options.
 */
typedef struct jc_build_config jc_build_config;
JC_EXTERN int jc_build_config_load(jc_build_config **out, const jc_config *config, jc_error *err);
/* Replaces the sources with those of a sources.yaml (the CLI's --sources). */
JC_EXTERN int jc_build_config_load_sources(jc_build_config *bc, const char *path, jc_error *err);
JC_EXTERN void jc_build_config_free(jc_build_config *bc);
/* Borrowed from bc (strings too); copy the struct to override fields. */
JC_EXTERN const jc_build_options *jc_build_config_options(const jc_build_config *bc);

typedef struct jc_builds jc_builds;

/* Opens the build state of a state directory (options and strings copied).
 * Checks the options; touches no source and no repository. */
JC_EXTERN int jc_build_open(jc_builds **out, const jc_build_options *opts, jc_error *err);
JC_EXTERN void jc_build_free(jc_builds *builds);

/* ---- poll and run */

typedef enum jc_build_result {
	JC_BUILD_NONE = 0,         /* nothing done (unchanged) */
	JC_BUILD_OK = 1,           /* built (or carried over) and published */
	JC_BUILD_FAILED = 2,       /* the build failed: nothing published */
	JC_BUILD_UNREACHABLE = 3,  /* the source could not be asked */
	JC_BUILD_SKIPPED = 4       /* not for this host's architecture */
} jc_build_result;

/* Where one entry stands after a poll or run (and in jc_build_status). */
typedef struct jc_build_entry_status {
	char *name;
	char *kind;                /* "git", "apt-source", "apt-binary" */
	char *location;            /* the repository it comes from */
	char *seen;                /* last commit (or Release hash) seen, NULL if never */
	long long seen_at;         /* seconds since the epoch */
	char *built;               /* commit of the last successful build */
	char *built_version;       /* version of the last successful build */
	char *last_version;        /* version of the last attempt */
	char *last_result;         /* "ok", "failed", "unreachable", "skipped"; NULL if never */
	char *last_error;          /* why the last attempt failed */
	char *log;                 /* the last attempt's full log */
	long long last_started, last_finished;
	long builds;               /* attempts so far (the {build} counter) */
	char **packages;           /* "name version arch" published for this entry */
	size_t n_packages;
	/* filled by poll/run only: */
	jc_build_result result;
	bool changed;              /* the source moved since the last attempt */
	long long elapsed_ms;
} jc_build_entry_status;

typedef struct jc_build_poll_result {
	jc_build_entry_status *entries;   /* one per configured entry, in order */
	size_t n_entries;
	long checked, changed, built, failed, unreachable;
	bool published;                   /* the repository's indices were rewritten */
	long long elapsed_ms;
} jc_build_poll_result;

JC_EXTERN void jc_build_poll_result_clear(jc_build_poll_result *res);

/*
 * Asks every entry whether it changed and builds and publishes those that
 * did.  Returns 0 when every source could be asked and every build
 * succeeded; JC_EFAILED when a build failed and JC_EUNREACHABLE when a
 * source could not be asked (others are still built and published; *res
 * says which is which; err names the first failure).
 */
JC_EXTERN int jc_build_poll(jc_build_poll_result *res, jc_builds *builds, jc_error *err);

/*
 * Builds the named entries (all when n == 0) now, changed or not: a new
 * build counter, so a new version.  An unknown name is JC_ENOTFOUND (with
 * a "did you mean") before anything is done.
 */
JC_EXTERN int jc_build_run(jc_build_poll_result *res, jc_builds *builds, const char *const *names,
			   size_t n, jc_error *err);

/* Rewrites the repository's indices from the recorded builds (after moving
 * or losing the repository directory, or to re-sign). */
JC_EXTERN int jc_build_publish(jc_builds *builds, jc_error *err);

/* ---- status */

/* Every configured entry (and those recorded but no longer configured,
 * with kind NULL), in configuration order. */
JC_EXTERN int jc_build_status(jc_build_entry_status **out, size_t *n, jc_builds *builds, jc_error *err);
JC_EXTERN void jc_build_entry_status_free(jc_build_entry_status *st, size_t n);

/* ---- watch */

typedef void (*jc_build_cycle_fn)(const jc_build_poll_result *res, const jc_error *err, void *payload);
typedef bool (*jc_build_stop_fn)(void *payload);

#define JC_BUILD_WATCH_OPTIONS_VERSION 1
typedef struct jc_build_watch_options {
	unsigned version;
	long max_cycles;           /* 0: until stop says so */
	jc_build_stop_fn stop;     /* asked at least every 200 ms while waiting */
	jc_build_cycle_fn on_cycle;
	void *payload;
} jc_build_watch_options;

#define JC_BUILD_WATCH_OPTIONS_INIT { JC_BUILD_WATCH_OPTIONS_VERSION, 0, NULL, NULL, NULL }

/* Polls at once and then every interval_ms (+- jitter_percent at random).
 * One watcher per state directory (JC_ELOCKED for a second).  A failed
 * poll is reported through on_cycle and the watch goes on; a bad
 * configuration ends it. */
JC_EXTERN int jc_build_watch(jc_builds *builds, const jc_build_watch_options *opts, jc_error *err);

#ifdef __cplusplus
}
#endif
#endif
