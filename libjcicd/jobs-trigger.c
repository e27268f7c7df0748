/* jobs-trigger.c - queue a Jenkins build and follow it: queue item ->
 * build number -> console (progressiveText) -> result, every wait with a
 * deadline. */
#include "common.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "jobs-internal.h"

/* GET url as JSON; 404 is JC_ENOTFOUND with `what` in the message. */
static int get_json(jc_jenkins *jk, const char *url, const char *what, json_object **out, jc_error *err)
{
	jc_http_request req = { 0 };
	jc_http_response resp = { 0 };
	int rc;

	*out = NULL;
	req.url = url;
	jc_jenkins_prepare(jk, &req);
	rc = jc_http_do(jk->http, &req, &resp, err);
	if (rc == 0 && resp.status == 404)
		rc = jc_err_http(err, JC_ENOTFOUND, url, 404, NULL, "%s not found on %s", what, jk->base);
	else if (rc == 0)
		rc = jc_jenkins_check(&resp, "GET", url, err);
	if (rc == 0) {
		*out = json_tokener_parse(resp.body ? resp.body : "");
		if (!*out)
			rc = jc_err_http(err, JC_EHTTP, url, resp.status, NULL, "the answer about %s is not JSON", what);
	}
	jc_http_response_clear(&resp);
	return rc;
}

static json_object *member(json_object *o, const char *key)
{
	json_object *v = NULL;
	if (o && json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, key, &v))
		return v;
	return NULL;
}

/* The job's parameter names, from property[].parameterDefinitions[]. */
static void job_params(json_object *job, jc_strv *names)
{
	json_object *props = member(job, "property");
	size_t n = props && json_object_is_type(props, json_type_array) ? json_object_array_length(props) : 0;
	for (size_t i = 0; i < n; i++) {
		json_object *defs = member(json_object_array_get_idx(props, i), "parameterDefinitions");
		size_t m = defs && json_object_is_type(defs, json_type_array) ? json_object_array_length(defs) : 0;
		for (size_t k = 0; k < m; k++) {
			json_object *name = member(json_object_array_get_idx(defs, k), "name");
			if (name && json_object_is_type(name, json_type_string))
				jc_strv_push(names, json_object_get_string(name));
		}
	}
}

static int check_params(const char *job, const jc_jobs_trigger_options *o, const jc_strv *names, jc_error *err)
{
	for (size_t i = 0; i < o->n_params; i++) {
		const char *eq = strchr(o->params[i], '=');
		char *name;
		if (!eq || eq == o->params[i])
			return jc_err(err, JC_EINVALID, "parameter \"%s\" is not NAME=value", o->params[i]);
		if (!names->n)
			return jc_err(err, JC_EINVALID, "job %s takes no parameters, so %s cannot be passed", job,
				      o->params[i]);
		name = jc_strndup(o->params[i], (size_t)(eq - o->params[i]));
		if (!jc_strv_contains(names, name)) {
			const char *hint = jc_str_suggest(name, (const char *const *)names->v, names->n);
			jc_buf list = JC_BUF_INIT;
			int rc;
			for (size_t k = 0; k < names->n; k++)
				jc_buf_printf(&list, "%s%s", k ? ", " : "", names->v[k]);
			rc = hint ? jc_err(err, JC_EINVALID, "job %s has no parameter %s; did you mean %s?", job, name, hint)
				  : jc_err(err, JC_EINVALID, "job %s has no parameter %s (it has: %s)", job, name,
					   jc_buf_cstr(&list));
			jc_buf_free(&list);
			free(name);
			return rc;
		}
		free(name);
	}
	return 0;
}

/* POSTs build or buildWithParameters; fills out->queue_id from Location. */
static int queue_build(jc_jenkins *jk, const char *job, const char *path, bool parameterized,
		       const jc_jobs_trigger_options *o, jc_jobs_build *out, jc_error *err)
{
	jc_buf url = JC_BUF_INIT;
	jc_http_request req = { 0 };
	jc_http_response resp = { 0 };
	const char *ctype = "Content-Type: application/x-www-form-urlencoded";
	const char *location, *item;
	int rc;

	jc_buf_printf(&url, "%s%s/%s", jk->base, path, parameterized ? "buildWithParameters" : "build");
	for (size_t i = 0; i < o->n_params; i++) {
		const char *eq = strchr(o->params[i], '=');
		char *k = jc_strndup(o->params[i], (size_t)(eq - o->params[i]));
		char *ek = jc_http_escape(k), *ev = jc_http_escape(eq + 1);
		jc_buf_printf(&url, "%c%s=%s", i ? '&' : '?', ek, ev);
		free(k);
		free(ek);
		free(ev);
	}
	req.method = "POST";
	req.url = jc_buf_cstr(&url);
	req.headers = &ctype;
	req.n_headers = 1;
	rc = jc_jenkins_do(jk, &req, &resp, err);
	if (rc == 0)
		rc = jc_jenkins_check(&resp, "POST", jc_buf_cstr(&url), err);
	location = jc_http_response_header(&resp, "location");
	if (rc == 0 && (!location || !(item = strstr(location, "/queue/item/")) ||
			(out->queue_id = strtol(item + strlen("/queue/item/"), NULL, 10)) <= 0))
		rc = jc_err_http(err, JC_EHTTP, jc_buf_cstr(&url), resp.status, NULL,
				 "Jenkins queued %s but did not say where (Location: %s)", job,
				 location ? location : "none");
	if (rc == 0)
		jc_strlcpy(out->url, location, sizeof(out->url));
	jc_http_response_clear(&resp);
	jc_buf_free(&url);
	return rc;
}

