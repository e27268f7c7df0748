/* kv.c - the KV front end: finds the backend for a URL, checks arguments,
 * turns prefixes into ranges. */
#include "common.h"

#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "jcicd/sys/kv.h"
#include "kv-internal.h"

struct jc_kv {
	const jc_kv_provider *p;
	void *state;
	char *url;
};

struct jc_kv_watch {
	const jc_kv_provider *p;
	void *state;
};

#define MAX_PROVIDERS 8
static const jc_kv_provider *providers[MAX_PROVIDERS];
static size_t n_providers;
static pthread_mutex_t providers_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;

static void register_builtin(void)
{
	providers[n_providers++] = &jc_kv_sqlite_provider;
	providers[n_providers++] = &jc_kv_etcd_provider;
}

int jc_kv_register(const jc_kv_provider *p, jc_error *err)
{
	int rc = 0;
	pthread_once(&builtin_once, register_builtin);
	if (!p || p->version != JC_KV_PROVIDER_VERSION || !p->scheme)
		return jc_err(err, JC_EINVALID, "KV provider table of an unsupported version");
	pthread_mutex_lock(&providers_lock);
	if (n_providers == MAX_PROVIDERS)
		rc = jc_err(err, JC_EINVALID, "too many KV providers registered");
	else
		providers[n_providers++] = p;
	pthread_mutex_unlock(&providers_lock);
	return rc;
}

static bool scheme_is(const char *url, const char *scheme)
{
	size_t n = strlen(scheme);
	return strncmp(url, scheme, n) == 0 && strncmp(url + n, "://", 3) == 0;
}

static const jc_kv_provider *find_provider(const char *url)
{
	const jc_kv_provider *found = NULL;
	pthread_mutex_lock(&providers_lock);
	for (size_t i = n_providers; i-- > 0 && !found;) {
		const jc_kv_provider *p = providers[i];
		if (scheme_is(url, p->scheme))
			found = p;
		for (const char *const *a = p->aliases; !found && a && *a; a++)
			if (scheme_is(url, *a))
				found = p;
	}
	pthread_mutex_unlock(&providers_lock);
	return found;
}

/* user:password@ in a URL never reaches logs or errors */
char *jc_kv_url_redact(const char *url)
{
	const char *s = strstr(url, "://"), *at, *slash;
	if (!s)
		return jc_strdup(url);
	s += 3;
	at = strchr(s, '@');
	slash = strchr(s, '/');
	if (!at || (slash && slash < at))
		return jc_strdup(url);
	return jc_sprintf("%.*s%s", (int)(s - url), url, at + 1);
}

int jc_kv_open(jc_kv **out, const char *url, const jc_kv_options *opts, jc_error *err)
{
	const jc_kv_provider *p;
	jc_kv_options full = JC_KV_OPTIONS_INIT;
	jc_kv *kv;
	int rc;

	*out = NULL;
	pthread_once(&builtin_once, register_builtin);
	if (opts && opts->version == 1) {
		/* a caller built against version 1 passed the struct up to
		 * short_connections: the rest keeps its defaults */
		memcpy(&full, opts, offsetof(jc_kv_options, source_address));
		full.version = JC_KV_OPTIONS_VERSION;
		opts = &full;
	}
	if (opts && opts->version != JC_KV_OPTIONS_VERSION)
		return jc_err(err, JC_EINVALID, "jc_kv_options version %u is not supported", opts->version);
	if (!url || !*url)
		return jc_err(err, JC_EINVALID, "no KV URL given (sqlite:///path or etcd://host:port)");
	p = find_provider(url);
	if (!p) {
		char *safe = jc_kv_url_redact(url);
		rc = jc_err(err, JC_EINVALID,
			    "KV URL '%s' has an unknown scheme (expected sqlite:///path, etcd://host:port or etcds://host:port)",
			    safe);
		free(safe);
		return rc;
	}
	kv = jc_calloc(1, sizeof(*kv));
	kv->p = p;
	kv->url = jc_kv_url_redact(url);
	rc = p->open(&kv->state, url, opts, err);
	if (rc < 0) {
		free(kv->url);
		free(kv);
		return rc;
	}
	*out = kv;
	return 0;
}

void jc_kv_free(jc_kv *kv)
{
	if (!kv)
		return;
	kv->p->close(kv->state);
	free(kv->url);
	free(kv);
}

const char *jc_kv_url(const jc_kv *kv) { return kv->url; }
const char *jc_kv_backend(const jc_kv *kv) { return kv->p->scheme; }

void jc_kv_pair_clear(jc_kv_pair *pair)
{
	if (!pair)
		return;
	free(pair->key);
	free(pair->value);
	memset(pair, 0, sizeof(*pair));
}

void jc_kv_list_clear(jc_kv_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->n; i++)
		jc_kv_pair_clear(&list->items[i]);
	free(list->items);
	memset(list, 0, sizeof(*list));
}

