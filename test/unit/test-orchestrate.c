/* test-orchestrate.c - the version protocol on every backend (sqlite
 * always, etcd when $JCICD_TEST_ETCD is set): reports, incremental fleet
 * reads, config lookups, gates. */
#include "tests.h"

#include "jcicd/orchestrate.h"

static char *tmpdir;
static char *urls[2];
static int n_urls;

struct fx {
	jc_kv *kv;
	jc_orch *orch;
	char prefix[64];
	char *cache;
};

static void fx_open(struct fx *f, int i, bool cache)
{
	jc_error err;
	jc_orch_options o = JC_ORCH_OPTIONS_INIT;
	ck_assert_int_eq(jc_kv_open(&f->kv, urls[i], NULL, &err), 0);
	if (!f->prefix[0])
		snprintf(f->prefix, sizeof(f->prefix), "/o%llu-%llu/", (unsigned long long)getpid(),
			 (unsigned long long)jc_random(1000000000));
	o.prefix = f->prefix;
	if (cache) {
		if (!f->cache)
			f->cache = jc_sprintf("%s/cache-%s.json", tmpdir, f->prefix + 1);
		o.cache_file = f->cache;
	}
	ck_assert_int_eq(jc_orch_open(&f->orch, f->kv, &o, &err), 0);
}

static void fx_close(struct fx *f)
{
	jc_orch_free(f->orch);
	jc_kv_free(f->kv);
	f->orch = NULL;
	f->kv = NULL;
}

static void report(jc_orch *o, const char *host, const char *version, bool ok, int64_t lease)
{
	jc_host_report r = { 0 };
	jc_error err;
	r.hostname = host;
	r.role = "cp";
	r.tag = "t1";
	ck_assert_int_eq(jc_orch_register(o, &r, lease, &err), 0);
	r.running_version = ok ? version : NULL;
	r.healthy = ok;
	r.stage = ok ? "converged" : "validation";
	r.message = ok ? "" : "check-http exited 1";
	r.attempted_version = version;
	r.converge_rc = 0;
	r.validation_rc = ok ? 0 : 1;
	ck_assert_int_eq(jc_orch_report(o, &r, lease, &err), 0);
}

START_TEST(desired_and_reports)
{
	struct fx f = { 0 };
	jc_error err;
	char *v = NULL;
	fx_open(&f, _i, false);
	ck_assert_int_eq(jc_orch_desired(&v, f.orch, &err), JC_ENOTFOUND);
	ck_assert_int_eq(jc_orch_trigger_update(f.orch, "42", &err), 0);
	ck_assert_int_eq(jc_orch_trigger_update(f.orch, "has space", &err), JC_EINVALID);
	ck_assert_int_eq(jc_orch_desired(&v, f.orch, &err), 0);
	ck_assert_str_eq(v, "42");
	free(v);
	report(f.orch, "cp1-t1", "42", true, 0);
	report(f.orch, "cp2-t1", "42", false, 0);
	ck_assert_int_eq(jc_orch_refresh(f.orch, &err), 0);
	ck_assert_int_eq(jc_orch_host_count(f.orch), 2);
	const jc_host *h = jc_orch_host_find(f.orch, "cp1-t1");
	ck_assert_ptr_nonnull(h);
	ck_assert(h->alive);
	ck_assert_str_eq(h->version, "42");
	ck_assert(h->healthy);
	ck_assert_str_eq(h->role, "cp");
	h = jc_orch_host_find(f.orch, "cp2-t1");
	ck_assert_ptr_null(h->version);
	ck_assert(!h->healthy);
	ck_assert_str_eq(h->stage, "validation");
	ck_assert_str_eq(h->attempted_version, "42");

	/* wait: one ready, one failed; fail fast with budget 0 */
	const char *names[] = { "cp1-t1", "cp2-t1", "cp3-t1" };
	jc_wait_result w;
	ck_assert_int_eq(jc_orch_wait_hosts(&w, f.orch, "42", names, 3, 300, 0, &err), JC_EFAILED);
	ck_assert_int_eq(w.n_ready, 1);
	ck_assert_int_eq(w.n_failed, 1);
	ck_assert_int_eq(w.n_lagging, 1);
	ck_assert(strstr(w.fail_why[0], "check-http exited 1"));
	ck_assert(strstr(w.lag_why[0], "not registered"));
	jc_wait_result_clear(&w);
	ck_assert_int_eq(jc_orch_wait_hosts(&w, f.orch, "42", names, 1, 300, -1, &err), 0);
	jc_wait_result_clear(&w);
	fx_close(&f);
}
END_TEST

/* A keep-alive due while the fleet moves goes after the window, but never
 * so late that the lease has less than a third of its TTL left. */
