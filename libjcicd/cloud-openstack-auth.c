/* cloud-openstack-auth.c - Keystone v3 tokens (password or application
 * credential), the service catalog, and the one path every API call takes:
 * token header, microversion, a new token and one more try on 401. */
#include "cloud-openstack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Renew a token this long before it expires (or at a quarter of its life,
 * when it lives shorter than 20 minutes). */
#define TOKEN_MARGIN_MS (5LL * 60 * 1000)

const char *os_service_name(os_service s)
{
	switch (s) {
	case OS_COMPUTE: return "compute";
	case OS_NETWORK: return "network";
	case OS_IMAGE: return "image";
	case OS_N_SERVICES: break;
	}
	return "?";
}

/* ---- the request body */

static json_object *domain_of(const char *name, const char *id)
{
	json_object *d = json_object_new_object();
	if (id)
		json_object_object_add(d, "id", json_object_new_string(id));
	else if (name)
		json_object_object_add(d, "name", json_object_new_string(name));
	else
		json_object_object_add(d, "id", json_object_new_string("default"));
	return d;
}

static json_object *user_of(const os_config *c)
{
	json_object *u = json_object_new_object();
	if (c->user_id) {
		json_object_object_add(u, "id", json_object_new_string(c->user_id));
	} else {
		json_object_object_add(u, "name", json_object_new_string(c->username));
		json_object_object_add(u, "domain", domain_of(c->user_domain_name, c->user_domain_id));
	}
	return u;
}

int os_auth_body(char **out, const os_config *c, jc_error *err)
{
	json_object *root = json_object_new_object(), *auth = json_object_new_object();
	json_object *ident = json_object_new_object(), *methods = json_object_new_array();

	*out = NULL;
	json_object_object_add(root, "auth", auth);
	json_object_object_add(auth, "identity", ident);
	json_object_object_add(ident, "methods", methods);
	if (c->auth_type == OS_AUTH_APPCRED) {
		json_object *ac = json_object_new_object();
		if (!c->appcred_secret || (!c->appcred_id && !c->appcred_name)) {
			json_object_put(root);
			return jc_err(err, JC_EINVALID, "cloud %s: the application credential is incomplete", c->name);
		}
		json_object_array_add(methods, json_object_new_string("application_credential"));
		json_object_object_add(ident, "application_credential", ac);
		if (c->appcred_id) {
			json_object_object_add(ac, "id", json_object_new_string(c->appcred_id));
		} else {
			json_object_object_add(ac, "name", json_object_new_string(c->appcred_name));
			json_object_object_add(ac, "user", user_of(c));
		}
		json_object_object_add(ac, "secret", json_object_new_string(c->appcred_secret));
		/* an application credential carries its own scope: none may be asked */
	} else {
		json_object *pw = json_object_new_object(), *scope = json_object_new_object();
		json_object *proj = json_object_new_object();
		json_object *u;
		if ((!c->username && !c->user_id) || !c->password || (!c->project_name && !c->project_id)) {
			json_object_put(root);
			json_object_put(pw);
			json_object_put(scope);
			json_object_put(proj);
			return jc_err(err, JC_EINVALID, "cloud %s: user, password and project are all needed", c->name);
		}
		json_object_array_add(methods, json_object_new_string("password"));
		json_object_object_add(ident, "password", pw);
		u = user_of(c);
		json_object_object_add(u, "password", json_object_new_string(c->password));
		json_object_object_add(pw, "user", u);
		if (c->project_id) {
			json_object_object_add(proj, "id", json_object_new_string(c->project_id));
		} else {
			json_object_object_add(proj, "name", json_object_new_string(c->project_name));
			json_object_object_add(proj, "domain", domain_of(c->project_domain_name, c->project_domain_id));
		}
		json_object_object_add(scope, "project", proj);
		json_object_object_add(auth, "scope", scope);
	}
	*out = jc_strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	return 0;
}

static char *strip_slashes(const char *url)
{
	char *u = jc_strdup(url);
	size_t n = strlen(u);
	while (n && u[n - 1] == '/')
		u[--n] = '\0';
	return u;
}

