/*
 * cloud-openstack.c - the "openstack" provider: Nova, Glance and Neutron
 * through Keystone v3 (libcurl + json-c, no Python at run time).
 *
 * Opening a cloud reads clouds.yaml (or OS_*) and makes no network call:
 * the first operation authenticates, so bad input never reaches a server.
 * A stack's servers carry the Nova tags "jcicd" and "jcicd-stack-<tag>"
 * (Nova 2.52+; older clouds: the name <role><i>_<tag> and the metadata
 * jcicd_stack), and every list is one paginated tag-filtered GET.
 *
 * Polling: apply asks every 2 s at first, backing off to 10 s.
 */
#include "cloud-openstack.h"

#include <stdlib.h>
#include <string.h>

#include "cloud-internal.h"

static int os_open(void **state, const char *name, const jc_cloud_options *opts, jc_error *err)
{
	os_cloud *oc = jc_calloc(1, sizeof(*oc));
	jc_http_options ho = JC_HTTP_OPTIONS_INIT;
	int rc;

	oc->log = opts ? opts->logger : NULL;
	if ((rc = os_config_load(&oc->cfg, name, opts ? opts->config_file : NULL, err)) < 0) {
		free(oc);
		return rc;
	}
	ho.logger = oc->log;
	ho.ca_file = oc->cfg->cacert;
	ho.insecure = !oc->cfg->verify;
	ho.client_cert = oc->cfg->cert;
	ho.client_key = oc->cfg->key;
	ho.request_timeout_ms = opts && opts->request_timeout_ms ? opts->request_timeout_ms : oc->cfg->api_timeout_ms;
	ho.max_retries = opts ? opts->http_retries : -1;
	ho.max_parallel = opts && opts->concurrency > 0 ? opts->concurrency
			  : oc->cfg->concurrency > 0   ? oc->cfg->concurrency
						       : 8;
	if ((rc = jc_http_new(&oc->http, &ho, err)) < 0) {
		os_config_free(oc->cfg);
		free(oc);
		return rc;
	}
	if (!oc->cfg->verify)
		jc_log(oc->log, JC_LOG_WARN, "openstack", "cloud %s: TLS certificates are not verified (verify: false)",
		       oc->cfg->name);
	*state = oc;
	return 0;
}

static void os_close(void *state)
{
	os_cloud *oc = state;
	jc_http_stats st;
	if (!oc)
		return;
	jc_http_get_stats(oc->http, &st);
	/* what it took, said aloud when something had to be retried */
	if (st.requests)
		jc_log(oc->log, st.retries ? JC_LOG_NOTICE : JC_LOG_DEBUG, "openstack",
		       "cloud %s: %ld HTTP request%s (%ld retried), %d token%s", oc->cfg->name, st.requests,
		       st.requests == 1 ? "" : "s", st.retries, oc->auths, oc->auths == 1 ? "" : "s");
	jc_http_free(oc->http);
	os_config_free(oc->cfg);
	free(oc->token_header);
	free(oc->project_id);
	free(oc->user_id);
	for (int i = 0; i < OS_N_SERVICES; i++)
		free(oc->urls[i]);
	os_cache_free(oc->cache);
	free(oc->ext_net_id);
	jc_strv_free(&oc->create_ids);
	jc_strv_free(&oc->create_reqids);
	jc_strv_free(&oc->fault_ids);
	jc_strv_free(&oc->faults);
	free(oc);
}

static int os_prepare(void *state, const jc_server_create *reqs, size_t n, jc_error *err)
{
	return n ? os_resolve_prepare(state, reqs, n, err) : 0;
}

static int os_list(void *state, const char *tag, jc_server_list **out, jc_error *err)
{
	return os_compute_list(state, tag, out, err);
}

static int os_create(void *state, const jc_server_create *reqs, size_t n, jc_create_result *results,
		     jc_error *err)
{
	return os_compute_create(state, reqs, n, results, err);
}

static int os_destroy(void *state, const char *const *ids, size_t n, jc_error *err)
{
	return os_compute_delete(state, ids, n, err);
}

static int os_add_floating_ip(void *state, const jc_server *server, jc_error *err)
{
	int rc = os_auth_ensure(state, err);
	return rc < 0 ? rc : os_fip_add(state, server, err);
}

/* Every cloud but the embedded one is an OpenStack cloud. */
static bool os_handles(const char *name)
{
	return strcmp(name, "local") != 0;
}

const jc_cloud_provider jc_openstack_provider = {
	.version = JC_CLOUD_PROVIDER_VERSION,
	.name = "openstack",
	.poll_first_ms = 2000,
	.poll_max_ms = 10000,
	.handles = os_handles,
	.open = os_open,
	.close = os_close,
	.prepare = os_prepare,
	.list = os_list,
	.create = os_create,
	.destroy = os_destroy,
	.add_floating_ip = os_add_floating_ip,
};
