/*
 * wire.c - a small HTTP/1.1 client over plain TCP (see wire.h).
 *
 * One connection per jc_wire, one request at a time.  Answers are read
 * through a fixed buffer and an incremental body decoder (length,
 * chunked, or up to EOF), so a whole answer and a stream that never ends
 * share the same code.  Every wait is a poll() with a deadline.
 */
#include "common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wire.h"

enum body_mode { BODY_NONE, BODY_LENGTH, BODY_CHUNKED, BODY_TO_EOF };
enum chunk_state { CH_SIZE, CH_DATA, CH_DATA_END, CH_TRAILER };

struct jc_wire {
	char *host, *port, *authority;
	struct sockaddr_storage source;   /* source_len 0: the kernel's choice */
	socklen_t source_len;
	char source_text[INET6_ADDRSTRLEN];
	int fd;                  /* -1: not connected */
	bool reusable;           /* the last answer was read whole and kept alive */
	char in[16384];
	size_t in_off, in_len;   /* unread bytes are in[in_off, in_off + in_len) */
	/* the answer being read */
	bool headers_done;
	int status;
	bool keep_alive;
	bool got_any;            /* a byte of the answer arrived */
	enum body_mode mode;
	uint64_t left;           /* BODY_LENGTH, CH_DATA: bytes to go */
	enum chunk_state cs;
	char line[96];           /* a chunk-size or trailer line being read */
	size_t line_len;
	bool body_done;
};

int jc_wire_new(jc_wire **out, const char *host_port, jc_error *err)
{
	const char *colon;
	jc_wire *w;

	*out = NULL;
	if (host_port[0] == '[') {
		const char *close = strchr(host_port, ']');
		colon = close && close[1] == ':' ? close + 1 : NULL;
	} else {
		colon = strrchr(host_port, ':');
	}
	if (!colon || colon == host_port || !colon[1])
		return jc_err(err, JC_EINVALID, "'%s' is not host:port", host_port);
	w = jc_calloc(1, sizeof(*w));
	w->fd = -1;
	if (host_port[0] == '[')
		w->host = jc_strndup(host_port + 1, (size_t)(colon - host_port - 2));
	else
		w->host = jc_strndup(host_port, (size_t)(colon - host_port));
	w->port = jc_strdup(colon + 1);
	w->authority = jc_strdup(host_port);
	*out = w;
	return 0;
}

int jc_wire_set_source(jc_wire *w, const char *addr, jc_error *err)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)&w->source;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&w->source;

	memset(&w->source, 0, sizeof(w->source));
	w->source_len = 0;
	if (!addr || !*addr)
		return 0;
	if (strlen(addr) >= sizeof(w->source_text))
		return jc_err(err, JC_EINVALID, "source address '%.60s...' is not an IPv4 or IPv6 address", addr);
	if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		w->source_len = sizeof(*in4);
	} else if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		w->source_len = sizeof(*in6);
	} else {
		memset(&w->source, 0, sizeof(w->source));
		return jc_err(err, JC_EINVALID, "source address '%s' is not an IPv4 or IPv6 address", addr);
	}
	snprintf(w->source_text, sizeof(w->source_text), "%s", addr);
	return 0;
}

void jc_wire_close(jc_wire *w)
{
	if (w && w->fd >= 0) {
		close(w->fd);
		w->fd = -1;
	}
	if (w) {
		w->reusable = false;
		w->in_off = w->in_len = 0;
	}
}

void jc_wire_free(jc_wire *w)
{
	if (!w)
		return;
	jc_wire_close(w);
	free(w->host);
	free(w->port);
	free(w->authority);
	free(w);
}