int os_auth_tokens_url(char **out, const char *auth_url, jc_error *err)
{
	char *u = strip_slashes(auth_url);

	*out = NULL;
	if (!jc_str_starts(u, "http://") && !jc_str_starts(u, "https://")) {
		int rc = jc_err(err, JC_EINVALID, "auth_url \"%s\" is not an http(s) URL", auth_url);
		free(u);
		return rc;
	}
	if (jc_str_ends(u, "/v3") || jc_str_ends(u, "/v3.0")) {
		*out = jc_sprintf("%s/auth/tokens", u);
	} else if (jc_str_ends(u, "/v2.0") || jc_str_ends(u, "/v2")) {
		free(u);
		return jc_err(err, JC_EINVALID, "auth_url %s is Keystone v2, which is gone: use the v3 URL", auth_url);
	} else {
		/* unversioned (http://keystone:5000 or .../identity): v3 lives below */
		*out = jc_sprintf("%s/v3/auth/tokens", u);
	}
	free(u);
	return 0;
}

/* ---- the catalog */

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;
	if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

int os_catalog_url(char **out, json_object *catalog, const char *type, const char *interface,
		   const char *region, jc_error *err)
{
	jc_strv regions = JC_STRV_INIT;
	const char *found = NULL;
	size_t n_found = 0;
	bool type_seen = false;
	int rc = 0;

	*out = NULL;
	for (size_t i = 0; catalog && json_object_is_type(catalog, json_type_array) &&
			   i < json_object_array_length(catalog); i++) {
		json_object *svc = json_object_array_get_idx(catalog, i), *eps;
		if (!jc_str_eq(jstr(svc, "type"), type) || !json_object_object_get_ex(svc, "endpoints", &eps) ||
		    !json_object_is_type(eps, json_type_array))
			continue;
		type_seen = true;
		for (size_t j = 0; j < json_object_array_length(eps); j++) {
			json_object *ep = json_object_array_get_idx(eps, j);
			const char *r = jstr(ep, "region_id") ? jstr(ep, "region_id") : jstr(ep, "region");
			if (!jc_str_eq(jstr(ep, "interface"), interface) || !jstr(ep, "url"))
				continue;
			if (region && !jc_str_eq(r, region)) {
				if (r && !jc_strv_contains(&regions, r))
					jc_strv_push(&regions, r);
				continue;
			}
			if (r && !jc_strv_contains(&regions, r))
				jc_strv_push(&regions, r);
			if (!found || !jc_str_eq(found, jstr(ep, "url")))
				n_found++;
			found = jstr(ep, "url");
		}
	}
	if (!type_seen) {
		rc = jc_err(err, JC_EUNSUPPORTED, "the service catalog has no %s service", type);
	} else if (!found) {
		jc_buf b = JC_BUF_INIT;
		for (size_t i = 0; i < regions.n; i++)
			jc_buf_printf(&b, "%s%s", i ? ", " : "", regions.v[i]);
		rc = jc_err(err, JC_EINVALID, "the service catalog has no %s %s endpoint%s%s%s%s", interface, type,
			    region ? " in region " : "", region ? region : "", regions.n ? "; regions: " : "",
			    jc_buf_cstr(&b));
		jc_buf_free(&b);
	} else if (n_found > 1 && !region) {
		jc_buf b = JC_BUF_INIT;
		for (size_t i = 0; i < regions.n; i++)
			jc_buf_printf(&b, "%s%s", i ? ", " : "", regions.v[i]);
		rc = jc_err(err, JC_EAMBIGUOUS, "the %s service has %s endpoints in several regions (%s): set "
			    "region_name (or OS_REGION_NAME)", type, interface, jc_buf_cstr(&b));
		jc_buf_free(&b);
	} else {
		*out = jc_strdup(found);
	}
	jc_strv_free(&regions);
	return rc;
}

/* "2026-11-25T14:07:07.000000Z" -> ms since the epoch; 0 when unreadable. */
static int64_t parse_iso8601_ms(const char *s)
{
	struct tm tm;
	int y, mo, d, h, mi, sec;
	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &sec) != 6)
		return 0;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	return (int64_t)timegm(&tm) * 1000;
}

