/* cmd-agent.c - `jcicd agent`: the node-side loop (see jcicd/agent.h). */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

enum {
	OPT_ONCE = OPT_FIRST_COMMAND, OPT_KV, OPT_PREFIX, OPT_HOSTNAME, OPT_ROLE, OPT_TAG, OPT_DIR,
	OPT_VERSION_FILE, OPT_LEASE_TTL, OPT_JITTER, OPT_APT_BASE, OPT_APT_SUITE, OPT_APT_COMPONENTS,
	OPT_APT_KEYRING, OPT_APT_SOURCES, OPT_UPDATE, OPT_UPGRADE, OPT_CONVERGE, OPT_FAIL_CODES,
	OPT_VALIDATION_DIR, OPT_STEP_TIMEOUT, OPT_RETRIES, OPT_RETRY_BACKOFF, OPT_VALIDATE_INTERVAL
};

static const struct option agent_longopts[] = {
	{ "once", no_argument, NULL, OPT_ONCE },
	{ "kv", required_argument, NULL, OPT_KV },
	{ "prefix", required_argument, NULL, OPT_PREFIX },
	{ "hostname", required_argument, NULL, OPT_HOSTNAME },
	{ "role", required_argument, NULL, OPT_ROLE },
	{ "tag", required_argument, NULL, OPT_TAG },
	{ "dir", required_argument, NULL, OPT_DIR },
	{ "version-file", required_argument, NULL, OPT_VERSION_FILE },
	{ "lease-ttl", required_argument, NULL, OPT_LEASE_TTL },
	{ "jitter", required_argument, NULL, OPT_JITTER },
	{ "apt-base-url", required_argument, NULL, OPT_APT_BASE },
	{ "apt-suite", required_argument, NULL, OPT_APT_SUITE },
	{ "apt-components", required_argument, NULL, OPT_APT_COMPONENTS },
	{ "apt-keyring", required_argument, NULL, OPT_APT_KEYRING },
	{ "apt-sources-file", required_argument, NULL, OPT_APT_SOURCES },
	{ "update-command", required_argument, NULL, OPT_UPDATE },
	{ "upgrade-command", required_argument, NULL, OPT_UPGRADE },
	{ "converge-command", required_argument, NULL, OPT_CONVERGE },
	{ "converge-failure-codes", required_argument, NULL, OPT_FAIL_CODES },
	{ "validation-dir", required_argument, NULL, OPT_VALIDATION_DIR },
	{ "step-timeout", required_argument, NULL, OPT_STEP_TIMEOUT },
	{ "retries", required_argument, NULL, OPT_RETRIES },
	{ "retry-backoff", required_argument, NULL, OPT_RETRY_BACKOFF },
	{ "validate-interval", required_argument, NULL, OPT_VALIDATE_INTERVAL },
	CLI_COMMON_LONGOPTS
};

static volatile int stop_flag;

/* jcicd-agent beside this program (libtool runs an uninstalled one from
 * .libs/, its sibling is one level up); $JCICD_AGENT_BINARY names another,
 * and set empty keeps the agent in this process. */
static char *small_agent_path(void)
{
	const char *env = getenv("JCICD_AGENT_BINARY");
	char exe[4096], *slash;
	ssize_t n;

	if (env)
		return *env ? strdup(env) : NULL;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 32);
	if (n <= 0 || (size_t)n >= sizeof(exe) - 32)
		return NULL;
	exe[n] = '\0';
	if (!(slash = strrchr(exe, '/')))
		return NULL;
	strcpy(slash + 1, "jcicd-agent");
	if (access(exe, X_OK) == 0)
		return strdup(exe);
	*slash = '\0';
	if ((slash = strrchr(exe, '/')) != NULL && strcmp(slash, "/.libs") == 0) {
		strcpy(slash + 1, "jcicd-agent");
		if (access(exe, X_OK) == 0)
			return strdup(exe);
	}
	return NULL;
}

/*
 * A node pays for every library its agent maps: jcicd links libcurl,
 * libxml2, GPGME and what they pull in (about 9 MB resident), jcicd-agent
 * none of them (see agent-main.c).  Hands this process over to it when it
 * is there and can do the job (no TLS: it has no TLS library).  Returns
 * only when the agent stays here.
 */
static void hand_over(struct cli *cli, const char *kv_url, int argc, char **argv)
{
	char *path, **args;

	if (cli->small_agent || (kv_url && strncmp(kv_url, "etcds://", 8) == 0) || !(path = small_agent_path()))
		return;
	args = calloc((size_t)argc + 1, sizeof(*args));
	if (!args) {
		free(path);
		return;
	}
	args[0] = path;
	for (int i = 1; i < argc; i++)
		args[i] = argv[i];
	fflush(NULL);
	execv(path, args);
	cli_note(cli, "[agent] cannot run %s (%s); the agent runs in jcicd itself\n", path, strerror(errno));
	free(args);
	free(path);
}

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

