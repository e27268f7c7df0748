/*
 * kv-etcd.c - the etcd v3 backend, over etcd's JSON gateway (grpc-gateway)
 * with json-c; the bytes move over a transport (kv-etcd-internal.h): wire.c
 * for http://, libcurl for https://.
 *
 * What the gateway does that a client must know (measured on 3.4.23):
 * keys and values are base64; every int64 is a JSON string; zero values are
 * omitted (a failed txn has no "succeeded", a PUT event has no "type", an
 * empty range has no "kvs" and no "count"); streaming calls wrap each
 * message in {"result": ...}, one JSON document per line.
 *
 * Endpoints: etcd://h1:2379,h2:2379 tries them in order and stays on the
 * one that answers; a request that could not be delivered moves to the
 * next.  Auth: with a user and password, a token from /v3/auth/authenticate
 * goes in the Authorization header and is fetched again when refused.
 */
#include "common.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv-etcd-internal.h"
#include "kv-internal.h"

struct kve {
	const struct etcd_transport *tp;
	jc_strv endpoints;       /* "http://h:p" */
	jc_strv host_ports;      /* "h:p", the same order */
	struct etcd_link *links; /* one per endpoint */
	void **conns;            /* one per endpoint, opened when first used */
	size_t current;          /* endpoint in use */
	char *display;           /* etcd://h:p,... for messages */
	char *user, *password;
	char *token;
	char *auth_header;       /* "Authorization: <token>" */
	long long timeout_ms;
	char *ca_file, *client_cert, *client_key;
	char *source_address;
	bool insecure;
	bool short_connections;
	long requests;
	long watch_reconnects;
	const jc_logger *logger;
};

struct kve_watch {
	struct kve *e;
	char *key, *end;         /* raw */
	int64_t next_rev;
	void *conn;              /* the stream's own connection */
	size_t conn_endpoint;    /* where conn goes */
	jc_buf in;               /* bytes not yet split into lines */
	jc_kv_events *sink;      /* where parsed events go during a wait */
	bool connected;          /* "created" seen on this stream */
	bool broken;             /* needs a reconnect */
	char broken_why[256];
	int64_t reconnect_at_ms;
	long long backoff_ms;
	size_t endpoint;
	int64_t last_data_ms;
};

