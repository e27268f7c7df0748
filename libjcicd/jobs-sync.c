/* jobs-sync.c - make the jobs on a Jenkins server match a job set, judged by
 * what the server has (not by a local cache): read every job's config.xml,
 * compare canonical forms, POST only the differences. */
#include "common.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "jobs-internal.h"

#define BATCH 64   /* GETs per progress step */

static const char xml_type[] = "Content-Type: application/xml; charset=utf-8";

static void add_change(jc_jobs_sync_result *r, const char *name, jc_jobs_action action, char *detail)
{
	r->changes = jc_realloc(r->changes, (r->n_changes + 1) * sizeof(*r->changes));
	r->changes[r->n_changes].name = jc_strdup(name);
	r->changes[r->n_changes].action = action;
	r->changes[r->n_changes].detail = detail;
	r->n_changes++;
}

void jc_jobs_sync_result_clear(jc_jobs_sync_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_changes; i++) {
		free(r->changes[i].name);
		free(r->changes[i].detail);
	}
	free(r->changes);
	memset(r, 0, sizeof(*r));
}

/* Compares the server's config with ours; the detail says where they part. */
static jc_jobs_action compare(const jc_job *job, const char *server, size_t len, char **detail)
{
	char *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;
	jc_error e;
	jc_jobs_action action = JC_JOBS_UPDATE;

	*detail = NULL;
	if (jc_jobs_canonicalize(&a, &alen, server, len, job->name, &e) < 0) {
		*detail = jc_sprintf("the server's config.xml is not well-formed XML (%s)", e.message);
		return JC_JOBS_UPDATE;
	}
	if (jc_jobs_canonicalize(&b, &blen, job->xml, job->xml_len, job->name, &e) == 0 && alen == blen &&
	    memcmp(a, b, alen) == 0) {
		action = JC_JOBS_UNCHANGED;
	} else {
		char *where = NULL;
		jc_jobs_xml_difference(&where, job->xml, job->xml_len, server, len, NULL);
		*detail = jc_sprintf("differs at %s", where ? where : "(whitespace inside a value)");
		free(where);
	}
	free(a);
	free(b);
	return action;
}

/* What one GET of a job's config.xml says about the job. */
static int judge(jc_jobs_sync_result *r, const jc_job *job, const jc_http_response *resp,
		 const jc_error *e, const char *url, jc_error *err)
{
	char *detail = NULL;
	int rc;
	if (resp->status == 0) {
		jc_err_copy(err, e);
		return e->code ? e->code : JC_EUNREACHABLE;
	}
	if (resp->status == 404) {
		add_change(r, job->name, JC_JOBS_CREATE, jc_strdup("not on the server"));
		return 0;
	}
	if (resp->status == 200) {
		jc_jobs_action a = compare(job, resp->body, resp->body_len, &detail);
		add_change(r, job->name, a, detail);
		return 0;
	}
	rc = jc_jenkins_check(resp, "GET", url, err);
	if (rc == 0)
		rc = jc_err_http(err, JC_EHTTP, url, resp->status, NULL,
				 "GET answered %d instead of the job's config.xml", resp->status);
	return rc;
}

/* Reads every job's config.xml, in parallel batches, and plans. */
static int plan_jobs(jc_jobs_sync_result *r, jc_jenkins *jk, const jc_jobs *jobs, jc_error *err)
{
	size_t n = jobs->n;
	for (size_t start = 0; start < n; start += BATCH) {
		size_t m = n - start < BATCH ? n - start : BATCH;
		jc_http_request reqs[BATCH];
		jc_http_response resps[BATCH];
		jc_error errs[BATCH];
		char *urls[BATCH];
		int rc = 0;

		memset(reqs, 0, sizeof(reqs));
		for (size_t i = 0; i < m; i++) {
			char *path = jc_jenkins_job_path(jobs->jobs[start + i].name);
			urls[i] = jc_sprintf("%s%s/config.xml", jk->base, path);
			free(path);
			reqs[i].url = urls[i];
			jc_jenkins_prepare(jk, &reqs[i]);
		}
		jc_http_do_many(jk->http, reqs, resps, errs, m);
		for (size_t i = 0; i < m; i++) {
			if (rc == 0)
				rc = judge(r, &jobs->jobs[start + i], &resps[i], &errs[i], urls[i], err);
			jc_http_response_clear(&resps[i]);
			free(urls[i]);
		}
		if (rc < 0)
			return rc;
		jc_progress(jk->logger, "jobs", "comparing jobs with the server", (long)(start + m), (long)n);
	}
	return 0;
}

static bool in_set(const jc_jobs *jobs, const char *name)
{
	for (size_t i = 0; i < jobs->n; i++)
		if (strcmp(jobs->jobs[i].name, name) == 0)
			return true;
	return false;
}

/* Walks api/json's job tree for managed jobs of this set that it no longer
 * defines. */
