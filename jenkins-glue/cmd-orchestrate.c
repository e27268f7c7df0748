/*
 * cmd-orchestrate.c - the node protocol verbs of the original jorc (same
 * names, same exit codes; underscores work too), `wait`, and `rollout`.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

enum {
	OPT_KV = OPT_FIRST_COMMAND, OPT_PREFIX, OPT_HOSTNAME, OPT_ROLE, OPT_HOSTS, OPT_SHOW_WARNINGS,
	OPT_VERSION_FILE, OPT_NAME, OPT_ACTION, OPT_VERSION, OPT_HOSTS_FROM, OPT_FROM_SPEC, OPT_TAG,
	OPT_OVERRIDE, OPT_MAPPINGS, OPT_TIMEOUT, OPT_MAX_FAILURES, OPT_WAVES, OPT_VERBOSE_V
};

static const struct option orch_longopts[] = {
	{ "kv", required_argument, NULL, OPT_KV },
	{ "prefix", required_argument, NULL, OPT_PREFIX },
	{ "hostname", required_argument, NULL, OPT_HOSTNAME },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "role", required_argument, NULL, OPT_ROLE },
	{ "hosts", no_argument, NULL, OPT_HOSTS },
	{ "show-warnings", no_argument, NULL, OPT_SHOW_WARNINGS },
	{ "show_warnings", no_argument, NULL, OPT_SHOW_WARNINGS },
	{ "version-file", required_argument, NULL, OPT_VERSION_FILE },
	{ "action", required_argument, NULL, OPT_ACTION },
	{ "version", required_argument, NULL, OPT_VERSION },
	{ "hosts-from", required_argument, NULL, OPT_HOSTS_FROM },
	{ "from-spec", required_argument, NULL, OPT_FROM_SPEC },
	{ "tag", required_argument, NULL, OPT_TAG },
	{ "project-tag", required_argument, NULL, OPT_TAG },
	{ "project_tag", required_argument, NULL, OPT_TAG },
	{ "override", required_argument, NULL, OPT_OVERRIDE },
	{ "override_instance_number", required_argument, NULL, OPT_OVERRIDE },
	{ "mappings", required_argument, NULL, OPT_MAPPINGS },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "max-failures", required_argument, NULL, OPT_MAX_FAILURES },
	{ "waves", required_argument, NULL, OPT_WAVES },
	CLI_COMMON_LONGOPTS
};

struct orch_args {
	const char *kv, *prefix, *hostname, *role, *version_file, *action, *version;
	const char *hosts_from, *from_spec, *tag, *overrides, *mappings, *waves;
	bool hosts, show_warnings;
	long long timeout_ms;
	long max_failures;
	const char *pos[4];
	int n_pos;
	/* opened by orch_open */
	jc_orch_settings settings;
	jc_kv *kv_handle;
	jc_orch *orch;
};

#define KV_OPTIONS_HELP \
	"\nStore options:\n" \
	"  --kv URL          the KV store (default: $JCICD_KV, then kv.url in jcicd.yaml,\n" \
	"                    then sqlite://<state-dir>/kv.db)\n" \
	"  --prefix P        key prefix (default /jcicd/)\n"

static int parse_args(struct cli *cli, int argc, char **argv, struct orch_args *a, int min_pos, int max_pos,
		      const char *short_extra)
{
	int c;
	memset(a, 0, sizeof(*a));
	a->max_failures = -1;
	optind = 1;
	(void)short_extra;
	while ((c = cli_getopt(cli, argc, argv, orch_longopts)) != -1) {
		switch (c) {
		case 'h': return EXIT_OK;
		case '?': return EXIT_USAGE;
		case OPT_KV: a->kv = optarg; break;
		case OPT_PREFIX: a->prefix = optarg; break;
		case OPT_HOSTNAME:
		case OPT_NAME: a->hostname = optarg; break;
		case OPT_ROLE: a->role = optarg; break;
		case OPT_HOSTS: a->hosts = true; break;
		case OPT_SHOW_WARNINGS: a->show_warnings = true; break;
		case OPT_VERSION_FILE: a->version_file = optarg; break;
		case OPT_ACTION: a->action = optarg; break;
		case OPT_VERSION: a->version = optarg; break;
		case OPT_HOSTS_FROM: a->hosts_from = optarg; break;
		case OPT_FROM_SPEC: a->from_spec = optarg; break;
		case OPT_TAG: a->tag = optarg; break;
		case OPT_OVERRIDE: a->overrides = optarg; break;
		case OPT_MAPPINGS: a->mappings = optarg; break;
		case OPT_WAVES: a->waves = optarg; break;
		case OPT_TIMEOUT: {
			long long ms;
			if (!cli_parse_duration(optarg, &ms) || ms <= 0)
				return cli_usage_error(cli, "--timeout takes seconds (or 10m, 1h), not '%s'", optarg);
			a->timeout_ms = ms;
			break;
		}
		case OPT_MAX_FAILURES: {
			long n;
			if (!cli_parse_long(optarg, &n) || n < 0)
				return cli_usage_error(cli, "--max-failures takes a whole number, not '%s'", optarg);
			a->max_failures = n;
			break;
		}
		default: return EXIT_USAGE;
		}
	}
	for (int i = optind; i < argc; i++) {
		if (a->n_pos == max_pos)
			return cli_usage_error(cli, "unexpected argument '%s'", argv[i]);
		a->pos[a->n_pos++] = argv[i];
	}
	if (a->n_pos < min_pos)
		return cli_usage_error(cli, "missing argument");
	return cli_setup(cli) ? EXIT_USAGE : -1;
}

