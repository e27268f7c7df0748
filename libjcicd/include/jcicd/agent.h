/*
 * jcicd/agent.h - the node side: a host that converges itself.
 *
 * The agent registers the host with a lease, watches the desired version
 * (jcicd/orchestrate.h), and when its target changes (after a random
 * jitter, so a fleet does not stampede the repository), it
 *
 *   1. points its APT sources at snapshot V:
 *        deb [trusted=yes | signed-by=KEYRING] BASE/snapshots/V SUITE COMPONENTS
 *   2. runs the update command      (apt-get update)
 *   3. runs the upgrade command     (apt-get dist-upgrade -o Dpkg::Options::=--force-confold -y)
 *   4. runs the converge command    (puppet apply --detailed-exitcodes, with the
 *                                    role, tag and version as facts); exit codes
 *                                    1, 4 and 6 are failures
 *   5. runs every validation script of a directory (run-parts: executable
 *      files named [A-Za-z0-9_-]+, in order, stopping at the first failure)
 *
 * and reports the version only when 4 and 5 succeeded, its health in every
 * case.  An unhealthy host converges again, a bounded number of times with
 * backoff.  A pause flag (config_state enable_puppet at global, role or host
 * scope) stops upgrades but not validation.  One agent per host at a time
 * (a lock in its directory).  Each step is a shell command line, run with
 * JCICD_HOSTNAME, JCICD_ROLE, JCICD_TAG, JCICD_VERSION and FACTER_role,
 * FACTER_tag, FACTER_version in its environment, killed at its deadline.
 */
#ifndef JCICD_AGENT_H
#define JCICD_AGENT_H

#include <stdbool.h>
#include <stddef.h>

#include "jcicd/error.h"
#include "jcicd/log.h"
#include "jcicd/orchestrate.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct jc_agent jc_agent;

#define JC_AGENT_DEFAULT_UPDATE "apt-get update"
#define JC_AGENT_DEFAULT_UPGRADE "apt-get dist-upgrade -o Dpkg::Options::=--force-confold -y"
#define JC_AGENT_DEFAULT_CONVERGE \
	"puppet apply --detailed-exitcodes /etc/puppet/code/environments/production/manifests"
#define JC_AGENT_DEFAULT_SOURCES "/etc/apt/sources.list.d/jcicd.list"
#define JC_AGENT_DEFAULT_VALIDATION "/usr/lib/jcicd/tests"

#define JC_AGENT_OPTIONS_VERSION 1
typedef struct jc_agent_options {
	unsigned version;
	const char *hostname;            /* required */
	const char *role;                /* NULL: from the hostname (cp1-t1 -> cp) */
	const char *tag;
	const char *dir;                 /* the agent's own state: lock, version file, logs; required */
	const char *version_file;        /* NULL: <dir>/current_version */
	long lease_ttl_s;                /* 0: 30 */
	long long jitter_ms;             /* longest random wait before acting on a change
	                                    (desired/spread_ms widens it for a big fleet) */
	/* APT: no base URL means the sources step is skipped */
	const char *apt_base_url;
	const char *apt_suite;           /* NULL: "stable" */
	const char *apt_components;      /* NULL: "main" */
	const char *apt_keyring;         /* signed-by; NULL: [trusted=yes] */
	const char *apt_sources_file;    /* NULL: JC_AGENT_DEFAULT_SOURCES */
	/* commands: NULL takes the default, "" skips the step */
	const char *update_command;
	const char *upgrade_command;
	const char *converge_command;
	const char *converge_failure_codes; /* "1,4,6" (NULL); signals, timeouts, 126, 127 always fail */
	const char *validation_dir;      /* NULL: JC_AGENT_DEFAULT_VALIDATION; "" none */
	long long step_timeout_ms;       /* each command; 0: 30 min */
	int max_retries;                 /* converging again when unhealthy; -1: 3 */
	long long retry_backoff_ms;      /* the first wait, doubling; 0: 10 s */
	long long validate_interval_ms;  /* validate a healthy host this often; 0: never */
	const jc_logger *logger;
} jc_agent_options;

#define JC_AGENT_OPTIONS_INIT { JC_AGENT_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, 0, 0, \
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, -1, 0, 0, NULL }

/* orch (and its KV) is borrowed and must outlive the agent. */
JC_EXTERN int jc_agent_new(jc_agent **out, jc_orch *orch, const jc_agent_options *opts,
			   jc_error *err);
JC_EXTERN void jc_agent_free(jc_agent *agent);

/*
 * Runs until *stop becomes non-zero (a signal handler sets it), or, with
 * once, for one pass: converge if the target differs from the local
 * version (or validate otherwise), report, return.  In once mode the
 * reports are not bound to a lease.  Returns JC_ELOCKED when another agent
 * holds the host's lock; in once mode JC_EFAILED when the pass failed.
 */
JC_EXTERN int jc_agent_run(jc_agent *agent, bool once, volatile int *stop, jc_error *err);

/* The local version file (jorc local_version): *out is "" when missing. */
JC_EXTERN int jc_agent_local_version(char **out, const char *version_file, jc_error *err);
JC_EXTERN int jc_agent_set_local_version(const char *version_file, const char *version,
					 jc_error *err);

/* ---- the agent section of jcicd.yaml (every option above, by name:
 * hostname, role, tag, dir, version_file, lease_ttl, jitter, apt: {base_url,
 * suite, components, keyring, sources_file}, update_command,
 * upgrade_command, converge_command, converge_failure_codes,
 * validation_dir, step_timeout, retries, retry_backoff, validate_interval).
 * Defaults of the long-running agent: jitter 5 s, validation every 5 min. */
typedef struct jc_agent_settings {
	jc_agent_options options;     /* strings owned by the settings */
	void *holder;
} jc_agent_settings;

JC_EXTERN int jc_agent_settings_load(jc_agent_settings *out, const jc_config *config, jc_error *err);
JC_EXTERN void jc_agent_settings_clear(jc_agent_settings *settings);

#ifdef __cplusplus
}
#endif
#endif
