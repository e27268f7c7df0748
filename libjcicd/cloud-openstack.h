/*
 * cloud-openstack.h - what the files of the openstack provider share
 * (internal).  The provider is split by job:
 *
 *   cloud-openstack-config.c    clouds.yaml / secure.yaml / OS_* into os_config
 *   cloud-openstack-auth.c      Keystone v3 tokens, the catalog, every API call
 *   cloud-openstack-compute.c   microversions, server JSON, list/create/delete
 *   cloud-openstack-resolve.c   flavor/image/network/... names to ids, cached
 *   cloud-openstack-fip.c       floating IPs (Neutron)
 *   cloud-openstack.c           the provider table that ties them together
 *
 * The pure parts (parsing, JSON building, negotiation, catalog choice) take
 * no os_cloud, so the unit tests call them directly.
 */
#ifndef JCICD_CLOUD_OPENSTACK_H
#define JCICD_CLOUD_OPENSTACK_H

#include "common.h"

#include <json-c/json.h>

#include "jcicd/http.h"
#include "jcicd/sys/cloud.h"

/* ---- configuration (cloud-openstack-config.c) */

typedef enum os_auth_type {
	OS_AUTH_PASSWORD = 0,
	OS_AUTH_APPCRED = 1       /* v3applicationcredential */
} os_auth_type;

/* What a role that names no networks gets (jcicd.default_networks). */
typedef enum os_default_networks {
	OS_DEFNET_AUTO = 0,       /* Nova >= 2.37: "auto"; older: the key is left out */
	OS_DEFNET_NONE = 1,       /* "none": no network */
	OS_DEFNET_LIST = 2        /* these networks (names or ids) */
} os_default_networks;

typedef struct os_config {
	char *name;               /* the cloud's name ("env" for OS_* variables) */
	char *source;             /* the clouds.yaml it came from, or "the OS_* variables" */
	os_auth_type auth_type;
	char *auth_url;
	char *username, *user_id, *password;
	char *user_domain_name, *user_domain_id;
	char *project_name, *project_id;
	char *project_domain_name, *project_domain_id;
	char *appcred_id, *appcred_name, *appcred_secret;
	char *region_name;        /* NULL: any region, if the catalog has only one */
	char *interface;          /* "public" (default), "internal", "admin" */
	char *cacert, *cert, *key;
	bool verify;              /* TLS verification; on unless verify: false / insecure */
	long long api_timeout_ms; /* per request; 0: the http default */
	char *compute_endpoint, *network_endpoint, *image_endpoint; /* *_endpoint_override */
	int compute_api_cap;      /* compute_api_version as 2000+minor; 0: none */
	/* the jcicd: block of the cloud */
	os_default_networks default_networks;
	jc_strv default_network_names;
	char *floating_network;   /* NULL: the only external network */
	long page_limit;          /* servers per list page; default 100 */
	int concurrency;          /* parallel requests; 0: default */
} os_config;

/*
 * Loads cloud `name` from clouds.yaml (config_file, else $OS_CLIENT_CONFIG_FILE,
 * ./, $XDG_CONFIG_HOME/openstack or ~/.config/openstack, /etc/openstack) with
 * secure.yaml merged over it; name NULL or "env" means $OS_CLOUD, or the OS_*
 * variables when OS_CLOUD is unset.  Makes no network call.  Registers the
 * password and secrets for redaction.
 */
int os_config_load(os_config **out, const char *name, const char *config_file, jc_error *err);
void os_config_free(os_config *cfg);

/* "2.60" -> 2060; false on junk. */
bool os_version_parse(const char *s, int *out);

/* ---- Keystone, catalog, calls (cloud-openstack-auth.c) */

/* The JSON of POST /v3/auth/tokens for cfg.  Pure. */
int os_auth_body(char **out, const os_config *cfg, jc_error *err);
/* auth_url -> the URL of /v3/auth/tokens (adds /v3 to an unversioned URL). */
int os_auth_tokens_url(char **out, const char *auth_url, jc_error *err);

/*
 * The URL of a service in a Keystone v3 catalog (the "catalog" array of a
 * token): the endpoint of that type and interface, in `region` when given.
 * Several regions and none asked for is an error that names them.  Pure.
 */
int os_catalog_url(char **out, json_object *catalog, const char *service_type,
		   const char *interface, const char *region, jc_error *err);

typedef enum os_service {
	OS_COMPUTE = 0,
	OS_NETWORK = 1,
	OS_IMAGE = 2,
	OS_N_SERVICES = 3
} os_service;

struct os_cache;

typedef struct os_cloud {
	os_config *cfg;
	jc_http *http;
	const jc_logger *log;
	/* the token and what came with it */
	bool authed;
	char *token_header;        /* "X-Auth-Token: ..." (a secret) */
	int64_t token_expires_ms;  /* wall clock */
	char *project_id;
	char *user_id;
	char *urls[OS_N_SERVICES]; /* base URLs: compute .../v2.1, network .../v2.0, image .../v2 */
	int auths;                 /* tokens obtained this run */
	/* Nova */
	int mv;                    /* negotiated microversion (2000+minor), 0: not yet */
	char mv_headers[2][64];
	/* names resolved this run, the external network, create request ids */
	struct os_cache *cache;
	char *ext_net_id;
	jc_strv create_ids, create_reqids;
	jc_strv fault_ids, faults;  /* ERROR servers' faults, fetched once each */
} os_cloud;

