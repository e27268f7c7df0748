/*
 * jobs-internal.h - the job model between the definition parser
 * (jobs-def.c) and the XML writer (jobs-xml.c), and the Jenkins
 * connection shared by sync and trigger.  Never installed.
 */
#ifndef JCICD_JOBS_INTERNAL_H
#define JCICD_JOBS_INTERNAL_H

#include "common.h"

#include "jcicd/http.h"
#include "jcicd/jobs.h"
#include "jcicd/yaml.h"

/* The marker that ends the description of every job a set manages. */
#define JC_JOBS_MARKER_FMT "<!-- Managed by jcicd (job set %s) -->"

typedef struct jc_job_param {
	char *name;
	char *description;
	char *default_value;
	bool is_bool;
	bool trim;
} jc_job_param;

typedef struct jc_job_downstream {
	jc_strv jobs;
	const char *condition;     /* static: "SUCCESS", "ALWAYS", ... */
	char *predefined;          /* "K=V\n..." or NULL */
	char *property_file;       /* or NULL */
	bool fail_on_missing;
	bool current;
	bool without_params;       /* trigger even when no parameter resolved */
} jc_job_downstream;

typedef struct jc_job {
	char *name;
	char *description;        /* without the marker */
	char *node;               /* NULL: can roam */
	int disabled;             /* -1 unset, 0, 1 */
	bool concurrent;
	bool block_downstream;
	bool block_upstream;
	long keep_builds;         /* -1: keep all */
	char *timer;              /* cron spec or NULL */
	jc_job_param *params;
	size_t n_params;
	jc_strv shell;
	char *junit;              /* results glob or NULL */
	bool junit_allow_empty;
	bool junit_keep_long_stdio;
	long timeout_minutes;     /* 0: none */
	bool timeout_fail;        /* fail instead of abort */
	bool timestamps;
	jc_job_downstream *downstream;
	size_t n_downstream;
	char *on_abort;           /* shell run when the build is aborted, or NULL */
	/* where it came from, for duplicate-name errors */
	char *file;
	int line, column;
	/* generated */
	char *xml;
	size_t xml_len;
} jc_job;

struct jc_jobs {
	jc_job *jobs;
	size_t n;
	size_t cap;
	char *set_name;
	char *url, *user, *token_file;
};

void jc_job_clear(jc_job *job);

/* ---- template variables (jobs-vars.c) */

typedef struct jc_jobs_var {
	const char *name;
	const jc_yaml_node *value;   /* a scalar or a sequence of scalars */
	const char *text;            /* the value chosen for this job */
} jc_jobs_var;

typedef struct jc_jobs_vars {
	jc_jobs_var *v;
	size_t n, cap;
} jc_jobs_vars;

/* Adds a variable unless it is set already (the first setter wins). */
void jc_jobs_vars_set(jc_jobs_vars *vs, const char *name, const jc_yaml_node *value, const char *text);
bool jc_jobs_is_ident(char c);
/* A scalar's text with the variables replaced (taken as it is when vs is
 * NULL: concrete jobs).  Caller frees *out. */
int jc_jobs_subst(const jc_jobs_vars *vs, const jc_yaml_node *node, const char *what, char **out,
		  jc_error *err);
int jc_jobs_subst_text(const jc_jobs_vars *vs, const char *text, const jc_yaml_node *where,
		       const char *what, char **out, jc_error *err, int depth);

/* ---- one job's fields (jobs-job.c) */

extern const char *const jc_job_keys[];
extern const size_t jc_job_n_keys;
extern const char *const jc_template_keys[];
extern const size_t jc_template_n_keys;
/* Fills job (all but its name) from body, else defaults. */
int jc_job_parse(jc_job *job, const jc_jobs_vars *vars, const jc_yaml_node *body,
		 const jc_yaml_node *defaults, jc_error *err);
/* Jenkins' rules for item names; '/' separates folders. */
int jc_job_check_name(const jc_yaml_node *where, const char *name, jc_error *err);
/* Renders job->xml from the model (libxml2). */
int jc_job_render(jc_job *job, const char *set_name, jc_error *err);
/* libxml2 initialised once per process. */
void jc_jobs_xml_init(void);

/* ---- the Jenkins connection (jobs-jenkins.c) */

struct jc_jenkins {
	jc_http *http;
	char *base;                 /* URL without a trailing slash */
	char *user;
	char *token;
	const jc_logger *logger;
	int crumb_state;            /* 0 unknown, 1 none needed, 2 have one */
	char *crumb_header;         /* "Jenkins-Crumb: ..." */
	char *cookie_header;        /* "Cookie: JSESSIONID...=..." */
	long gets, posts;
};

/* "/job/a/job/b" for "a/b", each segment escaped; caller frees. */
char *jc_jenkins_job_path(const char *job);
/* Fills the auth fields of req and counts it. */
void jc_jenkins_prepare(jc_jenkins *jk, jc_http_request *req);
/* One request with auth; a POST refused for a missing CSRF crumb is sent
 * again once with a crumb.  For a POST, req->headers may hold one line, the
 * Content-Type; the crumb and cookie are added.  resp is the caller's to
 * clear. */
int jc_jenkins_do(jc_jenkins *jk, jc_http_request *req, jc_http_response *resp, jc_error *err);
/* Like jc_http_check, with Jenkins' reasons: X-Error, the error page's title. */
int jc_jenkins_check(const jc_http_response *resp, const char *method, const char *url, jc_error *err);
/* True when resp says a CSRF crumb was wanted. */
bool jc_jenkins_wants_crumb(const jc_http_response *resp);
/* Gets a crumb (and the session cookie) from crumbIssuer. */
int jc_jenkins_fetch_crumb(jc_jenkins *jk, jc_error *err);
/* Builds the header list of a POST: content type, crumb and cookie. */
size_t jc_jenkins_post_headers(const jc_jenkins *jk, const char **headers, size_t max,
			       const char *content_type);

#endif
