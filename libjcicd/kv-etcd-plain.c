/* kv-etcd-plain.c - the etcd backend's transport for http:// endpoints:
 * wire.c, no libcurl (see kv-etcd-internal.h). */
#include "common.h"

#include <stdlib.h>
#include <string.h>

#include "kv-etcd-internal.h"

struct plain {
	jc_wire *w;
	long long connect_timeout_ms;
};

void jc_etcd_reply_clear(struct etcd_reply *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

static int plain_open(void **conn, const struct etcd_link *link, jc_error *err)
{
	struct plain *p = jc_calloc(1, sizeof(*p));
	int rc = jc_wire_new(&p->w, link->host_port, err);
	if (rc == 0 && (rc = jc_wire_set_source(p->w, link->source_address, err)) < 0)
		jc_wire_free(p->w);
	if (rc < 0) {
		free(p);
		return rc;
	}
	p->connect_timeout_ms = link->connect_timeout_ms;
	*conn = p;
	return 0;
}

static void plain_free(void *conn)
{
	struct plain *p = conn;
	if (p) {
		jc_wire_free(p->w);
		free(p);
	}
}

static void plain_drop(void *conn)
{
	jc_wire_close(((struct plain *)conn)->w);
}

static int plain_post(void *conn, const char *path, const char *headers, const char *body, size_t len,
		      int64_t deadline_ms, struct etcd_reply *out, jc_error *err)
{
	struct plain *p = conn;
	jc_wire_response r;
	int rc = jc_wire_post(p->w, path, headers, body, len, p->connect_timeout_ms, deadline_ms, &r, err);
	memset(out, 0, sizeof(*out));
	out->maybe_sent = r.maybe_sent;
	if (rc == 0) {
		out->status = r.status;
		out->body = r.body;
		out->body_len = r.body_len;
	}
	return rc;
}

static int plain_stream_start(void *conn, const char *path, const char *headers, const char *body, size_t len,
			      jc_error *err)
{
	struct plain *p = conn;
	return jc_wire_stream_start(p->w, path, headers, body, len, p->connect_timeout_ms, err);
}

static int plain_stream_read(void *conn, long long timeout_ms, jc_wire_sink sink, void *ud, jc_error *err)
{
	return jc_wire_stream_read(((struct plain *)conn)->w, timeout_ms, sink, ud, err);
}

const struct etcd_transport jc_etcd_plain = {
	"http", plain_open, plain_free, plain_drop, plain_post, plain_stream_start, plain_stream_read,
};