/* One API request of a batch (os_call_many). */
typedef struct os_call {
	os_service service;
	const char *method;        /* NULL: GET */
	char *path;                /* owned: after the service's base URL, e.g. "/servers" */
	char *body;                /* owned JSON, or NULL */
	jc_http_idempotence idempotence;
	char *url;                 /* owned: set by os_call_many */
	long long timeout_ms;      /* per attempt; 0: the cloud's */
	jc_http_response resp;
	jc_error err;
	int rc;                    /* 0: a response arrived (any status) */
} os_call;

/* Authenticates when there is no usable token.  Never called by open. */
int os_auth_ensure(os_cloud *oc, jc_error *err);
/* Performs calls in parallel; a 401 gets one new token and one more try.
 * Returns the first failure to get a response (or to authenticate). */
int os_call_many(os_cloud *oc, os_call *calls, size_t n, jc_error *err);
void os_calls_free(os_call *calls, size_t n);
/* One call whose answer must be 2xx; *out (may be NULL) gets the parsed
 * JSON body (NULL for an empty body).  resp_out (may be NULL) gets the
 * response too (the caller clears it). */
int os_call_json(os_cloud *oc, os_service service, const char *method, const char *path,
		 const char *body, jc_http_idempotence idem, json_object **out,
		 jc_http_response *resp_out, jc_error *err);
/* Checks a finished call: 2xx and (when out) a JSON body.  Fills err with
 * the URL, status, request id and the server's message otherwise. */
int os_call_check(os_cloud *oc, const os_call *call, json_object **out, jc_error *err);
const char *os_service_name(os_service s);

/* ---- Nova (cloud-openstack-compute.c) */

#define OS_MV_MIN 2001           /* 2.1 */
#define OS_MV_MAX 2093           /* 2.93: the newest this provider was tested with */
#define OS_MV_NETWORKS_KEYWORD 2037  /* "networks": "none" / "auto" */
#define OS_MV_TAG_FILTER 2026    /* ?tags= in lists, tags in responses */
#define OS_MV_TAGS_AT_CREATE 2052
#define OS_MV_HOSTNAME 2090

/*
 * Chooses the microversion to speak: the highest the server, this provider
 * and the cloud's compute_api_version (cap, 0: none) all allow.  server_min
 * and server_max come from the version document (0 when it has none: a
 * cloud without microversions, which speaks 2.1).  Pure.
 */
int os_microversion_choose(int *out, int server_min, int server_max, int cap, jc_error *err);

typedef enum os_nets {
	OS_NETS_OMIT = 0,     /* no "networks" key (Nova < 2.37 picks) */
	OS_NETS_AUTO = 1,
	OS_NETS_NONE = 2,
	OS_NETS_LIST = 3
} os_nets;

/* What "networks" becomes for a request of mode `mode` at microversion mv
 * given the cloud's default; *use_default says the cloud's own network list
 * applies.  Pure. */
int os_networks_choose(os_nets *out, bool *use_default, jc_networks_mode mode,
		       const os_config *cfg, int mv, jc_error *err);

/* The ids a create body needs (all resolved). */
typedef struct os_create_ids {
	const char *flavor;
	const char *image;
	os_nets nets;
	const char *const *networks;
	size_t n_networks;
	const char *const *security_groups;
	size_t n_security_groups;
} os_create_ids;

/* The body of POST /servers.  Pure. */
int os_server_body(char **out, const jc_server_create *req, const os_create_ids *ids, int mv,
		   jc_error *err);
/* One server of a list ("servers"[i] of /servers/detail) into *out.  Pure. */
int os_server_parse(jc_server *out, json_object *server, const char *tag, jc_error *err);
jc_server_status os_status_map(const char *status, const char *task_state);
char *os_base64(const void *data, size_t len);
bool os_is_uuid(const char *s);
/* the tags that mark a stack's servers */
#define OS_TAG_OWNER "jcicd"
#define OS_TAG_STACK_PREFIX "jcicd-stack-"
#define OS_META_STACK "jcicd_stack"

int os_compute_ready(os_cloud *oc, jc_error *err);
int os_compute_list(os_cloud *oc, const char *tag, jc_server_list **out, jc_error *err);
int os_compute_create(os_cloud *oc, const jc_server_create *reqs, size_t n, jc_create_result *results,
		      jc_error *err);
int os_compute_delete(os_cloud *oc, const char *const *ids, size_t n, jc_error *err);

/* ---- names to ids (cloud-openstack-resolve.c) */

/* Resolves every name the requests use; the first problem is an error
 * (JC_EINVALID for an unknown name, JC_EAMBIGUOUS for one that matches
 * several things), before anything is created. */
int os_resolve_prepare(os_cloud *oc, const jc_server_create *reqs, size_t n, jc_error *err);
/* The ids of one request (names already prepared); the arrays in ids live
 * in *scratch until it is freed. */
int os_resolve_ids(os_cloud *oc, const jc_server_create *req, os_create_ids *ids, jc_strv *scratch,
		   jc_error *err);
void os_cache_free(struct os_cache *cache);

/* ---- floating IPs (cloud-openstack-fip.c) */

int os_fip_add(os_cloud *oc, const jc_server *server, jc_error *err);
/* Releases the floating IPs jcicd gave these servers. */
int os_fip_release(os_cloud *oc, const char *const *server_ids, size_t n, jc_error *err);

#endif
