/* test-kv.c - the KV interface, the same cases on every backend: sqlite
 * always, etcd when $JCICD_TEST_ETCD names a running one (test/services). */
#include "tests.h"

#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jcicd/kv.h"
#include "jcicd/sys/kv.h"
#include "kv-internal.h"

static char *urls[2];
static int n_urls;
static char prefix[64];

static jc_kv *open_kv(int i)
{
	jc_kv *kv = NULL;
	jc_error err;
	int rc = jc_kv_open(&kv, urls[i], NULL, &err);
	ck_assert_msg(rc == 0, "open %s: %s", urls[i], err.message);
	/* a fresh prefix per test: the etcd is shared by every test */
	snprintf(prefix, sizeof(prefix), "/t%llu-%llu/", (unsigned long long)getpid(),
		 (unsigned long long)jc_random(1000000000));
	return kv;
}

static char *k(const char *rest)
{
	return jc_sprintf("%s%s", prefix, rest);
}

START_TEST(put_get_delete)
{
	jc_kv *kv = open_kv(_i);
	jc_kv_pair p;
	jc_error err;
	int64_t r1, r2;
	long n;
	char *a = k("a");

	ck_assert_int_eq(jc_kv_get(&p, kv, a, &err), JC_ENOTFOUND);
	ck_assert_int_eq(jc_kv_put(kv, a, "one", 3, 0, &r1, &err), 0);
	ck_assert_int_eq(jc_kv_put(kv, a, "two", 3, 0, &r2, &err), 0);
	ck_assert_int_gt(r2, r1);
	ck_assert_int_eq(jc_kv_get(&p, kv, a, &err), 0);
	ck_assert_str_eq(p.value, "two");
	ck_assert_int_eq(p.create_revision, r1);
	ck_assert_int_eq(p.mod_revision, r2);
	ck_assert_int_eq(p.version, 2);
	jc_kv_pair_clear(&p);
	/* values are bytes */
	ck_assert_int_eq(jc_kv_put(kv, a, "x\0y", 3, 0, NULL, &err), 0);
	ck_assert_int_eq(jc_kv_get(&p, kv, a, &err), 0);
	ck_assert_int_eq(p.value_len, 3);
	ck_assert_int_eq(memcmp(p.value, "x\0y", 3), 0);
	jc_kv_pair_clear(&p);
	ck_assert_int_eq(jc_kv_delete(kv, a, false, &n, &err), 0);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(jc_kv_get(&p, kv, a, &err), JC_ENOTFOUND);
	ck_assert_int_eq(jc_kv_delete(kv, a, false, &n, &err), 0);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(jc_kv_put(kv, "", "v", 1, 0, NULL, &err), JC_EINVALID);
	free(a);
	jc_kv_free(kv);
}
END_TEST

