/* orchestrate.c - the version protocol: desired version, host reports,
 * operator overrides, and the incrementally maintained fleet view. */
#include "common.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jcicd/orchestrate.h"
#include "orchestrate-internal.h"

int jc_orch_open(jc_orch **out, jc_kv *kv, const jc_orch_options *opts, jc_error *err)
{
	jc_orch *o;
	const char *prefix = opts && opts->prefix && *opts->prefix ? opts->prefix : "/jcicd/";

	*out = NULL;
	if (opts && (opts->version < 1 || opts->version > JC_ORCH_OPTIONS_VERSION))
		return jc_err(err, JC_EINVALID, "jc_orch_options version %u is not supported", opts->version);
	o = jc_calloc(1, sizeof(*o));
	o->kv = kv;
	o->prefix = jc_str_ends(prefix, "/") ? jc_strdup(prefix) : jc_sprintf("%s/", prefix);
	o->hosts_prefix = jc_sprintf("%shosts/", o->prefix);
	o->cache_file = opts ? jc_strdup(opts->cache_file) : NULL;
	o->logger = opts ? opts->logger : NULL;
	/* what both stores took on a 2-core machine beside 10,000 simulated
	 * agents (bench/fleet), a report being one put and keep-alives kept
	 * out of the window: bursts queue briefly, nothing is refused */
	o->report_rate = opts && opts->version >= 2 && opts->report_rate > 0 ? opts->report_rate : 2000;
	*out = o;
	return 0;
}

static void view_clear(jc_orch *o)
{
	for (size_t i = 0; i < o->n; i++) {
		free(o->e[i].key);
		free(o->e[i].value);
	}
	o->n = 0;
}

static void hosts_clear(jc_orch *o)
{
	free(o->hosts);
	o->hosts = NULL;
	o->n_hosts = 0;
	jc_strv_free(&o->pool);
}

void jc_orch_free(jc_orch *o)
{
	if (!o)
		return;
	view_clear(o);
	free(o->e);
	hosts_clear(o);
	jc_kv_watch_free(o->watch);
	free(o->prefix);
	free(o->hosts_prefix);
	free(o->cache_file);
	free(o->last_health);
	free(o->last_version);
	free(o->last_host);
	free(o);
}

jc_kv *jc_orch_kv(jc_orch *o) { return o->kv; }

char *jc_orch_key(const jc_orch *o, const char *rest)
{
	return jc_sprintf("%s%s", o->prefix, rest);
}

/* ---- desired version */

long long jc_orch_spread_ms(const jc_orch *o, size_t hosts)
{
	return (long long)hosts * 1000 / o->report_rate;
}

int64_t jc_orch_keepalive_due_ms(int64_t due_ms, int64_t renewed_ms, long ttl_s, long long window_ms,
				 int64_t now_ms)
{
	int64_t end = now_ms + window_ms, latest = renewed_ms + (int64_t)ttl_s * 2000 / 3, at;
	if (window_ms <= 0 || due_ms >= end)
		return due_ms;
	at = end + (int64_t)jc_random((uint64_t)window_ms);
	if (at > latest)
		at = latest;
	return at > due_ms ? at : due_ms;
}

int jc_orch_trigger_update(jc_orch *o, const char *version, jc_error *err)
{
	char *vkey = jc_orch_key(o, "desired/version"), *gkey = jc_orch_key(o, "desired/gate");
	char *skey = jc_orch_key(o, "desired/spread_ms"), spread[32];
	jc_kv_op ops[3] = {
		{ JC_KV_OP_PUT, vkey, version, strlen(version), 0 },
		{ JC_KV_OP_DELETE, gkey, NULL, 0, 0 },
		{ JC_KV_OP_PUT, skey, spread, 0, 0 },
	};
	int rc = jc_orch_check_version(version, err);
	/* the fleet's size, from the view (with a cache file: what changed) */
	if (rc == 0 && (rc = jc_orch_refresh(o, err)) == 0) {
		size_t alive = 0;
		for (size_t i = 0; i < jc_orch_host_count(o); i++)
			alive += jc_orch_host(o, i)->alive;
		snprintf(spread, sizeof(spread), "%lld", jc_orch_spread_ms(o, alive));
		ops[2].value_len = strlen(spread);
		rc = jc_kv_txn(o->kv, NULL, 0, ops, 3, NULL, 0, NULL, NULL, err);
	}
	free(vkey);
	free(gkey);
	free(skey);
	return rc;
}