/* ---- base64 */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *b64_encode(const void *data, size_t len)
{
	const unsigned char *p = data;
	char *out = jc_malloc((len + 2) / 3 * 4 + 1), *o = out;
	size_t i;
	for (i = 0; i + 2 < len; i += 3) {
		*o++ = b64[p[i] >> 2];
		*o++ = b64[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		*o++ = b64[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)];
		*o++ = b64[p[i + 2] & 63];
	}
	if (i < len) {
		*o++ = b64[p[i] >> 2];
		if (i + 1 < len) {
			*o++ = b64[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
			*o++ = b64[(p[i + 1] & 15) << 2];
		} else {
			*o++ = b64[(p[i] & 3) << 4];
			*o++ = '=';
		}
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

static int b64_val(int c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+' || c == '-') return 62;
	if (c == '/' || c == '_') return 63;
	return -1;
}

/* NULL on junk; the result is NUL-terminated */
static char *b64_decode(const char *s, size_t *out_len)
{
	size_t n = strlen(s), k = 0;
	char *out = jc_malloc(n / 4 * 3 + 4);
	unsigned acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		int v;
		if (s[i] == '=')
			break;
		if ((v = b64_val((unsigned char)s[i])) < 0) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[k++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[k] = '\0';
	if (out_len)
		*out_len = k;
	return out;
}

/* ---- JSON helpers: int64 arrive as strings */

static int64_t j_i64(json_object *o, const char *key)
{
	json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v))
		return 0;
	if (json_object_is_type(v, json_type_string))
		return strtoll(json_object_get_string(v), NULL, 10);
	return json_object_get_int64(v);
}

static bool j_bool(json_object *o, const char *key)
{
	json_object *v;
	return o && json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

static json_object *j_get(json_object *o, const char *key)
{
	json_object *v = NULL;
	if (o)
		json_object_object_get_ex(o, key, &v);
	return v;
}

static void j_add_b64(json_object *o, const char *key, const char *data, size_t len)
{
	char *enc = b64_encode(data, len);
	json_object_object_add(o, key, json_object_new_string(enc));
	free(enc);
}

static void j_add_i64(json_object *o, const char *key, int64_t v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	json_object_object_add(o, key, json_object_new_string(buf));
}

/* a gateway kv object into a pair */
static int pair_from_json(jc_kv_pair *p, json_object *o, bool with_value)
{
	json_object *k = j_get(o, "key"), *v = j_get(o, "value");
	p->key = k ? b64_decode(json_object_get_string(k), NULL) : jc_strdup("");
	if (!p->key)
		return JC_EPARSE;
	if (with_value) {
		p->value = v ? b64_decode(json_object_get_string(v), &p->value_len) : jc_strdup("");
		if (!p->value)
			return JC_EPARSE;
	}
	p->create_revision = j_i64(o, "create_revision");
	p->mod_revision = j_i64(o, "mod_revision");
	p->version = j_i64(o, "version");
	p->lease = j_i64(o, "lease");
	return 0;
}

/* ---- open */

static int parse_url(struct kve *e, const char *url, jc_error *err)
{
	bool tls = strncmp(url, "etcds://", 8) == 0;
	const char *rest = url + (tls ? 8 : 7), *at, *slash;
	char *hosts, *save = NULL;

	slash = strchr(rest, '/');
	at = strchr(rest, '@');
	if (at && (!slash || at < slash)) {
		char *cred = jc_strndup(rest, (size_t)(at - rest));
		char *colon = strchr(cred, ':');
		if (colon) {
			*colon = '\0';
			free(e->password);
			e->password = jc_strdup(colon + 1);
		}
		free(e->user);
		e->user = jc_strdup(cred);
		free(cred);
		rest = at + 1;
	}
	hosts = slash ? jc_strndup(rest, (size_t)(slash - rest)) : jc_strdup(rest);
	for (char *h = strtok_r(hosts, ",", &save); h; h = strtok_r(NULL, ",", &save)) {
		if (!*h || !strchr(h, ':')) {
			char *safe = jc_kv_url_redact(url);
			int rc = jc_err(err, JC_EINVALID, "KV URL '%s': endpoint '%s' is not host:port", safe, h);
			free(safe);
			free(hosts);
			return rc;
		}
		jc_strv_push_owned(&e->endpoints, jc_sprintf("%s://%s", tls ? "https" : "http", h));
		jc_strv_push_owned(&e->host_ports, jc_strdup(h));
	}
	free(hosts);
	if (e->endpoints.n == 0) {
		char *safe = jc_kv_url_redact(url);
		int rc = jc_err(err, JC_EINVALID, "KV URL '%s' names no endpoint (etcd://host:port)", safe);
		free(safe);
		return rc;
	}
	e->display = jc_kv_url_redact(url);
	if (tls && !&jc_etcd_tls)
		return jc_err(err, JC_EUNSUPPORTED,
			      "%s: etcds:// (TLS) is not built into jcicd-agent, which links no TLS library; "
			      "run 'jcicd agent', which does", e->display);
	e->tp = tls ? &jc_etcd_tls : &jc_etcd_plain;
	return 0;
}

static void kve_close(void *state);

static int kve_open(void **state, const char *url, const jc_kv_options *opts, jc_error *err)
{
	struct kve *e = jc_calloc(1, sizeof(*e));
	int rc;

	*state = NULL;
	e->timeout_ms = opts && opts->timeout_ms ? opts->timeout_ms : 10000;
	e->logger = opts ? opts->logger : NULL;
	if (opts && opts->username) {
		e->user = jc_strdup(opts->username);
		e->password = jc_strdup(opts->password ? opts->password : "");
	}
	if ((rc = parse_url(e, url, err)) < 0) {
		kve_close(e);
		return rc;
	}
	if (e->password && *e->password)
		jc_secret_register(e->password);
	if (opts) {
		e->ca_file = jc_strdup(opts->ca_file);
		e->client_cert = jc_strdup(opts->client_cert);
		e->client_key = jc_strdup(opts->client_key);
		e->insecure = opts->insecure;
		if (opts->source_address && *opts->source_address)
			e->source_address = jc_strdup(opts->source_address);
	}
	/* checked now, not at the first request: a typo in an agent's
	 * configuration should stop it at start */
	if (e->source_address && !jc_is_ip_address(e->source_address)) {
		rc = jc_err(err, JC_EINVALID, "KV source address '%s' is not an IPv4 or IPv6 address",
			    e->source_address);
		kve_close(e);
		return rc;
	}
	e->short_connections = opts && opts->short_connections;
	e->links = jc_calloc(e->endpoints.n, sizeof(*e->links));
	e->conns = jc_calloc(e->endpoints.n, sizeof(*e->conns));
	for (size_t i = 0; i < e->endpoints.n; i++) {
		struct etcd_link *l = &e->links[i];
		l->base = e->endpoints.v[i];
		l->host_port = e->host_ports.v[i];
		l->ca_file = e->ca_file;
		l->client_cert = e->client_cert;
		l->client_key = e->client_key;
		l->insecure = e->insecure;
		l->source_address = e->source_address;
		/* with others to fail over to, a silent endpoint is left after 3 s;
		 * alone, a connect may take the request's time: a server behind
		 * on accepting drops SYNs, and the kernel's retransmissions
		 * cost it less than a new connection every 3 s */
		l->connect_timeout_ms = e->endpoints.n > 1 && e->timeout_ms > 3000 ? 3000 : e->timeout_ms;
		l->logger = e->logger;
	}
	*state = e;
	return 0;
}

static void kve_close(void *state)
{
	struct kve *e = state;
	if (!e)
		return;
	for (size_t i = 0; e->conns && i < e->endpoints.n; i++)
		if (e->conns[i])
			e->tp->free(e->conns[i]);
	free(e->conns);
	free(e->links);
	jc_strv_free(&e->endpoints);
	jc_strv_free(&e->host_ports);
	free(e->display);
	free(e->user);
	free(e->password);
	free(e->token);
	free(e->auth_header);
	free(e->ca_file);
	free(e->client_cert);
	free(e->client_key);
	free(e->source_address);
	free(e);
}

/* ---- one call */

static int authenticate(struct kve *e, jc_error *err);

/* Is this refusal about the token (expired, revoked, missing)? */
static bool token_refused(const struct etcd_reply *r)
{
	return r->status == 401 || (r->body && (strstr(r->body, "invalid auth token") ||
						 strstr(r->body, "user name is empty")));
}

/* A refusal about who asks: the gateway answers those with 400 or 403 */
static bool auth_refused(const struct etcd_reply *r)
{
	return r->status == 401 || r->status == 403 ||
	       (r->body && (strstr(r->body, "user name is empty") || strstr(r->body, "permission denied") ||
			    strstr(r->body, "authentication failed") || strstr(r->body, "invalid auth token")));
}

/* The gateway's error text: {"error": "...", "code": N, "message": "..."} */
static void refusal_message(const struct etcd_reply *r, char *out, size_t size)
{
	json_object *o = r->body && *r->body ? json_tokener_parse(r->body) : NULL, *m;
	if ((m = j_get(o, "message")) != NULL || (m = j_get(o, "error")) != NULL)
		snprintf(out, size, "%s", json_object_get_string(m));
	else if (r->body && *r->body)
		snprintf(out, size, "%.*s", (int)strcspn(r->body, "\r\n"), r->body);
	else
		snprintf(out, size, "request failed");
	json_object_put(o);
}

static long long backoff_ms(int attempt)
{
	long long d = 100LL << (attempt > 4 ? 4 : attempt - 1);
	return d > 1000 ? 1000 : d;
}

/*
 * POSTs to one endpoint: one attempt, and a second after a short backoff
 * when the first failed in a way worth repeating (no answer, 429/503, or a
 * 5xx of an idempotent request).  etcd answers "request timed out" with
 * 503 although the proposal may still commit: a transaction or a grant is
 * never resent blindly; the caller looks and decides.
 */
static int post_once(struct kve *e, size_t ep, const char *path, const char *text, bool idempotent,
		     struct etcd_reply *reply, jc_error *err)
{
	int64_t deadline = jc_now_ms() + e->timeout_ms;
	const char *hdrs = e->auth_header && strcmp(path, "/v3/auth/authenticate") != 0 ? e->auth_header : NULL;
	int rc;

	for (int attempt = 1;; attempt++) {
		long long delay = -1;
		char why[sizeof(err->message)];

		jc_etcd_reply_clear(reply);
		e->requests++;
		if (!e->conns[ep] && (rc = e->tp->open(&e->conns[ep], &e->links[ep], err)) < 0)
			return rc;
		rc = e->tp->post(e->conns[ep], path, hdrs, text, strlen(text), deadline, reply, err);
		if (e->short_connections)
			/* an agent talks every TTL/3 seconds: a connection held
			 * open in between costs the server a socket per node */
			e->tp->drop(e->conns[ep]);
		if (rc < 0) {
			if (idempotent || !reply->maybe_sent)
				delay = backoff_ms(attempt);
			snprintf(why, sizeof(why), "%s", err ? err->message : "no answer");
		} else if ((reply->status == 429 || reply->status == 503) && idempotent) {
			delay = backoff_ms(attempt);
			snprintf(why, sizeof(why), "HTTP %d", reply->status);
		} else if ((reply->status == 500 || reply->status == 502 || reply->status == 504) && idempotent) {
			delay = backoff_ms(attempt);
			snprintf(why, sizeof(why), "HTTP %d", reply->status);
		}
		if (delay < 0 || attempt >= 2 || jc_now_ms() + delay > deadline)
			break;
		jc_log(e->logger, JC_LOG_NOTICE, "kv", "etcd %s%s: %s; retrying in %.1f s", e->endpoints.v[ep],
		       path, why, (double)delay / 1000.0);
		jc_sleep_ms(delay);
	}
	if (rc < 0) {
		char *url = jc_sprintf("%s%s", e->endpoints.v[ep], path);
		char why[sizeof(err->message)];
		snprintf(why, sizeof(why), "%s", err ? err->message : "");
		jc_err_http(err, rc, url, 0, NULL, "POST: no answer: %s%s", why,
			    reply->maybe_sent ? " (the request may have reached the server)" : "");
		free(url);
	}
	return rc;
}

/*
 * POSTs a JSON body to path on the current endpoint, moving to the next
 * endpoint when it cannot be reached; parses the answer.  idempotent: safe
 * to send again to another endpoint after a transport failure.
 */
static int call(struct kve *e, const char *path, json_object *body, bool idempotent, json_object **out,
		jc_error *err)
{
	const char *text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN);
	int rc = 0;
	bool reauthed = false;
	size_t tries = 0;

	*out = NULL;
	if (e->user && !e->token && strcmp(path, "/v3/auth/authenticate") != 0 &&
	    (rc = authenticate(e, err)) < 0)
		return rc;
	while (tries < e->endpoints.n) {
		struct etcd_reply reply = { 0 };
		jc_error local;
		char *url;

		jc_error_clear(&local);
		rc = post_once(e, e->current, path, text, idempotent, &reply, &local);
		if (rc < 0) {
			bool resend = idempotent || !reply.maybe_sent;
			jc_log(e->logger, JC_LOG_NOTICE, "kv", "etcd %s unreachable: %s", e->endpoints.v[e->current],
			       local.message);
			jc_etcd_reply_clear(&reply);
			if (err)
				*err = local;
			if (!resend)
				return rc;
			e->current = (e->current + 1) % e->endpoints.n;
			tries++;
			continue;
		}
		if (e->user && !reauthed && token_refused(&reply) && strcmp(path, "/v3/auth/authenticate") != 0) {
			/* tokens expire (simple tokens after 5 min idle): fetch a new one once */
			jc_etcd_reply_clear(&reply);
			reauthed = true;
			free(e->token);
			e->token = NULL;
			if ((rc = authenticate(e, err)) < 0)
				return rc;
			continue;
		}
		url = jc_sprintf("%s%s", e->endpoints.v[e->current], path);
		if (reply.status >= 200 && reply.status < 300) {
			*out = json_tokener_parse(reply.body ? reply.body : "");
			if (!*out)
				rc = jc_err_http(err, JC_EPARSE, url, reply.status, NULL, "etcd answered with invalid JSON");
			else if (j_get(*out, "result")) {
				/* keepalive is a stream of one message */
				json_object *res = json_object_get(j_get(*out, "result"));
				json_object_put(*out);
				*out = res;
			}
		} else if (reply.body && strstr(reply.body, "requested lease not found")) {
			rc = jc_err_http(err, JC_ENOTFOUND, url, reply.status, NULL, "lease not found (expired or revoked)");
		} else {
			char msg[300];
			refusal_message(&reply, msg, sizeof(msg));
			rc = jc_err_http(err, auth_refused(&reply) ? JC_EAUTH : JC_EHTTP, url, reply.status,
					 reply.request_id[0] ? reply.request_id : NULL, "POST refused: %s", msg);
		}
		jc_etcd_reply_clear(&reply);
		free(url);
		return rc;
	}
	return rc < 0 ? rc : jc_err(err, JC_EUNREACHABLE, "%s: no endpoint answered", e->display);
}

static int authenticate(struct kve *e, jc_error *err)
{
	json_object *b = json_object_new_object(), *r = NULL, *t;
	int rc;
	json_object_object_add(b, "name", json_object_new_string(e->user));
	json_object_object_add(b, "password", json_object_new_string(e->password ? e->password : ""));
	rc = call(e, "/v3/auth/authenticate", b, true, &r, err);
	json_object_put(b);
	if (rc < 0) {
		if (rc == JC_EHTTP)
			rc = JC_EAUTH;
		if (err)
			err->code = rc;
		jc_err_prefix(err, "%s: authentication as '%s' failed", e->display, e->user);
		return rc;
	}
	t = j_get(r, "token");
	if (!t) {
		json_object_put(r);
		return jc_err(err, JC_EAUTH, "%s: etcd returned no token for '%s' (is auth enabled?)", e->display,
			      e->user);
	}
	free(e->token);
	free(e->auth_header);
	e->token = jc_strdup(json_object_get_string(t));
	jc_secret_register(e->token);
	e->auth_header = jc_sprintf("Authorization: %s\r\n", e->token);
	json_object_put(r);
	return 0;
}

/* ---- kv */

static json_object *range_request(const char *key, const char *end)
{
	json_object *b = json_object_new_object();
	j_add_b64(b, "key", key, strlen(key));
	if (end)
		j_add_b64(b, "range_end", *end ? end : "\0", *end ? strlen(end) : 1);
	return b;
}

static int kve_range(void *state, jc_kv_list *out, const char *key, const char *end,
		     const jc_kv_range_options *o, jc_error *err)
{
	struct kve *e = state;
	json_object *b = range_request(key, end), *r = NULL, *kvs;
	int rc;

	if (o->limit > 0)
		j_add_i64(b, "limit", o->limit);
	if (o->min_mod_revision > 0)
		j_add_i64(b, "min_mod_revision", o->min_mod_revision);
	if (o->keys_only)
		json_object_object_add(b, "keys_only", json_object_new_boolean(1));
	if (o->count_only)
		json_object_object_add(b, "count_only", json_object_new_boolean(1));
	if (end) {
		json_object_object_add(b, "sort_order", json_object_new_string("ASCEND"));
		json_object_object_add(b, "sort_target", json_object_new_string("KEY"));
	}
	rc = call(e, "/v3/kv/range", b, true, &r, err);
	json_object_put(b);
	if (rc < 0)
		return rc;
	out->revision = j_i64(j_get(r, "header"), "revision");
	out->count = j_i64(r, "count");
	out->more = j_bool(r, "more");
	kvs = j_get(r, "kvs");
	for (size_t i = 0; kvs && i < json_object_array_length(kvs) && rc == 0; i++)
		rc = pair_from_json(jc_kv_list_push(out), json_object_array_get_idx(kvs, i), !o->keys_only);
	json_object_put(r);
	if (rc < 0) {
		jc_kv_list_clear(out);
		return jc_err(err, JC_EPARSE, "%s: a key or value in the range answer is not base64", e->display);
	}
	return 0;
}

static int kve_put(void *state, const char *key, const char *value, size_t len, int64_t lease,
		   int64_t *out_rev, jc_error *err)
{
	struct kve *e = state;
	json_object *b = json_object_new_object(), *r = NULL;
	int rc;
	j_add_b64(b, "key", key, strlen(key));
	j_add_b64(b, "value", value, len);
	if (lease)
		j_add_i64(b, "lease", lease);
	rc = call(e, "/v3/kv/put", b, true, &r, err);
	json_object_put(b);
	if (rc == 0 && out_rev)
		*out_rev = j_i64(j_get(r, "header"), "revision");
	json_object_put(r);
	return rc;
}

static int kve_delete(void *state, const char *key, const char *end, long *deleted, jc_error *err)
{
	struct kve *e = state;
	json_object *b = range_request(key, end), *r = NULL;
	int rc = call(e, "/v3/kv/deleterange", b, true, &r, err);
	json_object_put(b);
	if (rc == 0)
		*deleted = (long)j_i64(r, "deleted");
	json_object_put(r);
	return rc;
}

static json_object *ops_json(const jc_kv_op *ops, size_t n)
{
	json_object *a = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		json_object *op = json_object_new_object(), *req;
		if (ops[i].type == JC_KV_OP_PUT) {
			req = json_object_new_object();
			j_add_b64(req, "key", ops[i].key, strlen(ops[i].key));
			j_add_b64(req, "value", ops[i].value, ops[i].value_len);
			if (ops[i].lease)
				j_add_i64(req, "lease", ops[i].lease);
			json_object_object_add(op, "request_put", req);
		} else {
			req = range_request(ops[i].key, ops[i].type == JC_KV_OP_DELETE ? NULL : ops[i].value);
			json_object_object_add(op, "request_delete_range", req);
		}
		json_object_array_add(a, op);
	}
	return a;
}

static int kve_txn(void *state, const jc_kv_compare *cmps, size_t n_cmps, const jc_kv_op *then_ops,
		   size_t n_then, const jc_kv_op *else_ops, size_t n_else, bool *succeeded,
		   int64_t *out_rev, jc_error *err)
{
	static const char *const targets[] = { "VALUE", "MOD", "CREATE", "VERSION" };
	static const char *const results[] = { "EQUAL", "NOT_EQUAL", "LESS", "GREATER" };
	static const char *const fields[] = { "value", "mod_revision", "create_revision", "version" };
	struct kve *e = state;
	json_object *b = json_object_new_object(), *ca = json_object_new_array(), *r = NULL;
	int rc;

	for (size_t i = 0; i < n_cmps; i++) {
		json_object *c = json_object_new_object();
		j_add_b64(c, "key", cmps[i].key, strlen(cmps[i].key));
		json_object_object_add(c, "target", json_object_new_string(targets[cmps[i].target]));
		json_object_object_add(c, "result", json_object_new_string(results[cmps[i].op]));
		if (cmps[i].target == JC_KV_VALUE)
			j_add_b64(c, "value", cmps[i].value ? cmps[i].value : "", cmps[i].value_len);
		else
			j_add_i64(c, fields[cmps[i].target], cmps[i].number);
		json_object_array_add(ca, c);
	}
	json_object_object_add(b, "compare", ca);
	json_object_object_add(b, "success", ops_json(then_ops, n_then));
	json_object_object_add(b, "failure", ops_json(else_ops, n_else));
	rc = call(e, "/v3/kv/txn", b, false, &r, err);
	json_object_put(b);
	if (rc == 0) {
		*succeeded = j_bool(r, "succeeded");
		if (out_rev)
			*out_rev = j_i64(j_get(r, "header"), "revision");
	}
	json_object_put(r);
	return rc;
}

/* ---- leases */

static int kve_lease_grant(void *state, int64_t *out_id, long ttl_s, jc_error *err)
{
	struct kve *e = state;
	json_object *b = json_object_new_object(), *r = NULL;
	int rc;
	json_object_object_add(b, "TTL", json_object_new_int64(ttl_s));
	rc = call(e, "/v3/lease/grant", b, false, &r, err);
	json_object_put(b);
	if (rc == 0) {
		*out_id = j_i64(r, "ID");
		if (!*out_id) {
			json_object *m = j_get(r, "error");
			rc = jc_err(err, JC_EFAILED, "%s: lease grant refused: %s", e->display,
				    m ? json_object_get_string(m) : "no lease id in the answer");
		}
	}
	json_object_put(r);
	return rc;
}

static int kve_lease_keepalive(void *state, int64_t id, long *out_ttl, jc_error *err)
{
	struct kve *e = state;
	json_object *b = json_object_new_object(), *r = NULL;
	int rc;
	j_add_i64(b, "ID", id);
	rc = call(e, "/v3/lease/keepalive", b, true, &r, err);
	json_object_put(b);
	if (rc == 0) {
		/* an expired lease comes back with TTL omitted (zero) */
		*out_ttl = (long)j_i64(r, "TTL");
		if (*out_ttl <= 0)
			rc = jc_err(err, JC_ENOTFOUND, "%s: lease %lld has expired", e->display, (long long)id);
	}
	json_object_put(r);
	return rc;
}

static int kve_lease_revoke(void *state, int64_t id, jc_error *err)
{
	struct kve *e = state;
	json_object *b = json_object_new_object(), *r = NULL;
	int rc;
	j_add_i64(b, "ID", id);
	rc = call(e, "/v3/lease/revoke", b, true, &r, err);
	json_object_put(b);
	json_object_put(r);
	return rc;
}

/* ---- watches: one streaming POST per watch, on its own connection so a
 * wait can have a deadline */

static void watch_disconnect(struct kve_watch *w)
{
	if (w->conn)
		w->e->tp->drop(w->conn);
	jc_buf_clear(&w->in);
	w->connected = false;
}

static void watch_break(struct kve_watch *w, const char *why)
{
	if (!w->broken) {
		snprintf(w->broken_why, sizeof(w->broken_why), "%s", why);
		jc_log(w->e->logger, JC_LOG_NOTICE, "kv", "etcd watch on %s: %s; resuming from revision %lld",
		       w->e->endpoints.v[w->endpoint], why, (long long)w->next_rev);
	}
	w->broken = true;
	w->reconnect_at_ms = jc_now_ms() + w->backoff_ms;
	w->backoff_ms = w->backoff_ms ? w->backoff_ms * 2 : 100;
	if (w->backoff_ms > 2000)
		w->backoff_ms = 2000;
	/* the next attempt goes to the next endpoint */
	w->endpoint = (w->endpoint + 1) % w->e->endpoints.n;
}

/* one line of the stream: {"result": {...}} or {"error": {...}} */
static void watch_line(struct kve_watch *w, const char *line)
{
	json_object *o = json_tokener_parse(line), *res, *evs;
	if (!o) {
		watch_break(w, "unparsable message on the watch stream");
		return;
	}
	res = j_get(o, "result");
	if (!res) {
		json_object *er = j_get(o, "error");
		json_object *m = er ? j_get(er, "message") : NULL;
		char why[200];
		snprintf(why, sizeof(why), "etcd ended the watch: %s", m ? json_object_get_string(m) : line);
		if (m && strstr(json_object_get_string(m), "auth token")) {
			free(w->e->token);
			w->e->token = NULL;
		}
		watch_break(w, why);
		json_object_put(o);
		return;
	}
	if (j_bool(res, "created"))
		w->connected = true;
	if (j_i64(res, "compact_revision") > 0) {
		/* the revision we asked for is gone: the caller must re-read */
		int64_t cur = j_i64(j_get(res, "header"), "revision");
		w->sink->compacted = true;
		w->next_rev = (cur > 0 ? cur : j_i64(res, "compact_revision")) + 1;
		watch_break(w, "history compacted");
		w->reconnect_at_ms = jc_now_ms();
		json_object_put(o);
		return;
	}
	if (j_bool(res, "canceled")) {
		watch_break(w, "etcd cancelled the watch");
		json_object_put(o);
		return;
	}
	evs = j_get(res, "events");
	for (size_t i = 0; evs && i < json_object_array_length(evs); i++) {
		json_object *ev = json_object_array_get_idx(evs, i), *t = j_get(ev, "type");
		jc_kv_event *out = jc_kv_events_push(w->sink);
		out->type = t && strcmp(json_object_get_string(t), "DELETE") == 0 ? JC_KV_EVENT_DELETE
										   : JC_KV_EVENT_PUT;
		if (pair_from_json(&out->kv, j_get(ev, "kv"), out->type == JC_KV_EVENT_PUT) < 0) {
			jc_kv_pair_clear(&out->kv);
			w->sink->n--;
			continue;
		}
		if (out->kv.mod_revision >= w->next_rev)
			w->next_rev = out->kv.mod_revision + 1;
	}
	w->backoff_ms = 0;
	json_object_put(o);
}

static void watch_data(void *userp, const char *data, size_t len)
{
	struct kve_watch *w = userp;
	char *nl;
	w->last_data_ms = jc_now_ms();
	jc_buf_add(&w->in, data, len);
	while (!w->broken && (nl = memchr(w->in.data, '\n', w->in.len)) != NULL) {
		size_t n = (size_t)(nl - w->in.data);
		char *line = jc_strndup(w->in.data, n);
		memmove(w->in.data, nl + 1, w->in.len - n - 1);
		w->in.len -= n + 1;
		w->in.data[w->in.len] = '\0';
		if (*line)
			watch_line(w, line);
		free(line);
	}
}

static int watch_connect(struct kve_watch *w, jc_error *err)
{
	struct kve *e = w->e;
	json_object *b, *cr;
	const char *body;
	int rc;

	watch_disconnect(w);
	if (e->user && !e->token) {
		size_t saved = e->current;
		e->current = w->endpoint;
		rc = authenticate(e, err);
		e->current = saved;
		if (rc < 0)
			return rc;
	}
	cr = range_request(w->key, w->end);
	if (w->next_rev > 0)
		j_add_i64(cr, "start_revision", w->next_rev);
	b = json_object_new_object();
	json_object_object_add(b, "create_request", cr);
	body = json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN);
	if (w->conn && w->conn_endpoint != w->endpoint) {
		e->tp->free(w->conn);
		w->conn = NULL;
	}
	if (!w->conn && (rc = e->tp->open(&w->conn, &e->links[w->endpoint], err)) < 0) {
		json_object_put(b);
		return rc;
	}
	w->conn_endpoint = w->endpoint;
	rc = e->tp->stream_start(w->conn, "/v3/watch", e->auth_header, body, strlen(body), err);
	json_object_put(b);
	e->requests++;
	if (rc < 0)
		return rc;
	w->broken = false;
	w->last_data_ms = jc_now_ms();
	return 0;
}