START_TEST(keepalives_leave_the_window)
{
	int64_t now = 1000000, renewed = now - 40000;   /* TTL 120: due now + 0 */
	int64_t due = renewed + 40000, at, most = 0;
	for (int i = 0; i < 1000; i++) {
		at = jc_orch_keepalive_due_ms(due, renewed, 120, 8000, now);
		ck_assert_int_ge(at, now + 8000);
		ck_assert_int_lt(at, now + 16000);
		most = at > most ? at : most;
	}
	ck_assert_int_gt(most, now + 12000);   /* spread over a second window */
	/* due after the window, or no window: unchanged */
	ck_assert_int_eq(jc_orch_keepalive_due_ms(now + 9000, renewed, 120, 8000, now), now + 9000);
	ck_assert_int_eq(jc_orch_keepalive_due_ms(due, renewed, 120, 0, now), due);
	/* TTL 30 and a 20 s window: only as far as 20 s after the renewal */
	renewed = now - 5000;
	due = renewed + 10000;
	ck_assert_int_eq(jc_orch_keepalive_due_ms(due, renewed, 30, 20000, now), renewed + 20000);
	/* a lease already past its two thirds is never put off */
	renewed = now - 25000;
	ck_assert_int_eq(jc_orch_keepalive_due_ms(now, renewed, 30, 20000, now), now);
}
END_TEST

/* A report is one key: the health record carries the running version, and
 * a failed attempt leaves it where the last success put it.  A
 * hosts/<h>/version key written by an earlier agent is still read. */
START_TEST(running_version_in_health)
{
	struct fx f = { 0 };
	jc_error err;
	jc_kv_list l = { 0 };
	char *hosts;
	fx_open(&f, _i, false);
	report(f.orch, "cp1-t1", "7", true, 0);
	report(f.orch, "cp1-t1", "8", false, 0);
	hosts = jc_sprintf("%shosts/", f.prefix);
	ck_assert_int_eq(jc_kv_range(&l, f.kv, hosts, NULL, &err), 0);
	ck_assert_int_eq(l.n, 2);   /* alive and health, nothing else */
	ck_assert(jc_str_ends(l.items[1].key, "/health"));
	ck_assert(strstr(l.items[1].value, "\"running\":\"7\""));
	ck_assert(strstr(l.items[1].value, "\"version\":\"8\""));
	jc_kv_list_clear(&l);
	ck_assert_int_eq(jc_orch_refresh(f.orch, &err), 0);
	const jc_host *h = jc_orch_host_find(f.orch, "cp1-t1");
	ck_assert_str_eq(h->version, "7");
	ck_assert_str_eq(h->attempted_version, "8");
	ck_assert(!h->healthy);

	/* an earlier agent's layout: health without "running", and the key */
	char *hk = jc_sprintf("%sold1-t1/health", hosts), *vk = jc_sprintf("%sold1-t1/version", hosts);
	const char *old = "{\"ok\":true,\"version\":\"6\",\"stage\":\"converged\",\"time\":1}";
	ck_assert_int_eq(jc_kv_put(f.kv, hk, old, strlen(old), 0, NULL, &err), 0);
	ck_assert_int_eq(jc_kv_put(f.kv, vk, "6", 1, 0, NULL, &err), 0);
	ck_assert_int_eq(jc_orch_refresh(f.orch, &err), 0);
	h = jc_orch_host_find(f.orch, "old1-t1");
	ck_assert_ptr_nonnull(h);
	ck_assert_str_eq(h->version, "6");
	ck_assert(h->healthy);
	/* a host reporting now, beside the key an earlier agent left without
	 * a lease: the health record wins */
	report(f.orch, "old1-t1", "9", true, 0);
	ck_assert_int_eq(jc_orch_refresh(f.orch, &err), 0);
	ck_assert_str_eq(jc_orch_host_find(f.orch, "old1-t1")->version, "9");
	free(hk);
	free(vk);
	free(hosts);
	fx_close(&f);
}
END_TEST

/* trigger-update writes, with the version, the window the fleet spreads
 * its moves over: hosts / report_rate seconds. */