int jc_orch_check_version(const char *v, jc_error *err)
{
	if (!v || !*v)
		return jc_err(err, JC_EINVALID, "a version must not be empty");
	if (strlen(v) > 128)
		return jc_err(err, JC_EINVALID, "version '%.40s...' is longer than 128 characters", v);
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == '/' || (unsigned char)*p == 0x7f)
			return jc_err(err, JC_EINVALID, "version '%s' has a space, '/' or control character", v);
	return 0;
}

int jc_orch_desired(char **out, jc_orch *o, jc_error *err)
{
	jc_kv_pair p;
	char *key = jc_orch_key(o, "desired/version");
	int rc = jc_kv_get(&p, o->kv, key, err);
	free(key);
	*out = NULL;
	if (rc < 0) {
		if (rc == JC_ENOTFOUND)
			jc_err(err, JC_ENOTFOUND, "no desired version has been set (jcicd trigger-update V)");
		return rc;
	}
	*out = p.value;
	p.value = NULL;
	jc_kv_pair_clear(&p);
	return 0;
}

uint32_t jc_orch_host_hash(const char *h)
{
	uint32_t x = 2166136261u;
	for (const unsigned char *p = (const unsigned char *)h; *p; p++) {
		x ^= *p;
		x *= 16777619u;
	}
	/* FNV's low bits mix poorly for short similar names: finish with a
	 * murmur-style avalanche */
	x ^= x >> 16;
	x *= 0x85ebca6bu;
	x ^= x >> 13;
	x *= 0xc2b2ae35u;
	x ^= x >> 16;
	return x;
}

int jc_orch_target_for(char **out, const char *desired, const char *gate, const char *hostname,
		       const char *role)
{
	json_object *g, *v, *roles, *t = NULL;
	int64_t threshold = 0;

	*out = NULL;
	if (!desired || !*desired)
		return 0;
	if (!gate || !*gate) {
		*out = jc_strdup(desired);
		return 0;
	}
	g = json_tokener_parse(gate);
	if (!g) {
		/* an unreadable gate holds everyone: safer than opening everyone */
		return 0;
	}
	if (!json_object_object_get_ex(g, "version", &v) || strcmp(json_object_get_string(v), desired) != 0) {
		/* a gate for another version does not apply */
		*out = jc_strdup(desired);
		json_object_put(g);
		return 0;
	}
	if (json_object_object_get_ex(g, "roles", &roles) && role && *role)
		json_object_object_get_ex(roles, role, &t);
	if (!t)
		json_object_object_get_ex(g, "all", &t);
	if (t)
		threshold = json_object_get_int64(t);
	if ((int64_t)jc_orch_host_hash(hostname) < threshold)
		*out = jc_strdup(desired);
	json_object_put(g);
	return 0;
}

/* ---- reports */

static void json_set_str(json_object *o, const char *k, const char *v)
{
	if (v)
		json_object_object_add(o, k, json_object_new_string(v));
}