START_TEST(range_pages)
{
	jc_kv *kv = open_kv(_i);
	jc_kv_list l;
	jc_kv_range_options o = JC_KV_RANGE_OPTIONS_INIT;
	jc_error err;
	jc_strv seen = JC_STRV_INIT;
	int64_t mid = 0;
	char *sub = k("hosts/");

	for (int i = 0; i < 25; i++) {
		char *key = jc_sprintf("%shosts/h%02d", prefix, i), val[16];
		int64_t rev;
		snprintf(val, sizeof(val), "v%d", i);
		ck_assert_int_eq(jc_kv_put(kv, key, val, strlen(val), 0, &rev, &err), 0);
		if (i == 20)
			mid = rev;
		free(key);
	}
	char *outside = k("hostsX");
	ck_assert_int_eq(jc_kv_put(kv, outside, "no", 2, 0, NULL, &err), 0);
	free(outside);

	o.limit = 10;
	for (;;) {
		ck_assert_int_eq(jc_kv_range(&l, kv, sub, &o, &err), 0);
		for (size_t i = 0; i < l.n; i++)
			jc_strv_push(&seen, l.items[i].key);
		if (!l.more) {
			jc_kv_list_clear(&l);
			break;
		}
		free((char *)o.start_after);
		o.start_after = jc_strdup(l.items[l.n - 1].key);
		jc_kv_list_clear(&l);
	}
	free((char *)o.start_after);
	ck_assert_int_eq(seen.n, 25);
	for (size_t i = 1; i < seen.n; i++)
		ck_assert_int_lt(strcmp(seen.v[i - 1], seen.v[i]), 0);
	jc_strv_free(&seen);

	o = (jc_kv_range_options)JC_KV_RANGE_OPTIONS_INIT;
	o.count_only = true;
	ck_assert_int_eq(jc_kv_range(&l, kv, sub, &o, &err), 0);
	ck_assert_int_eq(l.count, 25);
	ck_assert_int_eq(l.n, 0);
	ck_assert_int_gt(l.revision, 0);
	jc_kv_list_clear(&l);

	o = (jc_kv_range_options)JC_KV_RANGE_OPTIONS_INIT;
	o.min_mod_revision = mid;
	ck_assert_int_eq(jc_kv_range(&l, kv, sub, &o, &err), 0);
	ck_assert_int_eq(l.n, 5);   /* h20..h24: only what changed since */
	ck_assert_int_eq(l.count, 25);   /* but the count is the whole range */
	ck_assert_str_eq(l.items[0].value, "v20");
	jc_kv_list_clear(&l);

	o = (jc_kv_range_options)JC_KV_RANGE_OPTIONS_INIT;
	o.keys_only = true;
	ck_assert_int_eq(jc_kv_range(&l, kv, sub, &o, &err), 0);
	ck_assert_int_eq(l.n, 25);
	ck_assert_ptr_null(l.items[0].value);
	jc_kv_list_clear(&l);

	long n;
	ck_assert_int_eq(jc_kv_delete(kv, sub, true, &n, &err), 0);
	ck_assert_int_eq(n, 25);
	ck_assert_int_eq(jc_kv_range(&l, kv, sub, NULL, &err), 0);
	ck_assert_int_eq(l.n, 0);
	jc_kv_list_clear(&l);
	free(sub);
	jc_kv_free(kv);
}
END_TEST

START_TEST(txn_cas)
{
	jc_kv *kv = open_kv(_i);
	jc_kv_pair p;
	jc_error err;
	char *v = k("desired/version"), *other = k("other");
	bool ok;

	ck_assert_int_eq(jc_kv_cas(kv, v, NULL, "1", 0, &err), 0);        /* create */
	ck_assert_int_eq(jc_kv_cas(kv, v, NULL, "1", 0, &err), JC_ECONFLICT);
	ck_assert_int_eq(jc_kv_cas(kv, v, "1", "2", 0, &err), 0);
	ck_assert_int_eq(jc_kv_cas(kv, v, "1", "3", 0, &err), JC_ECONFLICT);
	ck_assert_int_eq(jc_kv_get(&p, kv, v, &err), 0);
	ck_assert_str_eq(p.value, "2");

	/* optimistic lock on mod_revision, two writes in one revision */
	jc_kv_compare c = { v, JC_KV_MOD, JC_KV_EQUAL, NULL, 0, p.mod_revision };
	jc_kv_op ops[2] = { { JC_KV_OP_PUT, v, "4", 1, 0 }, { JC_KV_OP_PUT, other, "x", 1, 0 } };
	jc_kv_op els[1] = { { JC_KV_OP_PUT, other, "lost", 4, 0 } };
	int64_t rev;
	ck_assert_int_eq(jc_kv_txn(kv, &c, 1, ops, 2, els, 1, &ok, &rev, &err), 0);
	ck_assert(ok);
	jc_kv_pair_clear(&p);
	ck_assert_int_eq(jc_kv_get(&p, kv, other, &err), 0);
	ck_assert_int_eq(p.mod_revision, rev);
	jc_kv_pair_clear(&p);
	ck_assert_int_eq(jc_kv_get(&p, kv, v, &err), 0);
	ck_assert_int_eq(p.mod_revision, rev);
	jc_kv_pair_clear(&p);
	/* same compare again: fails, the else branch runs */
	ck_assert_int_eq(jc_kv_txn(kv, &c, 1, ops, 2, els, 1, &ok, NULL, &err), 0);
	ck_assert(!ok);
	ck_assert_int_eq(jc_kv_get(&p, kv, other, &err), 0);
	ck_assert_str_eq(p.value, "lost");
	jc_kv_pair_clear(&p);
	/* delete-prefix inside a txn */
	jc_kv_op del = { JC_KV_OP_DELETE_PREFIX, prefix, NULL, 0, 0 };
	ck_assert_int_eq(jc_kv_txn(kv, NULL, 0, &del, 1, NULL, 0, &ok, NULL, &err), 0);
	ck_assert(ok);
	ck_assert_int_eq(jc_kv_get(&p, kv, v, &err), JC_ENOTFOUND);
	free(v);
	free(other);
	jc_kv_free(kv);
}
END_TEST

