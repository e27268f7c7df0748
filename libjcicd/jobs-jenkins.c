/* jobs-jenkins.c - a connection to Jenkins: base URL, basic auth with an
 * API token, request counters, and the CSRF crumb, fetched only when the
 * server refuses a POST for want of one (a token-authenticated request needs
 * none since Jenkins 2.96, so usually it is never fetched). */
#include "common.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jobs-internal.h"

int jc_jenkins_open(jc_jenkins **out, const jc_jenkins_options *opts, jc_error *err)
{
	jc_http_options ho = JC_HTTP_OPTIONS_INIT;
	jc_jenkins *jk;
	size_t len;
	int rc;

	*out = NULL;
	if (!opts || opts->version != JC_JENKINS_OPTIONS_VERSION)
		return jc_err(err, JC_EINVALID, "jc_jenkins_options missing or of an unsupported version");
	if (!opts->url || (!jc_str_starts(opts->url, "http://") && !jc_str_starts(opts->url, "https://")))
		return jc_err(err, JC_EINVALID, "the Jenkins URL must start with http:// or https://, not \"%s\"",
			      opts->url ? opts->url : "");
	if ((opts->user == NULL) != (opts->token == NULL))
		return jc_err(err, JC_EINVALID, "a Jenkins user needs a token, and a token a user");
	if (opts->token)
		jc_secret_register(opts->token);
	ho.max_parallel = opts->max_parallel > 0 ? opts->max_parallel : 4;
	ho.request_timeout_ms = opts->request_timeout_ms;
	ho.max_retries = opts->max_retries;
	ho.ca_file = opts->ca_file;
	ho.insecure = opts->insecure;
	ho.logger = opts->logger;
	jk = jc_calloc(1, sizeof(*jk));
	if ((rc = jc_http_new(&jk->http, &ho, err)) < 0) {
		free(jk);
		return rc;
	}
	jk->base = jc_strdup(opts->url);
	len = strlen(jk->base);
	while (len > 0 && jk->base[len - 1] == '/')
		jk->base[--len] = '\0';
	jk->user = jc_strdup(opts->user);
	jk->token = jc_strdup(opts->token);
	jk->logger = opts->logger;
	*out = jk;
	return 0;
}

void jc_jenkins_free(jc_jenkins *jk)
{
	if (!jk)
		return;
	jc_http_free(jk->http);
	free(jk->base);
	free(jk->user);
	if (jk->token) {
		memset(jk->token, 0, strlen(jk->token));
		free(jk->token);
	}
	free(jk->crumb_header);
	free(jk->cookie_header);
	free(jk);
}

void jc_jenkins_get_stats(const jc_jenkins *jk, jc_jenkins_stats *out)
{
	out->gets = jk->gets;
	out->posts = jk->posts;
}

char *jc_jenkins_job_path(const char *job)
{
	jc_buf b = JC_BUF_INIT;
	const char *seg = job;
	for (const char *p = job;; p++) {
		if (*p == '/' || !*p) {
			char *s = jc_strndup(seg, (size_t)(p - seg)), *e = jc_http_escape(s);
			jc_buf_printf(&b, "/job/%s", e);
			free(s);
			free(e);
			if (!*p)
				break;
			seg = p + 1;
		}
	}
	return jc_buf_detach(&b);
}

void jc_jenkins_prepare(jc_jenkins *jk, jc_http_request *req)
{
	req->username = jk->user;
	req->password = jk->token;
	if (req->method && strcmp(req->method, "POST") == 0)
		jk->posts++;
	else
		jk->gets++;
}

bool jc_jenkins_wants_crumb(const jc_http_response *resp)
{
	return resp->status == 403 && resp->body && strcasestr(resp->body, "crumb") != NULL;
}

size_t jc_jenkins_post_headers(const jc_jenkins *jk, const char **headers, size_t max,
			       const char *content_type)
{
	size_t n = 0;
	if (content_type && n < max)
		headers[n++] = content_type;
	if (jk->crumb_header && n < max)
		headers[n++] = jk->crumb_header;
	if (jk->cookie_header && n < max)
		headers[n++] = jk->cookie_header;
	return n;
}

