/*
 * jcicd/orchestrate.h - the version protocol between the pipeline and the
 * nodes, on a KV store (jcicd/kv.h), and rolling updates in waves.
 *
 * Keys, under a prefix (default "/jcicd/"):
 *
 *   desired/version            the version every node should run (jorc's
 *                              /current_version)
 *   desired/spread_ms          written with the version or the gate: the
 *                              window hosts spread their moves over (ms), so
 *                              their reports reach the store at about
 *                              report_rate a second, however big the fleet
 *   desired/gate               during a rollout: which hosts may move to it
 *                              ({"version":V,"roles":{"db":N,...},"all":N},
 *                              a host is open when hash(host) < its role's N)
 *   hosts/<host>/alive         {"role","tag","since"}: bound to the host's lease
 *   hosts/<host>/health        {"ok","running","version","stage","message",
 *                              "time",...}, bound to the lease: "running" is
 *                              the version the host last converged and
 *                              validated at (one per host), "version" the
 *                              one it tried last.  One key, so a report is
 *                              one plain write.  (hosts/<host>/version, which
 *                              earlier agents wrote, is still read.)
 *   config_state/{global | role/<r> | host/<h>}/<key>   operator overrides
 *   config_version/...         (reserved, as in jorc)
 *   rollout                    the rollout in progress (JSON)
 *
 * A node that dies loses its lease and with it every key it reported: the
 * "who runs what" view never shows ghosts.  Reading that view costs what
 * changed since the last read (a revision-filtered range, plus a keys-only
 * listing when hosts disappeared), not the whole subtree each time; a
 * cache file carries the view between runs of the CLI.
 */
#ifndef JCICD_ORCHESTRATE_H
#define JCICD_ORCHESTRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jcicd/config.h"
#include "jcicd/error.h"
#include "jcicd/kv.h"
#include "jcicd/log.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct jc_orch jc_orch;

#define JC_ORCH_OPTIONS_VERSION 2
typedef struct jc_orch_options {
	unsigned version;
	const char *prefix;         /* NULL: "/jcicd/" (a trailing '/' is added) */
	const char *cache_file;     /* the host view kept between runs; NULL: none */
	const jc_logger *logger;
	/* version 2: the reports a second the store takes while a version
	 * spreads (desired/spread_ms = hosts moving / report_rate); 0: 2000 */
	long report_rate;
} jc_orch_options;

#define JC_ORCH_OPTIONS_INIT { JC_ORCH_OPTIONS_VERSION, NULL, NULL, NULL, 0 }

/* kv is borrowed and must outlive the handle. */
JC_EXTERN int jc_orch_open(jc_orch **out, jc_kv *kv, const jc_orch_options *opts, jc_error *err);
JC_EXTERN void jc_orch_free(jc_orch *orch);
JC_EXTERN jc_kv *jc_orch_kv(jc_orch *orch);
/* "<prefix><rest>", caller frees. */
JC_EXTERN char *jc_orch_key(const jc_orch *orch, const char *rest);

/* ---- the desired version */

/* Sets the desired version for every host (and ends any rollout gate),
 * with the spread window for the hosts registered now. */
JC_EXTERN int jc_orch_trigger_update(jc_orch *orch, const char *version, jc_error *err);
/* JC_ENOTFOUND when no version was ever set. */
JC_EXTERN int jc_orch_desired(char **out_version, jc_orch *orch, jc_error *err);
/*
 * The version a host should run now: the desired version, unless a rollout
 * gate holds this host back, in which case *out_version is NULL.
 * desired_value and gate_value are the raw values of desired/version and
 * desired/gate (gate NULL: no gate).  Pure: no KV access.
 */
JC_EXTERN int jc_orch_target_for(char **out_version, const char *desired_value,
				 const char *gate_value, const char *hostname, const char *role);
/* The window (ms) for hosts moving at once to spread their moves over. */
JC_EXTERN long long jc_orch_spread_ms(const jc_orch *orch, size_t hosts);
/*
 * When a host should next keep its lease alive, now that it has a move to
 * make within window_ms (its jitter, or desired/spread_ms): a keep-alive
 * due inside the window goes after it, to a random moment of a second
 * window, so the store spends the window on the fleet's reports.  It is
 * never put off past two thirds of the TTL since renewed_ms (the lease's
 * last grant or keep-alive).  due_ms, renewed_ms and now_ms are on one
 * monotonic clock; the result is never earlier than due_ms.
 */
