/* test-http.c - retries, budgets, Retry-After, parallelism, keep-alive and
 * request ids, against a scripted HTTP server in a thread. */
#include "tests.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#include "jcicd/http.h"

enum action { A_REPLY, A_RESET, A_TRUNCATE, A_SLOW };

struct step {
	enum action action;
	int status;
	const char *headers;   /* extra header lines, each ending in \r\n */
	const char *body;
	int delay_ms;
};

struct server {
	int fd;
	int port;
	pthread_t thread;
	const struct step *steps;
	int n_steps;
	int served;            /* requests answered (or not) */
	int connections;
	int active;            /* connection threads still running */
	bool keep_alive;
	bool stop;
	char last_method[16];
	char last_body[256];
	char peer[INET6_ADDRSTRLEN];   /* where the last connection came from */
	pthread_mutex_t lock;
};

static int read_request(int c, struct server *s)
{
	char buf[8192];
	size_t len = 0;
	char *end = NULL;
	while (!end) {
		ssize_t n = recv(c, buf + len, sizeof(buf) - 1 - len, 0);
		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	size_t have = len - (size_t)(end + 4 - buf);
	long clen = 0;
	char *cl = strcasestr(buf, "content-length:");
	if (cl && cl < end)
		clen = strtol(cl + 15, NULL, 10);
	pthread_mutex_lock(&s->lock);
	sscanf(buf, "%15s", s->last_method);
	snprintf(s->last_body, sizeof(s->last_body), "%.*s", (int)have, end + 4);
	pthread_mutex_unlock(&s->lock);
	while ((long)have < clen) {
		char tmp[1024];
		ssize_t n = recv(c, tmp, sizeof(tmp), 0);
		if (n <= 0)
			return -1;
		have += (size_t)n;
	}
	return 0;
}

struct conn {
	struct server *s;
	int fd;
};

static void *handle(void *arg)
{
	struct conn *cn = arg;
	struct server *s = cn->s;
	int c = cn->fd;
	free(cn);
	for (;;) {
		if (read_request(c, s) < 0)
			break;
		int i = __atomic_fetch_add(&s->served, 1, __ATOMIC_SEQ_CST);
		const struct step *st = &s->steps[i < s->n_steps ? i : s->n_steps - 1];
		char out[4096];
		const char *body = st->body ? st->body : "";
		if (st->delay_ms)
			jc_sleep_ms(st->delay_ms);
		if (st->action == A_RESET) {
			struct linger l = { 1, 0 };
			setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
			break;
		}
		size_t announced = strlen(body) + (st->action == A_TRUNCATE ? 100 : 0);
		int n = snprintf(out, sizeof(out),
				 "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nx-openstack-request-id: req-%d\r\n%s%s\r\n%s",
				 st->status, announced, i, st->headers ? st->headers : "",
				 s->keep_alive ? "" : "Connection: close\r\n", body);
		if (send(c, out, (size_t)n, MSG_NOSIGNAL) < 0 || st->action == A_TRUNCATE || !s->keep_alive)
			break;
	}
	close(c);
	__atomic_sub_fetch(&s->active, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* one thread per connection, so kept-alive connections do not block others */
static void *serve(void *arg)
{
	struct server *s = arg;
	while (!s->stop) {
		struct sockaddr_in from = { 0 };
		socklen_t fl = sizeof(from);
		int c = accept(s->fd, (struct sockaddr *)&from, &fl);
		pthread_t t;
		if (c < 0)
			continue;
		if (s->stop) {
			close(c);
			break;
		}
		pthread_mutex_lock(&s->lock);
		inet_ntop(AF_INET, &from.sin_addr, s->peer, sizeof(s->peer));
		pthread_mutex_unlock(&s->lock);
		__atomic_add_fetch(&s->connections, 1, __ATOMIC_SEQ_CST);
		__atomic_add_fetch(&s->active, 1, __ATOMIC_SEQ_CST);
		struct conn *cn = jc_malloc(sizeof(*cn));
		cn->s = s;
		cn->fd = c;
		pthread_create(&t, NULL, handle, cn);
		pthread_detach(t);
	}
	return NULL;
}

static struct server *server_start(const struct step *steps, int n, bool keep_alive)
{
	struct server *s = jc_calloc(1, sizeof(*s));
	struct sockaddr_in a = { 0 };
	socklen_t al = sizeof(a);
	int one = 1;
	s->steps = steps;
	s->n_steps = n;
	s->keep_alive = keep_alive;
	pthread_mutex_init(&s->lock, NULL);
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(s->fd, 64), 0);
	getsockname(s->fd, (struct sockaddr *)&a, &al);
	s->port = ntohs(a.sin_port);
	pthread_create(&s->thread, NULL, serve, s);
	return s;
}

static void server_stop(struct server *s)
{
	int c;
	struct sockaddr_in a = { 0 };
	s->stop = true;
	/* wake accept() */
	c = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)s->port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	connect(c, (struct sockaddr *)&a, sizeof(a));
	close(c);
	pthread_join(s->thread, NULL);
	for (int i = 0; i < 500 && __atomic_load_n(&s->active, __ATOMIC_SEQ_CST) > 0; i++)
		jc_sleep_ms(10);
	close(s->fd);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static jc_http *client(int retries, long long budget_ms)
{
	jc_http *h;
	jc_http_options o = JC_HTTP_OPTIONS_INIT;
	o.max_retries = retries;
	o.retry_budget_ms = budget_ms;
	o.backoff_initial_ms = 20;
	o.backoff_max_ms = 100;
	o.request_timeout_ms = 2000;
	ck_assert_int_eq(jc_http_new(&h, &o, NULL), 0);
	return h;
}

static char *url_of(struct server *s, const char *path)
{
	return jc_sprintf("http://127.0.0.1:%d%s", s->port, path);
}

START_TEST(retry_after_is_honoured)
{
	static const struct step steps[] = {
		{ A_REPLY, 429, "Retry-After: 1\r\n", "{\"message\": \"slow down\"}", 0 },
		{ A_REPLY, 200, NULL, "{\"ok\": true}", 0 },
	};
	struct server *s = server_start(steps, 2, false);
	jc_http *h = client(3, 10000);
	char *url = url_of(s, "/x");
	jc_http_request req = { .url = url };
	jc_http_response resp;
	jc_error err;
	int64_t t0 = jc_now_ms();
	ck_assert_int_eq(jc_http_do(h, &req, &resp, &err), 0);
	ck_assert_int_eq(resp.status, 200);
	ck_assert_int_eq(resp.attempts, 2);
	/* it waited for Retry-After, not its own 20 ms backoff */
	ck_assert_int_ge(jc_now_ms() - t0, 900);
	ck_assert_str_eq(resp.body, "{\"ok\": true}");
	ck_assert_str_eq(resp.request_id, "req-1");
	jc_http_stats st;
	jc_http_get_stats(h, &st);
	ck_assert_int_eq(st.requests, 2);
	ck_assert_int_eq(st.retries, 1);
	jc_http_response_clear(&resp);
	jc_http_free(h);
	free(url);
	server_stop(s);
}
END_TEST

START_TEST(post_is_not_resent_after_500)
{
	static const struct step steps[] = {
		{ A_REPLY, 500, NULL, "{\"computeFault\": {\"message\": \"boom\", \"code\": 500}}", 0 },
		{ A_REPLY, 200, NULL, "{}", 0 },
	};
	struct server *s = server_start(steps, 2, false);
	jc_http *h = client(3, 10000);
	char *url = url_of(s, "/servers");
	jc_http_request req = { .method = "POST", .url = url, .body = "{}", .body_len = 2 };
	jc_http_response resp;
	jc_error err;
	ck_assert_int_eq(jc_http_do(h, &req, &resp, &err), 0);
	ck_assert_int_eq(resp.status, 500);
	ck_assert_int_eq(resp.attempts, 1);
	ck_assert_int_eq(jc_http_check(&resp, "POST", url, &err), JC_EHTTP);
	ck_assert_str_eq(err.message, "POST refused: boom");
	ck_assert_int_eq(err.http_status, 500);
	ck_assert_str_eq(err.request_id, "req-0");
	jc_http_response_clear(&resp);
	/* the same for a GET is retried */
	jc_http_request get = { .url = url };
	ck_assert_int_eq(jc_http_do(h, &get, &resp, &err), 0);
	ck_assert_int_eq(resp.status, 200);
	jc_http_response_clear(&resp);
	jc_http_free(h);
	free(url);
	server_stop(s);
}
END_TEST

START_TEST(reset_and_truncation_are_retried_for_gets)
{
	static const struct step steps[] = {
		{ A_RESET, 0, NULL, NULL, 0 },
		{ A_TRUNCATE, 200, NULL, "{\"partial\":", 0 },
		{ A_REPLY, 200, NULL, "{\"whole\": 1}", 0 },
	};
	struct server *s = server_start(steps, 3, false);
	jc_http *h = client(4, 10000);
	char *url = url_of(s, "/y");
	jc_http_request req = { .url = url };
	jc_http_response resp;
	jc_error err;
	ck_assert_int_eq(jc_http_do(h, &req, &resp, &err), 0);
	ck_assert_int_eq(resp.status, 200);
	ck_assert_int_eq(resp.attempts, 3);
	ck_assert_str_eq(resp.body, "{\"whole\": 1}");
	jc_http_response_clear(&resp);
	jc_http_free(h);
	free(url);
	server_stop(s);
}
END_TEST

START_TEST(post_reset_reports_maybe_sent)
{
	static const struct step steps[] = { { A_RESET, 0, NULL, NULL, 0 } };
	struct server *s = server_start(steps, 1, false);
	jc_http *h = client(4, 10000);
	char *url = url_of(s, "/servers");
	jc_http_request req = { .method = "POST", .url = url, .body = "{}", .body_len = 2 };
	jc_http_response resp;
	jc_error err;
	ck_assert_int_eq(jc_http_do(h, &req, &resp, &err), JC_EUNREACHABLE);
	ck_assert(resp.maybe_sent);
	ck_assert_int_eq(s->served, 1);
	ck_assert(strstr(err.message, "may have reached the server") != NULL);
	jc_http_response_clear(&resp);
	jc_http_free(h);
	free(url);
	server_stop(s);
}
END_TEST

START_TEST(budget_bounds_retries)
{
	static const struct step steps[] = { { A_REPLY, 503, NULL, "busy", 0 } };
	struct server *s = server_start(steps, 1, false);
	jc_http *h = client(2, 10000);
	char *url = url_of(s, "/z");
	jc_http_request req = { .url = url };
	jc_http_response resp;
	jc_error err;
	ck_assert_int_eq(jc_http_do(h, &req, &resp, &err), 0);
	ck_assert_int_eq(resp.status, 503);
	ck_assert_int_eq(resp.attempts, 3);   /* 1 + max_retries */
	jc_http_response_clear(&resp);
	jc_http_free(h);
	free(url);
	server_stop(s);
}
END_TEST

START_TEST(connection_refused_is_unreachable)
{
	jc_http *h = client(1, 2000);
	jc_http_request req = { .url = "http://127.0.0.1:1/nothing-listens-here" };
	jc_http_response resp;
	jc_error err;
	ck_assert_int_eq(jc_http_do(h, &req, &resp, &err), JC_EUNREACHABLE);
	ck_assert_int_eq(resp.attempts, 2);
	ck_assert(!resp.maybe_sent);
	ck_assert_str_eq(err.url, "http://127.0.0.1:1/nothing-listens-here");
	jc_http_response_clear(&resp);
	jc_http_free(h);
}
END_TEST

static void assert_peer(struct server *s, const char *want)
{
	pthread_mutex_lock(&s->lock);
	ck_assert_str_eq(s->peer, want);
	pthread_mutex_unlock(&s->lock);
}

/* source_address: requests leave from it; a version-1 options struct
 * (which ends before it) is still accepted */
START_TEST(requests_leave_from_the_source_address)
{
	static const struct step steps[] = { { A_REPLY, 200, NULL, "{}", 0 } };
	struct server *s = server_start(steps, 1, false);
	jc_http_options o = JC_HTTP_OPTIONS_INIT, v1 = JC_HTTP_OPTIONS_INIT;
	char *url = url_of(s, "/x");
	jc_http_request req = { .url = url };
	jc_http_response resp;
	jc_error err;
	jc_http *h;

	o.max_retries = 0;
	o.source_address = "127.0.0.8";
	ck_assert_int_eq(jc_http_new(&h, &o, &err), 0);
	ck_assert_int_eq(jc_http_do(h, &req, &resp, &err), 0);
	ck_assert_int_eq(resp.status, 200);
	assert_peer(s, "127.0.0.8");
	jc_http_response_clear(&resp);
	jc_http_free(h);

	v1.version = 1;
	v1.max_retries = 0;
	v1.source_address = "127.0.0.8";   /* beyond a version-1 struct: not read */
	ck_assert_int_eq(jc_http_new(&h, &v1, &err), 0);
	ck_assert_int_eq(jc_http_do(h, &req, &resp, &err), 0);
	assert_peer(s, "127.0.0.1");
	jc_http_response_clear(&resp);
	jc_http_free(h);
	v1.version = 3;
	ck_assert_int_eq(jc_http_new(&h, &v1, &err), JC_EINVALID);
	o.source_address = "eth0";
	ck_assert_int_eq(jc_http_new(&h, &o, &err), JC_EINVALID);
	ck_assert_str_eq(err.message, "source address 'eth0' is not an IPv4 or IPv6 address");

	/* an address this machine does not have: unreachable, nothing sent */
	o.source_address = "192.0.2.1";
	ck_assert_int_eq(jc_http_new(&h, &o, &err), 0);
	ck_assert_int_eq(jc_http_do(h, &req, &resp, &err), JC_EUNREACHABLE);
	ck_assert(!resp.maybe_sent);
	ck_assert_str_eq(err.url, url);
	jc_http_response_clear(&resp);
	jc_http_free(h);
	free(url);
	server_stop(s);
}
END_TEST

START_TEST(parallel_requests_reuse_connections)
{
	static const struct step steps[] = { { A_REPLY, 200, NULL, "ok", 50 } };
	struct server *s = server_start(steps, 1, true);
	jc_http *h = client(0, 1000);
	char *url = url_of(s, "/p");
	jc_http_request reqs[6];
	jc_http_response resps[6];
	jc_error errs[6];
	for (int i = 0; i < 6; i++)
		reqs[i] = (jc_http_request){ .url = url };
	/* the scripted server answers one connection at a time; what matters
	 * here is that every answer arrives and the connection is kept */
	ck_assert_int_eq(jc_http_do_many(h, reqs, resps, errs, 6), 0);
	for (int i = 0; i < 6; i++) {
		ck_assert_int_eq(resps[i].status, 200);
		jc_http_response_clear(&resps[i]);
	}
	ck_assert_int_eq(jc_http_do(h, &reqs[0], &resps[0], errs), 0);
	jc_http_response_clear(&resps[0]);
	ck_assert_int_eq(s->served, 7);
	ck_assert_int_lt(s->connections, 7);
	jc_http_free(h);
	free(url);
	server_stop(s);
}
END_TEST

static int chunks;
static int on_chunk(const char *data, size_t len, void *payload)
{
	(void)data;
	(void)len;
	(void)payload;
	chunks++;
	return 0;
}

START_TEST(streaming_and_auth_errors)
{
	static const struct step steps[] = {
		{ A_REPLY, 200, NULL, "line1\nline2\n", 0 },
		{ A_REPLY, 401, NULL, "{\"error\": {\"message\": \"The request you have made requires authentication.\"}}", 0 },
	};
	struct server *s = server_start(steps, 2, false);
	jc_http *h = client(0, 1000);
	char *url = url_of(s, "/w");
	jc_http_request req = { .url = url, .on_data = on_chunk };
	jc_http_response resp;
	jc_error err;
	chunks = 0;
	ck_assert_int_eq(jc_http_do(h, &req, &resp, &err), 0);
	ck_assert_int_ge(chunks, 1);
	ck_assert_ptr_null(resp.body);
	jc_http_response_clear(&resp);
	jc_http_request r2 = { .url = url };
	ck_assert_int_eq(jc_http_do(h, &r2, &resp, &err), 0);
	ck_assert_int_eq(jc_http_check(&resp, "GET", url, &err), JC_EAUTH);
	ck_assert(strstr(err.message, "requires authentication") != NULL);
	jc_http_response_clear(&resp);
	jc_http_free(h);
	free(url);
	server_stop(s);
	char *e = jc_http_escape("a b/c?d");
	ck_assert_str_eq(e, "a%20b%2Fc%3Fd");
	free(e);
}
END_TEST

static Suite *http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("http");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, retry_after_is_honoured);
	tcase_add_test(tc, post_is_not_resent_after_500);
	tcase_add_test(tc, reset_and_truncation_are_retried_for_gets);
	tcase_add_test(tc, post_reset_reports_maybe_sent);
	tcase_add_test(tc, budget_bounds_retries);
	tcase_add_test(tc, connection_refused_is_unreachable);
	tcase_add_test(tc, requests_leave_from_the_source_address);
	tcase_add_test(tc, parallel_requests_reuse_connections);
	tcase_add_test(tc, streaming_and_auth_errors);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(http_suite)