void jc_kv_events_clear(jc_kv_events *ev)
{
	if (!ev)
		return;
	for (size_t i = 0; i < ev->n; i++)
		jc_kv_pair_clear(&ev->items[i].kv);
	free(ev->items);
	memset(ev, 0, sizeof(*ev));
}

char *jc_kv_prefix_end(const char *prefix)
{
	size_t n = strlen(prefix);
	char *end = jc_strdup(prefix);
	while (n > 0) {
		unsigned char c = (unsigned char)end[n - 1];
		if (c < 0xff) {
			end[n - 1] = (char)(c + 1);
			end[n] = '\0';
			return end;
		}
		n--;
	}
	end[0] = '\0';
	return end;
}

static int check_key(const char *key, jc_error *err)
{
	if (!key || !*key)
		return jc_err(err, JC_EINVALID, "a KV key must not be empty");
	return 0;
}

int jc_kv_get(jc_kv_pair *out, jc_kv *kv, const char *key, jc_error *err)
{
	jc_kv_list list = { 0 };
	jc_kv_range_options o = JC_KV_RANGE_OPTIONS_INIT;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = check_key(key, err)) < 0)
		return rc;
	rc = kv->p->range(kv->state, &list, key, NULL, &o, err);
	if (rc < 0)
		return rc;
	if (list.n == 0) {
		jc_kv_list_clear(&list);
		return jc_err(err, JC_ENOTFOUND, "%s: no key %s", kv->url, key);
	}
	*out = list.items[0];
	memset(&list.items[0], 0, sizeof(list.items[0]));
	jc_kv_list_clear(&list);
	return 0;
}

int jc_kv_put(jc_kv *kv, const char *key, const char *value, size_t value_len, int64_t lease,
	      int64_t *out_revision, jc_error *err)
{
	int rc;
	if ((rc = check_key(key, err)) < 0)
		return rc;
	return kv->p->put(kv->state, key, value ? value : "", value ? value_len : 0, lease, out_revision,
			  err);
}

int jc_kv_delete(jc_kv *kv, const char *key, bool prefix, long *out_deleted, jc_error *err)
{
	int rc;
	char *end;
	long dummy;
	if (!out_deleted)
		out_deleted = &dummy;
	*out_deleted = 0;
	if (!prefix) {
		if ((rc = check_key(key, err)) < 0)
			return rc;
		return kv->p->delete_range(kv->state, key, NULL, out_deleted, err);
	}
	if (!key || !*key)
		return jc_err(err, JC_EINVALID, "refusing to delete every key: give a prefix");
	end = jc_kv_prefix_end(key);
	rc = kv->p->delete_range(kv->state, key, end, out_deleted, err);
	free(end);
	return rc;
}

int jc_kv_range(jc_kv_list *out, jc_kv *kv, const char *prefix, const jc_kv_range_options *opts,
		jc_error *err)
{
	jc_kv_range_options defaults = JC_KV_RANGE_OPTIONS_INIT;
	char *end, *start = NULL;
	const char *from;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!opts)
		opts = &defaults;
	if (opts->version != JC_KV_RANGE_OPTIONS_VERSION)
		return jc_err(err, JC_EINVALID, "jc_kv_range_options version %u is not supported", opts->version);
	if (!prefix)
		prefix = "";
	end = jc_kv_prefix_end(prefix);
	from = *prefix ? prefix : "\x01";
	if (opts->start_after && *opts->start_after) {
		if (strcmp(opts->start_after, from) >= 0) {
			/* the smallest key after start_after is start_after + "\0":
			 * ask for start_after + "\x01" after filtering it out below */
			start = jc_sprintf("%s%c", opts->start_after, 1);
			from = start;
		}
	}
	rc = kv->p->range(kv->state, out, from, end, opts, err);
	free(end);
	free(start);
	return rc;
}

static int fill_op_ranges(const jc_kv_op *ops, size_t n, jc_kv_op **out, jc_error *err)
{
	*out = NULL;
	if (n == 0)
		return 0;
	*out = jc_calloc(n, sizeof(**out));
	for (size_t i = 0; i < n; i++) {
		(*out)[i] = ops[i];
		if (check_key(ops[i].key, err) < 0)
			return JC_EINVALID;
		if (ops[i].type == JC_KV_OP_DELETE_PREFIX) {
			(*out)[i].value = jc_kv_prefix_end(ops[i].key);
			(*out)[i].value_len = strlen((*out)[i].value);
		} else if (!ops[i].value) {
			(*out)[i].value = "";
			(*out)[i].value_len = 0;
		}
	}
	return 0;
}

static void free_op_ranges(jc_kv_op *ops, size_t n)
{
	for (size_t i = 0; ops && i < n; i++)
		if (ops[i].type == JC_KV_OP_DELETE_PREFIX)
			free((char *)ops[i].value);
	free(ops);
}