static void find_obsolete(jc_jobs_sync_result *r, const jc_jobs *jobs, json_object *list,
			  const char *prefix, const char *marker)
{
	size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;
	for (size_t i = 0; i < n; i++) {
		json_object *j = json_object_array_get_idx(list, i), *v;
		const char *name = NULL, *desc = NULL;
		char *full;
		if (json_object_object_get_ex(j, "name", &v) && json_object_is_type(v, json_type_string))
			name = json_object_get_string(v);
		if (!name)
			continue;
		full = prefix ? jc_sprintf("%s/%s", prefix, name) : jc_strdup(name);
		if (json_object_object_get_ex(j, "description", &v) && json_object_is_type(v, json_type_string))
			desc = json_object_get_string(v);
		if (desc && jc_str_ends(desc, marker) && !in_set(jobs, full))
			add_change(r, full, JC_JOBS_DELETE, jc_strdup("no longer defined"));
		if (json_object_object_get_ex(j, "jobs", &v))
			find_obsolete(r, jobs, v, full, marker);
		free(full);
	}
}

static int plan_deletes(jc_jobs_sync_result *r, jc_jenkins *jk, const jc_jobs *jobs, jc_error *err)
{
	/* names and descriptions of four folder levels in one request */
	const char *tree = "jobs%5Bname,description,jobs%5Bname,description,jobs%5Bname,description,"
			   "jobs%5Bname,description%5D%5D%5D%5D";
	char *url = jc_sprintf("%s/api/json?tree=%s", jk->base, tree);
	char *marker = jc_sprintf(JC_JOBS_MARKER_FMT, jobs->set_name);
	jc_http_request req = { 0 };
	jc_http_response resp = { 0 };
	json_object *o = NULL, *list;
	int rc;

	req.url = url;
	jc_jenkins_prepare(jk, &req);
	rc = jc_http_do(jk->http, &req, &resp, err);
	if (rc == 0)
		rc = jc_jenkins_check(&resp, "GET", url, err);
	if (rc == 0) {
		o = json_tokener_parse(resp.body ? resp.body : "");
		if (!o || !json_object_object_get_ex(o, "jobs", &list))
			rc = jc_err_http(err, JC_EHTTP, url, resp.status, NULL, "the job list is not the JSON expected");
		else
			find_obsolete(r, jobs, list, NULL, marker);
	}
	if (o)
		json_object_put(o);
	jc_http_response_clear(&resp);
	free(marker);
	free(url);
	return rc;
}

static const jc_job *job_named(const jc_jobs *jobs, const char *name)
{
	for (size_t i = 0; i < jobs->n; i++)
		if (strcmp(jobs->jobs[i].name, name) == 0)
			return &jobs->jobs[i];
	return NULL;
}

/* "a/b/c": the folder path "/job/a/job/b" and the short name "c". */
static char *create_url(const jc_jenkins *jk, const char *name)
{
	const char *slash = strrchr(name, '/');
	char *folder = NULL, *esc, *url;
	if (slash) {
		char *f = jc_strndup(name, (size_t)(slash - name));
		folder = jc_jenkins_job_path(f);
		free(f);
	}
	esc = jc_http_escape(slash ? slash + 1 : name);
	url = jc_sprintf("%s%s/createItem?name=%s", jk->base, folder ? folder : "", esc);
	free(esc);
	free(folder);
	return url;
}

static int check_post(const jc_http_response *resp, const jc_error *e, const char *url, jc_error *err)
{
	if (resp->status == 0) {
		jc_err_copy(err, e);
		return e->code ? e->code : JC_EUNREACHABLE;
	}
	if (resp->status >= 200 && resp->status < 400)
		return 0;
	return jc_jenkins_check(resp, "POST", url, err);
}

