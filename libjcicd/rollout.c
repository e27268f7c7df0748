/*
 * rollout.c - rolling updates in health-gated waves.
 *
 * The desired version is set once, with a gate beside it that says which
 * hosts may move: per role, hosts whose hash is below a threshold.  The
 * gate is O(roles) bytes whatever the fleet size, and each agent decides
 * for itself from the one watch it already has.  A wave raises thresholds
 * so that exactly the wanted number of hosts of each role is open (hosts
 * are ordered by hash), then waits until every open host runs the version
 * and is healthy.  Role groups go in dependency order; a group starts when
 * the previous one is complete.  The whole state lives in the rollout key,
 * so pause, resume, abort and status work from any machine.
 */
#include "common.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jcicd/orchestrate.h"
#include "orchestrate-internal.h"

#define GATE_ALL ((int64_t)1 << 32)   /* above every hash: the role is open */
#define CHECK_EVERY_MS 2000

struct wave { bool pct; double v; };

static int parse_waves(struct wave **out, size_t *n, const char *spec, jc_error *err)
{
	char *copy = jc_strdup(spec && *spec ? spec : "100%"), *save = NULL;
	struct wave *w = NULL;
	size_t k = 0;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *end;
		double v = strtod(t, &end);
		bool pct = *end == '%';
		if (end == t || (pct ? end[1] != '\0' : *end != '\0') || v <= 0 || (pct && v > 100) ||
		    (!pct && v != (double)(long long)v)) {
			int rc = jc_err(err, JC_EINVALID,
					"wave '%s' is neither a host count (10) nor a percentage (25%%)", t);
			free(copy);
			free(w);
			return rc;
		}
		w = jc_realloc(w, (k + 2) * sizeof(*w));
		w[k++] = (struct wave){ pct, v };
	}
	free(copy);
	if (k == 0 || !(w[k - 1].pct && w[k - 1].v == 100)) {
		w = jc_realloc(w, (k + 1) * sizeof(*w));
		w[k++] = (struct wave){ true, 100 };
	}
	*out = w;
	*n = k;
	return 0;
}

static size_t wave_count(const struct wave *w, size_t hosts)
{
	double want = w->pct ? (double)hosts * w->v / 100.0 : w->v;
	size_t c = (size_t)want;
	if ((double)c < want)
		c++;   /* round up: 10% of 5 hosts is 1 host, not 0 */
	return c > hosts ? hosts : c;
}

/* ---- role levels from role_dependencies */

static bool dep_of(const jc_rollout_options *o, const char *role, const char *dep)
{
	for (size_t i = 0; i < o->n_roles; i++) {
		if (strcmp(o->roles[i], role) != 0 || !o->deps[i])
			continue;
		char *copy = jc_strdup(o->deps[i]), *save = NULL;
		for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
			if (strcmp(t, dep) == 0) {
				free(copy);
				return true;
			}
		free(copy);
	}
	return false;
}

/* levels[i] is a comma list of roles; roles of a level depend only on
 * earlier levels. */
static int role_levels(jc_strv *levels, const jc_strv *roles, const jc_rollout_options *o, jc_error *err)
{
	size_t placed = 0, n = roles->n;
	int *level = jc_calloc(n ? n : 1, sizeof(*level));
	for (size_t i = 0; i < n; i++)
		level[i] = -1;
	for (int l = 0; placed < n; l++) {
		jc_buf b = JC_BUF_INIT;
		size_t before = placed;
		for (size_t i = 0; i < n; i++) {
			bool ready = level[i] < 0;
			for (size_t j = 0; j < n && ready; j++)
				if (j != i && dep_of(o, roles->v[i], roles->v[j]) && (level[j] < 0 || level[j] == l))
					ready = false;
			if (ready) {
				level[i] = l;
				placed++;
				if (b.len)
					jc_buf_putc(&b, ',');
				jc_buf_puts(&b, roles->v[i]);
			}
		}
		if (placed == before) {
			jc_buf_free(&b);
			free(level);
			return jc_err(err, JC_EINVALID, "role_dependencies have a cycle among the remaining roles");
		}
		jc_strv_push_owned(levels, jc_buf_detach(&b));
	}
	free(level);
	return 0;
}

