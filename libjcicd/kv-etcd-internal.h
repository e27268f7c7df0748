/*
 * kv-etcd-internal.h - how the etcd backend reaches an endpoint.
 *
 * kv-etcd.c speaks etcd's JSON; a transport moves the bytes.  Plain
 * http:// endpoints go over wire.c (kv-etcd-plain.c); https:// ones over
 * libcurl (kv-etcd-tls.c).  jcicd-agent, the small node binary, is linked
 * without libcurl: there jc_etcd_tls is a weak symbol left undefined, and
 * an https endpoint is refused with a message that says what to run.
 */
#ifndef JCICD_KV_ETCD_INTERNAL_H
#define JCICD_KV_ETCD_INTERNAL_H

#include "common.h"
#include "wire.h"

/* One endpoint, as the transport needs it. */
struct etcd_link {
	const char *base;            /* "http://h:p" or "https://h:p" */
	const char *host_port;       /* "h:p" */
	const char *ca_file, *client_cert, *client_key;
	bool insecure;
	const char *source_address;  /* NULL: the kernel's choice */
	long long connect_timeout_ms;
	const jc_logger *logger;
};

struct etcd_reply {
	int status;                  /* 0: no answer */
	char *body;                  /* NUL-terminated */
	size_t body_len;
	bool maybe_sent;             /* on failure: the request may have arrived */
	char request_id[64];
};

struct etcd_transport {
	const char *name;
	int (*open)(void **conn, const struct etcd_link *link, jc_error *err);
	void (*free)(void *conn);
	/* closes the connection; the next call opens another */
	void (*drop)(void *conn);
	/* headers: "Name: value\r\n" lines or NULL; 0 with any status */
	int (*post)(void *conn, const char *path, const char *headers, const char *body, size_t len,
		    int64_t deadline_ms, struct etcd_reply *out, jc_error *err);
	int (*stream_start)(void *conn, const char *path, const char *headers, const char *body, size_t len,
			    jc_error *err);
	/* 1 data came, 0 none in time, < 0 the stream ended (err says how) */
	int (*stream_read)(void *conn, long long timeout_ms, jc_wire_sink sink, void *ud, jc_error *err);
};

extern const struct etcd_transport jc_etcd_plain;
#if defined(__GNUC__)
extern const struct etcd_transport jc_etcd_tls __attribute__((weak));
#else
extern const struct etcd_transport jc_etcd_tls;
#endif

void jc_etcd_reply_clear(struct etcd_reply *r);

#endif
