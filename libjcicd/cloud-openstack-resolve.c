/* cloud-openstack-resolve.c - the flavors, images, networks, security
 * groups and key pairs a spec names, turned into ids once per run, in
 * parallel, before anything is created.  A name that matches nothing or
 * several things stops the apply with a clear error. */
#include "cloud-openstack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind { K_FLAVOR, K_IMAGE, K_NETWORK, K_SECGROUP, K_KEYPAIR, K_N };

static const char *const kind_names[K_N] = { "flavor", "image", "network", "security group", "key pair" };

struct os_cache {
	jc_strv keys[K_N];   /* what the spec says */
	jc_strv ids[K_N];    /* what it is */
};

void os_cache_free(struct os_cache *c)
{
	if (!c)
		return;
	for (int k = 0; k < K_N; k++) {
		jc_strv_free(&c->keys[k]);
		jc_strv_free(&c->ids[k]);
	}
	free(c);
}

static struct os_cache *cache_of(os_cloud *oc)
{
	if (!oc->cache)
		oc->cache = jc_calloc(1, sizeof(struct os_cache));
	return oc->cache;
}

static const char *cache_get(os_cloud *oc, enum kind k, const char *key)
{
	struct os_cache *c = cache_of(oc);
	for (size_t i = 0; i < c->keys[k].n; i++)
		if (strcmp(c->keys[k].v[i], key) == 0)
			return c->ids[k].v[i];
	return NULL;
}

static void cache_put(os_cloud *oc, enum kind k, const char *key, const char *id)
{
	struct os_cache *c = cache_of(oc);
	jc_strv_push(&c->keys[k], key);
	jc_strv_push(&c->ids[k], id);
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;
	if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

static json_object *jarr(json_object *o, const char *key)
{
	json_object *v;
	if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_array))
		return v;
	return NULL;
}

/* ---- errors that help */

/* The names a kind has, for "did you mean". */
static void candidates(os_cloud *oc, enum kind k, jc_strv *out)
{
	static const struct {
		os_service svc;
		const char *path, *list;
	} src[K_N] = {
		{ OS_COMPUTE, "/flavors?limit=1000", "flavors" },
		{ OS_IMAGE, "/images?limit=200", "images" },
		{ OS_NETWORK, "/networks?fields=name", "networks" },
		{ OS_NETWORK, "/security-groups?fields=name", "security_groups" },
		{ OS_COMPUTE, "/os-keypairs", "keypairs" },
	};
	json_object *doc = NULL, *a;
	jc_error e;
	if (os_call_json(oc, src[k].svc, "GET", src[k].path, NULL, JC_HTTP_BY_METHOD, &doc, NULL, &e) < 0)
		return;
	if ((a = jarr(doc, src[k].list)) != NULL) {
		for (size_t i = 0; i < json_object_array_length(a); i++) {
			json_object *it = json_object_array_get_idx(a, i), *kp;
			if (k == K_KEYPAIR && json_object_object_get_ex(it, "keypair", &kp))
				it = kp;
			if (jstr(it, "name") && !jc_strv_contains(out, jstr(it, "name")))
				jc_strv_push(out, jstr(it, "name"));
		}
	}
	json_object_put(doc);
}

static int not_found(os_cloud *oc, enum kind k, const char *what, const char *role, jc_error *err)
{
	jc_strv names = JC_STRV_INIT;
	const char *hint;
	int rc;
	candidates(oc, k, &names);
	hint = jc_str_suggest(what, (const char *const *)names.v, names.n);
	rc = jc_err(err, JC_EINVALID, "cloud %s: %s \"%s\" (role %s) not found%s%s%s", oc->cfg->name, kind_names[k],
		    what, role ? role : "?", hint ? "; did you mean \"" : "", hint ? hint : "", hint ? "\"?" : "");
	jc_strv_free(&names);
	return rc;
}

static int ambiguous(os_cloud *oc, enum kind k, const char *what, const char *role, const jc_strv *ids,
		     jc_error *err)
{
	jc_buf b = JC_BUF_INIT;
	int rc;
	for (size_t i = 0; i < ids->n && i < 5; i++)
		jc_buf_printf(&b, "%s%s", i ? ", " : "", ids->v[i]);
	rc = jc_err(err, JC_EAMBIGUOUS, "cloud %s: %s name \"%s\" (role %s) matches %zu %ss (%s%s): give the id",
		    oc->cfg->name, kind_names[k], what, role ? role : "?", ids->n, kind_names[k], jc_buf_cstr(&b),
		    ids->n > 5 ? ", ..." : "");
	jc_buf_free(&b);
	return rc;
}