/* ---- the rollout record */

struct rollout {
	json_object *j;
	int64_t mod;          /* for compare-and-swap */
};

static const char *rstr(const struct rollout *r, const char *k)
{
	json_object *v;
	return json_object_object_get_ex(r->j, k, &v) ? json_object_get_string(v) : NULL;
}

static int64_t rnum(const struct rollout *r, const char *k)
{
	json_object *v;
	return json_object_object_get_ex(r->j, k, &v) ? json_object_get_int64(v) : 0;
}

static int load(struct rollout *r, jc_orch *o, jc_error *err)
{
	jc_kv_pair p;
	char *key = jc_orch_key(o, "rollout");
	int rc = jc_kv_get(&p, o->kv, key, err);
	free(key);
	r->j = NULL;
	r->mod = 0;
	if (rc == JC_ENOTFOUND)
		return jc_err(err, JC_ENOTFOUND, "no rollout has been started (jcicd rollout VERSION)");
	if (rc < 0)
		return rc;
	r->j = json_tokener_parse(p.value);
	r->mod = p.mod_revision;
	jc_kv_pair_clear(&p);
	if (!r->j || !json_object_is_type(r->j, json_type_object)) {
		json_object_put(r->j);
		r->j = NULL;
		return jc_err(err, JC_EPARSE, "the rollout record is not JSON");
	}
	return 0;
}

/* Writes the record if nobody changed it since we read it; extra ops go in
 * the same transaction. */
static int save(struct rollout *r, jc_orch *o, const jc_kv_op *extra, size_t n_extra, jc_error *err)
{
	char *key = jc_orch_key(o, "rollout");
	const char *text;
	jc_kv_compare c = { key, JC_KV_MOD, JC_KV_EQUAL, NULL, 0, r->mod };
	jc_kv_op ops[4];
	bool ok;
	int64_t rev;
	int rc;

	json_object_object_add(r->j, "updated", json_object_new_int64(jc_wall_ms() / 1000));
	text = json_object_to_json_string_ext(r->j, JSON_C_TO_STRING_PLAIN);
	ops[0] = (jc_kv_op){ JC_KV_OP_PUT, key, text, strlen(text), 0 };
	for (size_t i = 0; i < n_extra && i < 3; i++)
		ops[1 + i] = extra[i];
	rc = jc_kv_txn(o->kv, &c, 1, ops, 1 + n_extra, NULL, 0, &ok, &rev, err);
	free(key);
	if (rc < 0)
		return rc;
	if (!ok)
		return jc_err(err, JC_ECONFLICT, "the rollout record was changed by someone else meanwhile");
	r->mod = rev;
	return 0;
}

static void set_str(struct rollout *r, const char *k, const char *v)
{
	json_object_object_add(r->j, k, v ? json_object_new_string(v) : NULL);
}