/* Equal but for numbers ("Expires in 4.9 sec" and "in 2.1 sec"). */
static bool same_reason(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	for (;;) {
		while (*a >= '0' && *a <= '9')
			a++;
		while (*b >= '0' && *b <= '9')
			b++;
		if (*a != *b)
			return false;
		if (!*a)
			return true;
		a++;
		b++;
	}
}

/* Pause before the next poll: short while things move, growing to max. */
static long long next_pause(long long pause, long long max, bool moved)
{
	if (moved)
		return 200 < max ? 200 : max;
	pause = pause ? pause * 2 : 200;
	return pause > max ? max : pause;
}

static int sleep_until(int64_t deadline, long long pause)
{
	int64_t left = deadline - jc_now_ms();
	if (left <= 0)
		return -1;
	jc_sleep_ms(pause < left ? pause : left);
	return 0;
}

static int wait_started(jc_jenkins *jk, const char *job, const jc_jobs_trigger_options *o,
			jc_jobs_build *out, jc_error *err)
{
	char *url = jc_sprintf("%s/queue/item/%ld/api/json", jk->base, out->queue_id);
	int64_t deadline = jc_now_ms() + o->queue_timeout_ms;
	long long pause = 0;
	const char *last_why = NULL;
	char *why_seen = NULL;
	int rc;

	for (;;) {
		json_object *q, *x;
		if ((rc = get_json(jk, url, "the queue item", &q, err)) < 0)
			break;
		x = member(q, "cancelled");
		if (x && json_object_get_boolean(x)) {
			rc = jc_err(err, JC_ECANCELLED, "the queued build of %s was cancelled", job);
			json_object_put(q);
			break;
		}
		x = member(member(q, "executable"), "number");
		if (x) {
			out->number = json_object_get_int64(x) > 0 ? (long)json_object_get_int64(x) : 0;
			json_object_put(q);
			if (out->number > 0)
				break;
			rc = jc_err_http(err, JC_EHTTP, url, 200, NULL, "the queue item names no build number");
			break;
		}
		x = member(q, "why");
		last_why = x && json_object_is_type(x, json_type_string) ? json_object_get_string(x) : NULL;
		if (last_why && !same_reason(last_why, why_seen)) {
			jc_log(jk->logger, JC_LOG_INFO, "jobs", "%s is waiting: %s", job, last_why);
			free(why_seen);
			why_seen = jc_strdup(last_why);
		}
		json_object_put(q);
		pause = next_pause(pause, o->poll_interval_ms, false);
		if (sleep_until(deadline, pause) < 0) {
			rc = jc_err(err, JC_ETIMEOUT, "%s did not start within %lld s%s%s", job,
				    o->queue_timeout_ms / 1000, why_seen ? ": " : "", why_seen ? why_seen : "");
			break;
		}
	}
	free(why_seen);
	free(url);
	return rc;
}

/* Streams the console until Jenkins says there is no more. */
static int stream_console(jc_jenkins *jk, const char *build_url, const jc_jobs_trigger_options *o,
			  int64_t deadline, jc_error *err)
{
	long long start = 0, pause = 0;
	for (;;) {
		char *url = jc_sprintf("%s/logText/progressiveText?start=%lld", build_url, start);
		jc_http_request req = { 0 };
		jc_http_response resp = { 0 };
		const char *size, *more;
		bool moved;
		long long next;
		int rc;

		/* kept whole (not streamed) so that a retried request cannot
		 * repeat part of the console */
		req.url = url;
		jc_jenkins_prepare(jk, &req);
		rc = jc_http_do(jk->http, &req, &resp, err);
		if (rc == 0)
			rc = jc_jenkins_check(&resp, "GET", url, err);
		if (rc < 0) {
			jc_http_response_clear(&resp);
			free(url);
			return rc;
		}
		if (resp.body_len && o->on_console)
			o->on_console(resp.body, resp.body_len, o->payload);
		size = jc_http_response_header(&resp, "x-text-size");
		more = jc_http_response_header(&resp, "x-more-data");
		next = size ? strtoll(size, NULL, 10) : start + (long long)resp.body_len;
		moved = next > start;
		start = next;
		bool done = !more || strcmp(more, "true") != 0;
		jc_http_response_clear(&resp);
		free(url);
		if (done)
			return 0;
		pause = next_pause(pause, o->poll_interval_ms, moved);
		if (sleep_until(deadline, pause) < 0)
			return jc_err(err, JC_ETIMEOUT, "the build did not finish within %lld s",
				      o->build_timeout_ms / 1000);
	}
}

