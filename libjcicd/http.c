/* http.c - libcurl multi underneath every remote call: retries, budgets,
 * Retry-After, parallel transfers, request ids and counters. */
#include "common.h"

#include <ctype.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>

#include "jcicd/http.h"

struct jc_http {
	CURLM *multi;
	CURLSH *share;
	jc_http_options opts;
	char *ca_file, *client_cert, *client_key, *user_agent;
	char *interface;             /* CURLOPT_INTERFACE: "host!<source address>" */
	jc_http_stats stats;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int jc_http_new(jc_http **out, const jc_http_options *opts, jc_error *err)
{
	jc_http *h;
	jc_http_options defaults = JC_HTTP_OPTIONS_INIT;

	*out = NULL;
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK)
		return jc_err(err, JC_ERROR, "cannot initialise libcurl: %s", curl_easy_strerror(curl_init_rc));
	if (opts && opts->version == 1) {
		/* built against version 1: the struct ends before source_address */
		memcpy(&defaults, opts, offsetof(jc_http_options, source_address));
		defaults.version = JC_HTTP_OPTIONS_VERSION;
		opts = &defaults;
	}
	if (opts && opts->version != JC_HTTP_OPTIONS_VERSION)
		return jc_err(err, JC_EINVALID, "jc_http_options version %u is not supported", opts->version);
	if (opts && opts->source_address && *opts->source_address && !jc_is_ip_address(opts->source_address))
		return jc_err(err, JC_EINVALID, "source address '%s' is not an IPv4 or IPv6 address",
			      opts->source_address);
	h = jc_calloc(1, sizeof(*h));
	h->opts = opts ? *opts : defaults;
	if (!h->opts.connect_timeout_ms)
		h->opts.connect_timeout_ms = 10000;
	if (!h->opts.request_timeout_ms)
		h->opts.request_timeout_ms = 60000;
	if (h->opts.max_retries < 0)
		h->opts.max_retries = 4;
	if (!h->opts.retry_budget_ms)
		h->opts.retry_budget_ms = 120000;
	if (!h->opts.backoff_initial_ms)
		h->opts.backoff_initial_ms = 500;
	if (!h->opts.backoff_max_ms)
		h->opts.backoff_max_ms = 10000;
	if (h->opts.max_parallel <= 0)
		h->opts.max_parallel = 8;
	h->ca_file = jc_strdup(h->opts.ca_file);
	h->client_cert = jc_strdup(h->opts.client_cert);
	h->client_key = jc_strdup(h->opts.client_key);
	h->user_agent = jc_strdup(h->opts.user_agent ? h->opts.user_agent : "jcicd/" PACKAGE_VERSION);
	h->opts.ca_file = h->ca_file;
	h->opts.client_cert = h->client_cert;
	h->opts.client_key = h->client_key;
	h->opts.user_agent = h->user_agent;
	/* "host!": an address, never an interface name looked up by curl */
	h->interface = h->opts.source_address && *h->opts.source_address
			       ? jc_sprintf("host!%s", h->opts.source_address)
			       : NULL;
	h->opts.source_address = h->interface ? h->interface + 5 : NULL;
	h->multi = curl_multi_init();
	if (!h->multi) {
		jc_http_free(h);
		return jc_err(err, JC_ENOMEM, "cannot create a libcurl multi handle");
	}
	curl_multi_setopt(h->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)h->opts.max_parallel);
	h->share = curl_share_init();
	if (h->share) {
		curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
		curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	}
	*out = h;
	return 0;
}

void jc_http_free(jc_http *h)
{
	if (!h)
		return;
	if (h->multi)
		curl_multi_cleanup(h->multi);
	if (h->share)
		curl_share_cleanup(h->share);
	free(h->ca_file);
	free(h->client_cert);
	free(h->client_key);
	free(h->user_agent);
	free(h->interface);
	free(h);
}

void jc_http_get_stats(const jc_http *h, jc_http_stats *out)
{
	*out = h->stats;
}

