/*
 * jcicd/http.h - the one HTTP client every module talks through (libcurl).
 *
 * It owns what every remote call needs and nobody should write twice:
 * per-attempt timeouts, retries with exponential backoff and jitter inside a
 * budget, Retry-After on 429 and 503, request ids in errors, parallel
 * transfers with a concurrency limit over kept-alive connections, request
 * counters for benchmarks, and redaction of secrets in logs.
 *
 * Retry rules: 429 and 503 are retried for every method (the server says it
 * did not act).  Other 5xx, timeouts, resets and truncated bodies are retried
 * only for idempotent requests.  A non-idempotent request (POST by default)
 * that may have reached the server is never resent blindly: the response says
 * `maybe_sent` so the caller can look before it tries again.
 *
 * A jc_http handle is not thread-safe; use one per thread.
 */
#ifndef JCICD_HTTP_H
#define JCICD_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "jcicd/error.h"
#include "jcicd/log.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct jc_http jc_http;

#define JC_HTTP_OPTIONS_VERSION 2   /* 1: without source_address (still accepted) */
typedef struct jc_http_options {
	unsigned version;
	long long connect_timeout_ms;  /* 0: 10 s */
	long long request_timeout_ms;  /* per attempt; 0: 60 s; <0: none (streams) */
	int max_retries;               /* -1: default 4; 0: never retry */
	long long retry_budget_ms;     /* all retries of one request; 0: 120 s */
	long long backoff_initial_ms;  /* 0: 500 ms */
	long long backoff_max_ms;      /* 0: 10 s */
	int max_parallel;              /* transfers at once in jc_http_do_many; 0: 8 */
	const char *ca_file;           /* NULL: system store */
	bool insecure;                 /* true: do not verify TLS peers */
	const char *client_cert;       /* PEM, optional */
	const char *client_key;        /* PEM, optional */
	const char *user_agent;        /* NULL: "jcicd/<version>" */
	const jc_logger *logger;       /* borrowed; may be NULL */
	const char *source_address;    /* connect from this local IP; NULL: the kernel's choice */
} jc_http_options;

#define JC_HTTP_OPTIONS_INIT { JC_HTTP_OPTIONS_VERSION, 0, 0, -1, 0, 0, 0, 0, NULL, false, NULL, NULL, NULL, NULL, NULL }

/* Called with each piece of a streamed body; return non-zero to stop. */
typedef int (*jc_http_data_fn)(const char *data, size_t len, void *payload);

typedef enum jc_http_idempotence {
	JC_HTTP_BY_METHOD = 0,   /* GET, HEAD, PUT, DELETE, OPTIONS: yes; POST, PATCH: no */
	JC_HTTP_IDEMPOTENT = 1,  /* safe to resend (e.g. a POST that only reads) */
	JC_HTTP_NOT_IDEMPOTENT = 2
} jc_http_idempotence;

typedef struct jc_http_request {
	const char *method;            /* NULL: GET */
	const char *url;
	const char *const *headers;    /* "Name: value" */
	size_t n_headers;
	const void *body;
	size_t body_len;
	jc_http_idempotence idempotence;
	long long timeout_ms;          /* 0: the handle's; <0: none */
	const char *username;          /* basic auth (both or neither) */
	const char *password;
	jc_http_data_fn on_data;       /* stream the body instead of keeping it */
	void *payload;
	bool no_retry;                 /* one attempt only */
	bool http10;                   /* force HTTP/1.0 (unchunked streams) */
} jc_http_request;

typedef struct jc_http_response {
	int status;                    /* 0 when no response arrived */
	char *body;                    /* NUL-terminated; NULL when streamed */
	size_t body_len;
	char **headers;                /* "name: value", names lower-cased */
	size_t n_headers;
	char request_id[128];          /* x-openstack-request-id and friends */
	int attempts;
	bool maybe_sent;               /* a failed non-idempotent request may have acted */
	long long elapsed_ms;
} jc_http_response;

JC_EXTERN int jc_http_new(jc_http **out, const jc_http_options *opts, jc_error *err);
JC_EXTERN void jc_http_free(jc_http *http);

/*
 * Performs one request, retrying as the rules above allow.  Returns 0 when a
 * final response arrived, whatever its status; the caller judges the status
 * (jc_http_check helps).  Returns JC_EUNREACHABLE or JC_ETIMEOUT when no
 * usable response arrived within the budget.  Free resp with
 * jc_http_response_clear.
 */
JC_EXTERN int jc_http_do(jc_http *http, const jc_http_request *req, jc_http_response *resp,
	       jc_error *err);

/*
 * Performs n requests in parallel (at most max_parallel at once).  Each
 * response and error is filled as jc_http_do would; the return value is 0
 * when every request got a final response, otherwise the first failure.
 */
JC_EXTERN int jc_http_do_many(jc_http *http, const jc_http_request *reqs,
		    jc_http_response *resps, jc_error *errs, size_t n);

JC_EXTERN void jc_http_response_clear(jc_http_response *resp);
/* The value of a header (case-insensitive name), or NULL. */
JC_EXTERN const char *jc_http_response_header(const jc_http_response *resp, const char *name);

/* 2xx: 0.  401/403: JC_EAUTH.  Otherwise JC_EHTTP.  The message quotes the
 * server's own message when the body carries one (JSON "message" fields). */
JC_EXTERN int jc_http_check(const jc_http_response *resp, const char *method,
		  const char *url, jc_error *err);

typedef struct jc_http_stats {
	long requests;     /* attempts put on the wire */
	long retries;
	long long bytes_received;
	long long bytes_sent;
} jc_http_stats;

JC_EXTERN void jc_http_get_stats(const jc_http *http, jc_http_stats *out);
JC_EXTERN void jc_http_reset_stats(jc_http *http);

/* Percent-encodes s for a URL path segment or query value. */
JC_EXTERN char *jc_http_escape(const char *s);

#ifdef __cplusplus
}
#endif
#endif