int jc_orch_register(jc_orch *o, const jc_host_report *h, int64_t lease, jc_error *err)
{
	json_object *j = json_object_new_object();
	char *key, *rest;
	const char *val;
	int rc;

	if (!h->hostname || !*h->hostname || strchr(h->hostname, '/'))
		return jc_err(err, JC_EINVALID, "hostname '%s' is empty or has a '/'",
			      h->hostname ? h->hostname : "");
	json_set_str(j, "role", h->role ? h->role : "");
	json_set_str(j, "tag", h->tag ? h->tag : "");
	json_object_object_add(j, "since", json_object_new_int64(jc_wall_ms() / 1000));
	val = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN);
	rest = jc_sprintf("%s/alive", h->hostname);
	key = jc_sprintf("%s%s", o->hosts_prefix, rest);
	rc = jc_kv_put(o->kv, key, val, strlen(val), lease, NULL, err);
	free(rest);
	free(key);
	json_object_put(j);
	if (rc == 0 && lease != o->last_lease) {
		/* a new lease: everything reported under the old one is gone */
		free(o->last_health);
		free(o->last_version);
		o->last_health = o->last_version = NULL;
		o->last_lease = lease;
	}
	return rc;
}

int jc_orch_report(jc_orch *o, const jc_host_report *r, int64_t lease, jc_error *err)
{
	json_object *j = json_object_new_object();
	char *hkey, *cmp;
	const char *val, *running;
	int rc = 0;

	if (!r->hostname || !*r->hostname || strchr(r->hostname, '/'))
		return jc_err(err, JC_EINVALID, "hostname '%s' is empty or has a '/'",
			      r->hostname ? r->hostname : "");
	if (r->running_version && (rc = jc_orch_check_version(r->running_version, err)) < 0)
		return rc;
	if (lease != o->last_lease || !jc_str_eq(o->last_host, r->hostname)) {
		/* what we remember is about one host under one lease */
		free(o->last_health);
		free(o->last_version);
		free(o->last_host);
		o->last_health = o->last_version = NULL;
		o->last_host = jc_strdup(r->hostname);
		o->last_lease = lease;
	}
	/* a failed attempt leaves the host at what it last converged to */
	running = r->running_version ? r->running_version : o->last_version;
	json_object_object_add(j, "ok", json_object_new_boolean(r->healthy));
	json_set_str(j, "version", r->attempted_version);
	json_set_str(j, "running", running);
	json_set_str(j, "stage", r->stage);
	json_set_str(j, "message", r->message ? r->message : "");
	json_set_str(j, "role", r->role);
	if (r->converge_rc >= 0)
		json_object_object_add(j, "converge_rc", json_object_new_int(r->converge_rc));
	if (r->validation_rc >= 0)
		json_object_object_add(j, "validation_rc", json_object_new_int(r->validation_rc));
	/* the time alone changing is not news: compare without it */
	cmp = jc_strdup(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
	json_object_object_add(j, "time", json_object_new_int64(jc_wall_ms() / 1000));
	json_object_object_add(j, "time_ms", json_object_new_int64(jc_wall_ms()));
	val = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN);
	/* one key, one plain write: the running version rides in the health
	 * record, so a report costs the store one put, not a txn of two */
	hkey = jc_sprintf("%s%s/health", o->hosts_prefix, r->hostname);
	if (!jc_str_eq(cmp, o->last_health))
		rc = jc_kv_put(o->kv, hkey, val, strlen(val), lease, NULL, err);
	if (rc == 0) {
		free(o->last_health);
		o->last_health = cmp;
		cmp = NULL;
		if (running != o->last_version) {
			char *copy = jc_strdup(running);
			free(o->last_version);
			o->last_version = copy;
		}
	}
	free(cmp);
	free(hkey);
	json_object_put(j);
	return rc;
}

/* ---- the raw view: every key under hosts/, sorted */