int jc_kv_txn(jc_kv *kv, const jc_kv_compare *cmps, size_t n_cmps, const jc_kv_op *then_ops,
	      size_t n_then, const jc_kv_op *else_ops, size_t n_else, bool *succeeded,
	      int64_t *out_revision, jc_error *err)
{
	jc_kv_op *t = NULL, *e = NULL;
	bool ok_dummy;
	int rc;

	if (!succeeded)
		succeeded = &ok_dummy;
	*succeeded = false;
	for (size_t i = 0; i < n_cmps; i++)
		if ((rc = check_key(cmps[i].key, err)) < 0)
			return rc;
	rc = fill_op_ranges(then_ops, n_then, &t, err);
	if (rc == 0)
		rc = fill_op_ranges(else_ops, n_else, &e, err);
	if (rc == 0)
		rc = kv->p->txn(kv->state, cmps, n_cmps, t, n_then, e, n_else, succeeded, out_revision, err);
	free_op_ranges(t, n_then);
	free_op_ranges(e, n_else);
	return rc;
}

int jc_kv_cas(jc_kv *kv, const char *key, const char *expected, const char *value, int64_t lease,
	      jc_error *err)
{
	jc_kv_compare c = { 0 };
	jc_kv_op op = { 0 };
	bool ok;
	int rc;

	c.key = key;
	if (expected) {
		c.target = JC_KV_VALUE;
		c.value = expected;
		c.value_len = strlen(expected);
	} else {
		c.target = JC_KV_CREATE;
		c.number = 0;
	}
	c.op = JC_KV_EQUAL;
	op.type = JC_KV_OP_PUT;
	op.key = key;
	op.value = value;
	op.value_len = value ? strlen(value) : 0;
	op.lease = lease;
	rc = jc_kv_txn(kv, &c, 1, &op, 1, NULL, 0, &ok, NULL, err);
	if (rc < 0)
		return rc;
	if (!ok)
		return jc_err(err, JC_ECONFLICT, "%s: %s changed under us (%s)", kv->url, key,
			      expected ? "its value is no longer the one expected" : "it exists already");
	return 0;
}

int jc_kv_lease_grant(int64_t *out_id, jc_kv *kv, long ttl_s, jc_error *err)
{
	*out_id = 0;
	if (ttl_s < 1 || ttl_s > 9000000000 / 1000)
		return jc_err(err, JC_EINVALID, "lease TTL %ld s is out of range", ttl_s);
	return kv->p->lease_grant(kv->state, out_id, ttl_s, err);
}

int jc_kv_lease_keepalive(long *out_ttl, jc_kv *kv, int64_t id, jc_error *err)
{
	long dummy;
	if (!out_ttl)
		out_ttl = &dummy;
	*out_ttl = 0;
	return kv->p->lease_keepalive(kv->state, id, out_ttl, err);
}

int jc_kv_lease_revoke(jc_kv *kv, int64_t id, jc_error *err)
{
	return kv->p->lease_revoke(kv->state, id, err);
}

int jc_kv_watch_open(jc_kv_watch **out, jc_kv *kv, const char *prefix, int64_t start_revision,
		     jc_error *err)
{
	jc_kv_watch *w;
	char *end;
	int rc;

	*out = NULL;
	if (!prefix || !*prefix)
		return jc_err(err, JC_EINVALID, "a watch needs a non-empty prefix");
	w = jc_calloc(1, sizeof(*w));
	w->p = kv->p;
	end = jc_kv_prefix_end(prefix);
	rc = kv->p->watch_open(kv->state, &w->state, prefix, end, start_revision, err);
	free(end);
	if (rc < 0) {
		free(w);
		return rc;
	}
	*out = w;
	return 0;
}

int jc_kv_watch_next(jc_kv_events *out, jc_kv_watch *w, long long timeout_ms, jc_error *err)
{
	memset(out, 0, sizeof(*out));
	if (timeout_ms < 0)
		timeout_ms = 0;
	return w->p->watch_next(w->state, out, timeout_ms, err);
}

int64_t jc_kv_watch_revision(const jc_kv_watch *w)
{
	return w->p->watch_revision(w->state);
}

void jc_kv_watch_free(jc_kv_watch *w)
{
	if (!w)
		return;
	w->p->watch_close(w->state);
	free(w);
}

void jc_kv_get_stats(const jc_kv *kv, jc_kv_stats *out)
{
	memset(out, 0, sizeof(*out));
	kv->p->stats(kv->state, out);
}

int jc_kv_get_status(jc_kv_status *out, jc_kv *kv, jc_error *err)
{
	memset(out, 0, sizeof(*out));
	return kv->p->status(kv->state, out, err);
}

/* ---- helpers for backends */

jc_kv_pair *jc_kv_list_push(jc_kv_list *list)
{
	list->items = jc_realloc(list->items, (list->n + 1) * sizeof(*list->items));
	memset(&list->items[list->n], 0, sizeof(*list->items));
	return &list->items[list->n++];
}

jc_kv_event *jc_kv_events_push(jc_kv_events *ev)
{
	ev->items = jc_realloc(ev->items, (ev->n + 1) * sizeof(*ev->items));
	memset(&ev->items[ev->n], 0, sizeof(*ev->items));
	return &ev->items[ev->n++];
}