static char *path_join(const char *a, const char *b)
{
	char *p = malloc(strlen(a) + strlen(b) + 2);
	sprintf(p, "%s/%s", a, b);
	return p;
}

static char *cache_path(const char *dir, const char *url, const char *prefix)
{
	char *key = malloc(strlen(url) + strlen(prefix ? prefix : "") + 2);
	char *path;
	sprintf(key, "%s %s", url, prefix ? prefix : "");
	path = malloc(strlen(dir) + 64);
	sprintf(path, "%s/cache/orchestrate-%08x.json", dir, (unsigned)jc_orch_host_hash(key));
	free(key);
	return path;
}

/* Opens the KV and the protocol from --kv, $JCICD_KV, jcicd.yaml or the
 * default sqlite store.  Returns -1 to go on, else an exit status. */
static int orch_open(struct cli *cli, struct orch_args *a)
{
	jc_error err;
	jc_orch_options oo = JC_ORCH_OPTIONS_INIT;
	char *cache;
	int rc;

	if (jc_orch_settings_load(&a->settings, cli->config, cli->state_dir, &err) < 0)
		return cli_fail(cli, &err);
	if (a->kv) {
		free(a->settings.kv_url);
		a->settings.kv_url = strdup(a->kv);
	}
	if (a->prefix) {
		free(a->settings.prefix);
		a->settings.prefix = strdup(a->prefix);
	}
	if (jc_orch_settings_open_kv(&a->kv_handle, &a->settings, &cli->logger, &err) < 0)
		return cli_fail(cli, &err);
	cache = cache_path(a->settings.state_dir, jc_kv_url(a->kv_handle), a->settings.prefix);
	oo.prefix = a->settings.prefix;
	oo.report_rate = a->settings.report_rate;
	oo.cache_file = cache;
	oo.logger = &cli->logger;
	rc = jc_orch_open(&a->orch, a->kv_handle, &oo, &err);
	free(cache);
	if (rc < 0)
		return cli_fail(cli, &err);
	return -1;
}

static void orch_close(struct orch_args *a)
{
	jc_orch_free(a->orch);
	jc_kv_free(a->kv_handle);
	jc_orch_settings_clear(&a->settings);
}

/* the host this command speaks for */
static const char *my_hostname(struct orch_args *a, char *buf, size_t size)
{
	const char *env = getenv("JCICD_HOSTNAME");
	if (a->hostname)
		return a->hostname;
	if (env && *env)
		return env;
	if (gethostname(buf, size) == 0) {
		buf[size - 1] = '\0';
		return buf;
	}
	return "localhost";
}

static char *my_role(struct orch_args *a, const char *hostname)
{
	const char *env = getenv("JCICD_ROLE");
	char *role = NULL;
	if (a->role)
		return strdup(a->role);
	if (env && *env)
		return strdup(env);
	jc_name_parse(hostname, &role, NULL, NULL);
	return role ? role : strdup("");
}

/* the local version file: --version-file, agent.version_file, the
 * agent's directory (as `jcicd agent` picks it) */
static char *version_file(struct cli *cli, struct orch_args *a)
{
	jc_agent_settings s;
	jc_error err;
	char *path = NULL;
	const char *env;
	if (a->version_file)
		return strdup(a->version_file);
	if (jc_agent_settings_load(&s, cli->config, &err) == 0) {
		if (s.options.version_file)
			path = strdup(s.options.version_file);
		else if (s.options.dir)
			path = path_join(s.options.dir, "current_version");
		jc_agent_settings_clear(&s);
	}
	if (path)
		return path;
	env = getenv("JCICD_SERVER_DIR");
	if (env && *env) {
		char *d = path_join(env, "agent");
		path = path_join(d, "current_version");
		free(d);
		return path;
	}
	{
		jc_orch_settings os;
		if (jc_orch_settings_load(&os, cli->config, cli->state_dir, &err) < 0)
			return path_join(".", "current_version");
		path = path_join(os.state_dir, "agent/current_version");
		jc_orch_settings_clear(&os);
	}
	return path;
}

