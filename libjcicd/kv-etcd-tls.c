/* kv-etcd-tls.c - the etcd backend's transport for https:// endpoints:
 * libcurl, through jc_http for requests and a multi handle for watch
 * streams (see kv-etcd-internal.h).  Not linked into jcicd-agent. */
#include "common.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jcicd/http.h"
#include "kv-etcd-internal.h"

struct tls {
	jc_http *http;
	jc_http_options ho;
	char *base;
	/* the stream */
	CURLM *multi;
	CURL *easy;
	struct curl_slist *hdrs;
	char *body;
	jc_wire_sink sink;
	void *ud;
	bool delivered;
	bool ended;               /* the stream ended after its last data */
	jc_error why_ended;
};

static int tls_open(void **conn, const struct etcd_link *link, jc_error *err)
{
	struct tls *t = jc_calloc(1, sizeof(*t));
	jc_http_options ho = JC_HTTP_OPTIONS_INIT;
	int rc;

	ho.connect_timeout_ms = link->connect_timeout_ms;
	ho.request_timeout_ms = -1;  /* each call has its own deadline */
	ho.max_retries = 0;          /* kv-etcd.c decides about retries */
	ho.max_parallel = 1;
	ho.ca_file = link->ca_file;
	ho.client_cert = link->client_cert;
	ho.client_key = link->client_key;
	ho.insecure = link->insecure;
	ho.source_address = link->source_address;
	ho.logger = link->logger;
	t->ho = ho;
	t->base = jc_strdup(link->base);
	if ((rc = jc_http_new(&t->http, &t->ho, err)) < 0) {
		free(t->base);
		free(t);
		return rc;
	}
	*conn = t;
	return 0;
}

static void stream_end(struct tls *t)
{
	if (t->easy) {
		curl_multi_remove_handle(t->multi, t->easy);
		curl_easy_cleanup(t->easy);
		t->easy = NULL;
	}
	curl_slist_free_all(t->hdrs);
	t->hdrs = NULL;
	free(t->body);
	t->body = NULL;
}

static void tls_free(void *conn)
{
	struct tls *t = conn;
	if (!t)
		return;
	stream_end(t);
	if (t->multi)
		curl_multi_cleanup(t->multi);
	jc_http_free(t->http);
	free(t->base);
	free(t);
}

static void tls_drop(void *conn)
{
	struct tls *t = conn;
	jc_error ignored;
	stream_end(t);
	/* the handle owns its connections: a new handle has none */
	jc_http_free(t->http);
	t->http = NULL;
	jc_http_new(&t->http, &t->ho, &ignored);
}

/* "A: 1\r\nB: 2\r\n" into lines, after Content-Type */
static void header_lines(const char *headers, jc_strv *out)
{
	jc_strv_push(out, "Content-Type: application/json");
	for (const char *p = headers; p && *p;) {
		const char *eol = strstr(p, "\r\n");
		size_t n = eol ? (size_t)(eol - p) : strlen(p);
		jc_strv_push_owned(out, jc_strndup(p, n));
		p += n + (eol ? 2 : 0);
	}
}

static int tls_post(void *conn, const char *path, const char *headers, const char *body, size_t len,
		    int64_t deadline_ms, struct etcd_reply *out, jc_error *err)
{
	struct tls *t = conn;
	jc_http_request req = { 0 };
	jc_http_response resp = { 0 };
	jc_strv lines = JC_STRV_INIT;
	char *url = jc_sprintf("%s%s", t->base, path);
	int64_t left = deadline_ms - jc_now_ms();
	int rc;

	memset(out, 0, sizeof(*out));
	header_lines(headers, &lines);
	req.method = "POST";
	req.url = url;
	req.headers = (const char *const *)lines.v;
	req.n_headers = lines.n;
	req.body = body;
	req.body_len = len;
	req.idempotence = JC_HTTP_NOT_IDEMPOTENT;
	req.no_retry = true;
	req.timeout_ms = left > 1 ? left : 1;
	if (!t->http && (rc = jc_http_new(&t->http, &t->ho, err)) < 0)
		goto out;
	rc = jc_http_do(t->http, &req, &resp, err);
	out->maybe_sent = resp.maybe_sent || rc == JC_ETIMEOUT;
	if (rc == 0) {
		out->status = resp.status;
		out->body = resp.body ? resp.body : jc_strdup("");
		out->body_len = resp.body ? resp.body_len : 0;
		resp.body = NULL;
		jc_strlcpy(out->request_id, resp.request_id, sizeof(out->request_id));
	}
	jc_http_response_clear(&resp);
out:
	jc_strv_free(&lines);
	free(url);
	return rc;
}