/* ---- what each request needs */

struct need {
	enum kind kind;
	const char *key;
	const char *role;
};

static void need(jc_strv *seen, struct need **v, size_t *n, os_cloud *oc, enum kind k, const char *key,
		 const char *role)
{
	char *tagged;
	if (!key || cache_get(oc, k, key))
		return;
	tagged = jc_sprintf("%d:%s", (int)k, key);
	if (jc_strv_contains(seen, tagged)) {
		free(tagged);
		return;
	}
	jc_strv_push_owned(seen, tagged);
	*v = jc_realloc(*v, (*n + 1) * sizeof(**v));
	(*v)[*n].kind = k;
	(*v)[*n].key = key;
	(*v)[*n].role = role;
	(*n)++;
}

/* Flavors have no name filter: one list (all pages) serves every name. */
static int resolve_flavors(os_cloud *oc, const struct need *needs, size_t n, jc_error *err)
{
	jc_strv ids = JC_STRV_INIT, names = JC_STRV_INIT;
	char *marker = NULL;
	int rc = 0;
	bool any = false;

	for (size_t i = 0; i < n; i++)
		any |= needs[i].kind == K_FLAVOR;
	if (!any)
		return 0;
	for (int page = 0; page < 100; page++) {
		json_object *doc = NULL, *a;
		char *path = marker ? jc_sprintf("/flavors?limit=1000&marker=%s", marker) : jc_strdup("/flavors?limit=1000");
		size_t got;
		rc = os_call_json(oc, OS_COMPUTE, "GET", path, NULL, JC_HTTP_BY_METHOD, &doc, NULL, err);
		free(path);
		if (rc < 0)
			break;
		a = jarr(doc, "flavors");
		got = a ? json_object_array_length(a) : 0;
		for (size_t i = 0; i < got; i++) {
			json_object *f = json_object_array_get_idx(a, i);
			jc_strv_push(&ids, jstr(f, "id") ? jstr(f, "id") : "");
			jc_strv_push(&names, jstr(f, "name") ? jstr(f, "name") : "");
		}
		free(marker);
		marker = got == 1000 ? jc_strdup(ids.v[ids.n - 1]) : NULL;
		json_object_put(doc);
		if (!marker)
			break;
	}
	free(marker);
	for (size_t i = 0; i < n && rc == 0; i++) {
		jc_strv match = JC_STRV_INIT;
		if (needs[i].kind != K_FLAVOR)
			continue;
		/* an id wins over a name (flavor ids are free-form: "1", "m1.small") */
		for (size_t j = 0; j < ids.n && !match.n; j++)
			if (strcmp(ids.v[j], needs[i].key) == 0)
				jc_strv_push(&match, ids.v[j]);
		for (size_t j = 0; j < names.n && !match.n; j++)
			if (strcmp(names.v[j], needs[i].key) == 0)
				for (size_t m = j; m < names.n; m++)
					if (strcmp(names.v[m], needs[i].key) == 0)
						jc_strv_push(&match, ids.v[m]);
		if (match.n == 1) {
			cache_put(oc, K_FLAVOR, needs[i].key, match.v[0]);
		} else if (match.n > 1) {
			rc = ambiguous(oc, K_FLAVOR, needs[i].key, needs[i].role, &match, err);
		} else {
			const char *hint = jc_str_suggest(needs[i].key, (const char *const *)names.v, names.n);
			rc = jc_err(err, JC_EINVALID, "cloud %s: flavor \"%s\" (role %s) not found%s%s%s", oc->cfg->name,
				    needs[i].key, needs[i].role ? needs[i].role : "?", hint ? "; did you mean \"" : "",
				    hint ? hint : "", hint ? "\"?" : "");
		}
		jc_strv_free(&match);
	}
	jc_strv_free(&ids);
	jc_strv_free(&names);
	return rc;
}