/* A base URL from the catalog, shaped so paths append: Neutron and Glance
 * endpoints are usually unversioned, sometimes not. */
static char *service_base(os_service s, const char *url)
{
	char *u = strip_slashes(url), *r;
	if (s == OS_NETWORK) {
		if (jc_str_ends(u, "/v2.0"))
			return u;
		r = jc_sprintf("%s/v2.0", u);
	} else if (s == OS_IMAGE) {
		if (jc_str_ends(u, "/v2"))
			return u;
		r = jc_sprintf("%s/v2", u);
	} else {
		return u;
	}
	free(u);
	return r;
}

static void drop_token(os_cloud *oc)
{
	oc->authed = false;
	free(oc->token_header);
	oc->token_header = NULL;
}

static int parse_token(os_cloud *oc, const jc_http_response *resp, const char *url, jc_error *err)
{
	const char *subject = jc_http_response_header(resp, "x-subject-token");
	json_object *root = NULL, *token, *catalog = NULL, *o;
	int64_t issued, expires;
	const char *override[OS_N_SERVICES] = { oc->cfg->compute_endpoint, oc->cfg->network_endpoint,
						 oc->cfg->image_endpoint };
	static const char *const types[OS_N_SERVICES] = { "compute", "network", "image" };
	int rc = 0;

	if (resp->body)
		root = json_tokener_parse(resp->body);
	if (!subject || !*subject || !root || !json_object_object_get_ex(root, "token", &token)) {
		if (root)
			json_object_put(root);
		return jc_err_http(err, JC_EHTTP, url, resp->status, resp->request_id[0] ? resp->request_id : NULL,
				   "Keystone answered without a token");
	}
	jc_secret_register(subject);
	free(oc->token_header);
	oc->token_header = jc_sprintf("X-Auth-Token: %s", subject);
	expires = parse_iso8601_ms(jstr(token, "expires_at"));
	issued = parse_iso8601_ms(jstr(token, "issued_at"));
	if (!expires)
		expires = jc_wall_ms() + 3600 * 1000LL;
	if (!issued)
		issued = jc_wall_ms();
	oc->token_expires_ms = expires - (expires - issued < 4 * TOKEN_MARGIN_MS ? (expires - issued) / 4 : TOKEN_MARGIN_MS);
	free(oc->project_id);
	free(oc->user_id);
	oc->project_id = json_object_object_get_ex(token, "project", &o) ? jc_strdup(jstr(o, "id")) : NULL;
	oc->user_id = json_object_object_get_ex(token, "user", &o) ? jc_strdup(jstr(o, "id")) : NULL;
	json_object_object_get_ex(token, "catalog", &catalog);
	for (int s = 0; s < OS_N_SERVICES; s++) {
		char *u = NULL;
		jc_error cerr;
		free(oc->urls[s]);
		oc->urls[s] = NULL;
		if (override[s]) {
			oc->urls[s] = service_base((os_service)s, override[s]);
			continue;
		}
		if (os_catalog_url(&u, catalog, types[s], oc->cfg->interface, oc->cfg->region_name, &cerr) < 0) {
			/* only Nova is needed by every operation; the others fail when used */
			if (s == OS_COMPUTE) {
				jc_err_copy(err, &cerr);
				jc_err_prefix(err, "cloud %s", oc->cfg->name);
				rc = cerr.code;
				break;
			}
			jc_log(oc->log, JC_LOG_DEBUG, "openstack", "cloud %s: %s", oc->cfg->name, cerr.message);
			continue;
		}
		oc->urls[s] = service_base((os_service)s, u);
		free(u);
	}
	json_object_put(root);
	if (rc < 0)
		drop_token(oc);
	else
		oc->authed = true;
	return rc;
}