static ssize_t view_find(const jc_orch *o, const char *key, bool *found)
{
	size_t lo = 0, hi = o->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(o->e[mid].key, key);
		if (c == 0) {
			*found = true;
			return (ssize_t)mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return (ssize_t)lo;
}

void jc_orch_view_put(jc_orch *o, const char *key, const char *value, int64_t mod)
{
	bool found;
	ssize_t i = view_find(o, key, &found);
	if (found) {
		free(o->e[i].value);
		o->e[i].value = jc_strdup(value);
		o->e[i].mod = mod;
		return;
	}
	if (o->n == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 64;
		o->e = jc_realloc(o->e, o->cap * sizeof(*o->e));
	}
	memmove(&o->e[i + 1], &o->e[i], (o->n - (size_t)i) * sizeof(*o->e));
	o->e[i].key = jc_strdup(key);
	o->e[i].value = jc_strdup(value);
	o->e[i].mod = mod;
	o->n++;
}

void jc_orch_view_del(jc_orch *o, const char *key)
{
	bool found;
	ssize_t i = view_find(o, key, &found);
	if (!found)
		return;
	free(o->e[i].key);
	free(o->e[i].value);
	memmove(&o->e[i], &o->e[i + 1], (o->n - (size_t)i - 1) * sizeof(*o->e));
	o->n--;
}

static const char *pool(jc_orch *o, const char *s)
{
	if (!s)
		return NULL;
	jc_strv_push(&o->pool, s);
	return o->pool.v[o->pool.n - 1];
}

static const char *jstr(json_object *j, const char *k)
{
	json_object *v;
	if (j && json_object_object_get_ex(j, k, &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

/* Rebuilds the host list from the raw view. */
void jc_orch_derive(jc_orch *o)
{
	size_t plen = strlen(o->hosts_prefix);
	bool running_in_health = false;
	hosts_clear(o);
	o->hosts = jc_calloc(o->n ? o->n : 1, sizeof(*o->hosts));
	for (size_t i = 0; i < o->n; i++) {
		const char *rest = o->e[i].key + plen, *slash = strchr(rest, '/');
		jc_host *h;
		char *name;
		if (!slash)
			continue;
		name = jc_strndup(rest, (size_t)(slash - rest));
		if (o->n_hosts == 0 || strcmp(o->hosts[o->n_hosts - 1].hostname, name) != 0) {
			h = &o->hosts[o->n_hosts++];
			memset(h, 0, sizeof(*h));
			h->hostname = pool(o, name);
			h->role = "";
			h->tag = "";
			running_in_health = false;
		}
		free(name);
		h = &o->hosts[o->n_hosts - 1];
		if (strcmp(slash, "/alive") == 0) {
			json_object *j = json_tokener_parse(o->e[i].value);
			h->alive = true;
			if (jstr(j, "role"))
				h->role = pool(o, jstr(j, "role"));
			if (jstr(j, "tag"))
				h->tag = pool(o, jstr(j, "tag"));
			json_object_put(j);
		} else if (strcmp(slash, "/version") == 0) {
			/* from agents before the running version moved into health;
			 * without a lease (--once) it outlives them: health wins */
			if (!running_in_health)
				h->version = pool(o, o->e[i].value);
		} else if (strcmp(slash, "/health") == 0) {
			json_object *j = json_tokener_parse(o->e[i].value), *v;
			h->has_health = j != NULL;
			if (jstr(j, "running")) {
				h->version = pool(o, jstr(j, "running"));
				running_in_health = true;
			}
			h->healthy = j && json_object_object_get_ex(j, "ok", &v) && json_object_get_boolean(v);
			h->stage = pool(o, jstr(j, "stage"));
			h->message = pool(o, jstr(j, "message"));
			h->attempted_version = pool(o, jstr(j, "version"));
			if (j && json_object_object_get_ex(j, "time", &v))
				h->health_time = json_object_get_int64(v);
			if (j && json_object_object_get_ex(j, "time_ms", &v))
				h->health_time_ms = json_object_get_int64(v);
			else
				h->health_time_ms = h->health_time * 1000;
			if ((!h->role || !*h->role) && jstr(j, "role"))
				h->role = pool(o, jstr(j, "role"));
			json_object_put(j);
		}
	}
}

size_t jc_orch_host_count(const jc_orch *o) { return o->n_hosts; }
const jc_host *jc_orch_host(const jc_orch *o, size_t i) { return i < o->n_hosts ? &o->hosts[i] : NULL; }
long jc_orch_keys_read(const jc_orch *o) { return o->keys_read; }

const jc_host *jc_orch_host_find(const jc_orch *o, const char *name)
{
	size_t lo = 0, hi = o->n_hosts;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(o->hosts[mid].hostname, name);
		if (c == 0)
			return &o->hosts[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ---- the cache file: {"kv":URL,"prefix":P,"revision":R,"keys":[[k,v,mod],...]} */

static void cache_load(jc_orch *o)
{
	char *text = NULL;
	size_t len;
	json_object *j, *keys, *v;
	o->cache_loaded = true;
	if (!o->cache_file || jc_file_read(o->cache_file, &text, &len, NULL) < 0)
		return;
	j = json_tokener_parse(text);
	free(text);
	if (!j)
		return;
	if (jc_str_eq(jstr(j, "kv"), jc_kv_url(o->kv)) && jc_str_eq(jstr(j, "prefix"), o->prefix) &&
	    json_object_object_get_ex(j, "keys", &keys) && json_object_object_get_ex(j, "revision", &v)) {
		o->rev = json_object_get_int64(v);
		for (size_t i = 0; i < json_object_array_length(keys); i++) {
			json_object *t = json_object_array_get_idx(keys, i);
			jc_orch_view_put(o, json_object_get_string(json_object_array_get_idx(t, 0)),
					 json_object_get_string(json_object_array_get_idx(t, 1)),
					 json_object_get_int64(json_object_array_get_idx(t, 2)));
		}
	}
	json_object_put(j);
}

static void cache_save(jc_orch *o)
{
	json_object *j, *keys;
	const char *text;
	char *dir, *slash;
	if (!o->cache_file)
		return;
	j = json_object_new_object();
	keys = json_object_new_array();
	json_object_object_add(j, "kv", json_object_new_string(jc_kv_url(o->kv)));
	json_object_object_add(j, "prefix", json_object_new_string(o->prefix));
	json_object_object_add(j, "revision", json_object_new_int64(o->rev));
	for (size_t i = 0; i < o->n; i++) {
		json_object *t = json_object_new_array();
		json_object_array_add(t, json_object_new_string(o->e[i].key));
		json_object_array_add(t, json_object_new_string(o->e[i].value));
		json_object_array_add(t, json_object_new_int64(o->e[i].mod));
		json_object_array_add(keys, t);
	}
	json_object_object_add(j, "keys", keys);
	text = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN);
	dir = jc_strdup(o->cache_file);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		jc_mkdir_p(dir, 0755, NULL);
	}
	free(dir);
	/* a cache: failing to write it only costs a full read next time */
	jc_file_write_atomic(o->cache_file, text, strlen(text), 0644, NULL);
	json_object_put(j);
}

/* Every key of hosts/ from scratch, page by page. */
static int full_read(jc_orch *o, jc_error *err)
{
	jc_kv_range_options ro = JC_KV_RANGE_OPTIONS_INIT;
	char *after = NULL;
	int64_t rev = 0;
	int rc;

	view_clear(o);
	ro.limit = 1000;
	for (;;) {
		jc_kv_list l;
		ro.start_after = after;
		if ((rc = jc_kv_range(&l, o->kv, o->hosts_prefix, &ro, err)) < 0)
			break;
		if (!rev)
			rev = l.revision;
		for (size_t i = 0; i < l.n; i++)
			jc_orch_view_put(o, l.items[i].key, l.items[i].value, l.items[i].mod_revision);
		o->keys_read += (long)l.n;
		free(after);
		after = l.n ? jc_strdup(l.items[l.n - 1].key) : NULL;
		bool more = l.more;
		jc_kv_list_clear(&l);
		if (!more)
			break;
	}
	free(after);
	if (rc == 0)
		o->rev = rev;
	return rc;
}

int jc_orch_refresh(jc_orch *o, jc_error *err)
{
	jc_kv_range_options ro = JC_KV_RANGE_OPTIONS_INIT;
	char *after = NULL;
	int64_t rev = 0, count = 0;
	int rc = 0;

	if (!o->cache_loaded)
		cache_load(o);
	if (o->rev == 0) {
		rc = full_read(o, err);
		goto done;
	}
	/* what changed since our revision (the answer's count is every key) */
	ro.limit = 1000;
	ro.min_mod_revision = o->rev + 1;
	for (;;) {
		jc_kv_list l;
		ro.start_after = after;
		if ((rc = jc_kv_range(&l, o->kv, o->hosts_prefix, &ro, err)) < 0)
			break;
		if (!rev) {
			rev = l.revision;
			count = l.count;
		}
		for (size_t i = 0; i < l.n; i++)
			jc_orch_view_put(o, l.items[i].key, l.items[i].value, l.items[i].mod_revision);
		o->keys_read += (long)l.n;
		free(after);
		after = l.n ? jc_strdup(l.items[l.n - 1].key) : NULL;
		bool more = l.more;
		jc_kv_list_clear(&l);
		if (!more)
			break;
	}
	free(after);
	after = NULL;
	if (rc < 0)
		goto done;
	if (rev < o->rev) {
		/* the store went back in time (recreated): start over */
		jc_log(o->logger, JC_LOG_NOTICE, "orchestrate", "KV revision went back from %lld to %lld; reading all",
		       (long long)o->rev, (long long)rev);
		rc = full_read(o, err);
		goto done;
	}
	if ((int64_t)o->n != count) {
		/* some keys went (a lease expired): find which, by name only */
		jc_strv present = JC_STRV_INIT;
		jc_kv_range_options ko = JC_KV_RANGE_OPTIONS_INIT;
		ko.keys_only = true;
		ko.limit = 5000;
		for (;;) {
			jc_kv_list l;
			ko.start_after = after;
			if ((rc = jc_kv_range(&l, o->kv, o->hosts_prefix, &ko, err)) < 0)
				break;
			for (size_t i = 0; i < l.n; i++)
				jc_strv_push(&present, l.items[i].key);
			free(after);
			after = l.n ? jc_strdup(l.items[l.n - 1].key) : NULL;
			bool more = l.more;
			jc_kv_list_clear(&l);
			if (!more)
				break;
		}
		free(after);
		if (rc == 0) {
			/* both lists are sorted: walk them together */
			size_t j = 0;
			for (size_t i = 0; i < o->n;) {
				while (j < present.n && strcmp(present.v[j], o->e[i].key) < 0)
					j++;
				if (j < present.n && strcmp(present.v[j], o->e[i].key) == 0) {
					i++;
					continue;
				}
				jc_orch_view_del(o, o->e[i].key);
			}
		}
		jc_strv_free(&present);
	}
	if (rc == 0)
		o->rev = rev;
done:
	if (rc == 0) {
		jc_orch_derive(o);
		cache_save(o);
	}
	return rc;
}

int jc_orch_wait_change(jc_orch *o, long long timeout_ms, bool *changed, jc_error *err)
{
	jc_kv_events ev;
	int rc;

	*changed = false;
	if (o->rev == 0 && (rc = jc_orch_refresh(o, err)) < 0)
		return rc;
	if (!o->watch && (rc = jc_kv_watch_open(&o->watch, o->kv, o->hosts_prefix, o->rev + 1, err)) < 0)
		return rc;
	rc = jc_kv_watch_next(&ev, o->watch, timeout_ms, err);
	if (rc < 0)
		return rc;
	if (ev.compacted) {
		jc_kv_events_clear(&ev);
		jc_kv_watch_free(o->watch);
		o->watch = NULL;
		o->rev = 0;
		*changed = true;
		return jc_orch_refresh(o, err);
	}
	for (size_t i = 0; i < ev.n; i++) {
		if (ev.items[i].type == JC_KV_EVENT_PUT)
			jc_orch_view_put(o, ev.items[i].kv.key, ev.items[i].kv.value, ev.items[i].kv.mod_revision);
		else
			jc_orch_view_del(o, ev.items[i].kv.key);
	}
	o->keys_read += (long)ev.n;
	if (ev.n) {
		*changed = true;
		if (ev.revision > o->rev)
			o->rev = ev.revision;
		jc_orch_derive(o);
	}
	jc_kv_events_clear(&ev);
	return 0;
}

/* ---- config state */

static int config_key(char **out, const jc_orch *o, const char *type, const char *scope,
		      const char *name, const char *key, jc_error *err)
{
	*out = NULL;
	if (!type || (strcmp(type, "state") != 0 && strcmp(type, "version") != 0))
		return jc_err(err, JC_EINVALID, "config type must be 'state' or 'version', not '%s'",
			      type ? type : "");
	if (!key || !*key || strchr(key, '/'))
		return jc_err(err, JC_EINVALID, "config key '%s' is empty or has a '/'", key ? key : "");
	if (scope && strcmp(scope, "global") == 0) {
		*out = jc_sprintf("%sconfig_%s/global/%s", o->prefix, type, key);
		return 0;
	}
	if (scope && (strcmp(scope, "role") == 0 || strcmp(scope, "host") == 0)) {
		if (!name || !*name || strchr(name, '/'))
			return jc_err(err, JC_EINVALID, "config scope '%s' needs a %s name", scope, scope);
		*out = jc_sprintf("%sconfig_%s/%s/%s/%s", o->prefix, type, scope, name, key);
		return 0;
	}
	/* jorc matched scopes by substring, so "glob" passed: not here */
	return jc_err(err, JC_EINVALID, "config scope must be 'global', 'role' or 'host', not '%s'",
		      scope ? scope : "");
}

int jc_orch_config_set(jc_orch *o, const char *type, const char *scope, const char *name,
		       const char *key, const char *value, jc_error *err)
{
	char *k;
	int rc = config_key(&k, o, type, scope, name, key, err);
	if (rc < 0)
		return rc;
	if (value)
		rc = jc_kv_put(o->kv, k, value, strlen(value), 0, NULL, err);
	else
		rc = jc_kv_delete(o->kv, k, false, NULL, err);
	free(k);
	return rc;
}

int jc_orch_config_lookup(char **out, jc_orch *o, const char *type, const char *key, const char *role,
			  const char *hostname, jc_error *err)
{
	const char *scopes[3] = { "host", "role", "global" };
	const char *names[3] = { hostname, role, NULL };
	int rc;

	*out = NULL;
	for (int i = 0; i < 3; i++) {
		char *k;
		jc_kv_pair p;
		if (i < 2 && (!names[i] || !*names[i]))
			continue;
		if ((rc = config_key(&k, o, type, scopes[i], names[i], key, err)) < 0)
			return rc;
		rc = jc_kv_get(&p, o->kv, k, err);
		free(k);
		if (rc == 0) {
			*out = p.value;
			p.value = NULL;
			jc_kv_pair_clear(&p);
			return 0;
		}
		if (rc != JC_ENOTFOUND)
			return rc;
	}
	return jc_err(err, JC_ENOTFOUND, "%s is not set for %s", key, hostname ? hostname : "this host");
}

int jc_orch_upgrades_enabled(bool *out, jc_orch *o, const char *role, const char *hostname, jc_error *err)
{
	char *v = NULL;
	int rc = jc_orch_config_lookup(&v, o, "state", "enable_puppet", role, hostname, err);
	*out = true;
	if (rc == JC_ENOTFOUND) {
		jc_error_clear(err);
		return 0;
	}
	if (rc < 0)
		return rc;
	*out = strstr(v, "rue") != NULL;
	free(v);
	return 0;
}

/* ---- waiting for hosts */

void jc_wait_result_clear(jc_wait_result *r)
{
	char **lists[] = { r->ready, r->lagging, r->lag_why, r->failed, r->fail_why };
	size_t ns[] = { r->n_ready, r->n_lagging, r->n_lagging, r->n_failed, r->n_failed };
	for (size_t l = 0; l < JC_ARRAY_LEN(lists); l++) {
		for (size_t i = 0; i < ns[l]; i++)
			free(lists[l][i]);
		free(lists[l]);
	}
	memset(r, 0, sizeof(*r));
}

static void push(char ***v, size_t *n, char *s)
{
	*v = jc_realloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = s;
}

void jc_orch_classify(const jc_orch *o, const char *version, const char *const *names, size_t n,
		      long long since_ms, jc_wait_result *r)
{
	jc_wait_result_clear(r);
	for (size_t i = 0; i < n; i++) {
		const jc_host *h = jc_orch_host_find(o, names[i]);
		size_t nl = r->n_lagging, nf = r->n_failed;
		if (!h) {
			push(&r->lagging, &r->n_lagging, jc_strdup(names[i]));
			push(&r->lag_why, &nl, jc_sprintf("%s: not registered (no agent has reported)", names[i]));
		} else if (h->has_health && !h->healthy && jc_str_eq(h->attempted_version, version) &&
			   h->health_time_ms >= since_ms) {
			push(&r->failed, &r->n_failed, jc_strdup(names[i]));
			push(&r->fail_why, &nf, jc_sprintf("%s: %s failed at %s: %s", names[i],
							  h->stage ? h->stage : "run", version,
							  h->message && *h->message ? h->message : "(no message)"));
		} else if (jc_str_eq(h->version, version) && (!h->has_health || h->healthy)) {
			push(&r->ready, &r->n_ready, jc_strdup(names[i]));
		} else {
			char *why;
			if (!h->alive)
				why = jc_sprintf("%s: not alive (lease expired or agent stopped)", names[i]);
			else if (h->has_health && !h->healthy && jc_str_eq(h->attempted_version, version))
				why = jc_sprintf("%s: failed at %s before this wait (%s: %s); waiting for it to recover",
						 names[i], version, h->stage ? h->stage : "run", h->message ? h->message : "");
			else if (h->has_health && jc_str_eq(h->attempted_version, version))
				why = jc_sprintf("%s: working on %s (%s)", names[i], version, h->stage ? h->stage : "");
			else if (h->version)
				why = jc_sprintf("%s: runs %s", names[i], h->version);
			else
				why = jc_sprintf("%s: no version reported yet", names[i]);
			push(&r->lagging, &r->n_lagging, jc_strdup(names[i]));
			push(&r->lag_why, &nl, why);
		}
	}
}

int jc_orch_wait_hosts(jc_wait_result *out, jc_orch *o, const char *version, const char *const *names,
		       size_t n, long long timeout_ms, long max_failures, jc_error *err)
{
	return jc_orch_wait_hosts_since(out, o, version, names, n, timeout_ms, max_failures, 0, err);
}

int jc_orch_wait_hosts_since(jc_wait_result *out, jc_orch *o, const char *version, const char *const *names,
			     size_t n, long long timeout_ms, long max_failures, long long since_ms, jc_error *err)
{
	int64_t deadline = jc_now_ms() + timeout_ms;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = jc_orch_refresh(o, err)) < 0)
		return rc;
	for (;;) {
		bool changed;
		int64_t left;
		jc_orch_classify(o, version, names, n, since_ms, out);
		jc_progress(o->logger, "orchestrate", "hosts at the version", (long)out->n_ready, (long)n);
		if (out->n_ready == n)
			return 0;
		if (max_failures >= 0 && (long)out->n_failed > max_failures)
			return jc_err(err, JC_EFAILED, "%zu of %zu hosts failed at %s", out->n_failed, n, version);
		left = deadline - jc_now_ms();
		if (left <= 0)
			return jc_err(err, JC_ETIMEOUT, "%zu of %zu hosts not at %s and healthy after %lld s",
				      n - out->n_ready, n, version, timeout_ms / 1000);
		if ((rc = jc_orch_wait_change(o, left < 5000 ? left : 5000, &changed, err)) < 0) {
			/* a store that stops answering mid-wait: keep waiting
			 * within the deadline, the watch resumes by itself */
			if (rc != JC_EUNREACHABLE)
				return rc;
			jc_log(o->logger, JC_LOG_WARN, "orchestrate", "%s", err ? err->message : "KV unreachable");
			jc_sleep_ms(left < 1000 ? left : 1000);
		}
	}
}
