/*
 * wire.h - a small HTTP/1.1 client over plain TCP (internal).
 *
 * It speaks just what etcd's JSON gateway needs: POST with a body, a
 * kept-alive connection reused for the next request, and a response read
 * either whole or as a stream of body bytes (chunked or not) as they
 * arrive.  No TLS, no redirects, no proxies: libcurl does those for the
 * rest of the library.  It exists so that the node agent (jcicd-agent)
 * can talk to etcd without loading libcurl and what it links, which is
 * most of a node's memory bill.
 */
#ifndef JCICD_WIRE_H
#define JCICD_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jcicd/error.h"

typedef struct jc_wire jc_wire;

typedef struct jc_wire_response {
	int status;            /* 0: no response */
	char *body;            /* NUL-terminated; caller frees */
	size_t body_len;
	bool maybe_sent;       /* on failure: the server may have seen the request */
	bool closed;           /* the server closed the connection after it */
} jc_wire_response;

/* A connection to "host:port" (or "[v6]:port"); nothing is connected
 * until the first request.  The Host header says host:port. */
int jc_wire_new(jc_wire **out, const char *host_port, jc_error *err);
void jc_wire_free(jc_wire *w);

/* Connections leave from this local address (numeric IPv4 or IPv6; the
 * port is the kernel's choice), as curl's --interface does.  NULL: the
 * kernel picks the address too.  JC_EINVALID when addr is not an IP. */
int jc_wire_set_source(jc_wire *w, const char *addr, jc_error *err);

/* Drops the connection (the next request opens another). */
void jc_wire_close(jc_wire *w);

/* POSTs body to path and reads the whole answer before deadline_ms
 * (jc_now_ms() clock).  extra_headers: "Name: value\r\n" lines or NULL.
 * A connection that turns out to have been closed while idle is replaced
 * once, transparently.  Returns 0 with any HTTP status, or a negative
 * JC_E* (JC_EUNREACHABLE, JC_ETIMEOUT) when no answer came. */
int jc_wire_post(jc_wire *w, const char *path, const char *extra_headers, const char *body, size_t len,
		 long long connect_timeout_ms, int64_t deadline_ms, jc_wire_response *out, jc_error *err);
void jc_wire_response_clear(jc_wire_response *r);

/* Reads an answer held in memory, handed over `piece` bytes at a time, as
 * jc_wire_post reads one from a socket (the end of data is the server
 * closing).  For tests and fuzzing of the framing. */
int jc_wire_parse_answer(const void *data, size_t len, size_t piece, jc_wire_response *out, jc_error *err);

/* ---- streams: a POST whose answer keeps coming */

typedef void (*jc_wire_sink)(void *ud, const char *data, size_t len);

/* Sends the request on a fresh connection and returns; the answer is read
 * by jc_wire_stream_read. */
int jc_wire_stream_start(jc_wire *w, const char *path, const char *extra_headers, const char *body,
			 size_t len, long long connect_timeout_ms, jc_error *err);

/* Waits up to timeout_ms for body bytes and hands them to sink.  Returns
 * 1 when some came, 0 when none came in time, or a negative JC_E* when
 * the stream ended or broke (err says how: "stream closed (HTTP 200)",
 * "HTTP 404: ...", a socket error). */
int jc_wire_stream_read(jc_wire *w, long long timeout_ms, jc_wire_sink sink, void *ud, jc_error *err);

#endif