int cmd_agent(struct cli *cli, int argc, char **argv)
{
	jc_agent_settings as;
	jc_orch_settings os;
	jc_agent_options *o;
	jc_kv *kv = NULL;
	jc_orch *orch = NULL;
	jc_agent *agent = NULL;
	jc_orch_options oo = JC_ORCH_OPTIONS_INIT;
	jc_error err;
	const char *kv_url = NULL, *prefix = NULL, *env;
	char *dir = NULL, hn[256];
	bool once = false;
	int c, rc;
	long n;

	cli->usage =
		"Usage: jcicd agent [--once] [OPTIONS]\n\n"
		"Runs on every node: registers it (with a lease), watches the desired version and, when it\n"
		"changes, points APT at that snapshot, upgrades, converges (Puppet) and validates; reports\n"
		"the version only when converge and validation pass, its health always.  The agent section\n"
		"of jcicd.yaml sets everything below; flags win.\n\n"
		"It runs as jcicd-agent, the same agent linked without libcurl (a third of the memory),\n"
		"when that is installed beside jcicd ($JCICD_AGENT_BINARY names another; set empty, or\n"
		"with an etcds:// store, which needs TLS, the agent stays in jcicd).\n\n"
		"Options:\n"
		"  --once                one pass (converge or validate), then exit: 0 healthy, 1 not\n"
		"  --kv URL              the KV store ($JCICD_KV, kv.url, sqlite://<state>/kv.db)\n"
		"  --prefix P            key prefix (default /jcicd/)\n"
		"  --hostname H          this node (default $JCICD_HOSTNAME, the host name)\n"
		"  --role R  --tag T     (default $JCICD_ROLE / $JCICD_TAG, or from the hostname)\n"
		"  --dir DIR             the agent's state: lock, current_version, step logs\n"
		"                        (default $JCICD_SERVER_DIR/agent, <state>/agent)\n"
		"  --version-file F      the local version (default DIR/current_version)\n"
		"  --lease-ttl S         lease TTL in seconds (default 30)\n"
		"  --jitter D            longest random wait before acting on a change (default 5s;\n"
		"                        a big fleet's desired/spread_ms makes it longer)\n"
		"  --apt-base-url URL    snapshots are at URL/snapshots/V (no URL: sources untouched)\n"
		"  --apt-suite S  --apt-components C  --apt-keyring F  --apt-sources-file F\n"
		"  --update-command C    (default: " JC_AGENT_DEFAULT_UPDATE "; '' skips)\n"
		"  --upgrade-command C   (default: " JC_AGENT_DEFAULT_UPGRADE ")\n"
		"  --converge-command C  (default: " JC_AGENT_DEFAULT_CONVERGE ")\n"
		"  --converge-failure-codes L  exit codes that fail (default 1,4,6)\n"
		"  --validation-dir DIR  run-parts directory (default " JC_AGENT_DEFAULT_VALIDATION ")\n"
		"  --step-timeout D      deadline of each command (default 30m)\n"
		"  --retries N           converge again when unhealthy, N times (default 3)\n"
		"  --retry-backoff D     first wait before that, doubling (default 10s)\n"
		"  --validate-interval D validate a healthy node this often (default 5m; 0 never)\n";
	optind = 1;
	/* the settings first, so that flags override them */
	memset(&as, 0, sizeof(as));
	{
		/* peek for --config/--help before loading: cli_getopt handles them */
	}
	struct {
		int opt;
		const char *val;
	} seen[64];
	size_t n_seen = 0;
	while ((c = cli_getopt(cli, argc, argv, agent_longopts)) != -1) {
		if (c == 'h')
			return EXIT_OK;
		if (c == '?')
			return EXIT_USAGE;
		if (c == OPT_ONCE) {
			once = true;
			continue;
		}
		if (n_seen < 64) {
			seen[n_seen].opt = c;
			seen[n_seen++].val = optarg;
		}
	}
	if (optind < argc)
		return cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	if ((rc = cli_setup(cli)) != 0)
		return rc;
	if (jc_agent_settings_load(&as, cli->config, &err) < 0)
		return cli_fail(cli, &err);
	o = &as.options;
	for (size_t i = 0; i < n_seen; i++) {
		const char *v = seen[i].val;
		long long ms = 0;
		switch (seen[i].opt) {
		case OPT_KV: kv_url = v; break;
		case OPT_PREFIX: prefix = v; break;
		case OPT_HOSTNAME: o->hostname = v; break;
		case OPT_ROLE: o->role = v; break;
		case OPT_TAG: o->tag = v; break;
		case OPT_DIR: o->dir = v; break;
		case OPT_VERSION_FILE: o->version_file = v; break;
		case OPT_APT_BASE: o->apt_base_url = v; break;
		case OPT_APT_SUITE: o->apt_suite = v; break;
		case OPT_APT_COMPONENTS: o->apt_components = v; break;
		case OPT_APT_KEYRING: o->apt_keyring = v; break;
		case OPT_APT_SOURCES: o->apt_sources_file = v; break;
		case OPT_UPDATE: o->update_command = v; break;
		case OPT_UPGRADE: o->upgrade_command = v; break;
		case OPT_CONVERGE: o->converge_command = v; break;
		case OPT_FAIL_CODES: o->converge_failure_codes = v; break;
		case OPT_VALIDATION_DIR: o->validation_dir = v; break;
		case OPT_LEASE_TTL:
			if (!cli_parse_long(v, &n) || n < 2 || n > 86400) {
				jc_agent_settings_clear(&as);
				return cli_usage_error(cli, "--lease-ttl takes seconds from 2 to 86400, not '%s'", v);
			}
			o->lease_ttl_s = n;
			break;
		case OPT_RETRIES:
			if (!cli_parse_long(v, &n) || n < 0 || n > 100) {
				jc_agent_settings_clear(&as);
				return cli_usage_error(cli, "--retries takes 0 to 100, not '%s'", v);
			}
			o->max_retries = (int)n;
			break;
		case OPT_JITTER:
		case OPT_STEP_TIMEOUT:
		case OPT_RETRY_BACKOFF:
		case OPT_VALIDATE_INTERVAL: {
			const char *name = seen[i].opt == OPT_JITTER ? "jitter" : seen[i].opt == OPT_STEP_TIMEOUT ? "step-timeout"
					   : seen[i].opt == OPT_RETRY_BACKOFF ? "retry-backoff" : "validate-interval";
			if (!cli_parse_duration(v, &ms)) {
				jc_agent_settings_clear(&as);
				return cli_usage_error(cli, "--%s takes a duration (30, 30s, 500ms, 10m), not '%s'", name, v);
			}
			if (seen[i].opt == OPT_JITTER)
				o->jitter_ms = ms;
			else if (seen[i].opt == OPT_STEP_TIMEOUT)
				o->step_timeout_ms = ms;
			else if (seen[i].opt == OPT_RETRY_BACKOFF)
				o->retry_backoff_ms = ms;
			else
				o->validate_interval_ms = ms;
			break;
		}
		default:
			break;
		}
	}
	/* identity: flags, then the local cloud's (or cloud-init's) environment */
	if (!o->hostname && (env = getenv("JCICD_HOSTNAME")) && *env)
		o->hostname = env;
	if (!o->hostname && gethostname(hn, sizeof(hn)) == 0) {
		hn[sizeof(hn) - 1] = '\0';
		o->hostname = hn;
	}
	if (!o->role && (env = getenv("JCICD_ROLE")) && *env)
		o->role = env;
	if (!o->tag && (env = getenv("JCICD_TAG")) && *env)
		o->tag = env;
	if (jc_orch_settings_load(&os, cli->config, cli->state_dir, &err) < 0) {
		jc_agent_settings_clear(&as);
		return cli_fail(cli, &err);
	}
	if (!o->dir) {
		env = getenv("JCICD_SERVER_DIR");
		dir = malloc(strlen(env && *env ? env : os.state_dir) + 16);
		sprintf(dir, "%s/agent", env && *env ? env : os.state_dir);
		o->dir = dir;
	}
	if (kv_url) {
		free(os.kv_url);
		os.kv_url = strdup(kv_url);
	}
	hand_over(cli, os.kv_url, argc, argv);
	if (prefix) {
		free(os.prefix);
		os.prefix = strdup(prefix);
	}
	o->logger = &cli->logger;
	/* an agent talks every TTL/3 seconds: holding a connection open in
	 * between would cost the server a socket per node for nothing */
	os.short_connections = true;
	oo.prefix = os.prefix;
	oo.logger = &cli->logger;
	if (jc_orch_settings_open_kv(&kv, &os, &cli->logger, &err) < 0 || jc_orch_open(&orch, kv, &oo, &err) < 0 ||
	    jc_agent_new(&agent, orch, o, &err) < 0) {
		rc = cli_fail(cli, &err);
		goto out;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	if (!once)
		cli_note(cli, "[agent] %s (role %s) on %s, dir %s\n", o->hostname, o->role ? o->role : "?",
			 jc_kv_url(kv), o->dir);
	rc = jc_agent_run(agent, once, &stop_flag, &err) < 0 ? cli_fail(cli, &err) : EXIT_OK;
out:
	jc_agent_free(agent);
	jc_orch_free(orch);
	jc_kv_free(kv);
	jc_orch_settings_clear(&os);
	jc_agent_settings_clear(&as);
	free(dir);
	return rc;
}