JC_EXTERN int64_t jc_orch_keepalive_due_ms(int64_t due_ms, int64_t renewed_ms, long ttl_s, long long window_ms,
					   int64_t now_ms);
/* The stable hash rollouts order hosts by (32 bits, FNV-1a). */
JC_EXTERN uint32_t jc_orch_host_hash(const char *hostname);

/* ---- the node side */

typedef struct jc_host_report {
	const char *hostname;
	const char *role;
	const char *tag;
	const char *running_version;  /* converged and validated at; NULL: what this
	                                 handle last reported under the lease, or none */
	bool healthy;
	const char *stage;            /* "converged", "apt", "converge", "validation", "paused" */
	const char *message;
	const char *attempted_version;/* what the last run tried to reach */
	int converge_rc;              /* -1: not run */
	int validation_rc;            /* -1: not run */
} jc_host_report;

/* Writes hosts/<host>/alive bound to lease (0: no lease, the keys stay
 * until deleted, like the original's cron mode). */
JC_EXTERN int jc_orch_register(jc_orch *orch, const jc_host_report *host, int64_t lease,
			       jc_error *err);
/* Writes the health record (with the running version in it): one put.
 * An unchanged record (time aside) is not written again. */
JC_EXTERN int jc_orch_report(jc_orch *orch, const jc_host_report *report, int64_t lease,
			     jc_error *err);

/* ---- the fleet view */

typedef struct jc_host {
	const char *hostname;
	const char *role;             /* "" when unknown */
	const char *tag;
	bool alive;                   /* registered with a live lease */
	const char *version;          /* running version; NULL: none reported */
	bool has_health;
	bool healthy;
	const char *stage;
	const char *message;
	const char *attempted_version;
	long long health_time;        /* epoch seconds */
	long long health_time_ms;     /* epoch milliseconds */
} jc_host;

/* Brings the view up to date, reading only what changed. */
JC_EXTERN int jc_orch_refresh(jc_orch *orch, jc_error *err);
/* Waits (a watch) up to timeout_ms for the view to change and applies the
 * changes; *changed says whether anything did. */
JC_EXTERN int jc_orch_wait_change(jc_orch *orch, long long timeout_ms, bool *changed,
				  jc_error *err);
/* Hosts known after the last refresh, sorted by name; borrowed until the
 * next refresh. */
JC_EXTERN size_t jc_orch_host_count(const jc_orch *orch);
JC_EXTERN const jc_host *jc_orch_host(const jc_orch *orch, size_t i);
JC_EXTERN const jc_host *jc_orch_host_find(const jc_orch *orch, const char *hostname);
/* Keys transferred by refreshes so far (what "O(changed keys)" counts). */
JC_EXTERN long jc_orch_keys_read(const jc_orch *orch);

/* ---- operator overrides (jorc manage_config / check_puppet) */

/* type "state" or "version"; scope "global", "role" or "host" (name
 * required for role and host); value NULL deletes. */
JC_EXTERN int jc_orch_config_set(jc_orch *orch, const char *type, const char *scope,
				 const char *name, const char *key, const char *value, jc_error *err);
/* host beats role beats global; JC_ENOTFOUND when set nowhere. */
JC_EXTERN int jc_orch_config_lookup(char **out_value, jc_orch *orch, const char *type,
				    const char *key, const char *role, const char *hostname,
				    jc_error *err);
/* enable_puppet: upgrades are allowed unless the looked-up value is set and
 * does not contain "rue" (jorc's check_puppet). */
JC_EXTERN int jc_orch_upgrades_enabled(bool *out, jc_orch *orch, const char *role,
				       const char *hostname, jc_error *err);

/* ---- waiting for hosts */

typedef struct jc_wait_result {
	char **ready;        size_t n_ready;     /* at the version and healthy */
	char **lagging;      size_t n_lagging;   /* not there yet */
	char **lag_why;                          /* one line per lagging host */
	char **failed;       size_t n_failed;    /* reported a failed run at the version */
	char **fail_why;
} jc_wait_result;

JC_EXTERN void jc_wait_result_clear(jc_wait_result *result);

/*
 * Waits until every host in hostnames runs version and is healthy.  0 when
 * they all do; JC_ETIMEOUT when the deadline passed (result lists who lags
 * and who failed).  fail_fast: return JC_EFAILED as soon as more than
 * max_failures hosts reported a failure at the version (-1: never).
 */