static int kve_watch_open(void *state, void **out, const char *key, const char *end, int64_t start,
			  jc_error *err)
{
	struct kve *e = state;
	struct kve_watch *w = jc_calloc(1, sizeof(*w));
	int rc;

	w->e = e;
	w->key = jc_strdup(key);
	w->end = jc_strdup(end);
	w->endpoint = e->current;
	if (start <= 0) {
		/* "from now on": pin the revision, so a reconnect before the
		 * first event still misses nothing */
		jc_kv_list l = { 0 };
		jc_kv_range_options o = JC_KV_RANGE_OPTIONS_INIT;
		o.count_only = true;
		rc = kve_range(e, &l, key, NULL, &o, err);
		if (rc < 0) {
			free(w->key);
			free(w->end);
			free(w);
			return rc;
		}
		start = l.revision + 1;
		jc_kv_list_clear(&l);
		w->endpoint = e->current;
	}
	w->next_rev = start;
	if ((rc = watch_connect(w, err)) < 0) {
		if (w->conn)
			e->tp->free(w->conn);
		free(w->key);
		free(w->end);
		free(w);
		return rc;
	}
	*out = w;
	return 0;
}

static int kve_watch_next(void *watch, jc_kv_events *out, long long timeout_ms, jc_error *err)
{
	struct kve_watch *w = watch;
	int64_t deadline = jc_now_ms() + timeout_ms;
	bool ever_connected = w->connected;

	w->sink = out;
	for (;;) {
		int64_t now = jc_now_ms();

		if (w->broken && now >= w->reconnect_at_ms) {
			jc_error local;
			w->e->watch_reconnects++;
			if (watch_connect(w, &local) < 0)
				watch_break(w, local.message);
		}
		if (!w->broken) {
			/* an idle stream costs no wake-up: wait for data or the deadline */
			jc_error local;
			int64_t t = deadline - now;
			int rc = w->e->tp->stream_read(w->conn, t > 0 ? t : 0, watch_data, w, &local);
			if (rc < 0 && !w->broken)
				watch_break(w, local.message);
			if (w->connected)
				ever_connected = true;
		}
		if (out->n > 0 || out->compacted)
			break;
		now = jc_now_ms();
		if (now >= deadline)
			break;
		if (w->broken) {
			int64_t t = deadline - now, r = w->reconnect_at_ms - now;
			if (r < t)
				t = r < 0 ? 0 : r;
			jc_sleep_ms(t);
		}
	}
	w->sink = NULL;
	out->revision = w->next_rev - 1;
	if (out->n == 0 && !out->compacted && w->broken && !ever_connected && timeout_ms > 0)
		return jc_err(err, JC_EUNREACHABLE, "%s: watch: %s", w->e->display, w->broken_why);
	return 0;
}