int os_auth_ensure(os_cloud *oc, jc_error *err)
{
	jc_http_request req;
	jc_http_response resp;
	char *url = NULL, *body = NULL;
	const char *headers[] = { "Content-Type: application/json", "Accept: application/json" };
	int rc;

	if (oc->authed && jc_wall_ms() < oc->token_expires_ms)
		return 0;
	drop_token(oc);
	if ((rc = os_auth_tokens_url(&url, oc->cfg->auth_url, err)) < 0)
		return rc;
	if ((rc = os_auth_body(&body, oc->cfg, err)) < 0) {
		free(url);
		return rc;
	}
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = url;
	req.headers = headers;
	req.n_headers = JC_ARRAY_LEN(headers);
	req.body = body;
	req.body_len = strlen(body);
	/* asking for a token twice does no harm: safe to resend */
	req.idempotence = JC_HTTP_IDEMPOTENT;
	rc = jc_http_do(oc->http, &req, &resp, err);
	/* the body holds the password: gone before anything else happens */
	memset(body, 0, strlen(body));
	free(body);
	if (rc < 0) {
		jc_err_prefix(err, "cloud %s: cannot reach Keystone", oc->cfg->name);
	} else if (resp.status == 401) {
		const char *who = oc->cfg->auth_type == OS_AUTH_APPCRED ? "application credential" : "user";
		const char *name = oc->cfg->auth_type == OS_AUTH_APPCRED
					   ? (oc->cfg->appcred_id ? oc->cfg->appcred_id : oc->cfg->appcred_name)
					   : (oc->cfg->username ? oc->cfg->username : oc->cfg->user_id);
		rc = jc_err_http(err, JC_EAUTH, url, 401, resp.request_id[0] ? resp.request_id : NULL,
				 "cloud %s: Keystone refused the credentials of %s %s (from %s)", oc->cfg->name, who,
				 name ? name : "?", oc->cfg->source);
	} else if ((rc = jc_http_check(&resp, "POST", url, err)) < 0) {
		jc_err_prefix(err, "cloud %s: Keystone", oc->cfg->name);
	} else {
		rc = parse_token(oc, &resp, url, err);
		if (rc == 0) {
			oc->auths++;
			jc_log(oc->log, JC_LOG_DEBUG, "openstack", "cloud %s: token for project %s, compute at %s",
			       oc->cfg->name, oc->project_id ? oc->project_id : "?", oc->urls[OS_COMPUTE]);
		}
	}
	jc_http_response_clear(&resp);
	free(url);
	return rc;
}

/* ---- calls */

void os_calls_free(os_call *calls, size_t n)
{
	for (size_t i = 0; calls && i < n; i++) {
		free(calls[i].path);
		free(calls[i].body);
		free(calls[i].url);
		jc_http_response_clear(&calls[i].resp);
	}
	free(calls);
}

/* Performs the calls whose index is in idx[0..k). */
static void perform(os_cloud *oc, os_call *calls, const size_t *idx, size_t k)
{
	jc_http_request *reqs = jc_calloc(k, sizeof(*reqs));
	jc_http_response *resps = jc_calloc(k, sizeof(*resps));
	jc_error *errs = jc_calloc(k, sizeof(*errs));
	const char **hdrs = jc_calloc(k * 5, sizeof(char *));
	size_t m = 0;
	size_t *live = jc_calloc(k, sizeof(size_t));

	for (size_t j = 0; j < k; j++) {
		os_call *c = &calls[idx[j]];
		const char **h = &hdrs[j * 5];
		size_t nh = 0;
		jc_http_response_clear(&c->resp);
		jc_error_clear(&c->err);
		c->rc = 0;
		if (!oc->urls[c->service]) {
			c->rc = jc_err(&c->err, JC_EUNSUPPORTED, "cloud %s: the service catalog has no %s %s endpoint",
				       oc->cfg->name, oc->cfg->interface, os_service_name(c->service));
			continue;
		}
		free(c->url);
		/* an absolute path is for documents outside the base (version discovery) */
		c->url = jc_str_starts(c->path, "http") ? jc_strdup(c->path)
							 : jc_sprintf("%s%s", oc->urls[c->service], c->path);
		h[nh++] = oc->token_header;
		h[nh++] = "Accept: application/json";
		if (c->body)
			h[nh++] = "Content-Type: application/json";
		if (c->service == OS_COMPUTE && oc->mv_headers[0][0]) {
			h[nh++] = oc->mv_headers[0];
			h[nh++] = oc->mv_headers[1];
		}
		reqs[m].method = c->method;
		reqs[m].url = c->url;
		reqs[m].headers = h;
		reqs[m].n_headers = nh;
		reqs[m].body = c->body;
		reqs[m].body_len = c->body ? strlen(c->body) : 0;
		reqs[m].idempotence = c->idempotence;
		reqs[m].timeout_ms = c->timeout_ms;
		live[m++] = idx[j];
	}
	if (m)
		jc_http_do_many(oc->http, reqs, resps, errs, m);
	for (size_t j = 0; j < m; j++) {
		os_call *c = &calls[live[j]];
		c->resp = resps[j];
		c->err = errs[j];
		c->rc = errs[j].code;
	}
	free(live);
	free(hdrs);
	free(errs);
	free(resps);
	free(reqs);
}