void jc_http_reset_stats(jc_http *h)
{
	memset(&h->stats, 0, sizeof(h->stats));
}

void jc_http_response_clear(jc_http_response *resp)
{
	if (!resp)
		return;
	free(resp->body);
	for (size_t i = 0; i < resp->n_headers; i++)
		free(resp->headers[i]);
	free(resp->headers);
	memset(resp, 0, sizeof(*resp));
}

const char *jc_http_response_header(const jc_http_response *resp, const char *name)
{
	size_t nl = strlen(name);
	for (size_t i = 0; i < resp->n_headers; i++) {
		const char *h = resp->headers[i];
		if (strncasecmp(h, name, nl) == 0 && h[nl] == ':') {
			h += nl + 1;
			while (*h == ' ' || *h == '\t')
				h++;
			return h;
		}
	}
	return NULL;
}

char *jc_http_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	jc_buf b = JC_BUF_INIT;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
			jc_buf_putc(&b, (char)*p);
		} else {
			jc_buf_putc(&b, '%');
			jc_buf_putc(&b, hex[*p >> 4]);
			jc_buf_putc(&b, hex[*p & 15]);
		}
	}
	return jc_buf_detach(&b);
}

/* ---- one transfer and its retries */

enum xfer_state { X_PENDING, X_RUNNING, X_WAITING, X_DONE };

struct xfer {
	jc_http *h;
	const jc_http_request *req;
	jc_http_response *resp;
	jc_error *err;
	CURL *easy;
	struct curl_slist *hdrs;
	jc_buf body;
	jc_strv headers;
	enum xfer_state state;
	bool idempotent;
	bool stopped;          /* on_data asked to stop */
	int attempt;
	int64_t started_ms;
	int64_t deadline_ms;   /* retry budget */
	int64_t next_start_ms;
	int rc;
	char errbuf[CURL_ERROR_SIZE];
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct xfer *x = userp;
	size_t len = size * nmemb;
	x->h->stats.bytes_received += (long long)len;
	if (x->req->on_data) {
		if (x->req->on_data(data, len, x->req->payload) != 0) {
			x->stopped = true;
			return 0;  /* makes curl stop with CURLE_WRITE_ERROR */
		}
		return len;
	}
	jc_buf_add(&x->body, data, len);
	return len;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userp)
{
	struct xfer *x = userp;
	size_t len = size * nmemb;
	char *line, *colon;

	if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		/* a new response (after a redirect or 100-continue) starts over */
		jc_strv_free(&x->headers);
		return len;
	}
	line = jc_strndup(data, len);
	while (*line && (line[strlen(line) - 1] == '\r' || line[strlen(line) - 1] == '\n'))
		line[strlen(line) - 1] = '\0';
	colon = strchr(line, ':');
	if (!colon) {
		free(line);
		return len;
	}
	for (char *p = line; p < colon; p++)
		*p = (char)tolower((unsigned char)*p);
	jc_strv_push_owned(&x->headers, line);
	return len;
}

static bool method_is_idempotent(const char *m)
{
	return !m || strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 ||
	       strcmp(m, "PUT") == 0 || strcmp(m, "DELETE") == 0 || strcmp(m, "OPTIONS") == 0;
}

static const char *method_of(const jc_http_request *req)
{
	return req->method ? req->method : "GET";
}