static int64_t kve_watch_revision(const void *watch)
{
	return ((const struct kve_watch *)watch)->next_rev;
}

static void kve_watch_close(void *watch)
{
	struct kve_watch *w = watch;
	if (!w)
		return;
	watch_disconnect(w);
	if (w->conn)
		w->e->tp->free(w->conn);
	jc_buf_free(&w->in);
	free(w->key);
	free(w->end);
	free(w);
}

static void kve_stats(const void *state, jc_kv_stats *out)
{
	const struct kve *e = state;
	out->requests = e->requests;
	out->watch_reconnects = e->watch_reconnects;
}

static int kve_status(void *state, jc_kv_status *out, jc_error *err)
{
	struct kve *e = state;
	json_object *b = json_object_new_object(), *r = NULL, *v;
	int rc = call(e, "/v3/maintenance/status", b, true, &r, err);
	json_object_put(b);
	if (rc < 0)
		return rc;
	out->revision = j_i64(j_get(r, "header"), "revision");
	out->db_size = j_i64(r, "dbSize");
	v = j_get(r, "version");
	snprintf(out->server_version, sizeof(out->server_version), "etcd %s", v ? json_object_get_string(v) : "?");
	json_object_put(r);
	return 0;
}

static const char *const etcd_aliases[] = { "etcds", NULL };

const jc_kv_provider jc_kv_etcd_provider = {
	JC_KV_PROVIDER_VERSION, "etcd", etcd_aliases, kve_open, kve_close, kve_range, kve_put, kve_delete,
	kve_txn, kve_lease_grant, kve_lease_keepalive, kve_lease_revoke, kve_watch_open, kve_watch_next,
	kve_watch_revision, kve_watch_close, kve_stats, kve_status,
};