JC_EXTERN int jc_orch_wait_hosts(jc_wait_result *out, jc_orch *orch, const char *version,
				 const char *const *hostnames, size_t n, long long timeout_ms,
				 long max_failures, jc_error *err);

/* ---- rollouts */

#define JC_ROLLOUT_OPTIONS_VERSION 1
typedef struct jc_rollout_options {
	unsigned version;
	const char *waves;            /* "1,10%,50%,100%" (a last 100% is implied) */
	long max_failures;            /* failed hosts tolerated before halting */
	long long wave_timeout_ms;    /* each wave; 0: 30 min */
	/* role_dependencies: roles[i] is upgraded after every role in deps[i]
	 * ("db" before "cp": roles = {"cp"}, deps = {"db"}).  deps[i] is a
	 * comma-separated list. */
	const char *const *roles;
	const char *const *deps;
	size_t n_roles;
} jc_rollout_options;

#define JC_ROLLOUT_OPTIONS_INIT { JC_ROLLOUT_OPTIONS_VERSION, NULL, 0, 0, NULL, NULL, 0 }

/*
 * Rolls version out wave by wave: role groups in dependency order, each
 * group through the wave sizes, each wave waited for until healthy at the
 * version.  Halts (JC_EFAILED, the report in err and in the rollout key)
 * when more than max_failures hosts failed or a wave timed out; returns
 * JC_ECANCELLED when paused or aborted from elsewhere.  Runs again from
 * where it stopped with jc_rollout_resume.
 */
JC_EXTERN int jc_rollout_start(jc_orch *orch, const char *version, const jc_rollout_options *opts,
			       jc_error *err);
JC_EXTERN int jc_rollout_resume(jc_orch *orch, const jc_rollout_options *opts, jc_error *err);
/* The rollout record as JSON text (caller frees); JC_ENOTFOUND when none. */
JC_EXTERN int jc_rollout_status(char **out_json, jc_orch *orch, jc_error *err);
JC_EXTERN int jc_rollout_pause(jc_orch *orch, jc_error *err);
/* Stops opening waves for good; hosts already moved stay where they are. */
JC_EXTERN int jc_rollout_abort(jc_orch *orch, jc_error *err);

/* ---- settings: the kv section of jcicd.yaml
 *
 *   kv:
 *     url: etcd://10.0.0.1:2379,10.0.0.2:2379   # default sqlite://<state>/kv.db
 *     prefix: /jcicd/
 *     username: jcicd
 *     password_file: etcd.password                # or $JCICD_KV_PASSWORD
 *     ca_file: ca.pem                             # etcds://
 *     cert_file: client.pem
 *     key_file: client-key.pem
 *     insecure: false
 *     source_address: 10.0.1.5                    # etcd: connect from this local address
 *     timeout: 10s
 *     rollout:
 *       waves: [1, 10%, 50%, 100%]
 *       max_failures: 0
 *       wave_timeout: 30m
 *       role_dependencies: {cp: [db, ct], ct: db}
 *
 * $JCICD_KV overrides url (and a --kv flag overrides both). */
typedef struct jc_orch_settings {
	char *state_dir;              /* resolved (--state-dir, $JCICD_STATE_DIR, ...) */
	char *kv_url;
	char *prefix;
	char *username;
	char *password;
	char *ca_file;
	char *client_cert;
	char *client_key;
	bool insecure;
	long long timeout_ms;
	bool short_connections;       /* see jc_kv_options; set by the agent */
	char *waves;
	long max_failures;
	long long wave_timeout_ms;
	char **roles;                 /* role_dependencies, as jc_rollout_options wants them */
	char **deps;
	size_t n_roles;
	long report_rate;             /* kv.report_rate; 0: the default */
	char *source_address;         /* kv.source_address; see jc_kv_options */
} jc_orch_settings;

/* config may be NULL; state_dir NULL: the default one. */
JC_EXTERN int jc_orch_settings_load(jc_orch_settings *out, const jc_config *config,
				    const char *state_dir, jc_error *err);
JC_EXTERN void jc_orch_settings_clear(jc_orch_settings *settings);
JC_EXTERN int jc_orch_settings_open_kv(jc_kv **out, const jc_orch_settings *settings,
				       const jc_logger *logger, jc_error *err);

#ifdef __cplusplus
}
#endif
#endif
