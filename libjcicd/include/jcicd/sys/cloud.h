/*
 * jcicd/sys/cloud.h - for writers of cloud providers (lower stability than
 * jcicd/cloud.h).  A provider is a table of functions; register it and
 * jc_cloud_open finds it by name.
 */
#ifndef JCICD_SYS_CLOUD_H
#define JCICD_SYS_CLOUD_H

#include "jcicd/cloud.h"

#ifdef __cplusplus
extern "C" {
#endif

#define JC_CLOUD_PROVIDER_VERSION 1

typedef struct jc_cloud_provider {
	unsigned version;
	const char *name;            /* "local", "openstack", ... */
	long long poll_first_ms;     /* suggested polling interval, first */
	long long poll_max_ms;       /* ... and largest */
	/* Does this provider serve a cloud of that name?  NULL: only its own name. */
	bool (*handles)(const char *cloud_name);
	int (*open)(void **state, const char *cloud_name, const jc_cloud_options *opts,
		    jc_error *err);
	void (*close)(void *state);
	int (*prepare)(void *state, const jc_server_create *reqs, size_t n, jc_error *err);
	int (*list)(void *state, const char *tag, jc_server_list **out, jc_error *err);
	int (*create)(void *state, const jc_server_create *reqs, size_t n,
		      jc_create_result *results, jc_error *err);
	int (*destroy)(void *state, const char *const *ids, size_t n, jc_error *err);
	int (*add_floating_ip)(void *state, const jc_server *server, jc_error *err);
} jc_cloud_provider;

/* Adds a provider (the table must outlive every cloud opened with it).
 * Providers registered later are asked first. */
JC_EXTERN int jc_cloud_register(const jc_cloud_provider *provider, jc_error *err);

/* Helpers for providers building jc_server values. */
JC_EXTERN void jc_server_clear(jc_server *server);
JC_EXTERN void jc_server_add_address(jc_server *server, const char *address, bool floating);

#ifdef __cplusplus
}
#endif
#endif