START_TEST(leases)
{
	jc_kv *kv = open_kv(_i);
	jc_kv_pair p;
	jc_error err;
	int64_t lease, lease2;
	long ttl;
	char *a = k("hosts/a"), *b = k("hosts/b");

	ck_assert_int_eq(jc_kv_lease_grant(&lease, kv, 30, &err), 0);
	ck_assert_int_ne(lease, 0);
	ck_assert_int_eq(jc_kv_put(kv, a, "1", 1, lease, NULL, &err), 0);
	ck_assert_int_eq(jc_kv_get(&p, kv, a, &err), 0);
	ck_assert_int_eq(p.lease, lease);
	jc_kv_pair_clear(&p);
	ck_assert_int_eq(jc_kv_lease_keepalive(&ttl, kv, lease, &err), 0);
	ck_assert_int_eq(ttl, 30);
	ck_assert_int_eq(jc_kv_lease_revoke(kv, lease, &err), 0);
	ck_assert_int_eq(jc_kv_get(&p, kv, a, &err), JC_ENOTFOUND);
	ck_assert_int_eq(jc_kv_lease_keepalive(&ttl, kv, lease, &err), JC_ENOTFOUND);

	/* expiry: a lease nobody keeps alive takes its keys with it */
	ck_assert_int_eq(jc_kv_lease_grant(&lease2, kv, 2, &err), 0);
	ck_assert_int_eq(jc_kv_put(kv, b, "1", 1, lease2, NULL, &err), 0);
	int64_t until = jc_now_ms() + 15000;
	int rc;
	while ((rc = jc_kv_get(&p, kv, b, &err)) == 0 && jc_now_ms() < until) {
		jc_kv_pair_clear(&p);
		jc_sleep_ms(250);
	}
	ck_assert_int_eq(rc, JC_ENOTFOUND);
	ck_assert_int_eq(jc_kv_lease_keepalive(&ttl, kv, lease2, &err), JC_ENOTFOUND);
	/* a put on a dead lease is refused */
	ck_assert_int_lt(jc_kv_put(kv, b, "1", 1, lease2, NULL, &err), 0);
	free(a);
	free(b);
	jc_kv_free(kv);
}
END_TEST