static char *lookup_path(os_cloud *oc, const struct need *nd)
{
	char *esc = jc_http_escape(nd->key), *p = NULL;
	bool uuid = os_is_uuid(nd->key);
	switch (nd->kind) {
	case K_IMAGE:
		p = uuid ? jc_sprintf("/images/%s", esc) : jc_sprintf("/images?name=%s&limit=25", esc);
		break;
	case K_NETWORK:
		p = uuid ? jc_sprintf("/networks/%s?fields=id&fields=name", esc)
			 : jc_sprintf("/networks?name=%s&fields=id&fields=name", esc);
		break;
	case K_SECGROUP: {
		/* names are per project: "default" exists in every one */
		char *proj = jc_http_escape(oc->project_id ? oc->project_id : "");
		p = uuid ? jc_sprintf("/security-groups/%s?fields=id", esc)
			 : jc_sprintf("/security-groups?name=%s&project_id=%s&fields=id", esc, proj);
		free(proj);
		break;
	}
	case K_KEYPAIR:
		p = jc_sprintf("/os-keypairs/%s", esc);
		break;
	case K_FLAVOR:
	case K_N:
		break;
	}
	free(esc);
	return p;
}

static os_service service_of(enum kind k)
{
	return k == K_IMAGE ? OS_IMAGE : (k == K_NETWORK || k == K_SECGROUP) ? OS_NETWORK : OS_COMPUTE;
}

/* The ids one lookup answered with (active images only). */
static int lookup_answer(os_cloud *oc, const struct need *nd, os_call *c, jc_strv *ids, bool *inactive,
			 jc_error *err)
{
	json_object *doc = NULL, *a, *one;
	static const char *const single[K_N] = { NULL, NULL, "network", "security_group", "keypair" };
	static const char *const plural[K_N] = { NULL, "images", "networks", "security_groups", NULL };
	int rc;

	*inactive = false;
	if (c->rc == 0 && c->resp.status == 404)
		return 0;
	if ((rc = os_call_check(oc, c, &doc, err)) < 0) {
		jc_err_prefix(err, "cloud %s: looking up %s \"%s\"", oc->cfg->name, kind_names[nd->kind], nd->key);
		return rc;
	}
	if (nd->kind == K_KEYPAIR) {
		/* a key pair is found by its name itself */
		if (json_object_object_get_ex(doc, "keypair", &one))
			jc_strv_push(ids, nd->key);
	} else if (nd->kind == K_IMAGE && os_is_uuid(nd->key) && !jarr(doc, "images")) {
		if (jc_str_eq(jstr(doc, "status"), "active"))
			jc_strv_push(ids, jstr(doc, "id") ? jstr(doc, "id") : nd->key);
		else
			*inactive = true;
	} else if (single[nd->kind] && json_object_object_get_ex(doc, single[nd->kind], &one)) {
		if (jstr(one, "id"))
			jc_strv_push(ids, jstr(one, "id"));
	} else if ((a = jarr(doc, plural[nd->kind])) != NULL) {
		for (size_t i = 0; i < json_object_array_length(a); i++) {
			json_object *it = json_object_array_get_idx(a, i);
			if (!jstr(it, "id"))
				continue;
			if (nd->kind == K_IMAGE && !jc_str_eq(jstr(it, "status"), "active")) {
				*inactive = true;
				continue;
			}
			jc_strv_push(ids, jstr(it, "id"));
		}
	}
	json_object_put(doc);
	return 0;
}

/* The networks a request ends up with, and whether they are the cloud's
 * default ones. */
static int request_networks(os_cloud *oc, const jc_server_create *r, os_nets *nets, const char *const **names,
			    size_t *n, jc_error *err)
{
	bool use_default;
	int rc = os_networks_choose(nets, &use_default, r->networks_mode, oc->cfg, oc->mv, err);
	if (rc < 0) {
		jc_err_prefix(err, "cloud %s: %s", oc->cfg->name, r->name);
		return rc;
	}
	if (use_default) {
		*names = (const char *const *)oc->cfg->default_network_names.v;
		*n = oc->cfg->default_network_names.n;
	} else if (*nets == OS_NETS_LIST) {
		*names = r->networks;
		*n = r->n_networks;
	} else {
		*names = NULL;
		*n = 0;
	}
	return 0;
}