static void xfer_setup(struct xfer *x)
{
	jc_http *h = x->h;
	const jc_http_request *req = x->req;
	const char *m = method_of(req);
	long long timeout = req->timeout_ms ? req->timeout_ms : h->opts.request_timeout_ms;
	CURL *e = curl_easy_init();

	x->easy = e;
	x->errbuf[0] = '\0';
	jc_buf_clear(&x->body);
	jc_strv_free(&x->headers);
	x->stopped = false;

	curl_easy_setopt(e, CURLOPT_URL, req->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(e, CURLOPT_USERAGENT, h->opts.user_agent);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)h->opts.connect_timeout_ms);
	if (timeout > 0)
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	/* libcurl silently sends a request again when a reused connection dies
	 * before any answer byte, whatever the method: a POST the server acted
	 * on before the connection dropped would be repeated.  A request that is
	 * not idempotent goes on a connection of its own. */
	if (!x->idempotent)
		curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	if (h->share)
		curl_easy_setopt(e, CURLOPT_SHARE, h->share);
	if (h->interface)
		curl_easy_setopt(e, CURLOPT_INTERFACE, h->interface);
	if (h->opts.ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, h->opts.ca_file);
	if (h->opts.insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (h->opts.client_cert)
		curl_easy_setopt(e, CURLOPT_SSLCERT, h->opts.client_cert);
	if (h->opts.client_key)
		curl_easy_setopt(e, CURLOPT_SSLKEY, h->opts.client_key);
	if (req->http10)
		curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_0);
	if (req->username) {
		curl_easy_setopt(e, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(e, CURLOPT_USERNAME, req->username);
		curl_easy_setopt(e, CURLOPT_PASSWORD, req->password ? req->password : "");
	}
	if (strcmp(m, "GET") == 0) {
		curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
	} else if (strcmp(m, "HEAD") == 0) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else if (strcmp(m, "POST") == 0) {
		curl_easy_setopt(e, CURLOPT_POST, 1L);
	} else {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
	}
	if (req->body || strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body ? (const char *)req->body : "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		h->stats.bytes_sent += (long long)req->body_len;
	}
	if (!x->hdrs) {
		for (size_t i = 0; i < req->n_headers; i++)
			x->hdrs = curl_slist_append(x->hdrs, req->headers[i]);
		/* no 100-continue round trip before small bodies */
		x->hdrs = curl_slist_append(x->hdrs, "Expect:");
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdrs);
}

static long long parse_retry_after(const char *v)
{
	long secs;
	time_t when;
	if (!v)
		return -1;
	if (jc_parse_long(v, &secs))
		return secs < 0 ? 0 : (long long)secs * 1000;
	when = curl_getdate(v, NULL);
	if (when > 0) {
		long long ms = (long long)when * 1000 - jc_wall_ms();
		return ms < 0 ? 0 : ms;
	}
	return -1;
}

static long long backoff_ms(const jc_http *h, int attempt)
{
	long long d = h->opts.backoff_initial_ms;
	for (int i = 1; i < attempt && d < h->opts.backoff_max_ms; i++)
		d *= 2;
	if (d > h->opts.backoff_max_ms)
		d = h->opts.backoff_max_ms;
	/* "equal jitter": half fixed, half random, so many clients spread out */
	return d / 2 + (long long)jc_random((uint64_t)(d / 2 + 1));
}

static void capture_response(struct xfer *x, long status)
{
	jc_http_response *r = x->resp;
	const char *rid;

	for (size_t i = 0; i < r->n_headers; i++)
		free(r->headers[i]);
	free(r->headers);
	free(r->body);
	r->status = (int)status;
	r->headers = x->headers.v;
	r->n_headers = x->headers.n;
	x->headers.v = NULL;
	x->headers.n = x->headers.cap = 0;
	if (x->req->on_data) {
		r->body = NULL;
		r->body_len = 0;
	} else {
		r->body_len = x->body.len;
		r->body = jc_buf_detach(&x->body);
	}
	r->request_id[0] = '\0';
	rid = jc_http_response_header(r, "x-openstack-request-id");
	if (!rid)
		rid = jc_http_response_header(r, "x-compute-request-id");
	if (!rid)
		rid = jc_http_response_header(r, "x-request-id");
	if (rid)
		jc_strlcpy(r->request_id, rid, sizeof(r->request_id));
}