void jc_wire_response_clear(jc_wire_response *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

static int ms_until(int64_t deadline)
{
	int64_t t = deadline - jc_now_ms();
	return t <= 0 ? 0 : t > 600000 ? 600000 : (int)t;
}

/* Waits for fd to become ready for events; JC_ETIMEOUT at the deadline. */
static int wait_fd(jc_wire *w, short events, int64_t deadline, jc_error *err)
{
	struct pollfd p = { w->fd, events, 0 };
	for (;;) {
		int n = poll(&p, 1, ms_until(deadline));
		if (n > 0)
			return 0;
		if (n == 0)
			return jc_err(err, JC_ETIMEOUT, "%s: no answer in time", w->authority);
		if (errno != EINTR)
			return jc_err_errno(err, JC_EIO, errno, "poll");
	}
}

static int connect_one(jc_wire *w, const struct addrinfo *ai, int64_t deadline, jc_error *err)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	int one = 1, soerr = 0;
	socklen_t sl = sizeof(soerr);

	if (fd < 0)
		return jc_err_errno(err, JC_EUNREACHABLE, errno, "connect to %s: socket", w->authority);
	w->fd = fd;
	if (w->source_len) {
		/* the port comes with connect(), where the kernel knows the
		 * destination and can share local ports between servers */
#ifdef IP_BIND_ADDRESS_NO_PORT
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
#endif
		if (bind(fd, (const struct sockaddr *)&w->source, w->source_len) < 0) {
			int e = errno;
			jc_wire_close(w);
			return jc_err(err, JC_EUNREACHABLE, "connect to %s from %s: %s", w->authority,
				      w->source_text, strerror(e));
		}
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		int rc;
		if (errno != EINPROGRESS) {
			soerr = errno;
			goto refused;
		}
		if ((rc = wait_fd(w, POLLOUT, deadline, err)) < 0) {
			jc_wire_close(w);
			return rc == JC_ETIMEOUT ? jc_err(err, JC_ETIMEOUT, "connect to %s: timed out", w->authority) : rc;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			soerr = errno;
		if (soerr)
			goto refused;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return 0;
refused:
	jc_wire_close(w);
	return jc_err(err, JC_EUNREACHABLE, "connect to %s: %s", w->authority, strerror(soerr));
}

static int wire_connect(jc_wire *w, long long connect_timeout_ms, int64_t deadline, jc_error *err)
{
	struct addrinfo hints, *res = NULL;
	int64_t cdeadline = jc_now_ms() + connect_timeout_ms;
	bool tried = false;
	int rc, g;

	jc_wire_close(w);
	if (cdeadline > deadline)
		cdeadline = deadline;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((g = getaddrinfo(w->host, w->port, &hints, &res)) != 0)
		return jc_err(err, JC_EUNREACHABLE, "%s: cannot resolve '%s': %s", w->authority, w->host,
			      g == EAI_SYSTEM ? strerror(errno) : gai_strerror(g));
	rc = JC_EUNREACHABLE;
	for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		if (w->source_len && ai->ai_family != w->source.ss_family)
			continue;   /* an IPv4 source cannot reach an IPv6 server */
		tried = true;
		if ((rc = connect_one(w, ai, cdeadline, err)) == 0)
			break;
	}
	if (!tried)
		jc_err(err, rc, "connect to %s: no address of the server is IPv%d, as the source address is",
		       w->authority, w->source.ss_family == AF_INET ? 4 : 6);
	freeaddrinfo(res);
	return rc;
}

static int send_all(jc_wire *w, const char *data, size_t len, int64_t deadline, jc_error *err)
{
	while (len > 0) {
		ssize_t n = send(w->fd, data, len, MSG_NOSIGNAL);
		if (n > 0) {
			data += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int rc = wait_fd(w, POLLOUT, deadline, err);
			if (rc < 0)
				return rc;
			continue;
		}
		return jc_err(err, JC_EUNREACHABLE, "%s: sending the request: %s", w->authority,
			      strerror(n < 0 ? errno : EPIPE));
	}
	return 0;
}

/* Reads what the socket has into the buffer, waiting until the deadline.
 * Returns the number of bytes read, 0 at EOF, or a negative JC_E*. */
static int fill(jc_wire *w, int64_t deadline, jc_error *err)
{
	ssize_t n;
	if (w->in_off > 0 && w->in_len > 0)
		memmove(w->in, w->in + w->in_off, w->in_len);
	w->in_off = 0;
	if (w->in_len == sizeof(w->in))
		return jc_err(err, JC_EPARSE, "%s: answer headers longer than %zu bytes", w->authority, sizeof(w->in));
	for (;;) {
		n = recv(w->fd, w->in + w->in_len, sizeof(w->in) - w->in_len, 0);
		if (n > 0) {
			w->in_len += (size_t)n;
			w->got_any = true;
			return (int)n;
		}
		if (n == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			int rc = wait_fd(w, POLLIN, deadline, err);
			if (rc < 0)
				return rc;
			continue;
		}
		return jc_err(err, JC_EUNREACHABLE, "%s: reading the answer: %s", w->authority, strerror(errno));
	}
}

static void consume(jc_wire *w, size_t n)
{
	w->in_off += n;
	w->in_len -= n;
	if (w->in_len == 0)
		w->in_off = 0;
}

static void begin_answer(jc_wire *w)
{
	w->headers_done = false;
	w->status = 0;
	w->keep_alive = true;
	w->got_any = false;
	w->mode = BODY_TO_EOF;
	w->left = 0;
	w->cs = CH_SIZE;
	w->line_len = 0;
	w->body_done = false;
}

static bool header_is(const char *line, size_t len, const char *name, const char **value)
{
	size_t n = strlen(name);
	if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
		return false;
	*value = line + n + 1;
	while (**value == ' ' || **value == '\t')
		(*value)++;
	return true;
}

/* Parses the status line and headers if they are all in the buffer.
 * Returns 1 when parsed, 0 when more bytes are needed, or JC_EPARSE. */
static int parse_headers(jc_wire *w, jc_error *err)
{
	char *start = w->in + w->in_off, *end, *p;
	bool http10, length_seen = false, chunked = false;
	int major, minor, status;

	for (;;) {
		char first[48];
		size_t n;
		end = memmem(start, w->in_len, "\r\n\r\n", 4);
		if (!end)
			return 0;
		/* the status line, as a string (the buffer is not one) */
		n = (size_t)((char *)memmem(start, (size_t)(end + 2 - start), "\r\n", 2) - start);
		snprintf(first, sizeof(first), "%.*s", (int)(n < sizeof(first) - 1 ? n : sizeof(first) - 1), start);
		if (sscanf(first, "HTTP/%d.%d %3d", &major, &minor, &status) != 3 || status < 100 || status > 999)
			return jc_err(err, JC_EPARSE, "%s: the answer is not HTTP: '%.40s'", w->authority, first);
		if (status >= 200)
			break;
		consume(w, (size_t)(end + 4 - start));   /* 100 Continue and friends */
		start = w->in + w->in_off;
	}
	http10 = major == 1 && minor == 0;
	w->status = status;
	w->keep_alive = !http10;
	/* the lines are [start, end + 2), each ending in CRLF (the status
	 * line's may be the first two bytes of the four at end) */
	for (p = (char *)memmem(start, (size_t)(end + 2 - start), "\r\n", 2) + 2; p < end + 2;) {
		char *eol = memmem(p, (size_t)(end + 2 - p), "\r\n", 2);
		size_t len;
		const char *v;
		if (!eol)
			break;
		len = (size_t)(eol - p);
		if (header_is(p, len, "Content-Length", &v)) {
			char *e;
			unsigned long long n = strtoull(v, &e, 10);
			if (e == v || (*e != '\r' && *e != ' '))
				return jc_err(err, JC_EPARSE, "%s: bad Content-Length", w->authority);
			w->left = n;
			length_seen = true;
		} else if (header_is(p, len, "Transfer-Encoding", &v)) {
			chunked = memmem(v, (size_t)(eol - v), "chunked", 7) != NULL;
		} else if (header_is(p, len, "Connection", &v)) {
			if (strncasecmp(v, "close", 5) == 0)
				w->keep_alive = false;
			else if (strncasecmp(v, "keep-alive", 10) == 0)
				w->keep_alive = true;
		}
		p = eol + 2;
	}
	consume(w, (size_t)(end + 4 - start));
	if (status == 204 || status == 304)
		w->mode = BODY_NONE;
	else if (chunked)
		w->mode = BODY_CHUNKED;
	else if (length_seen)
		w->mode = BODY_LENGTH;
	else {
		w->mode = BODY_TO_EOF;
		w->keep_alive = false;
	}
	w->body_done = w->mode == BODY_NONE || (w->mode == BODY_LENGTH && w->left == 0);
	w->headers_done = true;
	return 1;
}

/* Takes one line of chunk framing from the buffer; true when complete. */
static bool take_line(jc_wire *w, int *bad)
{
	char *p = w->in + w->in_off, *nl = memchr(p, '\n', w->in_len);
	size_t n = nl ? (size_t)(nl - p) : w->in_len;
	if (w->line_len + n >= sizeof(w->line)) {
		*bad = 1;
		return false;
	}
	memcpy(w->line + w->line_len, p, n);
	w->line_len += n;
	consume(w, nl ? n + 1 : n);
	if (!nl)
		return false;
	if (w->line_len > 0 && w->line[w->line_len - 1] == '\r')
		w->line_len--;
	w->line[w->line_len] = '\0';
	return true;
}

/* Hands the body bytes in the buffer to sink.  Returns how many it
 * handed over, or JC_EPARSE on broken chunk framing. */
static long decode(jc_wire *w, jc_wire_sink sink, void *ud, jc_error *err)
{
	long emitted = 0;
	while (w->in_len > 0 && !w->body_done) {
		char *p = w->in + w->in_off;
		size_t n;
		int bad = 0;
		switch (w->mode) {
		case BODY_NONE:
			w->body_done = true;
			break;
		case BODY_TO_EOF:
			sink(ud, p, w->in_len);
			emitted += (long)w->in_len;
			consume(w, w->in_len);
			break;
		case BODY_LENGTH:
			n = w->in_len < w->left ? w->in_len : (size_t)w->left;
			sink(ud, p, n);
			emitted += (long)n;
			consume(w, n);
			w->left -= n;
			w->body_done = w->left == 0;
			break;
		case BODY_CHUNKED:
			if (w->cs == CH_DATA) {
				n = w->in_len < w->left ? w->in_len : (size_t)w->left;
				sink(ud, p, n);
				emitted += (long)n;
				consume(w, n);
				w->left -= n;
				if (w->left == 0)
					w->cs = CH_DATA_END;
				break;
			}
			if (!take_line(w, &bad)) {
				if (bad)
					return jc_err(err, JC_EPARSE, "%s: malformed chunked answer", w->authority);
				break;
			}
			if (w->cs == CH_SIZE) {
				char *e;
				unsigned long long size = strtoull(w->line, &e, 16);
				if (e == w->line || (*e && *e != ';' && *e != ' '))
					return jc_err(err, JC_EPARSE, "%s: bad chunk size '%.20s'", w->authority, w->line);
				w->left = size;
				w->cs = size ? CH_DATA : CH_TRAILER;
			} else if (w->cs == CH_DATA_END) {
				if (w->line_len)
					return jc_err(err, JC_EPARSE, "%s: chunk longer than its size", w->authority);
				w->cs = CH_SIZE;
			} else if (w->line_len == 0) {
				w->body_done = true;      /* the empty line after the trailers */
			}
			w->line_len = 0;
			break;
		}
	}
	return emitted;
}

static void to_buf(void *ud, const char *data, size_t len)
{
	jc_buf_add(ud, data, len);
}

/* Is an idle kept-alive connection still open?  An idle connection that
 * is readable was closed by the server (or sent junk): not reusable. */
static bool idle_still_open(jc_wire *w)
{
	struct pollfd p = { w->fd, POLLIN, 0 };
	return poll(&p, 1, 0) == 0;
}

static char *request_text(jc_wire *w, const char *path, const char *extra_headers, const char *body, size_t len,
			  size_t *out_len)
{
	jc_buf b = JC_BUF_INIT;
	jc_buf_printf(&b,
		      "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: jcicd/%s\r\nAccept: application/json\r\n"
		      "Content-Type: application/json\r\n%sContent-Length: %zu\r\n\r\n",
		      path, w->authority, PACKAGE_VERSION, extra_headers ? extra_headers : "", len);
	jc_buf_add(&b, body, len);
	*out_len = b.len;
	return jc_buf_detach(&b);
}

int jc_wire_post(jc_wire *w, const char *path, const char *extra_headers, const char *body, size_t len,
		 long long connect_timeout_ms, int64_t deadline_ms, jc_wire_response *out, jc_error *err)
{
	size_t req_len;
	char *req = request_text(w, path, extra_headers, body, len, &req_len);
	jc_buf got = JC_BUF_INIT;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	for (int attempt = 0;; attempt++) {
		bool reused = w->fd >= 0 && w->reusable && w->in_len == 0 && idle_still_open(w);
		/* a connection that never came up carried nothing: the last
		 * answer's bytes must not make it look as if it might have */
		w->got_any = false;
		if (!reused && (rc = wire_connect(w, connect_timeout_ms, deadline_ms, err)) < 0)
			break;
		w->reusable = false;
		begin_answer(w);
		jc_buf_clear(&got);
		rc = send_all(w, req, req_len, deadline_ms, err);
		while (rc == 0 && !w->headers_done) {
			if ((rc = parse_headers(w, err)) != 0)
				break;
			rc = fill(w, deadline_ms, err);
			if (rc == 0)
				rc = jc_err(err, JC_EUNREACHABLE, "%s: the connection closed before the answer",
					    w->authority);
			else if (rc > 0)
				rc = 0;
		}
		if (rc > 0)
			rc = 0;
		/* the server closed a kept-alive connection just as we used it:
		 * it never saw the request; once more on a new connection */
		if (rc < 0 && rc != JC_ETIMEOUT && reused && !w->got_any && attempt == 0) {
			jc_wire_close(w);
			continue;
		}
		while (rc == 0 && !w->body_done) {
			long e = decode(w, to_buf, &got, err);
			if (e < 0) {
				rc = (int)e;
				break;
			}
			if (w->body_done)
				break;
			rc = fill(w, deadline_ms, err);
			if (rc == 0) {
				if (w->mode == BODY_TO_EOF)
					w->body_done = true;
				else
					rc = jc_err(err, JC_EUNREACHABLE, "%s: the connection closed mid-answer",
						    w->authority);
			} else if (rc > 0) {
				rc = 0;
			}
		}
		break;
	}
	free(req);
	if (rc < 0) {
		out->maybe_sent = w->fd >= 0 || w->got_any;
		jc_wire_close(w);
		jc_buf_free(&got);
		return rc;
	}
	out->status = w->status;
	out->body_len = got.len;
	out->body = got.data ? jc_buf_detach(&got) : jc_strdup("");
	out->closed = !w->keep_alive || w->in_len > 0;
	if (out->closed)
		jc_wire_close(w);
	else
		w->reusable = true;
	return 0;
}

int jc_wire_parse_answer(const void *data, size_t len, size_t piece, jc_wire_response *out, jc_error *err)
{
	jc_wire w;
	jc_buf got = JC_BUF_INIT;
	const char *p = data;
	int rc = 0;

	memset(&w, 0, sizeof(w));
	memset(out, 0, sizeof(*out));
	w.fd = -1;
	w.authority = (char *)"answer";
	begin_answer(&w);
	if (piece == 0)
		piece = 1;
	while (rc >= 0 && !w.body_done) {
		size_t n = len < piece ? len : piece;
		if (n == 0) {   /* the end of the bytes: the server closed */
			if (w.headers_done && w.mode == BODY_TO_EOF)
				w.body_done = true;
			else
				rc = jc_err(err, JC_EUNREACHABLE, "answer: the connection closed %s",
					    w.headers_done ? "mid-answer" : "before the answer");
			break;
		}
		if (w.in_off + w.in_len + n > sizeof(w.in)) {
			if (w.in_len + n > sizeof(w.in)) {
				rc = jc_err(err, JC_EPARSE, "answer: headers longer than %zu bytes", sizeof(w.in));
				break;
			}
			memmove(w.in, w.in + w.in_off, w.in_len);
			w.in_off = 0;
		}
		memcpy(w.in + w.in_off + w.in_len, p, n);
		w.in_len += n;
		p += n;
		len -= n;
		if (!w.headers_done && (rc = parse_headers(&w, err)) <= 0)
			continue;
		long e = decode(&w, to_buf, &got, err);
		rc = e < 0 ? (int)e : 0;
	}
	if (rc < 0) {
		jc_buf_free(&got);
		return rc;
	}
	out->status = w.status;
	out->body_len = got.len;
	out->body = got.data ? jc_buf_detach(&got) : jc_strdup("");
	out->closed = !w.keep_alive;
	return 0;
}

int jc_wire_stream_start(jc_wire *w, const char *path, const char *extra_headers, const char *body,
			 size_t len, long long connect_timeout_ms, jc_error *err)
{
	int64_t deadline = jc_now_ms() + connect_timeout_ms;
	size_t req_len;
	char *req;
	int rc, one = 1, idle = 30, intvl = 10;

	if ((rc = wire_connect(w, connect_timeout_ms, deadline, err)) < 0)
		return rc;
	/* a stream can be silent for hours: let TCP notice a dead peer */
	setsockopt(w->fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(w->fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(w->fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	begin_answer(w);
	req = request_text(w, path, extra_headers, body, len, &req_len);
	rc = send_all(w, req, req_len, deadline, err);
	free(req);
	if (rc < 0)
		jc_wire_close(w);
	return rc;
}

/* A refused stream: its status and the first line of what it said. */
static int stream_refused(jc_wire *w, int64_t deadline, jc_error *err)
{
	jc_buf got = JC_BUF_INIT;
	int status = w->status, rc = 0;
	char *nl;
	while (!w->body_done && rc >= 0) {
		if (decode(w, to_buf, &got, NULL) < 0 || got.len > 4096)
			break;
		if (!w->body_done && (rc = fill(w, deadline, NULL)) == 0)
			break;
	}
	if (got.data && (nl = strchr(got.data, '\n')) != NULL)
		*nl = '\0';
	rc = jc_err(err, status == 401 || status == 403 ? JC_EAUTH : JC_EHTTP, "HTTP %d: %s", status,
		    got.len ? got.data : "(no message)");
	jc_buf_free(&got);
	jc_wire_close(w);
	return rc;
}

int jc_wire_stream_read(jc_wire *w, long long timeout_ms, jc_wire_sink sink, void *ud, jc_error *err)
{
	int64_t deadline = jc_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int rc;

	if (w->fd < 0)
		return jc_err(err, JC_EUNREACHABLE, "%s: the stream is not connected", w->authority);
	for (;;) {
		if (!w->headers_done) {
			if ((rc = parse_headers(w, err)) < 0) {
				jc_wire_close(w);
				return rc;
			}
			if (rc > 0 && (w->status < 200 || w->status > 299))
				return stream_refused(w, jc_now_ms() + 1000, err);
		}
		if (w->headers_done) {
			long e = decode(w, sink, ud, err);
			if (e < 0) {
				jc_wire_close(w);
				return (int)e;
			}
			if (e > 0)
				return 1;
			if (w->body_done) {
				int status = w->status;
				jc_wire_close(w);
				return jc_err(err, JC_EUNREACHABLE, "stream closed (HTTP %d)", status);
			}
		}
		rc = fill(w, deadline, err);
		if (rc == JC_ETIMEOUT) {
			jc_error_clear(err);
			return 0;
		}
		if (rc == 0) {
			int status = w->status;
			jc_wire_close(w);
			if (status)
				return jc_err(err, JC_EUNREACHABLE, "stream closed (HTTP %d)", status);
			return jc_err(err, JC_EUNREACHABLE, "%s: the connection closed before the answer", w->authority);
		}
		if (rc < 0) {
			jc_wire_close(w);
			return rc;
		}
	}
}