int jc_rollout_status(char **out, jc_orch *o, jc_error *err)
{
	struct rollout r;
	int rc = load(&r, o, err);
	*out = NULL;
	if (rc < 0)
		return rc;
	*out = jc_strdup(json_object_to_json_string_ext(r.j, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(r.j);
	return 0;
}

static int set_state(jc_orch *o, const char *state, const char *const *allowed, jc_error *err)
{
	for (int attempt = 0; attempt < 5; attempt++) {
		struct rollout r;
		int rc = load(&r, o, err);
		bool ok = false;
		if (rc < 0)
			return rc;
		for (const char *const *a = allowed; *a; a++)
			ok = ok || jc_str_eq(rstr(&r, "state"), *a);
		if (!ok) {
			rc = jc_err(err, JC_EINVALID, "the rollout of %s is %s: cannot make it %s", rstr(&r, "version"),
				    rstr(&r, "state"), state);
			json_object_put(r.j);
			return rc;
		}
		set_str(&r, "state", state);
		rc = save(&r, o, NULL, 0, err);
		json_object_put(r.j);
		if (rc != JC_ECONFLICT)
			return rc;
	}
	return jc_err(err, JC_ECONFLICT, "the rollout record keeps changing; try again");
}

int jc_rollout_pause(jc_orch *o, jc_error *err)
{
	static const char *const allowed[] = { "running", NULL };
	return set_state(o, "paused", allowed, err);
}

int jc_rollout_abort(jc_orch *o, jc_error *err)
{
	static const char *const allowed[] = { "running", "paused", "halted", NULL };
	return set_state(o, "aborted", allowed, err);
}

/* ---- running it */

struct plan {
	jc_strv levels;          /* comma lists of roles */
	jc_strv hosts;           /* alive hosts, sorted by (role, hash) */
	jc_strv host_roles;
};

static void plan_free(struct plan *p)
{
	jc_strv_free(&p->levels);
	jc_strv_free(&p->hosts);
	jc_strv_free(&p->host_roles);
}

static bool in_list(const char *list, const char *role)
{
	size_t n = strlen(role);
	for (const char *p = list; p && *p;) {
		const char *c = strchr(p, ',');
		size_t len = c ? (size_t)(c - p) : strlen(p);
		if (len == n && strncmp(p, role, n) == 0)
			return true;
		p = c ? c + 1 : NULL;
	}
	return false;
}

static int cmp_host(const void *a, const void *b)
{
	const jc_host *x = *(const jc_host *const *)a, *y = *(const jc_host *const *)b;
	int c = strcmp(x->role, y->role);
	uint32_t hx, hy;
	if (c)
		return c;
	hx = jc_orch_host_hash(x->hostname);
	hy = jc_orch_host_hash(y->hostname);
	return hx < hy ? -1 : hx > hy ? 1 : strcmp(x->hostname, y->hostname);
}

static int make_plan(struct plan *p, jc_orch *o, const jc_rollout_options *opts, jc_error *err)
{
	jc_strv roles = JC_STRV_INIT;
	const jc_host **hs;
	size_t n = 0;
	int rc;

	memset(p, 0, sizeof(*p));
	if ((rc = jc_orch_refresh(o, err)) < 0)
		return rc;
	hs = jc_calloc(jc_orch_host_count(o) + 1, sizeof(*hs));
	for (size_t i = 0; i < jc_orch_host_count(o); i++) {
		const jc_host *h = jc_orch_host(o, i);
		if (!h->alive)
			continue;
		hs[n++] = h;
		if (!jc_strv_contains(&roles, h->role))
			jc_strv_push(&roles, h->role);
	}
	qsort(hs, n, sizeof(*hs), cmp_host);
	for (size_t i = 0; i < n; i++) {
		jc_strv_push(&p->hosts, hs[i]->hostname);
		jc_strv_push(&p->host_roles, hs[i]->role);
	}
	free(hs);
	jc_strv_sort(&roles);
	rc = role_levels(&p->levels, &roles, opts, err);
	jc_strv_free(&roles);
	if (rc == 0 && n == 0)
		rc = jc_err(err, JC_EINVALID, "no host is registered: start the agents first (jcicd agent)");
	if (rc < 0)
		plan_free(p);
	return rc;
}

/* The gate for (level, wave), and the hosts it opens. */
static char *gate_for(const struct plan *p, const char *version, size_t level, const struct wave *w,
		      jc_strv *open)
{
	json_object *g = json_object_new_object(), *roles = json_object_new_object();
	char *text;
	json_object_object_add(g, "version", json_object_new_string(version));
	for (size_t i = 0; i < p->hosts.n;) {
		const char *role = p->host_roles.v[i];
		size_t j = i, count, lv = 0;
		int64_t thr = 0;
		while (j < p->hosts.n && strcmp(p->host_roles.v[j], role) == 0)
			j++;
		while (lv < p->levels.n && !in_list(p->levels.v[lv], role))
			lv++;
		if (lv < level)
			count = j - i;
		else if (lv == level)
			count = wave_count(w, j - i);
		else
			count = 0;
		if (count == j - i)
			thr = GATE_ALL;
		else if (count > 0)
			thr = (int64_t)jc_orch_host_hash(p->hosts.v[i + count - 1]) + 1;
		for (size_t k = i; k < i + count; k++)
			jc_strv_push(open, p->hosts.v[k]);
		json_object_object_add(*role ? roles : g, *role ? role : "all", json_object_new_int64(thr));
		i = j;
	}
	json_object_object_add(g, "roles", roles);
	text = jc_strdup(json_object_to_json_string_ext(g, JSON_C_TO_STRING_PLAIN));
	json_object_put(g);
	return text;
}

static char *report_text(const jc_wait_result *w, size_t max_lines)
{
	jc_buf b = JC_BUF_INIT;
	for (size_t i = 0; i < w->n_failed && i < max_lines; i++)
		jc_buf_printf(&b, "\n  failed:  %s", w->fail_why[i]);
	if (w->n_failed > max_lines)
		jc_buf_printf(&b, "\n  ... and %zu more failed", w->n_failed - max_lines);
	for (size_t i = 0; i < w->n_lagging && i < max_lines; i++)
		jc_buf_printf(&b, "\n  lagging: %s", w->lag_why[i]);
	if (w->n_lagging > max_lines)
		jc_buf_printf(&b, "\n  ... and %zu more lagging", w->n_lagging - max_lines);
	return jc_buf_detach(&b);
}

static json_object *names_json(char **v, size_t n)
{
	json_object *a = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

static int run(jc_orch *o, struct rollout *r, const jc_rollout_options *opts, jc_error *err)
{
	struct plan p;
	struct wave *waves = NULL;
	size_t n_waves = 0;
	const char *version = rstr(r, "version");
	long long wave_timeout = opts->wave_timeout_ms > 0 ? opts->wave_timeout_ms : 30 * 60 * 1000;
	size_t level = (size_t)rnum(r, "level"), wave = (size_t)rnum(r, "wave");
	char *gkey = jc_orch_key(o, "desired/gate"), *skey = jc_orch_key(o, "desired/spread_ms");
	int rc;

	if ((rc = parse_waves(&waves, &n_waves, rstr(r, "waves"), err)) < 0) {
		free(gkey);
		free(skey);
		return rc;
	}
	if ((rc = make_plan(&p, o, opts, err)) < 0) {
		free(waves);
		free(gkey);
		free(skey);
		return rc;
	}
	json_object_object_add(r->j, "levels", names_json(p.levels.v, p.levels.n));
	for (; level < p.levels.n; level++, wave = 0) {
		for (; wave < n_waves; wave++) {
			jc_strv open = JC_STRV_INIT;
			jc_wait_result w = { 0 };
			char *gate = gate_for(&p, version, level, &waves[wave], &open);
			char spread[32];
			/* the hosts of the wave spread their moves as a whole fleet would */
			snprintf(spread, sizeof(spread), "%lld", jc_orch_spread_ms(o, open.n));
			jc_kv_op op[2] = { { JC_KV_OP_PUT, gkey, gate, strlen(gate), 0 },
					   { JC_KV_OP_PUT, skey, spread, strlen(spread), 0 } };
			int64_t deadline = jc_now_ms() + wave_timeout;
			/* a failure older than this run of the wave may have been
			 * fixed (resume): it does not spend the budget again */
			long long since = jc_wall_ms();
			long max_failures = rnum(r, "max_failures");

			json_object_object_add(r->j, "level", json_object_new_int64((int64_t)level));
			json_object_object_add(r->j, "wave", json_object_new_int64((int64_t)wave));
			json_object_object_add(r->j, "opened", json_object_new_int64((int64_t)open.n));
			json_object_object_add(r->j, "hosts", json_object_new_int64((int64_t)p.hosts.n));
			set_str(r, "message", NULL);
			rc = save(r, o, op, 2, err);
			free(gate);
			jc_log(o->logger, JC_LOG_INFO, "rollout", "%s: roles %s, wave %zu of %zu: %zu of %zu hosts open",
			       version, p.levels.v[level], wave + 1, n_waves, open.n, p.hosts.n);
			while (rc == 0) {
				struct rollout now;
				long long left = deadline - jc_now_ms();
				rc = jc_orch_wait_hosts_since(&w, o, version, (const char *const *)open.v, open.n,
							      left < CHECK_EVERY_MS ? (left > 0 ? left : 0) : CHECK_EVERY_MS,
							      max_failures, since, err);
				if (rc == 0 || rc == JC_EFAILED)
					break;
				if (rc != JC_ETIMEOUT)
					break;
				if (jc_now_ms() >= deadline)
					break;
				jc_error_clear(err);
				rc = load(&now, o, err);
				if (rc == 0) {
					const char *st = rstr(&now, "state");
					if (!jc_str_eq(st, "running")) {
						rc = jc_err(err, JC_ECANCELLED, "the rollout of %s was %s (wave %zu of %zu, roles %s)",
							    version, st, wave + 1, n_waves, p.levels.v[level]);
					}
					json_object_put(now.j);
				}
			}
			if (rc == JC_EFAILED || rc == JC_ETIMEOUT) {
				char *rep = report_text(&w, 20);
				char msg[900];
				snprintf(msg, sizeof(msg), "rollout of %s halted at wave %zu of %zu (roles %s, %zu hosts open): "
					 "%zu failed (budget %ld), %zu not there %s",
					 version, wave + 1, n_waves, p.levels.v[level], open.n, w.n_failed, max_failures,
					 w.n_lagging, rc == JC_ETIMEOUT ? "at the wave's deadline" : "yet");
				set_str(r, "state", "halted");
				set_str(r, "message", msg);
				json_object_object_add(r->j, "failed", names_json(w.failed, w.n_failed));
				json_object_object_add(r->j, "failures", names_json(w.fail_why, w.n_failed));
				json_object_object_add(r->j, "lagging", names_json(w.lag_why, w.n_lagging));
				jc_error saved;
				jc_error_clear(&saved);
				save(r, o, NULL, 0, &saved);
				rc = jc_err(err, JC_EFAILED, "%s%s", msg, rep);
				free(rep);
			}
			jc_wait_result_clear(&w);
			jc_strv_free(&open);
			if (rc < 0)
				goto out;
		}
	}
	/* complete: no gate any more, everyone follows desired/version */
	{
		jc_kv_op op = { JC_KV_OP_DELETE, gkey, NULL, 0, 0 };
		set_str(r, "state", "done");
		json_object_object_add(r->j, "level", json_object_new_int64((int64_t)p.levels.n));
		json_object_object_add(r->j, "failed", json_object_new_array());
		set_str(r, "message", NULL);
		rc = save(r, o, &op, 1, err);
		if (rc == 0)
			jc_log(o->logger, JC_LOG_INFO, "rollout", "%s: all %zu hosts at the version and healthy", version,
			       p.hosts.n);
	}
out:
	plan_free(&p);
	free(waves);
	free(gkey);
	free(skey);
	return rc;
}

static int check_opts(const jc_rollout_options *opts, jc_error *err)
{
	if (opts->version != JC_ROLLOUT_OPTIONS_VERSION)
		return jc_err(err, JC_EINVALID, "jc_rollout_options version %u is not supported", opts->version);
	if (opts->max_failures < 0)
		return jc_err(err, JC_EINVALID, "max_failures must not be negative");
	return 0;
}

int jc_rollout_start(jc_orch *o, const char *version, const jc_rollout_options *opts, jc_error *err)
{
	jc_rollout_options defaults = JC_ROLLOUT_OPTIONS_INIT;
	struct rollout r = { 0 };
	struct wave *waves;
	size_t n_waves;
	char *from = NULL, *vkey, *gkey, *gate;
	jc_kv_op ops[2];
	int rc;

	if (!opts)
		opts = &defaults;
	if ((rc = check_opts(opts, err)) < 0 || (rc = jc_orch_check_version(version, err)) < 0)
		return rc;
	if ((rc = parse_waves(&waves, &n_waves, opts->waves, err)) < 0)
		return rc;
	free(waves);
	rc = load(&r, o, err);
	if (rc == 0) {
		const char *st = rstr(&r, "state");
		if (jc_str_eq(st, "running") || jc_str_eq(st, "paused")) {
			rc = jc_err(err, JC_ELOCKED, "a rollout of %s is %s: resume it (jcicd rollout resume) or "
				    "abort it (jcicd rollout abort) first", rstr(&r, "version"), st);
			json_object_put(r.j);
			return rc;
		}
		json_object_put(r.j);
	} else if (rc != JC_ENOTFOUND) {
		return rc;
	}
	{
		/* a rollout nobody can take part in is refused before anything is
		 * written: a "running" record would lock out the next attempt */
		struct plan p;
		if ((rc = make_plan(&p, o, opts, err)) < 0)
			return rc;
		plan_free(&p);
	}
	jc_error_clear(err);
	if (jc_orch_desired(&from, o, err) < 0 && (!err || err->code != JC_ENOTFOUND)) {
		if (err && err->code != JC_ENOTFOUND)
			return err->code;
	}
	jc_error_clear(err);
	r.j = json_object_new_object();
	set_str(&r, "version", version);
	set_str(&r, "from", from);
	set_str(&r, "waves", opts->waves ? opts->waves : "100%");
	set_str(&r, "state", "running");
	json_object_object_add(r.j, "max_failures", json_object_new_int64(opts->max_failures));
	json_object_object_add(r.j, "level", json_object_new_int64(0));
	json_object_object_add(r.j, "wave", json_object_new_int64(0));
	json_object_object_add(r.j, "started", json_object_new_int64(jc_wall_ms() / 1000));
	free(from);
	/* the version and a closed gate appear together: no host moves early */
	vkey = jc_orch_key(o, "desired/version");
	gkey = jc_orch_key(o, "desired/gate");
	gate = jc_sprintf("{\"version\":\"%s\",\"roles\":{},\"all\":0}", version);
	ops[0] = (jc_kv_op){ JC_KV_OP_PUT, gkey, gate, strlen(gate), 0 };
	ops[1] = (jc_kv_op){ JC_KV_OP_PUT, vkey, version, strlen(version), 0 };
	{
		/* replace whatever record was there (done, halted, aborted) */
		jc_kv_pair cur;
		char *key = jc_orch_key(o, "rollout");
		r.mod = jc_kv_get(&cur, o->kv, key, NULL) == 0 ? cur.mod_revision : 0;
		jc_kv_pair_clear(&cur);
		free(key);
	}
	rc = save(&r, o, ops, 2, err);
	free(vkey);
	free(gkey);
	free(gate);
	if (rc == 0)
		rc = run(o, &r, opts, err);
	json_object_put(r.j);
	return rc;
}

int jc_rollout_resume(jc_orch *o, const jc_rollout_options *opts, jc_error *err)
{
	jc_rollout_options defaults = JC_ROLLOUT_OPTIONS_INIT;
	struct rollout r;
	const char *st;
	int rc;

	if (!opts)
		opts = &defaults;
	if ((rc = check_opts(opts, err)) < 0 || (rc = load(&r, o, err)) < 0)
		return rc;
	st = rstr(&r, "state");
	if (!jc_str_eq(st, "paused") && !jc_str_eq(st, "halted") && !jc_str_eq(st, "running")) {
		rc = jc_err(err, JC_EINVALID, "the rollout of %s is %s: nothing to resume", rstr(&r, "version"), st);
		json_object_put(r.j);
		return rc;
	}
	set_str(&r, "state", "running");
	if (opts->max_failures > rnum(&r, "max_failures"))
		json_object_object_add(r.j, "max_failures", json_object_new_int64(opts->max_failures));
	rc = save(&r, o, NULL, 0, err);
	if (rc == 0)
		rc = run(o, &r, opts, err);
	json_object_put(r.j);
	return rc;
}