START_TEST(spread_with_fleet_size)
{
	struct fx f = { 0 };
	jc_orch_options o = JC_ORCH_OPTIONS_INIT;
	jc_kv_pair p;
	jc_error err;
	char key[128];
	fx_open(&f, _i, false);
	jc_orch_free(f.orch);
	o.prefix = f.prefix;
	o.report_rate = 4;   /* reports a second */
	ck_assert_int_eq(jc_orch_open(&f.orch, f.kv, &o, &err), 0);
	snprintf(key, sizeof(key), "%sdesired/spread_ms", f.prefix);

	ck_assert_int_eq(jc_orch_trigger_update(f.orch, "1", &err), 0);
	ck_assert_int_eq(jc_kv_get(&p, f.kv, key, &err), 0);
	ck_assert_str_eq(p.value, "0");   /* nobody to spread */
	jc_kv_pair_clear(&p);
	for (int i = 0; i < 6; i++) {
		char host[32];
		snprintf(host, sizeof(host), "cp%d-t1", i + 1);
		report(f.orch, host, "1", true, 0);
	}
	ck_assert_int_eq(jc_orch_trigger_update(f.orch, "2", &err), 0);
	ck_assert_int_eq(jc_kv_get(&p, f.kv, key, &err), 0);
	ck_assert_str_eq(p.value, "1500");   /* 6 hosts at 4 a second */
	jc_kv_pair_clear(&p);
	ck_assert_int_eq(jc_orch_spread_ms(f.orch, 10000), 2500000);

	/* a version 1 options struct (no report_rate) still opens, with the
	 * default: 2000 a second */
	jc_orch_free(f.orch);
	o.version = 1;
	ck_assert_int_eq(jc_orch_open(&f.orch, f.kv, &o, &err), 0);
	ck_assert_int_eq(jc_orch_spread_ms(f.orch, 10000), 5000);
	fx_close(&f);
}
END_TEST

START_TEST(incremental_reads)
{
	struct fx f = { 0 };
	jc_error err;
	int64_t lease;
	long before;
	char name[32];

	fx_open(&f, _i, true);
	ck_assert_int_eq(jc_kv_lease_grant(&lease, f.kv, 60, &err), 0);
	for (int i = 1; i <= 40; i++) {
		snprintf(name, sizeof(name), "cp%d-t1", i);
		report(f.orch, name, "1", true, i == 40 ? lease : 0);
	}
	ck_assert_int_eq(jc_orch_refresh(f.orch, &err), 0);
	ck_assert_int_eq(jc_orch_host_count(f.orch), 40);
	ck_assert_int_eq(jc_orch_keys_read(f.orch), 80);   /* alive, health */

	/* one host moves on: the refresh reads its keys, not all 120 */
	report(f.orch, "cp7-t1", "2", true, 0);
	before = jc_orch_keys_read(f.orch);
	ck_assert_int_eq(jc_orch_refresh(f.orch, &err), 0);
	ck_assert_int_eq(jc_orch_keys_read(f.orch) - before, 2);   /* alive, health */
	ck_assert_str_eq(jc_orch_host_find(f.orch, "cp7-t1")->version, "2");

	/* nothing changed: nothing read */
	before = jc_orch_keys_read(f.orch);
	ck_assert_int_eq(jc_orch_refresh(f.orch, &err), 0);
	ck_assert_int_eq(jc_orch_keys_read(f.orch) - before, 0);

	/* a host's lease goes: it disappears from the view */
	ck_assert_int_eq(jc_kv_lease_revoke(f.kv, lease, &err), 0);
	ck_assert_int_eq(jc_orch_refresh(f.orch, &err), 0);
	ck_assert_int_eq(jc_orch_host_count(f.orch), 39);
	ck_assert_ptr_null(jc_orch_host_find(f.orch, "cp40-t1"));
	fx_close(&f);

	/* a new process starts from the cache file: only the news is read */
	fx_open(&f, _i, true);
	report(f.orch, "cp8-t1", "2", true, 0);
	ck_assert_int_eq(jc_orch_refresh(f.orch, &err), 0);
	ck_assert_int_eq(jc_orch_host_count(f.orch), 39);
	ck_assert_int_le(jc_orch_keys_read(f.orch), 2);
	ck_assert_str_eq(jc_orch_host_find(f.orch, "cp8-t1")->version, "2");
	ck_assert_str_eq(jc_orch_host_find(f.orch, "cp9-t1")->version, "1");

	/* a watch-fed wait sees the change without reading the subtree */
	bool changed = false;
	report(f.orch, "cp9-t1", "2", true, 0);
	before = jc_orch_keys_read(f.orch);
	for (int i = 0; i < 20 && !changed; i++)
		ck_assert_int_eq(jc_orch_wait_change(f.orch, 500, &changed, &err), 0);
	ck_assert(changed);
	ck_assert_int_le(jc_orch_keys_read(f.orch) - before, 2);
	ck_assert_str_eq(jc_orch_host_find(f.orch, "cp9-t1")->version, "2");
	fx_close(&f);
	free(f.cache);
}
END_TEST

