/*
 * jcicd/jobs.h - Jenkins jobs as generated, reviewable artefacts.
 *
 * A job definition file (YAML; or the `jobs` section of jcicd.yaml) holds
 * job templates with {variables}, projects that instantiate them (a list
 * value expands into one job per item, like Jenkins Job Builder), concrete
 * jobs and defaults.  Loading it yields a job set: one Jenkins config.xml
 * per job (freestyle projects: timer, shell steps, parameters, JUnit,
 * parameterised downstream triggers, timeouts, timestamps, teardown on
 * abort).  Every error in a definition names file:line:col.
 *
 * The same module talks to Jenkins over its REST API: `jc_jobs_sync` reads
 * each job's config.xml from the server, compares canonical XML (C14N) and
 * POSTs only what differs (zero POSTs when nothing changed); `jc_jobs_trigger`
 * queues a build and can follow it to its result, streaming the console.
 * Jobs the set manages carry a marker at the end of their description, so
 * that obsolete ones can be deleted without touching anybody else's jobs.
 */
#ifndef JCICD_JOBS_H
#define JCICD_JOBS_H

#include <stdbool.h>
#include <stddef.h>

#include "jcicd/config.h"
#include "jcicd/error.h"
#include "jcicd/http.h"
#include "jcicd/log.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- job sets */

typedef struct jc_jobs jc_jobs;

#define JC_JOBS_LOAD_OPTIONS_VERSION 1
typedef struct jc_jobs_load_options {
	unsigned version;
	const jc_logger *logger;   /* warnings (e.g. a downstream job outside the set); may be NULL */
} jc_jobs_load_options;

#define JC_JOBS_LOAD_OPTIONS_INIT { JC_JOBS_LOAD_OPTIONS_VERSION, NULL }

/* Loads a job definition file and generates every job's config.xml.  Free
 * with jc_jobs_free. */
JC_EXTERN int jc_jobs_load_file(jc_jobs **out, const char *path, const jc_jobs_load_options *opts,
				jc_error *err);
/* The same from the `jobs` section of jcicd.yaml (paths in it are relative
 * to jcicd.yaml).  A missing section is JC_ENOTFOUND. */
JC_EXTERN int jc_jobs_load_config(jc_jobs **out, const jc_config *config,
				  const jc_jobs_load_options *opts, jc_error *err);
JC_EXTERN void jc_jobs_free(jc_jobs *jobs);

/* Jobs in definition order.  Names and XML are borrowed from the set. */
JC_EXTERN size_t jc_jobs_count(const jc_jobs *jobs);
JC_EXTERN const char *jc_jobs_name(const jc_jobs *jobs, size_t i);
JC_EXTERN const char *jc_jobs_xml(const jc_jobs *jobs, size_t i, size_t *len);
/* The set's name ("set:" in the file, default "jcicd"): it is part of the
 * marker that says a job on the server belongs to this set. */
JC_EXTERN const char *jc_jobs_set_name(const jc_jobs *jobs);
/* The `jenkins:` settings of the definition: "url", "user", "token-file"
 * (resolved against the file's directory).  NULL when not set.  Borrowed. */
JC_EXTERN const char *jc_jobs_jenkins_setting(const jc_jobs *jobs, const char *key);

/* Writes DIR/<job>/config.xml for every job (a job "a/b" in a folder goes to
 * DIR/a/b/config.xml), creating directories; files whose content is already
 * right are left alone.  *n_written (may be NULL) counts the files written. */
JC_EXTERN int jc_jobs_write(const jc_jobs *jobs, const char *dir, size_t *n_written, jc_error *err);

/* ---- XML comparison */

/* Canonical form of a Jenkins config.xml: whitespace between elements,
 * comments and the declaration dropped, then Canonical XML 1.0 (attribute
 * order, quoting, empty elements, character references normalised).  Two
 * configurations are the same job iff their canonical forms are equal.
 * `what` names the document in errors.  Caller frees *out. */
JC_EXTERN int jc_jobs_canonicalize(char **out, size_t *out_len, const char *xml, size_t len,
				   const char *what, jc_error *err);
/* Where two configurations first differ, as an element path such as
 * "/project/builders/hudson.tasks.Shell[2]/command"; *out is NULL when they
 * are equivalent.  Caller frees *out. */
JC_EXTERN int jc_jobs_xml_difference(char **out, const char *a, size_t a_len, const char *b,
				     size_t b_len, jc_error *err);

/* ---- Jenkins */

typedef struct jc_jenkins jc_jenkins;

#define JC_JENKINS_OPTIONS_VERSION 1
typedef struct jc_jenkins_options {
	unsigned version;
	const char *url;             /* http://host:8080 or .../jenkins (a prefix is fine) */
	const char *user;
	const char *token;           /* API token (or password); never logged */
	int max_parallel;            /* requests at once; 0: 4 */
	long long request_timeout_ms; /* per request; 0: 60 s */
	int max_retries;             /* -1: the http default */
	const char *ca_file;
	bool insecure;
	const jc_logger *logger;     /* borrowed; may be NULL */
} jc_jenkins_options;