int os_call_many(os_cloud *oc, os_call *calls, size_t n, jc_error *err)
{
	size_t *idx;
	size_t k = 0;
	int rc;

	if (n == 0)
		return 0;
	if ((rc = os_auth_ensure(oc, err)) < 0) {
		for (size_t i = 0; i < n; i++) {
			jc_err_copy(&calls[i].err, err);
			calls[i].rc = rc;
		}
		return rc;
	}
	idx = jc_calloc(n, sizeof(size_t));
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	perform(oc, calls, idx, n);
	/* 401: the token was revoked or expired early; one new token, one more try */
	for (size_t i = 0; i < n; i++)
		if (calls[i].rc == 0 && calls[i].resp.status == 401)
			idx[k++] = i;
	if (k) {
		jc_log(oc->log, JC_LOG_NOTICE, "openstack", "cloud %s: token refused (HTTP 401); authenticating again",
		       oc->cfg->name);
		drop_token(oc);
		if ((rc = os_auth_ensure(oc, err)) < 0) {
			for (size_t j = 0; j < k; j++) {
				jc_err_copy(&calls[idx[j]].err, err);
				calls[idx[j]].rc = rc;
			}
			free(idx);
			return rc;
		}
		perform(oc, calls, idx, k);
	}
	free(idx);
	rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		if (calls[i].rc < 0) {
			rc = calls[i].rc;
			jc_err_copy(err, &calls[i].err);
		}
	return rc;
}

int os_call_check(os_cloud *oc, const os_call *c, json_object **out, jc_error *err)
{
	int rc;
	(void)oc;
	if (out)
		*out = NULL;
	if (c->rc < 0) {
		jc_err_copy(err, &c->err);
		return c->rc;
	}
	if ((rc = jc_http_check(&c->resp, c->method ? c->method : "GET", c->url, err)) < 0)
		return rc;
	if (out && c->resp.body && c->resp.body_len) {
		json_tokener *tok = json_tokener_new();
		*out = json_tokener_parse_ex(tok, c->resp.body, (int)c->resp.body_len);
		if (!*out || json_tokener_get_error(tok) != json_tokener_success) {
			if (*out)
				json_object_put(*out);
			*out = NULL;
			json_tokener_free(tok);
			return jc_err_http(err, JC_EHTTP, c->url, c->resp.status,
					   c->resp.request_id[0] ? c->resp.request_id : NULL,
					   "%s: the answer is not JSON", c->method ? c->method : "GET");
		}
		json_tokener_free(tok);
	}
	return 0;
}

int os_call_json(os_cloud *oc, os_service service, const char *method, const char *path, const char *body,
		 jc_http_idempotence idem, json_object **out, jc_http_response *resp_out, jc_error *err)
{
	os_call *c = jc_calloc(1, sizeof(*c));
	int rc;
	if (out)
		*out = NULL;
	c->service = service;
	c->method = method;
	c->path = jc_strdup(path);
	c->body = jc_strdup(body);
	c->idempotence = idem;
	rc = os_call_many(oc, c, 1, err);
	if (rc == 0)
		rc = os_call_check(oc, c, out, err);
	if (resp_out) {
		*resp_out = c->resp;
		memset(&c->resp, 0, sizeof(c->resp));
	}
	os_calls_free(c, 1);
	return rc;
}