#define OPEN_OR_RETURN(cli, a)                    \
	do {                                      \
		int _r = orch_open(cli, a);       \
		if (_r >= 0) {                    \
			orch_close(a);            \
			return _r;                \
		}                                 \
	} while (0)


/* ---- trigger-update, current-version */

int cmd_trigger_update(struct cli *cli, int argc, char **argv)
{
	struct orch_args a;
	jc_error err;
	int rc;
	cli->usage = "Usage: jcicd trigger-update VERSION\n\n"
		     "Sets the version every node should run (jorc trigger_update): every agent converges to\n"
		     "it.  Ends any rollout gate; use `jcicd rollout` for waves.  The hosts spread their\n"
		     "moves over hosts / kv.report_rate seconds (desired/spread_ms), at least their own\n"
		     "jitter.\n" KV_OPTIONS_HELP;
	if ((rc = parse_args(cli, argc, argv, &a, 1, 1, NULL)) >= 0)
		return rc;
	OPEN_OR_RETURN(cli, &a);
	rc = jc_orch_trigger_update(a.orch, a.pos[0], &err) < 0 ? cli_fail(cli, &err) : EXIT_OK;
	if (rc == EXIT_OK)
		cli_note(cli, "desired version is now %s\n", a.pos[0]);
	orch_close(&a);
	return rc;
}

int cmd_current_version(struct cli *cli, int argc, char **argv)
{
	struct orch_args a;
	jc_error err;
	char *v = NULL;
	int rc;
	cli->usage = "Usage: jcicd current-version\n\nPrints the desired version, or None (jorc current_version).\n" KV_OPTIONS_HELP;
	if ((rc = parse_args(cli, argc, argv, &a, 0, 0, NULL)) >= 0)
		return rc;
	OPEN_OR_RETURN(cli, &a);
	rc = jc_orch_desired(&v, a.orch, &err);
	if (rc < 0 && rc != JC_ENOTFOUND) {
		rc = cli_fail(cli, &err);
	} else {
		if (cli->json) {
			json_object *o = json_object_new_object();
			json_object_object_add(o, "version", cli_json_str(v));
			cli_print_json(cli, o);
		}
		cli_printf(cli, "%s\n", v ? v : "None");
		rc = EXIT_OK;
	}
	free(v);
	orch_close(&a);
	return rc;
}

/* ---- local-version, pending-update */

int cmd_local_version(struct cli *cli, int argc, char **argv)
{
	struct orch_args a;
	jc_error err;
	char *path, *v = NULL;
	int rc;
	cli->usage = "Usage: jcicd local-version [VERSION]\n\n"
		     "Prints (or writes) the version this node last converged to: the agent's\n"
		     "current_version file (jorc local_version; missing means '').\n\n"
		     "Options:\n  --version-file F  the file (default: the agent's directory)\n" KV_OPTIONS_HELP;
	if ((rc = parse_args(cli, argc, argv, &a, 0, 1, NULL)) >= 0)
		return rc;
	path = version_file(cli, &a);
	if (a.n_pos == 1)
		rc = jc_agent_set_local_version(path, a.pos[0], &err) < 0 ? cli_fail(cli, &err) : EXIT_OK;
	else if (jc_agent_local_version(&v, path, &err) < 0)
		rc = cli_fail(cli, &err);
	else {
		cli_printf(cli, "%s\n", v);
		if (cli->json) {
			json_object *o = json_object_new_object();
			json_object_object_add(o, "version", json_object_new_string(v));
			json_object_object_add(o, "file", json_object_new_string(path));
			cli_print_json(cli, o);
		}
		rc = EXIT_OK;
	}
	free(v);
	free(path);
	return rc;
}