/* Decides what happens after an attempt finished; returns true to retry. */
static bool schedule_retry(struct xfer *x, long long delay, const char *why)
{
	jc_http *h = x->h;
	int64_t now = jc_now_ms();
	if (x->req->no_retry || x->attempt > h->opts.max_retries)
		return false;
	if (now + delay > x->deadline_ms)
		return false;
	x->state = X_WAITING;
	x->next_start_ms = now + delay;
	h->stats.retries++;
	jc_log(h->opts.logger, JC_LOG_NOTICE, "http", "%s %s: %s; retrying in %.1f s (attempt %d of %d)",
	       method_of(x->req), x->req->url, why, (double)delay / 1000.0, x->attempt + 1,
	       h->opts.max_retries + 1);
	return true;
}

static void finish_attempt(struct xfer *x, CURLcode res)
{
	jc_http *h = x->h;
	const char *m = method_of(x->req);
	long status = 0;
	char why[CURL_ERROR_SIZE + 64];

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	x->resp->attempts = x->attempt;
	x->resp->elapsed_ms = jc_now_ms() - x->started_ms;

	if (res == CURLE_OK || (res == CURLE_WRITE_ERROR && x->stopped)) {
		if (status == 429 || status == 503) {
			long long delay = -1;
			capture_response(x, status);
			delay = parse_retry_after(jc_http_response_header(x->resp, "retry-after"));
			if (delay < 0)
				delay = backoff_ms(h, x->attempt);
			snprintf(why, sizeof(why), "HTTP %ld", status);
			if (schedule_retry(x, delay, why))
				return;
		} else if ((status == 500 || status == 502 || status == 504) && x->idempotent) {
			capture_response(x, status);
			snprintf(why, sizeof(why), "HTTP %ld", status);
			if (schedule_retry(x, backoff_ms(h, x->attempt), why))
				return;
		} else {
			capture_response(x, status);
		}
		jc_log(h->opts.logger, JC_LOG_DEBUG, "http", "%s %s -> %ld (%lld ms)", m, x->req->url,
		       status, x->resp->elapsed_ms);
		x->state = X_DONE;
		x->rc = 0;
		return;
	}

	/* transport failure: did the request possibly reach the server? */
	bool never_sent = res == CURLE_COULDNT_CONNECT || res == CURLE_COULDNT_RESOLVE_HOST ||
			  res == CURLE_COULDNT_RESOLVE_PROXY;
	snprintf(why, sizeof(why), "%s", x->errbuf[0] ? x->errbuf : curl_easy_strerror(res));
	if ((x->idempotent || never_sent) && schedule_retry(x, backoff_ms(h, x->attempt), why))
		return;
	x->state = X_DONE;
	x->resp->status = 0;
	x->resp->maybe_sent = !never_sent && !x->idempotent;
	x->rc = res == CURLE_OPERATION_TIMEDOUT ? JC_ETIMEOUT : JC_EUNREACHABLE;
	jc_err_http(x->err, x->rc, x->req->url, 0, NULL, "%s: no answer after %d attempt%s: %s%s", m,
		    x->attempt, x->attempt == 1 ? "" : "s", why,
		    x->resp->maybe_sent ? " (the request may have reached the server)" : "");
}

static void xfer_release_easy(struct xfer *x)
{
	if (x->easy) {
		curl_multi_remove_handle(x->h->multi, x->easy);
		curl_easy_cleanup(x->easy);
		x->easy = NULL;
	}
}