/* Waits for the result (the console can end a moment before it is set). */
static int wait_result(jc_jenkins *jk, const char *job, const char *build_url, const jc_jobs_trigger_options *o,
		       int64_t deadline, jc_jobs_build *out, jc_error *err)
{
	char *url = jc_sprintf("%s/api/json?tree=number,building,result,duration,url", build_url);
	long long pause = 0;
	int rc;
	for (;;) {
		json_object *b, *building, *result, *duration;
		if ((rc = get_json(jk, url, "the build", &b, err)) < 0)
			break;
		building = member(b, "building");
		result = member(b, "result");
		duration = member(b, "duration");
		if ((!building || !json_object_get_boolean(building)) && result &&
		    json_object_is_type(result, json_type_string)) {
			jc_strlcpy(out->result, json_object_get_string(result), sizeof(out->result));
			out->duration_ms = duration ? json_object_get_int64(duration) : 0;
			json_object_put(b);
			break;
		}
		json_object_put(b);
		pause = next_pause(pause, o->poll_interval_ms, false);
		if (sleep_until(deadline, pause) < 0) {
			rc = jc_err(err, JC_ETIMEOUT, "%s #%ld did not finish within %lld s", job, out->number,
				    o->build_timeout_ms / 1000);
			break;
		}
	}
	free(url);
	return rc;
}

int jc_jobs_trigger(jc_jobs_build *out, jc_jenkins *jk, const char *job, const jc_jobs_trigger_options *opts,
		    jc_error *err)
{
	jc_jobs_trigger_options o;
	jc_strv names = JC_STRV_INIT;
	json_object *info = NULL;
	char *path, *url, *build_url = NULL;
	int64_t deadline;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!opts || opts->version != JC_JOBS_TRIGGER_OPTIONS_VERSION)
		return jc_err(err, JC_EINVALID, "jc_jobs_trigger_options missing or of an unsupported version");
	if (!job || !*job)
		return jc_err(err, JC_EINVALID, "no job named");
	o = *opts;
	if (o.queue_timeout_ms <= 0)
		o.queue_timeout_ms = 3600LL * 1000;
	if (o.build_timeout_ms <= 0)
		o.build_timeout_ms = 24LL * 3600 * 1000;
	if (o.poll_interval_ms <= 0)
		o.poll_interval_ms = 2000;

	path = jc_jenkins_job_path(job);
	url = jc_sprintf("%s%s/api/json?tree=name,buildable,property%%5BparameterDefinitions%%5Bname%%5D%%5D",
			 jk->base, path);
	rc = get_json(jk, url, job, &info, err);
	free(url);
	if (rc == JC_ENOTFOUND)   /* a job name that is not there is bad input */
		rc = jc_err(err, JC_EINVALID, "there is no job %s on %s", job, jk->base);
	if (rc == 0) {
		json_object *b = member(info, "buildable");
		job_params(info, &names);
		if (b && !json_object_get_boolean(b))
			rc = jc_err(err, JC_EFAILED, "job %s cannot be built (it is disabled)", job);
	}
	if (rc == 0)
		rc = check_params(job, &o, &names, err);
	if (rc == 0)
		rc = queue_build(jk, job, path, names.n > 0, &o, out, err);
	if (info)
		json_object_put(info);
	jc_strv_free(&names);
	if (rc < 0 || !o.follow) {
		free(path);
		return rc;
	}
	jc_log(jk->logger, JC_LOG_INFO, "jobs", "%s queued (queue item %ld)", job, out->queue_id);
	rc = wait_started(jk, job, &o, out, err);
	if (rc == 0) {
		build_url = jc_sprintf("%s%s/%ld", jk->base, path, out->number);
		jc_strlcpy(out->url, build_url, sizeof(out->url));
		jc_strlcpy(out->url + strlen(out->url), "/", sizeof(out->url) - strlen(out->url));
		jc_log(jk->logger, JC_LOG_INFO, "jobs", "%s #%ld started: %s", job, out->number, out->url);
		deadline = jc_now_ms() + o.build_timeout_ms;
		rc = stream_console(jk, build_url, &o, deadline, err);
		if (rc == 0)
			rc = wait_result(jk, job, build_url, &o, deadline + 60000, out, err);
	}
	if (rc == 0 && strcmp(out->result, "SUCCESS") != 0)
		rc = jc_err(err, JC_EFAILED, "%s #%ld finished %s (%s)", job, out->number, out->result, out->url);
	free(build_url);
	free(path);
	return rc;
}