START_TEST(watch_prefix)
{
	jc_kv *kv = open_kv(_i), *writer;
	jc_kv_watch *w;
	jc_kv_events ev;
	jc_error err;
	char *sub = k("desired/"), *v = k("desired/version"), *noise = k("elsewhere");
	int64_t first;

	ck_assert_int_eq(jc_kv_open(&writer, urls[_i], NULL, &err), 0);
	ck_assert_int_eq(jc_kv_watch_open(&w, kv, sub, 0, &err), 0);
	ck_assert_int_eq(jc_kv_watch_next(&ev, w, 200, &err), 0);
	ck_assert_int_eq(ev.n, 0);   /* nothing yet */
	jc_kv_events_clear(&ev);

	ck_assert_int_eq(jc_kv_put(writer, noise, "x", 1, 0, NULL, &err), 0);
	ck_assert_int_eq(jc_kv_put(writer, v, "7", 1, 0, &first, &err), 0);
	size_t got = 0;
	int64_t until = jc_now_ms() + 10000;
	while (got == 0 && jc_now_ms() < until) {
		ck_assert_int_eq(jc_kv_watch_next(&ev, w, 1000, &err), 0);
		for (size_t i = 0; i < ev.n; i++) {
			ck_assert_str_eq(ev.items[i].kv.key, v);   /* not the noise */
			ck_assert_int_eq(ev.items[i].type, JC_KV_EVENT_PUT);
			ck_assert_str_eq(ev.items[i].kv.value, "7");
			ck_assert_int_eq(ev.items[i].kv.mod_revision, first);
			got++;
		}
		jc_kv_events_clear(&ev);
	}
	ck_assert_int_eq(got, 1);
	ck_assert_int_eq(jc_kv_watch_revision(w), first + 1);

	long n;
	ck_assert_int_eq(jc_kv_delete(writer, v, false, &n, &err), 0);
	got = 0;
	until = jc_now_ms() + 10000;
	while (got == 0 && jc_now_ms() < until) {
		ck_assert_int_eq(jc_kv_watch_next(&ev, w, 1000, &err), 0);
		for (size_t i = 0; i < ev.n; i++) {
			ck_assert_int_eq(ev.items[i].type, JC_KV_EVENT_DELETE);
			got++;
		}
		jc_kv_events_clear(&ev);
	}
	ck_assert_int_eq(got, 1);
	jc_kv_watch_free(w);

	/* from a past revision: history is replayed in order */
	ck_assert_int_eq(jc_kv_watch_open(&w, kv, sub, first, &err), 0);
	ck_assert_int_eq(jc_kv_watch_next(&ev, w, 5000, &err), 0);
	while (ev.n < 2) {
		jc_kv_events more;
		ck_assert_int_eq(jc_kv_watch_next(&more, w, 5000, &err), 0);
		ck_assert_int_gt(more.n, 0);
		for (size_t i = 0; i < more.n; i++) {
			*jc_kv_events_push(&ev) = more.items[i];
		}
		free(more.items);
	}
	ck_assert_int_eq(ev.items[0].type, JC_KV_EVENT_PUT);
	ck_assert_int_eq(ev.items[1].type, JC_KV_EVENT_DELETE);
	jc_kv_events_clear(&ev);
	jc_kv_watch_free(w);
	free(sub);
	free(v);
	free(noise);
	jc_kv_free(writer);
	jc_kv_free(kv);
}
END_TEST

/* A fleet's store sees mostly commits outside any one watch's range (every
 * host's report): a watch must sit through them quietly and still see the
 * one change in its range, with the right revision. */