#define JC_JENKINS_OPTIONS_INIT { JC_JENKINS_OPTIONS_VERSION, NULL, NULL, NULL, 0, 0, -1, NULL, false, NULL }

JC_EXTERN int jc_jenkins_open(jc_jenkins **out, const jc_jenkins_options *opts, jc_error *err);
JC_EXTERN void jc_jenkins_free(jc_jenkins *jenkins);

/* Requests made through this connection (one the http module had to retry
 * counts once; a POST resent with a CSRF crumb counts twice). */
typedef struct jc_jenkins_stats {
	long gets;
	long posts;
} jc_jenkins_stats;

JC_EXTERN void jc_jenkins_get_stats(const jc_jenkins *jenkins, jc_jenkins_stats *out);

/* ---- sync */

typedef enum jc_jobs_action {
	JC_JOBS_UNCHANGED = 0,
	JC_JOBS_CREATE = 1,
	JC_JOBS_UPDATE = 2,
	JC_JOBS_DELETE = 3
} jc_jobs_action;

typedef struct jc_jobs_change {
	char *name;
	jc_jobs_action action;
	char *detail;   /* why: "differs at /project/description"; NULL when unchanged */
} jc_jobs_change;

typedef struct jc_jobs_sync_result {
	jc_jobs_change *changes;   /* every job of the set, then deleted ones */
	size_t n_changes;
	size_t created, updated, deleted, unchanged;
	long gets, posts;          /* requests this sync made */
} jc_jobs_sync_result;

#define JC_JOBS_SYNC_OPTIONS_VERSION 1
typedef struct jc_jobs_sync_options {
	unsigned version;
	bool delete_old;   /* delete jobs of this set that the definition no longer has */
	bool dry_run;      /* compare and report, change nothing */
} jc_jobs_sync_options;

#define JC_JOBS_SYNC_OPTIONS_INIT { JC_JOBS_SYNC_OPTIONS_VERSION, false, false }

/*
 * Makes the server's jobs match the set: GET each job's config.xml (in
 * parallel), compare canonical forms, create missing jobs, update changed
 * ones, and with delete_old delete the jobs this set marked as managed that
 * it no longer defines.  Nothing is POSTed when nothing differs.  A CSRF
 * crumb is fetched only when the server asks for one.  The result is filled
 * as far as the sync got, also on failure; clear it with
 * jc_jobs_sync_result_clear.
 */
JC_EXTERN int jc_jobs_sync(jc_jobs_sync_result *out, jc_jenkins *jenkins, const jc_jobs *jobs,
			   const jc_jobs_sync_options *opts, jc_error *err);
JC_EXTERN void jc_jobs_sync_result_clear(jc_jobs_sync_result *result);

/* ---- trigger */

#define JC_JOBS_TRIGGER_OPTIONS_VERSION 1
typedef struct jc_jobs_trigger_options {
	unsigned version;
	const char *const *params;    /* "NAME=value", checked against the job's parameters */
	size_t n_params;
	bool follow;                  /* wait for the build, stream its console, get its result */
	long long queue_timeout_ms;   /* until the build starts; 0: 1 h */
	long long build_timeout_ms;   /* until the build ends; 0: 24 h */
	long long poll_interval_ms;   /* longest pause between polls; 0: 2 s */
	jc_http_data_fn on_console;   /* console text as it arrives; may be NULL */
	void *payload;
} jc_jobs_trigger_options;

#define JC_JOBS_TRIGGER_OPTIONS_INIT { JC_JOBS_TRIGGER_OPTIONS_VERSION, NULL, 0, false, 0, 0, 0, NULL, NULL }

typedef struct jc_jobs_build {
	long queue_id;
	long number;            /* 0 until the build started (without follow) */
	char result[16];        /* "SUCCESS", "FAILURE", "UNSTABLE", "ABORTED", "NOT_BUILT"; "" */
	char url[512];          /* the build's URL (or the queue item's) */
	long long duration_ms;
} jc_jobs_build;

/*
 * Queues a build of `job` (buildWithParameters when the job has parameters,
 * build otherwise) and fills out->queue_id.  With follow, waits for the queue
 * item to become a build, streams its console through on_console
 * (progressiveText) and waits for the result: 0 for SUCCESS, JC_EFAILED for
 * any other result (out says which), JC_ECANCELLED when the queue item was
 * cancelled, JC_ETIMEOUT when a deadline passed.  A job the server does
 * not have, or a parameter the job does not define, is JC_EINVALID before
 * anything is queued.
 */
JC_EXTERN int jc_jobs_trigger(jc_jobs_build *out, jc_jenkins *jenkins, const char *job,
			      const jc_jobs_trigger_options *opts, jc_error *err);

#ifdef __cplusplus
}
#endif
#endif