int cmd_pending_update(struct cli *cli, int argc, char **argv)
{
	struct orch_args a;
	jc_error err;
	char *local = NULL, *path, *target = NULL, *role, hn[256];
	const char *host;
	jc_kv_pair d = { 0 }, g = { 0 };
	int rc;
	cli->usage = "Usage: jcicd pending-update\n\n"
		     "Is there a version for this node to move to? (jorc pending_update)\n"
		     "Exit status: 0 an update is pending, 1 none, 2 the KV store is unreachable but a local\n"
		     "version is known, 3 no version anywhere.\n\nOptions:\n"
		     "  --hostname H      this node (default $JCICD_HOSTNAME, the host name)\n" KV_OPTIONS_HELP;
	if ((rc = parse_args(cli, argc, argv, &a, 0, 0, NULL)) >= 0)
		return rc;
	path = version_file(cli, &a);
	if (jc_agent_local_version(&local, path, &err) < 0)
		local = strdup("");
	free(path);
	host = my_hostname(&a, hn, sizeof(hn));
	role = my_role(&a, host);
	if ((rc = orch_open(cli, &a)) >= 0) {
		orch_close(&a);
		free(local);
		free(role);
		return rc;
	}
	{
		char *dk = jc_orch_key(a.orch, "desired/version"), *gk = jc_orch_key(a.orch, "desired/gate");
		rc = jc_kv_get(&d, a.kv_handle, dk, &err);
		if (rc == 0 || rc == JC_ENOTFOUND) {
			int grc = jc_kv_get(&g, a.kv_handle, gk, &err);
			if (grc < 0 && grc != JC_ENOTFOUND)
				rc = grc;
		}
		free(dk);
		free(gk);
	}
	if (rc < 0 && rc != JC_ENOTFOUND) {
		/* jorc: a consul error is 2 when we know our version, else 3 */
		cli_note(cli, "%s\n", err.message);
		rc = *local ? 2 : 3;
	} else if (!d.value) {
		cli_printf(cli, "No version has been set\n");
		rc = 3;
	} else {
		jc_orch_target_for(&target, d.value, g.value, host, role);
		if (!target || strcmp(target, local) == 0) {
			cli_printf(cli, "No updates pending\n");
			rc = 1;
		} else {
			cli_printf(cli, "Yes, there is an update pending\n");
			rc = 0;
		}
	}
	free(target);
	jc_kv_pair_clear(&d);
	jc_kv_pair_clear(&g);
	free(local);
	free(role);
	orch_close(&a);
	return rc;
}

/* ---- the fleet view */

