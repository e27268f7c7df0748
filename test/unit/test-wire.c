/*
 * test-wire.c - the small HTTP/1.1 client (wire.c) against a scripted
 * server on a loopback socket: how answers are framed and split, kept-alive
 * connections, servers that close, stall or send junk, and streams.
 * (Against real etcd it runs in test-kv and the test/kv scripts.)
 */
#include "tests.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#include "wire.h"

/* What the server does with each request, in order.  A reply is written
 * piece by piece, with a pause between pieces so that they arrive apart. */
#define MAX_PIECES 8
struct reply {
	const char *pieces[MAX_PIECES];
	int pause_ms;
	bool close_after;        /* close the connection after this reply */
	bool silent;             /* never answer (hold the connection) */
};

struct server {
	int listen_fd;
	int port;
	pthread_t thread;
	const struct reply *replies;
	size_t n_replies;
	int accepts;             /* connections accepted */
	int requests;            /* requests read */
	char peer[INET6_ADDRSTRLEN];   /* the address the last connection came from */
	char last_request[8192];
};

/* Reads one request: headers and a Content-Length body.  false at EOF. */
static bool read_request(struct server *s, int fd)
{
	char buf[8192];
	size_t len = 0;
	char *end = NULL;
	while (!end) {
		ssize_t n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
		if (n <= 0)
			return false;
		len += (size_t)n;
		buf[len] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	const char *cl = strcasestr(buf, "Content-Length:");
	size_t body = cl ? strtoul(cl + 15, NULL, 10) : 0;
	while (len < (size_t)(end + 4 - buf) + body) {
		ssize_t n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
		if (n <= 0)
			return false;
		len += (size_t)n;
	}
	buf[len] = '\0';
	snprintf(s->last_request, sizeof(s->last_request), "%s", buf);
	return true;
}

static void *serve(void *arg)
{
	struct server *s = arg;
	size_t next = 0;
	while (next < s->n_replies) {
		struct sockaddr_in from = { 0 };
		socklen_t fl = sizeof(from);
		int fd = accept(s->listen_fd, (struct sockaddr *)&from, &fl);
		if (fd < 0)
			break;
		inet_ntop(AF_INET, &from.sin_addr, s->peer, sizeof(s->peer));
		s->accepts++;
		while (next < s->n_replies && read_request(s, fd)) {
			const struct reply *r = &s->replies[next++];
			s->requests++;
			if (r->silent) {
				char c;
				while (recv(fd, &c, 1, 0) > 0)
					;
				break;
			}
			for (int i = 0; i < MAX_PIECES && r->pieces[i]; i++) {
				if (i > 0 && r->pause_ms)
					jc_sleep_ms(r->pause_ms);
				ck_assert_int_ge(send(fd, r->pieces[i], strlen(r->pieces[i]), MSG_NOSIGNAL), 0);
			}
			if (r->close_after)
				break;
		}
		close(fd);
	}
	return NULL;
}

static void server_start(struct server *s, const struct reply *replies, size_t n)
{
	struct sockaddr_in a = { 0 };
	socklen_t al = sizeof(a);
	memset(s, 0, sizeof(*s));
	s->replies = replies;
	s->n_replies = n;
	s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(s->listen_fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(s->listen_fd, 4), 0);
	getsockname(s->listen_fd, (struct sockaddr *)&a, &al);
	s->port = ntohs(a.sin_port);
	pthread_create(&s->thread, NULL, serve, s);
}

static void server_stop(struct server *s)
{
	shutdown(s->listen_fd, SHUT_RDWR);
	close(s->listen_fd);
	pthread_join(s->thread, NULL);
}

static jc_wire *wire_to(const struct server *s)
{
	jc_wire *w;
	char hp[64];
	snprintf(hp, sizeof(hp), "127.0.0.1:%d", s->port);
	ck_assert_int_eq(jc_wire_new(&w, hp, NULL), 0);
	return w;
}

static int post(jc_wire *w, const char *body, long long timeout_ms, jc_wire_response *r, jc_error *err)
{
	return jc_wire_post(w, "/v3/kv/range", "Authorization: tok\r\n", body, strlen(body), 1000,
			    jc_now_ms() + timeout_ms, r, err);
}

START_TEST(length_answers_on_one_kept_connection)
{
	static const struct reply replies[] = {
		{ .pieces = { "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"a\":\"one\"}" } },
		{ .pieces = { "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n", "[1,2]" }, .pause_ms = 20 },
	};
	struct server s;
	jc_wire_response r;
	jc_wire *w;
	server_start(&s, replies, 2);
	w = wire_to(&s);
	ck_assert_int_eq(post(w, "{\"key\":\"x\"}", 5000, &r, NULL), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "{\"a\":\"one\"}");
	ck_assert(!r.closed);
	ck_assert_ptr_nonnull(strstr(s.last_request, "POST /v3/kv/range HTTP/1.1\r\n"));
	ck_assert_ptr_nonnull(strstr(s.last_request, "Authorization: tok\r\n"));
	ck_assert_ptr_nonnull(strstr(s.last_request, "Content-Length: 11\r\n\r\n{\"key\":\"x\"}"));
	jc_wire_response_clear(&r);
	ck_assert_int_eq(post(w, "{}", 5000, &r, NULL), 0);
	ck_assert_str_eq(r.body, "[1,2]");
	ck_assert_uint_eq(r.body_len, 5);
	jc_wire_response_clear(&r);
	jc_wire_free(w);
	server_stop(&s);
	ck_assert_int_eq(s.accepts, 1);
	ck_assert_int_eq(s.requests, 2);
}
END_TEST

START_TEST(chunked_answer_split_anywhere)
{
	/* pieces cut inside a size line, inside a CRLF and inside data */
	static const struct reply replies[] = {
		{ .pieces = { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "5\r\nhel", "lo\r", "\n1", "0;ext=1\r\n",
		    " world, and ", "more\r\n0\r\nX-Trailer: 1\r\n\r\n" }, .pause_ms = 15 },
	};
	struct server s;
	jc_wire_response r;
	jc_wire *w;
	server_start(&s, replies, 1);
	w = wire_to(&s);
	ck_assert_int_eq(post(w, "{}", 5000, &r, NULL), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "hello world, and more");
	jc_wire_response_clear(&r);
	jc_wire_free(w);
	server_stop(&s);
}
END_TEST

START_TEST(answer_until_close_and_error_status)
{
	static const struct reply replies[] = {
		{ .pieces = { "HTTP/1.0 404 Not Found\r\n\r\n", "{\"error\":\"no such path\"}" }, .pause_ms = 10, .close_after = true },
	};
	struct server s;
	jc_wire_response r;
	jc_wire *w;
	server_start(&s, replies, 1);
	w = wire_to(&s);
	ck_assert_int_eq(post(w, "{}", 5000, &r, NULL), 0);
	ck_assert_int_eq(r.status, 404);
	ck_assert_str_eq(r.body, "{\"error\":\"no such path\"}");
	ck_assert(r.closed);
	jc_wire_response_clear(&r);
	jc_wire_free(w);
	server_stop(&s);
}
END_TEST

START_TEST(a_kept_connection_closed_while_idle_is_replaced)
{
	static const struct reply replies[] = {
		{ .pieces = { "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" }, .close_after = true },   /* then it closes */
		{ .pieces = { "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nagain" } },
	};
	struct server s;
	jc_wire_response r;
	jc_wire *w;
	server_start(&s, replies, 2);
	w = wire_to(&s);
	ck_assert_int_eq(post(w, "{}", 5000, &r, NULL), 0);
	ck_assert_str_eq(r.body, "ok");
	jc_wire_response_clear(&r);
	jc_sleep_ms(50);   /* the server's close has arrived */
	ck_assert_int_eq(post(w, "{}", 5000, &r, NULL), 0);
	ck_assert_str_eq(r.body, "again");
	jc_wire_response_clear(&r);
	jc_wire_free(w);
	server_stop(&s);
	ck_assert_int_eq(s.accepts, 2);
}
END_TEST

START_TEST(nobody_listening_is_unreachable)
{
	struct server s;
	jc_wire_response r;
	jc_error err;
	jc_wire *w;
	char want[64];
	server_start(&s, NULL, 0);
	server_stop(&s);   /* the port is free again */
	w = wire_to(&s);
	ck_assert_int_eq(post(w, "{}", 5000, &r, &err), JC_EUNREACHABLE);
	snprintf(want, sizeof(want), "connect to 127.0.0.1:%d: Connection refused", s.port);
	ck_assert_str_eq(err.message, want);
	ck_assert(!r.maybe_sent);
	jc_wire_free(w);
	ck_assert_int_eq(jc_wire_new(&w, "no-port", &err), JC_EINVALID);
	ck_assert_int_eq(jc_wire_new(&w, "[::1]:2379", NULL), 0);
	jc_wire_free(w);
}
END_TEST

/* A connection that never came up carried nothing, whatever the one before
 * it received: maybe_sent is what decides whether a txn may be sent again. */
START_TEST(a_failed_connect_after_an_answer_sent_nothing)
{
	static const struct reply replies[] = {
		{ .pieces = { "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}" }, .close_after = true },
	};
	struct server s;
	jc_wire_response r;
	jc_error err;
	jc_wire *w;
	server_start(&s, replies, 1);
	w = wire_to(&s);
	ck_assert_int_eq(post(w, "{}", 5000, &r, NULL), 0);
	jc_wire_response_clear(&r);
	server_stop(&s);
	ck_assert_int_eq(post(w, "{}", 5000, &r, &err), JC_EUNREACHABLE);
	ck_assert(strstr(err.message, "Connection refused"));
	ck_assert(!r.maybe_sent);
	jc_wire_free(w);
}
END_TEST

/* A node with several interfaces, or a fleet simulated on one machine (one
 * address per node): the connection leaves from the address asked for. */
START_TEST(connections_leave_from_the_source_address)
{
	static const struct reply replies[] = {
		{ .pieces = { "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}" } },
	};
	struct server s;
	jc_wire_response r;
	jc_error err;
	jc_wire *w;
	char want[96];
	server_start(&s, replies, 1);
	w = wire_to(&s);
	ck_assert_int_eq(jc_wire_set_source(w, "127.0.0.7", &err), 0);
	ck_assert_int_eq(post(w, "{}", 5000, &r, &err), 0);
	ck_assert_int_eq(r.status, 200);
	jc_wire_response_clear(&r);
	server_stop(&s);
	ck_assert_str_eq(s.peer, "127.0.0.7");

	ck_assert_int_eq(jc_wire_set_source(w, "eth0", &err), JC_EINVALID);
	ck_assert_str_eq(err.message, "source address 'eth0' is not an IPv4 or IPv6 address");
	/* an address this machine does not have: said before anything is sent */
	ck_assert_int_eq(jc_wire_set_source(w, "192.0.2.1", &err), 0);
	ck_assert_int_eq(post(w, "{}", 5000, &r, &err), JC_EUNREACHABLE);
	snprintf(want, sizeof(want), "connect to 127.0.0.1:%d from 192.0.2.1: ", s.port);
	ck_assert_msg(strncmp(err.message, want, strlen(want)) == 0, "%s", err.message);
	ck_assert(!r.maybe_sent);
	/* an IPv6 source cannot reach an IPv4-only server */
	ck_assert_int_eq(jc_wire_set_source(w, "::1", &err), 0);
	ck_assert_int_eq(post(w, "{}", 5000, &r, &err), JC_EUNREACHABLE);
	ck_assert_msg(strstr(err.message, "no address of the server is IPv6"), "%s", err.message);
	ck_assert(!r.maybe_sent);
	/* NULL: the kernel's choice again */
	ck_assert_int_eq(jc_wire_set_source(w, NULL, &err), 0);
	jc_wire_free(w);
}
END_TEST

START_TEST(a_silent_server_times_out)
{
	static const struct reply replies[] = { { .silent = true } };
	struct server s;
	jc_wire_response r;
	jc_error err;
	jc_wire *w;
	server_start(&s, replies, 1);
	w = wire_to(&s);
	ck_assert_int_eq(post(w, "{}", 300, &r, &err), JC_ETIMEOUT);
	ck_assert(r.maybe_sent);
	jc_wire_free(w);   /* closes: the server thread sees EOF */
	server_stop(&s);
}
END_TEST

START_TEST(junk_is_a_parse_error)
{
	static const struct reply replies[] = {
		{ .pieces = { "SSH-2.0-OpenSSH_9.2\r\n\r\n" }, .close_after = true },
		{ .pieces = { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n" }, .close_after = true },
		{ .pieces = { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhello\r\n0\r\n\r\n" }, .close_after = true },
		{ .pieces = { "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort" }, .close_after = true },
	};
	struct server s;
	jc_wire_response r;
	jc_error err;
	jc_wire *w;
	server_start(&s, replies, 4);
	w = wire_to(&s);
	ck_assert_int_eq(post(w, "{}", 5000, &r, &err), JC_EPARSE);
	ck_assert_ptr_nonnull(strstr(err.message, "the answer is not HTTP: 'SSH-2.0"));
	ck_assert_int_eq(post(w, "{}", 5000, &r, &err), JC_EPARSE);
	ck_assert_ptr_nonnull(strstr(err.message, "bad chunk size 'zz'"));
	ck_assert_int_eq(post(w, "{}", 5000, &r, &err), JC_EPARSE);
	ck_assert_ptr_nonnull(strstr(err.message, "chunk longer than its size"));
	ck_assert_int_eq(post(w, "{}", 5000, &r, &err), JC_EUNREACHABLE);
	ck_assert_ptr_nonnull(strstr(err.message, "closed mid-answer"));
	jc_wire_free(w);
	server_stop(&s);
}
END_TEST

static void collect(void *ud, const char *data, size_t len)
{
	jc_buf_add(ud, data, len);
}

START_TEST(a_stream_delivers_as_it_comes_then_ends)
{
	static const struct reply replies[] = {
		{ .pieces = { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "6\r\nfirst\n\r\n", "7\r\nsecond\n\r\n",
		    "0\r\n\r\n" }, .pause_ms = 300 },
	};
	struct server s;
	jc_buf got = JC_BUF_INIT;
	jc_error err;
	jc_wire *w;
	int rc;
	server_start(&s, replies, 1);
	w = wire_to(&s);
	ck_assert_int_eq(jc_wire_stream_start(w, "/v3/watch", NULL, "{}", 2, 1000, NULL), 0);
	ck_assert_int_eq(jc_wire_stream_read(w, 5000, collect, &got, NULL), 1);
	ck_assert_str_eq(jc_buf_cstr(&got), "first\n");
	/* the second piece is 300 ms away: a short read most likely gets
	 * nothing (0); a test thread stalled that long gets it (1) */
	rc = jc_wire_stream_read(w, 10, collect, &got, NULL);
	ck_assert(rc == 1 || (rc == 0 && got.len == 6));
	while ((rc = jc_wire_stream_read(w, 5000, collect, &got, &err)) == 1 && got.len < 13)
		;
	ck_assert_str_eq(jc_buf_cstr(&got), "first\nsecond\n");
	while (rc >= 0)
		rc = jc_wire_stream_read(w, 5000, collect, &got, &err);
	ck_assert_int_eq(rc, JC_EUNREACHABLE);
	ck_assert_str_eq(err.message, "stream closed (HTTP 200)");
	jc_buf_free(&got);
	jc_wire_free(w);
	server_stop(&s);
}
END_TEST

START_TEST(a_refused_stream_says_why)
{
	static const struct reply replies[] = {
		{ .pieces = { "HTTP/1.1 401 Unauthorized\r\nContent-Length: 38\r\n\r\n{\"error\":\"invalid auth token\",\"c\":16}\n" } },
	};
	struct server s;
	jc_buf got = JC_BUF_INIT;
	jc_error err;
	jc_wire *w;
	server_start(&s, replies, 1);
	w = wire_to(&s);
	ck_assert_int_eq(jc_wire_stream_start(w, "/v3/watch", NULL, "{}", 2, 1000, NULL), 0);
	ck_assert_int_eq(jc_wire_stream_read(w, 5000, collect, &got, &err), JC_EAUTH);
	ck_assert_str_eq(err.message, "HTTP 401: {\"error\":\"invalid auth token\",\"c\":16}");
	ck_assert_uint_eq(got.len, 0);
	jc_wire_free(w);
	server_stop(&s);
}
END_TEST

START_TEST(any_split_reads_the_same)
{
	static const char answer[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
				     "5\r\nhello\r\n6;x=1\r\n world\r\n0\r\nT: 1\r\n\r\n";
	jc_wire_response r;
	jc_error err;
	for (size_t piece = 1; piece <= sizeof(answer); piece++) {
		ck_assert_int_eq(jc_wire_parse_answer(answer, sizeof(answer) - 1, piece, &r, NULL), 0);
		ck_assert_str_eq(r.body, "hello world");
		ck_assert(r.closed);
		jc_wire_response_clear(&r);
	}
	/* cut short: the server closed mid-answer */
	ck_assert_int_eq(jc_wire_parse_answer(answer, sizeof(answer) - 12, 7, &r, &err), JC_EUNREACHABLE);
	ck_assert_str_eq(err.message, "answer: the connection closed mid-answer");
}
END_TEST

static Suite *wire_suite(void)
{
	Suite *s = suite_create("wire");
	TCase *tc = tcase_create("wire");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, length_answers_on_one_kept_connection);
	tcase_add_test(tc, chunked_answer_split_anywhere);
	tcase_add_test(tc, answer_until_close_and_error_status);
	tcase_add_test(tc, a_kept_connection_closed_while_idle_is_replaced);
	tcase_add_test(tc, nobody_listening_is_unreachable);
	tcase_add_test(tc, a_failed_connect_after_an_answer_sent_nothing);
	tcase_add_test(tc, connections_leave_from_the_source_address);
	tcase_add_test(tc, a_silent_server_times_out);
	tcase_add_test(tc, junk_is_a_parse_error);
	tcase_add_test(tc, a_stream_delivers_as_it_comes_then_ends);
	tcase_add_test(tc, a_refused_stream_says_why);
	tcase_add_test(tc, any_split_reads_the_same);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(wire_suite)
