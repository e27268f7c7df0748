/* cloud.c - provider registry and the calls that dispatch to a provider. */
#include "common.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cloud-internal.h"
#include "jcicd/sys/cloud.h"

struct jc_cloud {
	const jc_cloud_provider *provider;
	void *state;
	char *name;
};

#define MAX_PROVIDERS 16
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static const jc_cloud_provider *registry[MAX_PROVIDERS];
static size_t n_registry;

static void register_builtins_locked(void)
{
	if (n_registry)
		return;
	registry[n_registry++] = &jc_local_provider;
	registry[n_registry++] = &jc_openstack_provider;
}

int jc_cloud_register(const jc_cloud_provider *p, jc_error *err)
{
	if (!p || p->version != JC_CLOUD_PROVIDER_VERSION || !p->name || !p->open || !p->list ||
	    !p->create || !p->destroy)
		return jc_err(err, JC_EINVALID, "cloud provider table is incomplete or of another version");
	pthread_mutex_lock(&registry_lock);
	register_builtins_locked();
	if (n_registry == MAX_PROVIDERS) {
		pthread_mutex_unlock(&registry_lock);
		return jc_err(err, JC_EINVALID, "too many cloud providers registered");
	}
	registry[n_registry++] = p;
	pthread_mutex_unlock(&registry_lock);
	return 0;
}

static const jc_cloud_provider *find_provider(const char *name)
{
	const jc_cloud_provider *found = NULL;
	pthread_mutex_lock(&registry_lock);
	register_builtins_locked();
	for (size_t i = n_registry; i-- > 0 && !found;) {
		const jc_cloud_provider *p = registry[i];
		if (p->handles ? p->handles(name) : strcmp(p->name, name) == 0)
			found = p;
	}
	pthread_mutex_unlock(&registry_lock);
	return found;
}

int jc_cloud_open(jc_cloud **out, const char *name, const jc_cloud_options *opts, jc_error *err)
{
	const jc_cloud_provider *p;
	jc_cloud *c;
	int rc;

	*out = NULL;
	if (opts && opts->version != JC_CLOUD_OPTIONS_VERSION)
		return jc_err(err, JC_EINVALID, "jc_cloud_options version %u is not supported", opts->version);
	if (!name || !*name)
		name = "env";
	p = find_provider(name);
	if (!p)
		return jc_err(err, JC_EINVALID,
			      "no provider serves cloud \"%s\" (\"local\" is the embedded cloud; OpenStack "
			      "clouds come from clouds.yaml)", name);
	c = jc_calloc(1, sizeof(*c));
	c->provider = p;
	c->name = jc_strdup(name);
	rc = p->open(&c->state, name, opts, err);
	if (rc < 0) {
		free(c->name);
		free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void jc_cloud_free(jc_cloud *c)
{
	if (!c)
		return;
	if (c->provider->close)
		c->provider->close(c->state);
	free(c->name);
	free(c);
}

const char *jc_cloud_name(const jc_cloud *c) { return c->name; }
const char *jc_cloud_provider_name(const jc_cloud *c) { return c->provider->name; }

void jc_cloud_poll_interval(const jc_cloud *c, long long *first_ms, long long *max_ms)
{
	*first_ms = c->provider->poll_first_ms > 0 ? c->provider->poll_first_ms : 2000;
	*max_ms = c->provider->poll_max_ms > 0 ? c->provider->poll_max_ms : 10000;
}

int jc_cloud_prepare(jc_cloud *c, const jc_server_create *reqs, size_t n, jc_error *err)
{
	return c->provider->prepare ? c->provider->prepare(c->state, reqs, n, err) : 0;
}

int jc_cloud_list(jc_cloud *c, const char *tag, jc_server_list **out, jc_error *err)
{
	*out = NULL;
	return c->provider->list(c->state, tag, out, err);
}

int jc_cloud_create(jc_cloud *c, const jc_server_create *reqs, size_t n, jc_create_result *results,
		    jc_error *err)
{
	for (size_t i = 0; i < n; i++) {
		results[i].id = NULL;
		jc_error_clear(&results[i].error);
	}
	return c->provider->create(c->state, reqs, n, results, err);
}

void jc_create_results_clear(jc_create_result *results, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(results[i].id);
		results[i].id = NULL;
	}
}

int jc_cloud_delete(jc_cloud *c, const char *const *ids, size_t n, jc_error *err)
{
	return n ? c->provider->destroy(c->state, ids, n, err) : 0;
}

int jc_cloud_add_floating_ip(jc_cloud *c, const jc_server *server, jc_error *err)
{
	if (!c->provider->add_floating_ip)
		return jc_err(err, JC_EUNSUPPORTED, "cloud %s (%s) cannot assign floating IPs", c->name,
			      c->provider->name);
	return c->provider->add_floating_ip(c->state, server, err);
}

/* ---- servers */

const char *jc_server_status_name(jc_server_status s)
{
	switch (s) {
	case JC_SERVER_BUILD: return "BUILD";
	case JC_SERVER_ACTIVE: return "ACTIVE";
	case JC_SERVER_ERROR: return "ERROR";
	case JC_SERVER_DELETING: return "DELETING";
	case JC_SERVER_OTHER: return "OTHER";
	}
	return "?";
}

void jc_server_clear(jc_server *s)
{
	free(s->id);
	free(s->name);
	free(s->tag);
	free(s->status_text);
	free(s->fault);
	free(s->flavor);
	free(s->image);
	for (size_t i = 0; i < s->n_fixed; i++)
		free(s->fixed_addresses[i]);
	free(s->fixed_addresses);
	for (size_t i = 0; i < s->n_floating; i++)
		free(s->floating_addresses[i]);
	free(s->floating_addresses);
	free(s->created);
	free(s->console);
	memset(s, 0, sizeof(*s));
}

void jc_server_add_address(jc_server *s, const char *addr, bool floating)
{
	char ***v = floating ? &s->floating_addresses : &s->fixed_addresses;
	size_t *n = floating ? &s->n_floating : &s->n_fixed;
	*v = jc_realloc(*v, (*n + 1) * sizeof(char *));
	(*v)[(*n)++] = jc_strdup(addr);
}

void jc_server_list_free(jc_server_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		jc_server_clear(&l->servers[i]);
	free(l->servers);
	free(l);
}

const jc_server *jc_server_list_find(const jc_server_list *l, const char *name)
{
	for (size_t i = 0; l && i < l->n; i++)
		if (l->servers[i].name && strcmp(l->servers[i].name, name) == 0)
			return &l->servers[i];
	return NULL;
}