int jc_http_do_many(jc_http *h, const jc_http_request *reqs, jc_http_response *resps,
		    jc_error *errs, size_t n)
{
	struct xfer *xs;
	size_t done = 0, running = 0;
	int first_rc = 0;

	if (n == 0)
		return 0;
	xs = jc_calloc(n, sizeof(*xs));
	for (size_t i = 0; i < n; i++) {
		struct xfer *x = &xs[i];
		memset(&resps[i], 0, sizeof(resps[i]));
		if (errs)
			jc_error_clear(&errs[i]);
		x->h = h;
		x->req = &reqs[i];
		x->resp = &resps[i];
		x->err = errs ? &errs[i] : NULL;
		x->state = X_PENDING;
		x->idempotent = reqs[i].idempotence == JC_HTTP_IDEMPOTENT ||
				(reqs[i].idempotence == JC_HTTP_BY_METHOD && method_is_idempotent(reqs[i].method));
	}

	while (done < n) {
		int64_t now = jc_now_ms();
		int64_t wake = now + 1000;
		int still;

		for (size_t i = 0; i < n && running < (size_t)h->opts.max_parallel; i++) {
			struct xfer *x = &xs[i];
			if (x->state == X_PENDING || (x->state == X_WAITING && x->next_start_ms <= now)) {
				if (x->state == X_PENDING) {
					x->started_ms = now;
					x->deadline_ms = now + h->opts.retry_budget_ms;
				}
				x->attempt++;
				xfer_setup(x);
				curl_multi_add_handle(h->multi, x->easy);
				x->state = X_RUNNING;
				h->stats.requests++;
				running++;
			}
		}
		for (size_t i = 0; i < n; i++)
			if (xs[i].state == X_WAITING && xs[i].next_start_ms < wake)
				wake = xs[i].next_start_ms;

		if (running == 0) {
			jc_sleep_ms(wake - now);
			continue;
		}
		curl_multi_perform(h->multi, &still);
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(h->multi, &left)) != NULL) {
			struct xfer *x = NULL;
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			CURLcode res = msg->data.result;
			finish_attempt(x, res);
			xfer_release_easy(x);
			running--;
			if (x->state == X_DONE) {
				done++;
				if (x->rc < 0 && first_rc == 0)
					first_rc = x->rc;
			}
		}
		if (running > 0) {
			int64_t t = wake - jc_now_ms();
			if (t < 0)
				t = 0;
			if (t > 1000)
				t = 1000;
			curl_multi_poll(h->multi, NULL, 0, (int)t, NULL);
		}
	}
	for (size_t i = 0; i < n; i++) {
		jc_buf_free(&xs[i].body);
		jc_strv_free(&xs[i].headers);
		curl_slist_free_all(xs[i].hdrs);
	}
	free(xs);
	return first_rc;
}

int jc_http_do(jc_http *h, const jc_http_request *req, jc_http_response *resp, jc_error *err)
{
	return jc_http_do_many(h, req, resp, err, 1);
}

/* Finds the first "message" (or "detail", "error") string in a JSON error
 * body, the way OpenStack, etcd and Jenkins services wrap them. */
static const char *json_message(json_object *o, int depth)
{
	static const char *const keys[] = { "message", "detail", "error_description", "error", "title" };
	if (!o || depth > 4)
		return NULL;
	if (json_object_is_type(o, json_type_object)) {
		for (size_t i = 0; i < JC_ARRAY_LEN(keys); i++) {
			json_object *v;
			if (json_object_object_get_ex(o, keys[i], &v) && json_object_is_type(v, json_type_string))
				return json_object_get_string(v);
		}
		json_object_object_foreach(o, k, v) {
			(void)k;
			const char *s = json_message(v, depth + 1);
			if (s)
				return s;
		}
	}
	return NULL;
}

int jc_http_check(const jc_http_response *resp, const char *method, const char *url, jc_error *err)
{
	int code;
	char snippet[301];
	const char *msg = NULL;
	json_object *o = NULL;

	if (resp->status >= 200 && resp->status < 300)
		return 0;
	code = (resp->status == 401 || resp->status == 403) ? JC_EAUTH : JC_EHTTP;
	if (resp->body && resp->body_len) {
		o = json_tokener_parse(resp->body);
		msg = json_message(o, 0);
		if (!msg) {
			/* plain text or HTML: the first line is usually the message */
			size_t k = 0;
			for (const char *p = resp->body; *p && *p != '\n' && k < sizeof(snippet) - 1; p++)
				snippet[k++] = *p;
			snippet[k] = '\0';
			msg = snippet;
		}
	}
	jc_err_http(err, code, url, resp->status, resp->request_id[0] ? resp->request_id : NULL,
		    "%s refused: %s", method ? method : "GET",
		    msg && *msg ? msg : (code == JC_EAUTH ? "not authorized" : "request failed"));
	if (o)
		json_object_put(o);
	return code;
}
