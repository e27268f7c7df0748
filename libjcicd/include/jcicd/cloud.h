/*
 * jcicd/cloud.h - the clouds stacks are built on.
 *
 * A jc_cloud is an open connection to one cloud through a provider: "local"
 * (the embedded default: every server is a sandbox directory on this
 * machine whose userdata runs as a local process) or "openstack" (Nova,
 * Glance, Neutron through Keystone v3).  Providers are plugged in through
 * jcicd/sys/cloud.h.
 *
 * Servers belong to a stack through their tag: a cloud lists, creates and
 * deletes exactly the servers of one tag and never touches others.
 */
#ifndef JCICD_CLOUD_H
#define JCICD_CLOUD_H

#include <stdbool.h>
#include <stddef.h>

#include "jcicd/error.h"
#include "jcicd/log.h"
#include "jcicd/spec.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct jc_cloud jc_cloud;

typedef enum jc_server_status {
	JC_SERVER_BUILD = 0,
	JC_SERVER_ACTIVE = 1,
	JC_SERVER_ERROR = 2,
	JC_SERVER_DELETING = 3,
	JC_SERVER_OTHER = 4        /* SHUTOFF, PAUSED, ...: see status_text */
} jc_server_status;

JC_EXTERN const char *jc_server_status_name(jc_server_status status);

typedef struct jc_server {
	char *id;
	char *name;                /* cp1_t1 */
	char *tag;                 /* the stack */
	jc_server_status status;
	char *status_text;         /* the cloud's own word */
	char *fault;               /* why it is in ERROR, or NULL */
	char *flavor;
	char *image;
	char **fixed_addresses;
	size_t n_fixed;
	char **floating_addresses; /* public: reachable from outside */
	size_t n_floating;
	char *created;             /* ISO 8601 */
	char *console;             /* a path or URL to its console log, or NULL */
} jc_server;

typedef struct jc_server_list {
	jc_server *servers;
	size_t n;
} jc_server_list;

JC_EXTERN void jc_server_list_free(jc_server_list *list);
/* The server with that name, or NULL.  Borrowed from the list. */
JC_EXTERN const jc_server *jc_server_list_find(const jc_server_list *list, const char *name);

/* Everything needed to create one server; strings are borrowed for the call. */
typedef struct jc_server_create {
	const char *name;
	const char *hostname;
	const char *tag;
	const char *role;
	const char *flavor;
	const char *image;
	jc_networks_mode networks_mode;
	const char *const *networks;
	size_t n_networks;
	const char *const *security_groups;
	size_t n_security_groups;
	long boot_volume_gb;
	bool config_drive;
	const char *key_name;
	const char *availability_zone;
	const char *const *metadata_keys;
	const char *const *metadata_values;
	size_t n_metadata;
	const char *userdata;
	size_t userdata_len;
} jc_server_create;

typedef struct jc_create_result {
	char *id;          /* NULL when the create failed */
	jc_error error;    /* why, when it failed */
} jc_create_result;

#define JC_CLOUD_OPTIONS_VERSION 1
typedef struct jc_cloud_options {
	unsigned version;
	const char *state_dir;      /* local provider; NULL: the default state dir */
	const char *config_file;    /* clouds.yaml to read instead of the usual places */
	int concurrency;            /* parallel requests; 0: provider default */
	long long request_timeout_ms;
	int http_retries;           /* -1: default */
	const jc_logger *logger;    /* borrowed */
} jc_cloud_options;

#define JC_CLOUD_OPTIONS_INIT { JC_CLOUD_OPTIONS_VERSION, NULL, NULL, 0, 0, -1, NULL }

/*
 * Opens a cloud by name: "local" for the embedded provider, otherwise a
 * cloud of clouds.yaml (or the OS_* variables when name is NULL or "env").
 */
JC_EXTERN int jc_cloud_open(jc_cloud **out, const char *name, const jc_cloud_options *opts,
		  jc_error *err);
JC_EXTERN void jc_cloud_free(jc_cloud *cloud);

JC_EXTERN const char *jc_cloud_name(const jc_cloud *cloud);
JC_EXTERN const char *jc_cloud_provider_name(const jc_cloud *cloud);
/* How often apply should poll this cloud: first and longest interval. */
JC_EXTERN void jc_cloud_poll_interval(const jc_cloud *cloud, long long *first_ms, long long *max_ms);

/* Checks that every flavor, image, network, security group and key of the
 * requests exists (resolving names), before anything is created. */
JC_EXTERN int jc_cloud_prepare(jc_cloud *cloud, const jc_server_create *reqs, size_t n,
		     jc_error *err);
/* The servers of a stack (tag), whatever their status. */
JC_EXTERN int jc_cloud_list(jc_cloud *cloud, const char *tag, jc_server_list **out, jc_error *err);
/* Creates servers (in parallel where the provider can); results[i] says
 * what became of reqs[i].  Returns 0 when every create was accepted. */
JC_EXTERN int jc_cloud_create(jc_cloud *cloud, const jc_server_create *reqs, size_t n,
		    jc_create_result *results, jc_error *err);
JC_EXTERN void jc_create_results_clear(jc_create_result *results, size_t n);
/* Starts deleting servers by id (and releases their floating IPs). */
JC_EXTERN int jc_cloud_delete(jc_cloud *cloud, const char *const *ids, size_t n, jc_error *err);
/* Gives a server a floating (public) address. */
JC_EXTERN int jc_cloud_add_floating_ip(jc_cloud *cloud, const jc_server *server, jc_error *err);

#ifdef __cplusplus
}
#endif
#endif
