/*
 * jcicd/kv.h - the coordination store: a small key-value interface with
 * revisions, leases, compare-and-swap and watches, the same semantics over
 * two backends chosen by URL:
 *
 *   sqlite:///var/lib/jcicd/kv.db     embedded: one SQLite file (WAL) shared
 *                                      by every process on the machine
 *   etcd://host:2379[,host:2379...]   etcd v3 over its JSON gateway (http)
 *   etcds://host:2379[,...]           the same over https
 *
 * The model is etcd's: every change bumps one store-wide revision; a key has
 * the revision that created it and the one that last changed it; a lease
 * is granted with a TTL, kept alive by its holder, and deletes every key
 * attached to it when it expires or is revoked.  Keys and values are byte
 * strings (values may hold NULs; keys are C strings).
 *
 * A jc_kv handle is not thread-safe: use one per thread.
 */
#ifndef JCICD_KV_H
#define JCICD_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jcicd/error.h"
#include "jcicd/log.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct jc_kv jc_kv;
typedef struct jc_kv_watch jc_kv_watch;

#define JC_KV_OPTIONS_VERSION 2   /* 1: without source_address (still accepted) */
typedef struct jc_kv_options {
	unsigned version;
	const char *username;          /* etcd auth (both or neither); copied */
	const char *password;          /* registered as a secret, never logged */
	const char *ca_file;           /* etcds: CA bundle; NULL: system store */
	const char *client_cert;       /* etcds: client certificate (PEM) */
	const char *client_key;        /* etcds: its key (PEM) */
	bool insecure;                 /* etcds: do not verify the server */
	long long timeout_ms;          /* one request; 0: 10 s */
	long long busy_timeout_ms;     /* sqlite: wait for the write lock; 0: 30 s */
	const jc_logger *logger;       /* borrowed; may be NULL */
	/* etcd: no connection is kept open between requests (a watch keeps
	 * its own).  For agents that talk once every few seconds: a fleet of
	 * 10,000 then costs the server 10,000 sockets, not 20,000. */
	bool short_connections;
	/* etcd: connections leave from this local address (a numeric IPv4 or
	 * IPv6 address, as curl's --interface takes one): the interface of a
	 * node with several, or one address per simulated node when a whole
	 * fleet runs on one machine and would otherwise share one address's
	 * local ports.  NULL: the kernel's choice.  Copied. */
	const char *source_address;
} jc_kv_options;

#define JC_KV_OPTIONS_INIT { JC_KV_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, false, 0, 0, NULL, false, NULL }

/* One key and its value, with etcd's metadata.  Owned by whoever holds it;
 * jc_kv_pair_clear frees the strings. */
typedef struct jc_kv_pair {
	char *key;
	char *value;                   /* NUL-terminated (value_len excludes it) */
	size_t value_len;
	int64_t create_revision;
	int64_t mod_revision;
	int64_t version;               /* changes since creation, from 1 */
	int64_t lease;                 /* 0: none */
} jc_kv_pair;

typedef struct jc_kv_list {
	jc_kv_pair *items;
	size_t n;
	int64_t revision;              /* the store's revision the read saw */
	int64_t count;                 /* keys in the range (all pages, whatever
	                                  min_mod_revision filtered out) */
	bool more;                     /* limit cut the answer short */
} jc_kv_list;

/*
 * Opens a store by URL (see above).  Nothing is contacted yet for etcd
 * except when auth is configured (the token is fetched on first use); the
 * sqlite file and its tables are created when missing.
 */
JC_EXTERN int jc_kv_open(jc_kv **out, const char *url, const jc_kv_options *opts,
			 jc_error *err);
JC_EXTERN void jc_kv_free(jc_kv *kv);
/* The URL it was opened with, without credentials (borrowed). */
JC_EXTERN const char *jc_kv_url(const jc_kv *kv);
/* "sqlite" or "etcd". */
JC_EXTERN const char *jc_kv_backend(const jc_kv *kv);

JC_EXTERN void jc_kv_pair_clear(jc_kv_pair *pair);
JC_EXTERN void jc_kv_list_clear(jc_kv_list *list);

/* Reads one key.  JC_ENOTFOUND (and a cleared *out) when it does not exist. */
JC_EXTERN int jc_kv_get(jc_kv_pair *out, jc_kv *kv, const char *key, jc_error *err);

/* Writes a key; lease 0 means none.  out_revision (may be NULL) gets the
 * revision of the write. */
JC_EXTERN int jc_kv_put(jc_kv *kv, const char *key, const char *value, size_t value_len,
			int64_t lease, int64_t *out_revision, jc_error *err);

/* Deletes a key, or every key under it when prefix is true.  out_deleted
 * (may be NULL) gets how many went. */
JC_EXTERN int jc_kv_delete(jc_kv *kv, const char *key, bool prefix, long *out_deleted,
			   jc_error *err);

#define JC_KV_RANGE_OPTIONS_VERSION 1
typedef struct jc_kv_range_options {
	unsigned version;
	const char *start_after;       /* pagination: keys strictly after this one */
	long limit;                    /* keys per answer; 0: all */
	int64_t min_mod_revision;      /* only keys changed at or after this revision */
	bool keys_only;                /* no values */
	bool count_only;               /* only list->count and list->revision */
} jc_kv_range_options;

#define JC_KV_RANGE_OPTIONS_INIT { JC_KV_RANGE_OPTIONS_VERSION, NULL, 0, 0, false, false }

