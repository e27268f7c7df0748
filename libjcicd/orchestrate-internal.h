/* orchestrate-internal.h - what orchestrate.c and rollout.c share. */
#ifndef JCICD_ORCHESTRATE_INTERNAL_H
#define JCICD_ORCHESTRATE_INTERNAL_H

#include <sys/types.h>

#include "common.h"
#include "jcicd/orchestrate.h"

struct view_entry {
	char *key;
	char *value;
	int64_t mod;
};

struct jc_orch {
	jc_kv *kv;
	char *prefix;            /* ends in '/' */
	char *hosts_prefix;
	char *cache_file;
	bool cache_loaded;
	const jc_logger *logger;
	long report_rate;
	/* every key under hosts/, sorted, as of revision rev */
	struct view_entry *e;
	size_t n, cap;
	int64_t rev;
	long keys_read;
	jc_kv_watch *watch;
	/* derived host list and the strings it points to */
	jc_host *hosts;
	size_t n_hosts;
	jc_strv pool;
	/* what this process last reported (not written twice) */
	char *last_host, *last_health, *last_version;
	int64_t last_lease;
};

int jc_orch_check_version(const char *version, jc_error *err);
void jc_orch_view_put(jc_orch *o, const char *key, const char *value, int64_t mod);
void jc_orch_view_del(jc_orch *o, const char *key);
void jc_orch_derive(jc_orch *o);
/* Sorts the named hosts into ready / lagging / failed for version; a
 * failure reported before since_ms (epoch milliseconds) counts as lagging: the
 * host may have been fixed meanwhile. */
void jc_orch_classify(const jc_orch *o, const char *version, const char *const *names, size_t n,
		      long long since_ms, jc_wait_result *result);
int jc_orch_wait_hosts_since(jc_wait_result *out, jc_orch *o, const char *version, const char *const *names,
			     size_t n, long long timeout_ms, long max_failures, long long since_ms, jc_error *err);

#endif