static int refresh(struct cli *cli, struct orch_args *a)
{
	jc_error err;
	if (jc_orch_refresh(a->orch, &err) < 0)
		return cli_fail(cli, &err);
	return -1;
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

int cmd_running_versions(struct cli *cli, int argc, char **argv)
{
	struct orch_args a;
	const char **vs;
	size_t n = 0;
	int rc;
	cli->usage = "Usage: jcicd running-versions\n\nThe versions hosts run, one per line (jorc running_versions).\n" KV_OPTIONS_HELP;
	if ((rc = parse_args(cli, argc, argv, &a, 0, 0, NULL)) >= 0)
		return rc;
	OPEN_OR_RETURN(cli, &a);
	if ((rc = refresh(cli, &a)) >= 0) {
		orch_close(&a);
		return rc;
	}
	vs = calloc(jc_orch_host_count(a.orch) + 1, sizeof(*vs));
	for (size_t i = 0; i < jc_orch_host_count(a.orch); i++) {
		const char *v = jc_orch_host(a.orch, i)->version;
		bool seen = false;
		for (size_t j = 0; v && j < n && !seen; j++)
			seen = strcmp(vs[j], v) == 0;
		if (v && !seen)
			vs[n++] = v;
	}
	qsort(vs, n, sizeof(*vs), cmp_str);
	if (cli->json) {
		json_object *arr = json_object_new_array();
		for (size_t i = 0; i < n; i++)
			json_object_array_add(arr, json_object_new_string(vs[i]));
		cli_print_json(cli, arr);
	}
	for (size_t i = 0; i < n; i++)
		cli_printf(cli, "%s\n", vs[i]);
	free(vs);
	orch_close(&a);
	return EXIT_OK;
}

int cmd_hosts_at_version(struct cli *cli, int argc, char **argv)
{
	struct orch_args a;
	json_object *arr;
	int rc;
	cli->usage = "Usage: jcicd hosts-at-version VERSION\n\nHosts that report VERSION, one per line (jorc hosts_at_version).\n" KV_OPTIONS_HELP;
	if ((rc = parse_args(cli, argc, argv, &a, 1, 1, NULL)) >= 0)
		return rc;
	OPEN_OR_RETURN(cli, &a);
	if ((rc = refresh(cli, &a)) >= 0) {
		orch_close(&a);
		return rc;
	}
	arr = json_object_new_array();
	for (size_t i = 0; i < jc_orch_host_count(a.orch); i++) {
		const jc_host *h = jc_orch_host(a.orch, i);
		if (h->version && strcmp(h->version, a.pos[0]) == 0) {
			cli_printf(cli, "%s\n", h->hostname);
			json_object_array_add(arr, json_object_new_string(h->hostname));
		}
	}
	if (cli->json)
		cli_print_json(cli, arr);
	else
		json_object_put(arr);
	orch_close(&a);
	return EXIT_OK;
}

/* hostnames from a file (or stdin), or from a spec; server names
 * (cp1_t1) are taken as hostnames (cp1-t1), as deploy.sh's sed did */
static int expected_hosts(struct cli *cli, struct orch_args *a, const char *file, char ***out, size_t *n)
{
	jc_error err;
	*out = NULL;
	*n = 0;
	if (a->from_spec) {
		jc_spec *spec = NULL;
		jc_mappings *map = NULL;
		jc_spec_options so = JC_SPEC_OPTIONS_INIT;
		jc_instance *inst = NULL;
		size_t ni = 0;
		if (!a->tag)
			return cli_usage_error(cli, "--from-spec needs --tag");
		if (a->mappings && jc_mappings_load(&map, a->mappings, &err) < 0)
			return cli_fail(cli, &err);
		so.mappings = map;
		so.overrides = a->overrides;
		if (jc_spec_load(&spec, a->from_spec, &so, &err) < 0 ||
		    jc_spec_instances(spec, a->tag, &inst, &ni, &err) < 0) {
			jc_spec_free(spec);
			jc_mappings_free(map);
			return cli_fail(cli, &err);
		}
		*out = calloc(ni + 1, sizeof(char *));
		for (size_t i = 0; i < ni; i++)
			(*out)[(*n)++] = strdup(inst[i].hostname);
		jc_instances_free(inst, ni);
		jc_spec_free(spec);
		jc_mappings_free(map);
		return -1;
	}
	{
		FILE *f = !file || strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
		char line[512];
		size_t cap = 16;
		if (!f) {
			fprintf(stderr, "%s %s: cannot read %s\n", cli->prog, cli->command, file);
			return EXIT_USAGE;
		}
		*out = calloc(cap, sizeof(char *));
		while (fgets(line, sizeof(line), f)) {
			char *s = line, *e;
			while (*s == ' ' || *s == '\t')
				s++;
			e = s + strlen(s);
			while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
				*--e = '\0';
			if (!*s || *s == '#')
				continue;
			for (char *p = s; *p; p++)
				if (*p == '_')
					*p = '-';
			if (*n + 1 >= cap)
				*out = realloc(*out, (cap *= 2) * sizeof(char *));
			(*out)[(*n)++] = strdup(s);
		}
		if (f != stdin)
			fclose(f);
	}
	return -1;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int cmd_verify_hosts(struct cli *cli, int argc, char **argv)
{
	struct orch_args a;
	char **names;
	size_t n, missing = 0;
	int rc;
	cli->usage = "Usage: jcicd verify-hosts VERSION < HOSTLIST\n"
		     "       jcicd verify-hosts VERSION --from-spec SPEC --tag T [--override R=N,...]\n\n"
		     "Exit 0 when every host named (one per line on stdin, server names accepted) reports\n"
		     "VERSION (jorc verify_hosts); 1 otherwise, naming the missing hosts.\n" KV_OPTIONS_HELP;
	if ((rc = parse_args(cli, argc, argv, &a, 1, 1, NULL)) >= 0)
		return rc;
	if ((rc = expected_hosts(cli, &a, a.hosts_from, &names, &n)) >= 0)
		return rc;
	if ((rc = orch_open(cli, &a)) >= 0 || (rc = refresh(cli, &a)) >= 0) {
		orch_close(&a);
		free_list(names, n);
		return rc;
	}
	for (size_t i = 0; i < n; i++) {
		const jc_host *h = jc_orch_host_find(a.orch, names[i]);
		if (!h || !h->version || strcmp(h->version, a.pos[0]) != 0) {
			cli_printf(cli, "%s is not at %s%s%s\n", names[i], a.pos[0], h && h->version ? " (runs " : "",
				   h && h->version ? h->version : "");
			if (h && h->version)
				cli_printf(cli, ")\n");
			missing++;
		}
	}
	if (!missing)
		cli_note(cli, "all %zu hosts are at %s\n", n, a.pos[0]);
	free_list(names, n);
	orch_close(&a);
	return missing ? EXIT_FAILED : EXIT_OK;
}

int cmd_check_single_version(struct cli *cli, int argc, char **argv)
{
	struct orch_args a;
	bool found = false, other = false;
	int rc;
	cli->usage = "Usage: jcicd check-single-version VERSION [-v]\n\n"
		     "Exit 0 when VERSION runs and no other version does (jorc check_single_version).\n" KV_OPTIONS_HELP;
	if ((rc = parse_args(cli, argc, argv, &a, 1, 1, NULL)) >= 0)
		return rc;
	OPEN_OR_RETURN(cli, &a);
	if ((rc = refresh(cli, &a)) >= 0) {
		orch_close(&a);
		return rc;
	}
	for (size_t i = 0; i < jc_orch_host_count(a.orch); i++) {
		const jc_host *h = jc_orch_host(a.orch, i);
		if (!h->version)
			continue;
		if (strcmp(h->version, a.pos[0]) == 0)
			found = true;
		else {
			other = true;
			if (cli->verbose)
				cli_printf(cli, "%s runs %s\n", h->hostname, h->version);
		}
	}
	if (!found)
		cli_printf(cli, "no host runs %s\n", a.pos[0]);
	else if (other && !cli->verbose)
		cli_printf(cli, "other versions than %s still run (-v names the hosts)\n", a.pos[0]);
	orch_close(&a);
	return found && !other ? EXIT_OK : EXIT_FAILED;
}

int cmd_get_failures(struct cli *cli, int argc, char **argv)
{
	struct orch_args a;
	json_object *arr;
	size_t n = 0;
	int rc;
	cli->usage = "Usage: jcicd get-failures [--hosts]\n\n"
		     "Hosts whose last converge or validation failed (jorc get_failures); exit 0 when none.\n"
		     "--hosts prints 'Node: H, Check: STAGE' lines.\n" KV_OPTIONS_HELP;
	if ((rc = parse_args(cli, argc, argv, &a, 0, 0, NULL)) >= 0)
		return rc;
	OPEN_OR_RETURN(cli, &a);
	if ((rc = refresh(cli, &a)) >= 0) {
		orch_close(&a);
		return rc;
	}
	arr = json_object_new_array();
	for (size_t i = 0; i < jc_orch_host_count(a.orch); i++) {
		const jc_host *h = jc_orch_host(a.orch, i);
		json_object *o;
		if (!h->has_health || h->healthy)
			continue;
		n++;
		if (a.hosts)
			cli_printf(cli, "Node: %s, Check: %s\n", h->hostname, h->stage ? h->stage : "health");
		else
			cli_printf(cli, "%s: %s failed at %s: %s\n", h->hostname, h->stage ? h->stage : "run",
				   h->attempted_version ? h->attempted_version : "(no version)",
				   h->message && *h->message ? h->message : "(no message)");
		o = json_object_new_object();
		json_object_object_add(o, "host", json_object_new_string(h->hostname));
		json_object_object_add(o, "check", cli_json_str(h->stage));
		json_object_object_add(o, "version", cli_json_str(h->attempted_version));
		json_object_object_add(o, "message", cli_json_str(h->message));
		json_object_object_add(o, "time", json_object_new_int64(h->health_time));
		json_object_array_add(arr, o);
	}
	if (cli->json)
		cli_print_json(cli, arr);
	else
		json_object_put(arr);
	orch_close(&a);
	return n ? EXIT_FAILED : EXIT_OK;
}

int cmd_local_health(struct cli *cli, int argc, char **argv)
{
	struct orch_args a;
	jc_error err;
	jc_kv_pair p;
	char hn[256], *key, *rest;
	const char *host;
	int rc;
	cli->usage = "Usage: jcicd local-health [-v]\n\n"
		     "Exit status = the number of this host's failing checks (jorc local_health): 0 healthy.\n" KV_OPTIONS_HELP;
	if ((rc = parse_args(cli, argc, argv, &a, 0, 0, NULL)) >= 0)
		return rc;
	OPEN_OR_RETURN(cli, &a);
	host = my_hostname(&a, hn, sizeof(hn));
	rest = malloc(strlen(host) + 32);
	sprintf(rest, "hosts/%s/health", host);
	key = jc_orch_key(a.orch, rest);
	free(rest);
	rc = jc_kv_get(&p, a.kv_handle, key, &err);
	free(key);
	if (rc == JC_ENOTFOUND) {
		cli_printf(cli, "%s: no health reported\n", host);
		rc = EXIT_OK;
	} else if (rc < 0) {
		rc = cli_fail(cli, &err);
	} else {
		json_object *j = json_tokener_parse(p.value), *v;
		bool ok = j && json_object_object_get_ex(j, "ok", &v) && json_object_get_boolean(v);
		if (cli->json)
			cli_print_json(cli, json_object_get(j));
		cli_printf(cli, "%s: %s\n", host, p.value);
		rc = ok ? 0 : 1;
		json_object_put(j);
		jc_kv_pair_clear(&p);
	}
	orch_close(&a);
	return rc;
}

/* ---- config state */

int cmd_manage_config(struct cli *cli, int argc, char **argv)
{
	struct orch_args a;
	jc_error err;
	char *kv, *eq;
	const char *action;
	int rc;
	cli->usage = "Usage: jcicd manage-config TYPE SCOPE KEY=VALUE [--name NAME] [--action set|delete]\n\n"
		     "Operator overrides (jorc manage_config): TYPE state or version, SCOPE global, role or\n"
		     "host (role and host need --name).  enable_puppet=false pauses upgrades there.\n" KV_OPTIONS_HELP;
	if ((rc = parse_args(cli, argc, argv, &a, 3, 3, NULL)) >= 0)
		return rc;
	action = a.action ? a.action : "set";
	if (strcmp(action, "set") != 0 && strcmp(action, "delete") != 0)
		return cli_usage_error(cli, "--action is set or delete, not '%s'", action);
	kv = strdup(a.pos[2]);
	eq = strchr(kv, '=');
	if (!eq && strcmp(action, "set") == 0) {
		free(kv);
		return cli_usage_error(cli, "'%s' is not KEY=VALUE", a.pos[2]);
	}
	if (eq)
		*eq = '\0';
	if ((rc = orch_open(cli, &a)) < 0) {
		rc = jc_orch_config_set(a.orch, a.pos[0], a.pos[1], a.hostname, kv,
					strcmp(action, "set") == 0 ? eq + 1 : NULL, &err) < 0
			     ? cli_fail(cli, &err)
			     : EXIT_OK;
	}
	free(kv);
	orch_close(&a);
	return rc;
}

int cmd_check_puppet(struct cli *cli, int argc, char **argv)
{
	struct orch_args a;
	jc_error err;
	char hn[256], *role;
	const char *host;
	bool enabled;
	int rc;
	cli->usage = "Usage: jcicd check-puppet [--name HOST]\n\n"
		     "Exit 0 when upgrades are enabled for this host, 9 when paused by enable_puppet\n"
		     "(global, role or host scope; jorc check_puppet).\n" KV_OPTIONS_HELP;
	if ((rc = parse_args(cli, argc, argv, &a, 0, 0, NULL)) >= 0)
		return rc;
	OPEN_OR_RETURN(cli, &a);
	host = my_hostname(&a, hn, sizeof(hn));
	role = my_role(&a, host);
	if (jc_orch_upgrades_enabled(&enabled, a.orch, role, host, &err) < 0)
		rc = cli_fail(cli, &err);
	else {
		cli_printf(cli, "%s: upgrades %s\n", host, enabled ? "enabled" : "paused");
		rc = enabled ? 0 : 9;
	}
	free(role);
	orch_close(&a);
	return rc;
}

/* ---- wait */

static void print_wait(struct cli *cli, const jc_wait_result *w, size_t n, const char *version)
{
	if (cli->json) {
		json_object *o = json_object_new_object(), *r = json_object_new_array(), *l = json_object_new_array(),
			    *f = json_object_new_array();
		for (size_t i = 0; i < w->n_ready; i++)
			json_object_array_add(r, json_object_new_string(w->ready[i]));
		for (size_t i = 0; i < w->n_lagging; i++)
			json_object_array_add(l, json_object_new_string(w->lag_why[i]));
		for (size_t i = 0; i < w->n_failed; i++)
			json_object_array_add(f, json_object_new_string(w->fail_why[i]));
		json_object_object_add(o, "version", json_object_new_string(version));
		json_object_object_add(o, "ready", r);
		json_object_object_add(o, "lagging", l);
		json_object_object_add(o, "failed", f);
		cli_print_json(cli, o);
		return;
	}
	cli_printf(cli, "%zu of %zu hosts at %s and healthy\n", w->n_ready, n, version);
	for (size_t i = 0; i < w->n_failed; i++)
		cli_printf(cli, "failed:  %s\n", w->fail_why[i]);
	for (size_t i = 0; i < w->n_lagging; i++)
		cli_printf(cli, "lagging: %s\n", w->lag_why[i]);
}

int cmd_wait(struct cli *cli, int argc, char **argv)
{
	struct orch_args a;
	jc_error err;
	jc_wait_result w;
	char **names;
	size_t n;
	int rc;
	cli->usage = "Usage: jcicd wait --version V (--hosts-from FILE | --from-spec SPEC --tag T) [--timeout S]\n\n"
		     "Waits until every expected host runs V and is healthy (what deploy.sh's loops did, with\n"
		     "a deadline).  Exit 0 when they all are; 1 listing who lags and who failed.\n\n"
		     "Options:\n"
		     "  --hosts-from FILE  hostnames, one per line ('-': stdin)\n"
		     "  --from-spec SPEC   the hosts a spec wants for --tag (with --override, --mappings)\n"
		     "  --timeout S        deadline (default 1h)\n"
		     "  --max-failures N   stop as soon as more than N hosts failed (default: wait)\n" KV_OPTIONS_HELP;
	if ((rc = parse_args(cli, argc, argv, &a, 0, 0, NULL)) >= 0)
		return rc;
	if (!a.version)
		return cli_usage_error(cli, "--version is required");
	if (!a.hosts_from && !a.from_spec)
		return cli_usage_error(cli, "say which hosts: --hosts-from FILE or --from-spec SPEC --tag T");
	if ((rc = expected_hosts(cli, &a, a.hosts_from, &names, &n)) >= 0)
		return rc;
	if ((rc = orch_open(cli, &a)) >= 0) {
		free_list(names, n);
		orch_close(&a);
		return rc;
	}
	rc = jc_orch_wait_hosts(&w, a.orch, a.version, (const char *const *)names, n,
				a.timeout_ms ? a.timeout_ms : 3600000, a.max_failures, &err);
	cli_progress_end(cli);
	if (rc == 0 || rc == JC_ETIMEOUT || rc == JC_EFAILED) {
		print_wait(cli, &w, n, a.version);
		if (rc < 0)
			fprintf(stderr, "%s %s: %s\n", cli->prog, cli->command, err.message);
		rc = rc == 0 ? EXIT_OK : EXIT_FAILED;
	} else {
		rc = cli_fail(cli, &err);
	}
	jc_wait_result_clear(&w);
	free_list(names, n);
	orch_close(&a);
	return rc;
}

/* ---- rollout */

int cmd_rollout(struct cli *cli, int argc, char **argv)
{
	struct orch_args a;
	jc_error err;
	jc_rollout_options ro = JC_ROLLOUT_OPTIONS_INIT;
	const char *verb;
	int rc;
	cli->usage = "Usage: jcicd rollout VERSION [--waves 1,10%,50%,100%] [--max-failures N] [--timeout S]\n"
		     "       jcicd rollout status|pause|resume|abort\n\n"
		     "Rolls VERSION out in health-gated waves: roles in role_dependencies order (kv.rollout in\n"
		     "jcicd.yaml), each through the wave sizes; each wave must run VERSION and be healthy before\n"
		     "the next opens.  Halts with a report (exit 1) when more than --max-failures hosts fail or\n"
		     "a wave passes --timeout (per wave).  `resume` continues a halted or paused rollout.\n" KV_OPTIONS_HELP;
	if ((rc = parse_args(cli, argc, argv, &a, 1, 1, NULL)) >= 0)
		return rc;
	verb = a.pos[0];
	OPEN_OR_RETURN(cli, &a);
	ro.waves = a.waves ? a.waves : a.settings.waves;
	ro.max_failures = a.max_failures >= 0 ? a.max_failures : a.settings.max_failures;
	ro.wave_timeout_ms = a.timeout_ms ? a.timeout_ms : a.settings.wave_timeout_ms;
	ro.roles = (const char *const *)a.settings.roles;
	ro.deps = (const char *const *)a.settings.deps;
	ro.n_roles = a.settings.n_roles;
	if (strcmp(verb, "status") == 0) {
		char *text = NULL;
		if (jc_rollout_status(&text, a.orch, &err) < 0) {
			rc = cli_fail(cli, &err);
		} else {
			if (cli->json)
				cli_print_json(cli, json_tokener_parse(text));
			else
				cli_printf(cli, "%s\n", text);
			rc = EXIT_OK;
		}
		free(text);
	} else if (strcmp(verb, "pause") == 0) {
		rc = jc_rollout_pause(a.orch, &err) < 0 ? cli_fail(cli, &err) : EXIT_OK;
	} else if (strcmp(verb, "abort") == 0) {
		rc = jc_rollout_abort(a.orch, &err) < 0 ? cli_fail(cli, &err) : EXIT_OK;
	} else {
		if (strcmp(verb, "resume") == 0)
			rc = jc_rollout_resume(a.orch, &ro, &err);
		else
			rc = jc_rollout_start(a.orch, verb, &ro, &err);
		cli_progress_end(cli);
		if (rc == 0) {
			cli_printf(cli, "rollout complete\n");
			rc = EXIT_OK;
		} else {
			rc = cli_fail(cli, &err);
		}
	}
	orch_close(&a);
	return rc;
}