/* Keys starting with prefix, sorted bytewise.  One call is one page: with a
 * limit, call again with start_after = the last key while list->more. */
JC_EXTERN int jc_kv_range(jc_kv_list *out, jc_kv *kv, const char *prefix,
			  const jc_kv_range_options *opts, jc_error *err);

/* ---- transactions: if every compare holds, do `then`, else `otherwise` */
typedef enum jc_kv_target {
	JC_KV_VALUE = 0,               /* compare the value (absent never equals) */
	JC_KV_MOD = 1,                 /* mod_revision (0 when absent) */
	JC_KV_CREATE = 2,              /* create_revision (0 when absent) */
	JC_KV_VERSION = 3              /* version (0 when absent) */
} jc_kv_target;

typedef enum jc_kv_cmp_op { JC_KV_EQUAL = 0, JC_KV_NOT_EQUAL, JC_KV_LESS, JC_KV_GREATER } jc_kv_cmp_op;

typedef struct jc_kv_compare {
	const char *key;
	jc_kv_target target;
	jc_kv_cmp_op op;
	const char *value;             /* JC_KV_VALUE */
	size_t value_len;
	int64_t number;                /* the other targets */
} jc_kv_compare;

typedef enum jc_kv_op_type { JC_KV_OP_PUT = 0, JC_KV_OP_DELETE = 1, JC_KV_OP_DELETE_PREFIX = 2 } jc_kv_op_type;

typedef struct jc_kv_op {
	jc_kv_op_type type;
	const char *key;
	const char *value;
	size_t value_len;
	int64_t lease;
} jc_kv_op;

/* Runs a transaction atomically.  *succeeded says which branch ran;
 * out_revision (may be NULL) gets the store's revision after it. */
JC_EXTERN int jc_kv_txn(jc_kv *kv, const jc_kv_compare *cmps, size_t n_cmps,
			const jc_kv_op *then_ops, size_t n_then, const jc_kv_op *else_ops,
			size_t n_else, bool *succeeded, int64_t *out_revision, jc_error *err);

/* Compare-and-swap: writes key = value only if its current value is
 * `expected` (NULL: only if the key does not exist).  JC_ECONFLICT when it
 * was something else. */
JC_EXTERN int jc_kv_cas(jc_kv *kv, const char *key, const char *expected, const char *value,
			int64_t lease, jc_error *err);

/* ---- leases */
JC_EXTERN int jc_kv_lease_grant(int64_t *out_id, jc_kv *kv, long ttl_s, jc_error *err);
/* Refreshes a lease; out_ttl (may be NULL) gets the TTL granted again.
 * JC_ENOTFOUND when the lease has expired (its keys are gone). */
JC_EXTERN int jc_kv_lease_keepalive(long *out_ttl, jc_kv *kv, int64_t id, jc_error *err);
JC_EXTERN int jc_kv_lease_revoke(jc_kv *kv, int64_t id, jc_error *err);

/* ---- watches */
typedef enum jc_kv_event_type {
	JC_KV_EVENT_PUT = 0,
	JC_KV_EVENT_DELETE = 1
} jc_kv_event_type;

typedef struct jc_kv_event {
	jc_kv_event_type type;
	jc_kv_pair kv;                 /* for a delete: key and mod_revision only */
} jc_kv_event;

typedef struct jc_kv_events {
	jc_kv_event *items;
	size_t n;
	int64_t revision;              /* everything up to here has been seen */
	bool compacted;                /* history before `revision` is gone: re-read
	                                  the range, then watch from its revision + 1 */
} jc_kv_events;

JC_EXTERN void jc_kv_events_clear(jc_kv_events *events);

/*
 * Watches every key under prefix, delivering each change made at or after
 * start_revision (0: from now on).  The watch reconnects by itself, resuming
 * after the last revision delivered, so a restarted server or a failed-over
 * endpoint loses no event.
 */
JC_EXTERN int jc_kv_watch_open(jc_kv_watch **out, jc_kv *kv, const char *prefix,
			       int64_t start_revision, jc_error *err);
/*
 * Waits at most timeout_ms for changes.  Returns 0 with out->n == 0 when
 * nothing happened in time.  A lost connection is retried inside the wait;
 * the call fails (JC_EUNREACHABLE) only when no endpoint answered for the
 * whole wait.  Clears *out first.
 */
JC_EXTERN int jc_kv_watch_next(jc_kv_events *out, jc_kv_watch *watch, long long timeout_ms,
			       jc_error *err);
/* The next revision the watch will deliver from. */
JC_EXTERN int64_t jc_kv_watch_revision(const jc_kv_watch *watch);
JC_EXTERN void jc_kv_watch_free(jc_kv_watch *watch);

/* ---- accounting, for benchmarks and status */
typedef struct jc_kv_stats {
	long requests;                 /* requests sent (etcd) or statements run (sqlite) */
	long watch_reconnects;
} jc_kv_stats;

JC_EXTERN void jc_kv_get_stats(const jc_kv *kv, jc_kv_stats *out);

typedef struct jc_kv_status {
	int64_t revision;
	long long db_size;             /* bytes on disk (etcd: its backend db) */
	char server_version[32];       /* "3.4.23", or SQLite's version */
} jc_kv_status;

JC_EXTERN int jc_kv_get_status(jc_kv_status *out, jc_kv *kv, jc_error *err);

#ifdef __cplusplus
}
#endif
#endif