int jc_jenkins_fetch_crumb(jc_jenkins *jk, jc_error *err)
{
	jc_http_request req = { 0 };
	jc_http_response resp = { 0 };
	char *url = jc_sprintf("%s/crumbIssuer/api/json", jk->base);
	json_object *o = NULL, *field, *crumb;
	const char *cookie;
	int rc;

	req.url = url;
	jc_jenkins_prepare(jk, &req);
	rc = jc_http_do(jk->http, &req, &resp, err);
	if (rc == 0 && resp.status == 404) {
		/* CSRF protection is off: the 403 was about something else */
		jk->crumb_state = 1;
		goto out;
	}
	if (rc == 0)
		rc = jc_jenkins_check(&resp, "GET", url, err);
	if (rc < 0)
		goto out;
	o = json_tokener_parse(resp.body ? resp.body : "");
	if (!o || !json_object_object_get_ex(o, "crumbRequestField", &field) ||
	    !json_object_object_get_ex(o, "crumb", &crumb) || !json_object_is_type(field, json_type_string) ||
	    !json_object_is_type(crumb, json_type_string)) {
		rc = jc_err_http(err, JC_EHTTP, url, resp.status, NULL, "the crumb issuer answered without a crumb");
		goto out;
	}
	free(jk->crumb_header);
	jk->crumb_header = jc_sprintf("%s: %s", json_object_get_string(field), json_object_get_string(crumb));
	jc_secret_register(json_object_get_string(crumb));
	/* the crumb belongs to the web session the cookie names */
	cookie = jc_http_response_header(&resp, "set-cookie");
	if (cookie) {
		size_t len = strcspn(cookie, ";");
		char *c = jc_strndup(cookie, len);
		free(jk->cookie_header);
		jk->cookie_header = jc_sprintf("Cookie: %s", c);
		jc_secret_register(c);
		free(c);
	}
	jk->crumb_state = 2;
	jc_log(jk->logger, JC_LOG_DEBUG, "jobs", "%s wants a CSRF crumb; got one", jk->base);
out:
	if (o)
		json_object_put(o);
	jc_http_response_clear(&resp);
	free(url);
	return rc;
}

int jc_jenkins_check(const jc_http_response *resp, const char *method, const char *url, jc_error *err)
{
	const char *x_error, *title, *end;
	char msg[512];
	int code;

	if (resp->status >= 200 && resp->status < 300)
		return 0;
	/* Jenkins says why in X-Error, or in the title of its error page */
	x_error = jc_http_response_header(resp, "x-error");
	title = resp->body ? strstr(resp->body, "<title>") : NULL;
	end = title ? strstr(title, "</title>") : NULL;
	if (x_error)
		jc_strlcpy(msg, x_error, sizeof(msg));
	else if (title && end && end - title - 7 < (long)sizeof(msg)) {
		memcpy(msg, title + 7, (size_t)(end - title - 7));
		msg[end - title - 7] = '\0';
	} else
		return jc_http_check(resp, method, url, err);
	code = resp->status == 401 || resp->status == 403 ? JC_EAUTH : JC_EHTTP;
	return jc_err_http(err, code, url, resp->status, NULL, "%s refused: %s%s", method, msg,
			   resp->status == 401 ? " (check the user and its API token)" : "");
}

int jc_jenkins_do(jc_jenkins *jk, jc_http_request *req, jc_http_response *resp, jc_error *err)
{
	bool post = req->method && strcmp(req->method, "POST") == 0;
	const char *headers[8];
	const char *content_type = req->n_headers ? req->headers[0] : NULL;
	int rc;

	if (post) {
		req->headers = headers;
		req->n_headers = jc_jenkins_post_headers(jk, headers, JC_ARRAY_LEN(headers), content_type);
	}
	jc_jenkins_prepare(jk, req);
	rc = jc_http_do(jk->http, req, resp, err);
	if (rc == 0 && post && jc_jenkins_wants_crumb(resp) && jk->crumb_state != 2) {
		/* a 403 means the server did not act: safe to send again */
		if ((rc = jc_jenkins_fetch_crumb(jk, err)) < 0)
			return rc;
		if (jk->crumb_state == 2) {
			jc_http_response_clear(resp);
			req->n_headers = jc_jenkins_post_headers(jk, headers, JC_ARRAY_LEN(headers), content_type);
			jc_jenkins_prepare(jk, req);
			rc = jc_http_do(jk->http, req, resp, err);
		}
	}
	if (post) {
		req->headers = NULL;
		req->n_headers = 0;
	}
	return rc;
}