START_TEST(config_lookup)
{
	struct fx f = { 0 };
	jc_error err;
	char *v;
	bool on;
	fx_open(&f, _i, false);
	ck_assert_int_eq(jc_orch_upgrades_enabled(&on, f.orch, "cp", "cp1-t1", &err), 0);
	ck_assert(on);
	ck_assert_int_eq(jc_orch_config_set(f.orch, "state", "global", NULL, "enable_puppet", "false", &err), 0);
	ck_assert_int_eq(jc_orch_upgrades_enabled(&on, f.orch, "cp", "cp1-t1", &err), 0);
	ck_assert(!on);
	ck_assert_int_eq(jc_orch_config_set(f.orch, "state", "role", "cp", "enable_puppet", "True", &err), 0);
	ck_assert_int_eq(jc_orch_upgrades_enabled(&on, f.orch, "cp", "cp1-t1", &err), 0);
	ck_assert(on);
	ck_assert_int_eq(jc_orch_config_set(f.orch, "state", "host", "cp1-t1", "enable_puppet", "no", &err), 0);
	ck_assert_int_eq(jc_orch_upgrades_enabled(&on, f.orch, "cp", "cp1-t1", &err), 0);
	ck_assert(!on);
	ck_assert_int_eq(jc_orch_upgrades_enabled(&on, f.orch, "cp", "cp2-t1", &err), 0);
	ck_assert(on);
	ck_assert_int_eq(jc_orch_config_lookup(&v, f.orch, "state", "enable_puppet", "ct", "ct1-t1", &err), 0);
	ck_assert_str_eq(v, "false");
	free(v);
	/* jorc accepted "glob" by substring; not here */
	ck_assert_int_eq(jc_orch_config_set(f.orch, "state", "glob", NULL, "x", "y", &err), JC_EINVALID);
	ck_assert_int_eq(jc_orch_config_set(f.orch, "stat", "global", NULL, "x", "y", &err), JC_EINVALID);
	ck_assert_int_eq(jc_orch_config_set(f.orch, "state", "role", NULL, "x", "y", &err), JC_EINVALID);
	fx_close(&f);
}
END_TEST

START_TEST(gates)
{
	char *t;
	/* no gate: everyone; a gate for another version: ignored */
	jc_orch_target_for(&t, "7", NULL, "cp1-t1", "cp");
	ck_assert_str_eq(t, "7");
	free(t);
	jc_orch_target_for(&t, "7", "{\"version\":\"6\",\"roles\":{},\"all\":0}", "cp1-t1", "cp");
	ck_assert_str_eq(t, "7");
	free(t);
	/* a closed gate holds everyone back */
	jc_orch_target_for(&t, "7", "{\"version\":\"7\",\"roles\":{},\"all\":0}", "cp1-t1", "cp");
	ck_assert_ptr_null(t);
	/* open for the role */
	jc_orch_target_for(&t, "7", "{\"version\":\"7\",\"roles\":{\"cp\":4294967296}}", "cp1-t1", "cp");
	ck_assert_str_eq(t, "7");
	free(t);
	jc_orch_target_for(&t, "7", "{\"version\":\"7\",\"roles\":{\"cp\":4294967296}}", "db1-t1", "db");
	ck_assert_ptr_null(t);
	/* a threshold just above one host's hash opens exactly that host */
	char gate[128];
	uint32_t h = jc_orch_host_hash("cp2-t1");
	snprintf(gate, sizeof(gate), "{\"version\":\"7\",\"roles\":{\"cp\":%lld}}", (long long)h + 1);
	jc_orch_target_for(&t, "7", gate, "cp2-t1", "cp");
	ck_assert_str_eq(t, "7");
	free(t);
	/* unreadable gate: hold */
	jc_orch_target_for(&t, "7", "{not json", "cp1-t1", "cp");
	ck_assert_ptr_null(t);
	ck_assert_uint_ne(jc_orch_host_hash("cp1-t1"), jc_orch_host_hash("cp2-t1"));
}
END_TEST

static Suite *orch_suite(void)
{
	Suite *s = suite_create("orchestrate");
	TCase *tc = tcase_create("protocol");
	const char *etcd = getenv("JCICD_TEST_ETCD");
	char tmpl[] = "/tmp/jcicd-orch-XXXXXX";

	tmpdir = jc_strdup(mkdtemp(tmpl));
	urls[n_urls++] = jc_sprintf("sqlite://%s/kv.db", tmpdir);
	if (etcd && strncmp(etcd, "http://", 7) == 0)
		urls[n_urls++] = jc_sprintf("etcd://%s", etcd + 7);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, desired_and_reports, 0, n_urls);
	tcase_add_loop_test(tc, running_version_in_health, 0, n_urls);
	tcase_add_loop_test(tc, incremental_reads, 0, n_urls);
	tcase_add_loop_test(tc, spread_with_fleet_size, 0, n_urls);
	tcase_add_loop_test(tc, config_lookup, 0, n_urls);
	tcase_add_test(tc, gates);
	tcase_add_test(tc, keepalives_leave_the_window);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(orch_suite)