int os_resolve_prepare(os_cloud *oc, const jc_server_create *reqs, size_t n, jc_error *err)
{
	jc_strv seen = JC_STRV_INIT;
	struct need *needs = NULL;
	size_t n_needs = 0, n_calls = 0;
	os_call *calls;
	size_t *call_of;
	int rc;

	if ((rc = os_compute_ready(oc, err)) < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		const jc_server_create *r = &reqs[i];
		const char *const *nets;
		size_t nn;
		os_nets mode;
		if ((rc = request_networks(oc, r, &mode, &nets, &nn, err)) < 0)
			goto out;
		need(&seen, &needs, &n_needs, oc, K_FLAVOR, r->flavor, r->role);
		need(&seen, &needs, &n_needs, oc, K_IMAGE, r->image, r->role);
		for (size_t j = 0; j < nn; j++)
			need(&seen, &needs, &n_needs, oc, K_NETWORK, nets[j], r->role);
		for (size_t j = 0; j < r->n_security_groups; j++)
			need(&seen, &needs, &n_needs, oc, K_SECGROUP, r->security_groups[j], r->role);
		need(&seen, &needs, &n_needs, oc, K_KEYPAIR, r->key_name, r->role);
	}
	if (!n_needs)
		goto out;
	/* every lookup but the flavors' at once */
	calls = jc_calloc(n_needs, sizeof(*calls));
	call_of = jc_calloc(n_needs, sizeof(size_t));
	for (size_t i = 0; i < n_needs; i++) {
		if (needs[i].kind == K_FLAVOR)
			continue;
		calls[n_calls].service = service_of(needs[i].kind);
		calls[n_calls].path = lookup_path(oc, &needs[i]);
		call_of[n_calls++] = i;
	}
	os_call_many(oc, calls, n_calls, NULL);
	rc = resolve_flavors(oc, needs, n_needs, err);
	for (size_t c = 0; c < n_calls && rc == 0; c++) {
		const struct need *nd = &needs[call_of[c]];
		jc_strv ids = JC_STRV_INIT;
		bool inactive;
		rc = lookup_answer(oc, nd, &calls[c], &ids, &inactive, err);
		if (rc == 0 && ids.n == 1)
			cache_put(oc, nd->kind, nd->key, ids.v[0]);
		else if (rc == 0 && ids.n > 1)
			rc = ambiguous(oc, nd->kind, nd->key, nd->role, &ids, err);
		else if (rc == 0 && inactive)
			rc = jc_err(err, JC_EINVALID, "cloud %s: image \"%s\" (role %s) exists but is not active",
				    oc->cfg->name, nd->key, nd->role ? nd->role : "?");
		else if (rc == 0)
			rc = not_found(oc, nd->kind, nd->key, nd->role, err);
		jc_strv_free(&ids);
	}
	os_calls_free(calls, n_needs);
	free(call_of);
	if (rc == 0)
		jc_log(oc->log, JC_LOG_DEBUG, "openstack", "cloud %s: %zu name%s resolved", oc->cfg->name, n_needs,
		       n_needs == 1 ? "" : "s");
out:
	free(needs);
	jc_strv_free(&seen);
	return rc;
}

/* Arrays of borrowed ids, freed with scratch (a list of owned pointers). */
static const char **id_array(os_cloud *oc, enum kind k, const char *const *keys, size_t n, jc_strv *scratch,
			     jc_error *err, int *rc)
{
	const char **a = jc_calloc(n ? n : 1, sizeof(char *));
	jc_strv_push_owned(scratch, (char *)a);
	for (size_t i = 0; i < n && *rc == 0; i++) {
		a[i] = cache_get(oc, k, keys[i]);
		if (!a[i])
			*rc = jc_err(err, JC_EINVALID, "%s \"%s\" was not resolved", kind_names[k], keys[i]);
	}
	return a;
}

int os_resolve_ids(os_cloud *oc, const jc_server_create *r, os_create_ids *ids, jc_strv *scratch, jc_error *err)
{
	const char *const *nets;
	size_t nn;
	int rc;

	memset(ids, 0, sizeof(*ids));
	if ((rc = request_networks(oc, r, &ids->nets, &nets, &nn, err)) < 0)
		return rc;
	ids->flavor = r->flavor ? cache_get(oc, K_FLAVOR, r->flavor) : NULL;
	ids->image = r->image ? cache_get(oc, K_IMAGE, r->image) : NULL;
	if (!ids->flavor || !ids->image)
		return jc_err(err, JC_EINVALID, "%s: flavor or image not resolved", r->name);
	ids->networks = id_array(oc, K_NETWORK, nets, nn, scratch, err, &rc);
	ids->n_networks = nn;
	ids->security_groups = id_array(oc, K_SECGROUP, r->security_groups, r->n_security_groups, scratch, err, &rc);
	ids->n_security_groups = r->n_security_groups;
	return rc;
}