static size_t on_stream_data(char *data, size_t size, size_t nmemb, void *userp)
{
	struct tls *t = userp;
	size_t len = size * nmemb;
	if (t->sink && len) {
		t->sink(t->ud, data, len);
		t->delivered = true;
	}
	return len;
}

static int tls_stream_start(void *conn, const char *path, const char *headers, const char *body, size_t len,
			    jc_error *err)
{
	struct tls *t = conn;
	char *url = jc_sprintf("%s%s", t->base, path);

	stream_end(t);
	t->ended = false;
	if (!t->multi && !(t->multi = curl_multi_init())) {
		free(url);
		return jc_err(err, JC_ENOMEM, "curl_multi_init failed");
	}
	t->body = jc_strndup(body, len);
	{
		jc_strv lines = JC_STRV_INIT;
		header_lines(headers, &lines);
		for (size_t i = 0; i < lines.n; i++)
			t->hdrs = curl_slist_append(t->hdrs, lines.v[i]);
		jc_strv_free(&lines);
	}
	t->easy = curl_easy_init();
	curl_easy_setopt(t->easy, CURLOPT_URL, url);
	curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, t->body);
	curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->hdrs);
	curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, on_stream_data);
	curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(t->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)t->ho.connect_timeout_ms);
	curl_easy_setopt(t->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(t->easy, CURLOPT_TCP_KEEPIDLE, 30L);
	curl_easy_setopt(t->easy, CURLOPT_TCP_KEEPINTVL, 10L);
	curl_easy_setopt(t->easy, CURLOPT_USERAGENT, "jcicd/" PACKAGE_VERSION);
	if (t->ho.source_address) {
		/* as jc_http does it: "host!" says an address, not an interface
		 * name; libcurl copies the string */
		char iface[64];
		snprintf(iface, sizeof(iface), "host!%s", t->ho.source_address);
		curl_easy_setopt(t->easy, CURLOPT_INTERFACE, iface);
	}
	if (t->ho.ca_file)
		curl_easy_setopt(t->easy, CURLOPT_CAINFO, t->ho.ca_file);
	if (t->ho.client_cert)
		curl_easy_setopt(t->easy, CURLOPT_SSLCERT, t->ho.client_cert);
	if (t->ho.client_key)
		curl_easy_setopt(t->easy, CURLOPT_SSLKEY, t->ho.client_key);
	if (t->ho.insecure) {
		curl_easy_setopt(t->easy, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(t->easy, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	curl_multi_add_handle(t->multi, t->easy);
	free(url);
	return 0;
}

static int tls_stream_read(void *conn, long long timeout_ms, jc_wire_sink sink, void *ud, jc_error *err)
{
	struct tls *t = conn;
	int64_t deadline = jc_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);

	if (t->ended) {
		t->ended = false;
		jc_err_copy(err, &t->why_ended);
		return t->why_ended.code;
	}
	if (!t->easy)
		return jc_err(err, JC_EUNREACHABLE, "the stream is not connected");
	t->sink = sink;
	t->ud = ud;
	t->delivered = false;
	for (;;) {
		int running = 0, left;
		CURLMsg *msg;
		int64_t now;

		curl_multi_perform(t->multi, &running);
		while ((msg = curl_multi_info_read(t->multi, &left)) != NULL) {
			if (msg->msg == CURLMSG_DONE) {
				long status = 0;
				int rc;
				curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
				if (msg->data.result != CURLE_OK)
					rc = jc_err(err, JC_EUNREACHABLE, "%s", curl_easy_strerror(msg->data.result));
				else
					rc = jc_err(err, JC_EUNREACHABLE, "stream closed (HTTP %ld)", status);
				stream_end(t);
				t->sink = NULL;
				if (!t->delivered)
					return rc;
				/* the data first; the end on the next read */
				t->ended = true;
				jc_err_copy(&t->why_ended, err);
				if (!err)
					jc_err(&t->why_ended, rc, "stream closed");
				return 1;
			}
		}
		if (t->delivered)
			break;
		now = jc_now_ms();
		if (now >= deadline)
			break;
		curl_multi_poll(t->multi, NULL, 0, (int)(deadline - now > 600000 ? 600000 : deadline - now), NULL);
	}
	t->sink = NULL;
	return t->delivered ? 1 : 0;
}

const struct etcd_transport jc_etcd_tls = {
	"https", tls_open, tls_free, tls_drop, tls_post, tls_stream_start, tls_stream_read,
};