START_TEST(watch_through_noise)
{
	jc_kv *kv = open_kv(_i), *writer;
	jc_kv_watch *w;
	jc_kv_events ev;
	jc_error err;
	char *sub = k("desired/"), *v = k("desired/version");
	int64_t rev = 0;

	ck_assert_int_eq(jc_kv_open(&writer, urls[_i], NULL, &err), 0);
	ck_assert_int_eq(jc_kv_watch_open(&w, kv, sub, 0, &err), 0);
	for (int i = 0; i < 20; i++) {
		char *noise = jc_sprintf("%shosts/h%d/running", prefix, i);
		ck_assert_int_eq(jc_kv_put(writer, noise, "1", 1, 0, NULL, &err), 0);
		ck_assert_int_eq(jc_kv_watch_next(&ev, w, 30, &err), 0);
		ck_assert_int_eq(ev.n, 0);
		jc_kv_events_clear(&ev);
		free(noise);
	}
	ck_assert_int_eq(jc_kv_put(writer, v, "2", 1, 0, &rev, &err), 0);
	size_t got = 0;
	int64_t until = jc_now_ms() + 10000;
	while (got == 0 && jc_now_ms() < until) {
		ck_assert_int_eq(jc_kv_watch_next(&ev, w, 1000, &err), 0);
		for (size_t i = 0; i < ev.n; i++) {
			ck_assert_str_eq(ev.items[i].kv.key, v);
			ck_assert_int_eq(ev.items[i].kv.mod_revision, rev);
			got++;
		}
		jc_kv_events_clear(&ev);
	}
	ck_assert_int_eq(got, 1);
	ck_assert_int_eq(jc_kv_watch_revision(w), rev + 1);
	jc_kv_watch_free(w);
	free(sub);
	free(v);
	jc_kv_free(writer);
	jc_kv_free(kv);
}
END_TEST

/* A watch that slept through many other changes (a fleet registering)
 * still gets exactly its own events, in order, from a writer in another
 * process. */