/* Creates and updates in parallel; deletes after them. */
static int apply(jc_jobs_sync_result *r, jc_jenkins *jk, const jc_jobs *jobs, jc_error *err)
{
	size_t n = 0, k = 0;
	jc_http_request *reqs;
	jc_http_response *resps;
	jc_error *errs;
	char **urls;
	size_t *which;
	const char *headers[4];
	int rc = 0;

	for (size_t i = 0; i < r->n_changes; i++)
		n += r->changes[i].action != JC_JOBS_UNCHANGED;
	if (!n)
		return 0;
	reqs = jc_calloc(n, sizeof(*reqs));
	resps = jc_calloc(n, sizeof(*resps));
	errs = jc_calloc(n, sizeof(*errs));
	urls = jc_calloc(n, sizeof(*urls));
	which = jc_calloc(n, sizeof(*which));

	for (int pass = 0; pass < 2 && rc == 0; pass++) {
		/* pass 0: creates and updates; pass 1: deletes */
		size_t first = k;
		for (size_t i = 0; i < r->n_changes; i++) {
			const jc_jobs_change *c = &r->changes[i];
			if (c->action == JC_JOBS_UNCHANGED || (c->action == JC_JOBS_DELETE) != (pass == 1))
				continue;
			jc_http_request *q = &reqs[k];
			q->method = "POST";
			if (c->action == JC_JOBS_DELETE) {
				char *path = jc_jenkins_job_path(c->name);
				urls[k] = jc_sprintf("%s%s/doDelete", jk->base, path);
				free(path);
			} else {
				const jc_job *job = job_named(jobs, c->name);
				if (c->action == JC_JOBS_CREATE)
					urls[k] = create_url(jk, c->name);
				else {
					char *path = jc_jenkins_job_path(c->name);
					urls[k] = jc_sprintf("%s%s/config.xml", jk->base, path);
					free(path);
				}
				q->body = job->xml;
				q->body_len = job->xml_len;
			}
			q->url = urls[k];
			which[k] = i;
			k++;
		}
		for (int attempt = 0; attempt < 2 && rc == 0; attempt++) {
			bool want_crumb = false;
			for (size_t i = first; i < k; i++) {
				reqs[i].headers = headers;
				reqs[i].n_headers = jc_jenkins_post_headers(jk, headers, JC_ARRAY_LEN(headers), xml_type);
				jc_jenkins_prepare(jk, &reqs[i]);
			}
			jc_http_do_many(jk->http, reqs + first, resps + first, errs + first, k - first);
			for (size_t i = first; i < k; i++)
				want_crumb |= jc_jenkins_wants_crumb(&resps[i]);
			if (!want_crumb || attempt == 1 || jk->crumb_state == 2)
				break;
			/* refused for want of a CSRF crumb: nothing was done, so send all again */
			if ((rc = jc_jenkins_fetch_crumb(jk, err)) < 0 || jk->crumb_state != 2)
				break;
			for (size_t i = first; i < k; i++)
				jc_http_response_clear(&resps[i]);
		}
		for (size_t i = first; i < k; i++) {
			jc_jobs_change *c = &r->changes[which[i]];
			int one = resps[i].status == 404 && c->action == JC_JOBS_DELETE
					  ? 0 : check_post(&resps[i], &errs[i], urls[i], rc == 0 ? err : NULL);
			if (one < 0 && c->action == JC_JOBS_CREATE && resps[i].status == 404 && strchr(c->name, '/') &&
			    rc == 0) {
				char *folder = jc_strndup(c->name, (size_t)(strrchr(c->name, '/') - c->name));
				jc_err_http(err, JC_EINVALID, urls[i], 404, NULL,
					    "cannot create %s: there is no folder %s on the server (jcicd manages "
					    "jobs, not folders: create it first)", c->name, folder);
				free(folder);
				rc = JC_EINVALID;
				continue;
			}
			if (one < 0) {
				if (rc == 0) {
					rc = one;
					jc_err_prefix(err, "%s %s", c->action == JC_JOBS_CREATE ? "creating"
								    : c->action == JC_JOBS_UPDATE ? "updating" : "deleting",
						      c->name);
				}
				continue;
			}
			if (c->action == JC_JOBS_CREATE)
				r->created++;
			else if (c->action == JC_JOBS_UPDATE)
				r->updated++;
			else
				r->deleted++;
			jc_log(jk->logger, JC_LOG_DEBUG, "jobs", "%s %s%s%s",
			       c->action == JC_JOBS_CREATE ? "created" : c->action == JC_JOBS_UPDATE ? "updated" : "deleted",
			       c->name, c->action == JC_JOBS_UPDATE ? ": " : "",
			       c->action == JC_JOBS_UPDATE ? c->detail : "");
		}
	}
	for (size_t i = 0; i < n; i++) {
		jc_http_response_clear(&resps[i]);
		free(urls[i]);
	}
	free(reqs);
	free(resps);
	free(errs);
	free(urls);
	free(which);
	return rc;
}

int jc_jobs_sync(jc_jobs_sync_result *out, jc_jenkins *jk, const jc_jobs *jobs,
		 const jc_jobs_sync_options *opts, jc_error *err)
{
	jc_jobs_sync_options defaults = JC_JOBS_SYNC_OPTIONS_INIT;
	long gets0 = jk->gets, posts0 = jk->posts;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!opts)
		opts = &defaults;
	if (opts->version != JC_JOBS_SYNC_OPTIONS_VERSION)
		return jc_err(err, JC_EINVALID, "jc_jobs_sync_options version %u is not supported", opts->version);
	rc = plan_jobs(out, jk, jobs, err);
	if (rc == 0 && opts->delete_old)
		rc = plan_deletes(out, jk, jobs, err);
	for (size_t i = 0; i < out->n_changes; i++)
		out->unchanged += out->changes[i].action == JC_JOBS_UNCHANGED;
	if (rc == 0 && !opts->dry_run)
		rc = apply(out, jk, jobs, err);
	out->gets = jk->gets - gets0;
	out->posts = jk->posts - posts0;
	return rc;
}
