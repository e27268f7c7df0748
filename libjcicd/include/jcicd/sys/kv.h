/*
 * jcicd/sys/kv.h - for writers of KV backends (lower stability than
 * jcicd/kv.h).  A backend is a table of functions found by URL scheme.
 *
 * Ranges are [key, range_end): range_end NULL means the one key, "" means
 * every key from `key` to the end of the key space.  The front end turns
 * prefixes into ranges, checks arguments and copies results, so a backend
 * only speaks its protocol.
 */
#ifndef JCICD_SYS_KV_H
#define JCICD_SYS_KV_H

#include "jcicd/kv.h"

#ifdef __cplusplus
extern "C" {
#endif

#define JC_KV_PROVIDER_VERSION 1

typedef struct jc_kv_provider {
	unsigned version;
	const char *scheme;          /* "sqlite", "etcd" */
	const char *const *aliases;  /* other schemes it serves ("etcds"), NULL-terminated; may be NULL */
	int (*open)(void **state, const char *url, const jc_kv_options *opts, jc_error *err);
	void (*close)(void *state);
	int (*range)(void *state, jc_kv_list *out, const char *key, const char *range_end,
		     const jc_kv_range_options *opts, jc_error *err);
	int (*put)(void *state, const char *key, const char *value, size_t value_len,
		   int64_t lease, int64_t *out_revision, jc_error *err);
	int (*delete_range)(void *state, const char *key, const char *range_end, long *out_deleted,
			    jc_error *err);
	/* ops of type JC_KV_OP_DELETE_PREFIX arrive with their range end in value */
	int (*txn)(void *state, const jc_kv_compare *cmps, size_t n_cmps, const jc_kv_op *then_ops,
		   size_t n_then, const jc_kv_op *else_ops, size_t n_else, bool *succeeded,
		   int64_t *out_revision, jc_error *err);
	int (*lease_grant)(void *state, int64_t *out_id, long ttl_s, jc_error *err);
	int (*lease_keepalive)(void *state, int64_t id, long *out_ttl, jc_error *err);
	int (*lease_revoke)(void *state, int64_t id, jc_error *err);
	int (*watch_open)(void *state, void **watch, const char *key, const char *range_end,
			  int64_t start_revision, jc_error *err);
	/* appends to out; sets out->revision (next revision to deliver - 1) */
	int (*watch_next)(void *watch, jc_kv_events *out, long long timeout_ms, jc_error *err);
	int64_t (*watch_revision)(const void *watch);  /* next revision to deliver */
	void (*watch_close)(void *watch);
	void (*stats)(const void *state, jc_kv_stats *out);
	int (*status)(void *state, jc_kv_status *out, jc_error *err);
} jc_kv_provider;

/* Adds a backend (the table must outlive every store opened with it).
 * Backends registered later are asked first. */
JC_EXTERN int jc_kv_register(const jc_kv_provider *provider, jc_error *err);

/* The end of the range of keys that start with prefix (caller frees): the
 * prefix with its last byte below 0xff incremented; "" when there is none. */
JC_EXTERN char *jc_kv_prefix_end(const char *prefix);

#ifdef __cplusplus
}
#endif
#endif