START_TEST(watch_far_behind)
{
	jc_kv *kv = open_kv(_i);
	jc_kv_watch *w;
	jc_kv_events ev;
	jc_error err;
	char *sub = k("desired/"), *v = k("desired/version");
	int status = -1;
	pid_t child;

	ck_assert_int_eq(jc_kv_watch_open(&w, kv, sub, 0, &err), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		jc_kv *writer;
		int ok = jc_kv_open(&writer, urls[_i], NULL, &err) == 0;
		for (int i = 0; ok && i < 400; i++) {
			char *noise = jc_sprintf("%shosts/h%d/alive", prefix, i);
			ok = jc_kv_put(writer, noise, "1", 1, 0, NULL, &err) == 0;
			if (ok && i == 200)
				ok = jc_kv_put(writer, v, "2", 1, 0, NULL, &err) == 0;
			free(noise);
		}
		ok = ok && jc_kv_put(writer, v, "3", 1, 0, NULL, &err) == 0;
		if (ok)
			jc_kv_free(writer);
		_exit(ok ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert_int_eq(status, 0);
	const char *want[] = { "2", "3" };
	size_t got = 0;
	int64_t last = 0, until = jc_now_ms() + 30000;
	while (got < 2 && jc_now_ms() < until) {
		ck_assert_int_eq(jc_kv_watch_next(&ev, w, 1000, &err), 0);
		for (size_t i = 0; i < ev.n; i++) {
			ck_assert_uint_lt(got, 2);
			ck_assert_str_eq(ev.items[i].kv.key, v);
			ck_assert_str_eq(ev.items[i].kv.value, want[got]);
			ck_assert_int_gt(ev.items[i].kv.mod_revision, last);
			last = ev.items[i].kv.mod_revision;
			got++;
		}
		jc_kv_events_clear(&ev);
	}
	ck_assert_int_eq(got, 2);
	jc_kv_watch_free(w);
	free(sub);
	free(v);
	jc_kv_free(kv);
}
END_TEST

START_TEST(bad_urls)
{
	jc_kv *kv;
	jc_error err;
	ck_assert_int_eq(jc_kv_open(&kv, "consul://x", NULL, &err), JC_EINVALID);
	ck_assert(strstr(err.message, "unknown scheme"));
	ck_assert_int_eq(jc_kv_open(&kv, "sqlite://relative.db", NULL, &err), JC_EINVALID);
	ck_assert_int_eq(jc_kv_open(&kv, "etcd://nohostport", NULL, &err), JC_EINVALID);
	ck_assert_int_eq(jc_kv_open(&kv, "etcd://root:s3cret@nohostport", NULL, &err), JC_EINVALID);
	ck_assert_ptr_null(strstr(err.message, "s3cret"));
	/* nothing listens there: unreachable, quickly, with the endpoint named */
	jc_kv_options o = JC_KV_OPTIONS_INIT;
	jc_kv_pair p;
	o.timeout_ms = 2000;
	ck_assert_int_eq(jc_kv_open(&kv, "etcd://127.0.0.1:1,127.0.0.1:2", &o, &err), 0);
	ck_assert_int_eq(jc_kv_get(&p, kv, "/x", &err), JC_EUNREACHABLE);
	ck_assert(strstr(err.url, "127.0.0.1:"));
	jc_kv_free(kv);
	char *e = jc_kv_prefix_end("/a/");
	ck_assert_str_eq(e, "/a0");
	free(e);
}
END_TEST

START_TEST(failover)
{
	/* a dead endpoint first: requests move on to the live one */
	const char *live = getenv("JCICD_TEST_ETCD");
	jc_kv *kv;
	jc_error err;
	jc_kv_pair p;
	jc_kv_options o = JC_KV_OPTIONS_INIT;
	char *url;
	if (!live)
		return;
	url = jc_sprintf("etcd://127.0.0.1:1,%s", live + strlen("http://"));
	o.timeout_ms = 3000;
	ck_assert_int_eq(jc_kv_open(&kv, url, &o, &err), 0);
	ck_assert_int_eq(jc_kv_put(kv, "/failover-test", "ok", 2, 0, NULL, &err), 0);
	ck_assert_int_eq(jc_kv_get(&p, kv, "/failover-test", &err), 0);
	ck_assert_str_eq(p.value, "ok");
	jc_kv_pair_clear(&p);
	jc_kv_free(kv);
	free(url);
}
END_TEST

/* Is there a TCP connection from ip (dotted IPv4) to port? (/proc/net/tcp) */
static bool connected_from(const char *ip, int port)
{
	FILE *f = fopen("/proc/net/tcp", "r");
	char line[512];
	unsigned a, b, c, d;
	bool found = false;
	char want[32];
	ck_assert(sscanf(ip, "%u.%u.%u.%u", &a, &b, &c, &d) == 4);
	/* the kernel prints the address as a host-order word of network bytes */
	snprintf(want, sizeof(want), "%02X%02X%02X%02X:", d, c, b, a);
	while (f && !found && fgets(line, sizeof(line), f)) {
		char local[64], remote[64];
		unsigned rport;
		if (sscanf(line, "%*d: %63s %63s", local, remote) == 2 && strncmp(local, want, strlen(want)) == 0 &&
		    sscanf(strchr(remote, ':') + 1, "%x", &rport) == 1 && (int)rport == port)
			found = true;
	}
	if (f)
		fclose(f);
	return found;
}

START_TEST(source_address)
{
	const char *live = getenv("JCICD_TEST_ETCD");
	jc_kv_options o = JC_KV_OPTIONS_INIT;
	jc_kv *kv;
	jc_kv_watch *w;
	jc_kv_pair p;
	jc_error err;
	char *url, *key;

	/* checked at open: an agent with a typo stops at start */
	o.source_address = "eth0";
	ck_assert_int_eq(jc_kv_open(&kv, "etcd://127.0.0.1:2379", &o, &err), JC_EINVALID);
	ck_assert_str_eq(err.message, "KV source address 'eth0' is not an IPv4 or IPv6 address");
	o.source_address = "127.0.0.1";
	/* sqlite has no connections: nothing to say */
	ck_assert_int_eq(jc_kv_open(&kv, urls[0], &o, &err), 0);
	jc_kv_free(kv);
	{
		/* a caller built against version 1 of the options */
		jc_kv_options v1 = JC_KV_OPTIONS_INIT;
		v1.version = 1;
		v1.source_address = "garbage a version-1 caller never wrote";
		ck_assert_int_eq(jc_kv_open(&kv, "etcd://127.0.0.1:2379", &v1, &err), 0);
		jc_kv_free(kv);
		v1.version = 3;
		ck_assert_int_eq(jc_kv_open(&kv, "etcd://127.0.0.1:2379", &v1, &err), JC_EINVALID);
	}
	if (!live)
		return;
	/* requests and the watch's stream both leave from it */
	url = jc_sprintf("etcd://%s", live + strlen("http://"));
	o.source_address = "127.0.0.9";
	o.short_connections = false;
	ck_assert_int_eq(jc_kv_open(&kv, url, &o, &err), 0);
	jc_kv_free(open_kv(0));   /* only for a fresh prefix */
	key = k("src");
	ck_assert_int_eq(jc_kv_watch_open(&w, kv, key, 0, &err), 0);
	ck_assert_int_eq(jc_kv_put(kv, key, "v", 1, 0, NULL, &err), 0);
	ck_assert_int_eq(jc_kv_get(&p, kv, key, &err), 0);
	ck_assert_str_eq(p.value, "v");
	jc_kv_pair_clear(&p);
	ck_assert(connected_from("127.0.0.9", atoi(strrchr(live, ':') + 1)));
	jc_kv_watch_free(w);
	jc_kv_free(kv);
	free(key);
	free(url);
}
END_TEST

/* A writer process for sqlite_writers_race_and_die: n increments of a
 * counter by compare-and-swap, and every tenth a transaction of 1.2 MB
 * (more than the WAL buffer holds: kv-sqlite-vfs.c flushes mid-way).
 * forever: never stops (it is killed). */
static void counting_writer(int id, int n, bool forever)
{
	jc_kv *kv, *idle;
	jc_error err;
	char *counter = k("counter"), *big = jc_malloc(8192);
	/* two connections: a process with one writes its WAL through, and
	 * this is about the one that gathers (kv-sqlite-vfs.c) */
	int ok = jc_kv_open(&idle, urls[0], NULL, &err) == 0 && jc_kv_open(&kv, urls[0], NULL, &err) == 0;
	for (int i = 0; ok && (forever || i < n); i++) {
		jc_kv_pair p;
		bool won = false;
		while (ok && !won) {
			long v = 0;
			int64_t mod = 0;
			int rc = jc_kv_get(&p, kv, counter, &err);
			if (rc == 0) {
				v = atol(p.value);
				mod = p.mod_revision;
				jc_kv_pair_clear(&p);
			}
			ok = rc == 0 || rc == JC_ENOTFOUND;
			char *nv = jc_sprintf("%ld", v + 1);
			jc_kv_compare c = { counter, JC_KV_MOD, JC_KV_EQUAL, NULL, 0, mod };
			jc_kv_op op = { JC_KV_OP_PUT, counter, nv, strlen(nv), 0 };
			ok = ok && jc_kv_txn(kv, &c, 1, &op, 1, NULL, 0, &won, NULL, &err) == 0;
			free(nv);
		}
		if (ok && i % 10 == 0) {
			jc_kv_op ops[150];
			char *keys[150];
			memset(big, 'a' + id, 8192);
			for (int j = 0; j < 150; j++) {
				keys[j] = jc_sprintf("%sbig/%d/%03d", prefix, id, j);
				ops[j] = (jc_kv_op){ JC_KV_OP_PUT, keys[j], big, 8192, 0 };
			}
			ok = jc_kv_txn(kv, NULL, 0, ops, 150, NULL, 0, NULL, NULL, &err) == 0;
			for (int j = 0; j < 150; j++)
				free(keys[j]);
		}
	}
	if (!ok)
		fprintf(stderr, "# writer %d: %s\n", id, err.message);
	_exit(ok ? 0 : 1);
}

/* Writers in several processes, one killed mid-write: no increment is
 * lost, every big transaction is whole, and the database is intact. */
START_TEST(sqlite_writers_race_and_die)
{
	jc_kv *kv = open_kv(0);
	jc_kv_pair p;
	jc_kv_list l = { 0 };
	jc_error err;
	pid_t kids[4];
	int status;
	char *big = k("big/");

	for (int i = 0; i < 4; i++) {
		kids[i] = fork();
		ck_assert_int_ge(kids[i], 0);
		if (kids[i] == 0)
			counting_writer(i, 60, i == 3);
	}
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(waitpid(kids[i], &status, 0), kids[i]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer %d failed", i);
	}
	kill(kids[3], SIGKILL);   /* wherever it is */
	ck_assert_int_eq(waitpid(kids[3], &status, 0), kids[3]);
	/* the killed one counted too: the counter is at least the others' */
	char *counter = k("counter");
	ck_assert_int_eq(jc_kv_get(&p, kv, counter, &err), 0);
	ck_assert_int_ge(atol(p.value), 180);
	long seen = atol(p.value);
	jc_kv_pair_clear(&p);
	/* each big transaction is whole: 150 values of 8 KB per writer */
	ck_assert_int_eq(jc_kv_range(&l, kv, big, NULL, &err), 0);
	for (int id = 0; id < 4; id++) {
		size_t n = 0;
		for (size_t i = 0; i < l.n; i++) {
			char want[128];
			snprintf(want, sizeof(want), "%sbig/%d/", prefix, id);
			if (strncmp(l.items[i].key, want, strlen(want)) != 0)
				continue;
			ck_assert_uint_eq(l.items[i].value_len, 8192);
			ck_assert_int_eq(l.items[i].value[8191], 'a' + id);
			n++;
		}
		ck_assert_msg(n == 150 || (id == 3 && n == 0), "writer %d: %zu of 150 values", id, n);
	}
	jc_kv_list_clear(&l);
	/* another writer after the kill: the store goes on */
	if (fork() == 0)
		counting_writer(5, 5, false);
	ck_assert_int_ge(wait(&status), 0);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(jc_kv_get(&p, kv, counter, &err), 0);
	ck_assert_int_eq(atol(p.value), seen + 5);
	jc_kv_pair_clear(&p);
	jc_kv_free(kv);
	/* and SQLite finds the file sound */
	sqlite3 *db;
	sqlite3_stmt *st;
	ck_assert_int_eq(sqlite3_open_v2(urls[0] + strlen("sqlite://"), &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(counter);
	free(big);
}
END_TEST

static Suite *kv_suite(void)
{
	Suite *s = suite_create("kv");
	TCase *tc = tcase_create("backends");
	const char *etcd = getenv("JCICD_TEST_ETCD");

	static char tmpdir[] = "/tmp/jcicd-kv-XXXXXX";
	if (!mkdtemp(tmpdir))
		abort();
	urls[n_urls++] = jc_sprintf("sqlite://%s/kv.db", tmpdir);
	if (etcd && strncmp(etcd, "http://", 7) == 0)
		urls[n_urls++] = jc_sprintf("etcd://%s", etcd + 7);
	else
		fprintf(stderr, "# etcd cases skipped: JCICD_TEST_ETCD is not set\n");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, put_get_delete, 0, n_urls);
	tcase_add_loop_test(tc, range_pages, 0, n_urls);
	tcase_add_loop_test(tc, txn_cas, 0, n_urls);
	tcase_add_loop_test(tc, leases, 0, n_urls);
	tcase_add_loop_test(tc, watch_prefix, 0, n_urls);
	tcase_add_loop_test(tc, watch_through_noise, 0, n_urls);
	tcase_add_loop_test(tc, watch_far_behind, 0, n_urls);
	tcase_add_test(tc, bad_urls);
	tcase_add_test(tc, failover);
	tcase_add_test(tc, source_address);
	tcase_add_test(tc, sqlite_writers_race_and_die);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(kv_suite)
