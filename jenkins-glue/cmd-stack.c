/* cmd-stack.c - the stack verbs of the original tool: validate, plan, apply,
 * delete, list, status, ssh-config. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum {
	OPT_TAG = OPT_FIRST_COMMAND, OPT_MAPPINGS, OPT_CLOUD, OPT_OVERRIDE, OPT_KEY_NAME, OPT_RETRY,
	OPT_TIMEOUT, OPT_VERSION, OPT_USER, OPT_SPEC, OPT_HOSTNAMES, OPT_CLOUDS_YAML
};

struct stack_args {
	const char *spec;
	const char *userdata;
	const char *tag;
	const char *mappings;
	const char *cloud;
	const char *clouds_yaml;
	char *overrides;        /* joined from every --override */
	const char *key_name;
	const char *version;
	const char *user;
	int retry;
	long long timeout_ms;
	bool hostnames;
};

static const struct option stack_longopts[] = {
	{ "tag", required_argument, NULL, OPT_TAG },
	{ "project_tag", required_argument, NULL, OPT_TAG },
	{ "project-tag", required_argument, NULL, OPT_TAG },
	{ "mappings", required_argument, NULL, OPT_MAPPINGS },
	{ "cloud", required_argument, NULL, OPT_CLOUD },
	{ "clouds-yaml", required_argument, NULL, OPT_CLOUDS_YAML },
	{ "override", required_argument, NULL, OPT_OVERRIDE },
	{ "override_instance_number", required_argument, NULL, OPT_OVERRIDE },
	{ "override-instance-number", required_argument, NULL, OPT_OVERRIDE },
	{ "key-name", required_argument, NULL, OPT_KEY_NAME },
	{ "key_name", required_argument, NULL, OPT_KEY_NAME },
	{ "retry", required_argument, NULL, OPT_RETRY },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "version", required_argument, NULL, OPT_VERSION },
	{ "user", required_argument, NULL, OPT_USER },
	{ "spec", required_argument, NULL, OPT_SPEC },
	{ "hostnames", no_argument, NULL, OPT_HOSTNAMES },
	CLI_COMMON_LONGOPTS
};

/* Parses options and up to max_pos positionals into a; returns -1 to go
 * on, or the exit status to return. */
static int parse_stack_args(struct cli *cli, int argc, char **argv, struct stack_args *a,
			    const char **pos, int min_pos, int max_pos)
{
	int c, n_pos = 0;
	long n;
	memset(a, 0, sizeof(*a));
	a->retry = -1;
	optind = 1;
	while ((c = cli_getopt(cli, argc, argv, stack_longopts)) != -1) {
		switch (c) {
		case 'h':
			return EXIT_OK;
		case '?':
			return EXIT_USAGE;
		case OPT_TAG: a->tag = optarg; break;
		case OPT_MAPPINGS: a->mappings = optarg; break;
		case OPT_CLOUD: a->cloud = optarg; break;
		case OPT_CLOUDS_YAML: a->clouds_yaml = optarg; break;
		case OPT_KEY_NAME: a->key_name = optarg; break;
		case OPT_VERSION: a->version = optarg; break;
		case OPT_USER: a->user = optarg; break;
		case OPT_SPEC: a->spec = optarg; break;
		case OPT_HOSTNAMES: a->hostnames = true; break;
		case OPT_OVERRIDE: {
			char *joined = a->overrides ? malloc(strlen(a->overrides) + strlen(optarg) + 2) : strdup(optarg);
			if (a->overrides) {
				sprintf(joined, "%s,%s", a->overrides, optarg);
				free(a->overrides);
			}
			a->overrides = joined;
			break;
		}
		case OPT_RETRY: {
			char *end;
			n = strtol(optarg, &end, 10);
			if (!*optarg || *end || n < 0 || n > 100) {
				free(a->overrides);
				return cli_usage_error(cli, "--retry takes a whole number from 0 to 100, not '%s'", optarg);
			}
			a->retry = (int)n;
			break;
		}
		case OPT_TIMEOUT: {
			jc_error err;
			if (jc_config_parse_duration(optarg, "--timeout", &a->timeout_ms, &err) < 0 || !a->timeout_ms) {
				free(a->overrides);
				return cli_usage_error(cli, "--timeout takes a duration such as 600, 90s, 15m or 2h, not '%s'",
						       optarg);
			}
			break;
		}
		default:
			free(a->overrides);
			return EXIT_USAGE;
		}
	}
	for (int i = optind; i < argc; i++) {
		if (n_pos == max_pos) {
			free(a->overrides);
			return cli_usage_error(cli, "unexpected argument '%s'", argv[i]);
		}
		pos[n_pos++] = argv[i];
	}
	if (n_pos < min_pos) {
		free(a->overrides);
		return cli_usage_error(cli, "missing argument%s", min_pos - n_pos > 1 ? "s" : "");
	}
	for (int i = n_pos; i < max_pos; i++)
		pos[i] = NULL;
	c = cli_setup(cli);
	if (c) {
		free(a->overrides);
		return c;
	}
	return -1;
}

static const char *cloud_name(struct cli *cli, const struct stack_args *a)
{
	const char *env;
	const jc_yaml_node *clouds;
	if (a->cloud)
		return a->cloud;
	env = getenv("JCICD_CLOUD");
	if (env && *env)
		return env;
	clouds = jc_config_section(cli->config, "clouds");
	if (clouds && jc_yaml_get(clouds, "default"))
		return jc_yaml_scalar(jc_yaml_get(clouds, "default"));
	/* the OpenStack tools' own way to name a cloud of clouds.yaml */
	env = getenv("OS_CLOUD");
	if (env && *env)
		return env;
	return "local";
}

static int load_spec(struct cli *cli, const struct stack_args *a, jc_spec **spec)
{
	jc_mappings *m = NULL;
	jc_spec_options so = JC_SPEC_OPTIONS_INIT;
	jc_error err;
	int rc;

	*spec = NULL;
	if (a->mappings && jc_mappings_load(&m, a->mappings, &err) < 0)
		return cli_fail(cli, &err);
	so.mappings = m;
	so.overrides = a->overrides;
	rc = jc_spec_load(spec, a->spec, &so, &err);
	jc_mappings_free(m);
	if (rc < 0)
		return cli_fail(cli, &err);
	return 0;
}

static int open_cloud(struct cli *cli, const struct stack_args *a, jc_cloud **cloud)
{
	jc_cloud_options co = JC_CLOUD_OPTIONS_INIT;
	jc_error err;
	co.state_dir = cli->state_dir;
	co.logger = &cli->logger;
	co.config_file = a->clouds_yaml;
	if (jc_cloud_open(cloud, cloud_name(cli, a), &co, &err) < 0)
		return cli_fail(cli, &err);
	return 0;
}

/* Everything that can be checked without a cloud, before one is opened (for
 * OpenStack opening already authenticates): tag syntax, hostname lengths. */
static int check_offline(struct cli *cli, const jc_spec *spec, const char *tag)
{
	jc_instance *inst;
	size_t n;
	jc_error err;
	if (jc_spec_instances(spec, tag, &inst, &n, &err) < 0)
		return cli_fail(cli, &err);
	jc_instances_free(inst, n);
	return 0;
}

/* ---- validate */

static const char validate_usage[] =
	"Usage: jcicd validate SPEC [--mappings FILE] [--override ROLE=N,...] [--tag TAG]\n\n"
	"Checks a resource spec, its mappings and overrides, and (with --tag) every name it\n"
	"would make, without touching any cloud.  Errors name file:line:col.\n";

int cmd_validate(struct cli *cli, int argc, char **argv)
{
	struct stack_args a;
	const char *pos[1];
	jc_spec *spec;
	jc_instance *inst = NULL;
	size_t n = 0, total = 0;
	jc_error err;
	int rc;

	cli->usage = validate_usage;
	if ((rc = parse_stack_args(cli, argc, argv, &a, pos, 1, 1)) >= 0)
		return rc;
	a.spec = pos[0];
	rc = load_spec(cli, &a, &spec);
	free(a.overrides);
	if (rc)
		return rc;
	if (jc_spec_instances(spec, a.tag, &inst, &n, &err) < 0) {
		jc_spec_free(spec);
		return cli_fail(cli, &err);
	}
	for (size_t i = 0; i < jc_spec_role_count(spec); i++)
		total += (size_t)jc_spec_role(spec, i)->number;
	if (cli->json) {
		json_object *o = json_object_new_object(), *roles = json_object_new_array();
		json_object_object_add(o, "spec", json_object_new_string(jc_spec_path(spec)));
		json_object_object_add(o, "valid", json_object_new_boolean(1));
		for (size_t i = 0; i < jc_spec_role_count(spec); i++) {
			const jc_role *r = jc_spec_role(spec, i);
			json_object *ro = json_object_new_object();
			json_object_object_add(ro, "name", json_object_new_string(r->name));
			json_object_object_add(ro, "number", json_object_new_int64(r->number));
			json_object_object_add(ro, "flavor", json_object_new_string(r->flavor));
			json_object_object_add(ro, "image", json_object_new_string(r->image));
			json_object_array_add(roles, ro);
		}
		json_object_object_add(o, "roles", roles);
		json_object_object_add(o, "servers", json_object_new_int64((int64_t)total));
		cli_print_json(cli, o);
	} else {
		cli_printf(cli, "%s: valid, %zu role%s, %zu server%s\n", jc_spec_path(spec), jc_spec_role_count(spec),
			   jc_spec_role_count(spec) == 1 ? "" : "s", total, total == 1 ? "" : "s");
	}
	jc_instances_free(inst, n);
	jc_spec_free(spec);
	return EXIT_OK;
}

/* ---- plan and apply */

static json_object *plan_json(const jc_plan *p, const char *tag, const char *cloud)
{
	json_object *o = json_object_new_object(), *arr = json_object_new_array();
	int counts[4] = { 0, 0, 0, 0 };
	json_object_object_add(o, "tag", json_object_new_string(tag));
	json_object_object_add(o, "cloud", json_object_new_string(cloud));
	for (size_t i = 0; i < p->n; i++) {
		const jc_plan_entry *e = &p->entries[i];
		json_object *s = json_object_new_object();
		counts[e->action]++;
		json_object_object_add(s, "name", json_object_new_string(e->name));
		json_object_object_add(s, "hostname", cli_json_str(e->hostname));
		json_object_object_add(s, "role", cli_json_str(e->role));
		json_object_object_add(s, "action", json_object_new_string(jc_plan_action_name(e->action)));
		json_object_object_add(s, "flavor", cli_json_str(e->flavor));
		json_object_object_add(s, "image", cli_json_str(e->image));
		json_object_object_add(s, "id", cli_json_str(e->server_id));
		json_object_object_add(s, "status", json_object_new_string(jc_server_status_name(e->status)));
		json_object_object_add(s, "attempts", json_object_new_int(e->attempts));
		json_object_object_add(s, "fault", cli_json_str(e->fault));
		json_object_array_add(arr, s);
	}
	json_object_object_add(o, "servers", arr);
	json_object_object_add(o, "create", json_object_new_int(counts[JC_PLAN_CREATE]));
	json_object_object_add(o, "keep", json_object_new_int(counts[JC_PLAN_KEEP]));
	json_object_object_add(o, "replace", json_object_new_int(counts[JC_PLAN_REPLACE]));
	json_object_object_add(o, "extra", json_object_new_int(counts[JC_PLAN_EXTRA]));
	return o;
}

static const char plan_usage[] =
	"Usage: jcicd plan SPEC --tag TAG [--cloud NAME] [--mappings FILE] [--override ROLE=N,...]\n\n"
	"Shows what apply would do, and changes nothing:\n"
	"  + name (flavor, image)   to be created\n"
	"  = name                   exists, kept as it is\n"
	"  ! name                   exists in ERROR, to be deleted and created again\n"
	"  ~ name                   in the stack but not in the spec, left alone\n";

int cmd_plan(struct cli *cli, int argc, char **argv)
{
	struct stack_args a;
	const char *pos[1];
	jc_spec *spec = NULL;
	jc_cloud *cloud = NULL;
	jc_plan *p = NULL;
	jc_apply_options ao = JC_APPLY_OPTIONS_INIT;
	jc_error err;
	int rc;

	cli->usage = plan_usage;
	if ((rc = parse_stack_args(cli, argc, argv, &a, pos, 1, 1)) >= 0)
		return rc;
	a.spec = pos[0];
	if (!a.tag) {
		free(a.overrides);
		return cli_usage_error(cli, "--tag is required");
	}
	if ((rc = load_spec(cli, &a, &spec)) == 0 && (rc = check_offline(cli, spec, a.tag)) == 0 &&
	    (rc = open_cloud(cli, &a, &cloud)) == 0) {
		ao.tag = a.tag;
		ao.logger = &cli->logger;
		if (jc_apply_plan(&p, cloud, spec, &ao, &err) < 0) {
			rc = cli_fail(cli, &err);
		} else if (cli->json) {
			cli_print_json(cli, plan_json(p, a.tag, jc_cloud_name(cloud)));
		} else {
			int counts[4] = { 0, 0, 0, 0 };
			for (size_t i = 0; i < p->n; i++) {
				const jc_plan_entry *e = &p->entries[i];
				counts[e->action]++;
				switch (e->action) {
				case JC_PLAN_CREATE:
					cli_printf(cli, "+ %s (%s, %s)\n", e->name, e->flavor, e->image);
					break;
				case JC_PLAN_KEEP:
					cli_printf(cli, "= %s\n", e->name);
					break;
				case JC_PLAN_REPLACE:
					cli_printf(cli, "! %s (ERROR%s%s)\n", e->name, e->fault ? ": " : "",
						   e->fault ? e->fault : "");
					break;
				case JC_PLAN_EXTRA:
					cli_printf(cli, "~ %s (not in the spec, left alone)\n", e->name);
					break;
				}
			}
			cli_printf(cli, "Plan: %d to create, %d to keep, %d to replace.\n", counts[JC_PLAN_CREATE],
				   counts[JC_PLAN_KEEP], counts[JC_PLAN_REPLACE]);
		}
	}
	jc_plan_free(p);
	jc_cloud_free(cloud);
	jc_spec_free(spec);
	free(a.overrides);
	return rc;
}

static const char apply_usage[] =
	"Usage: jcicd apply SPEC [USERDATA] --tag TAG [--cloud NAME] [--mappings FILE]\n"
	"                   [--override ROLE=N,...] [--key-name KEY] [--retry N] [--timeout S]\n"
	"                   [--version V]\n\n"
	"Makes the stack exist: creates the servers the spec wants that are missing (names\n"
	"<role><i>_<tag>), in parallel; keeps the ones that exist; deletes and creates again a\n"
	"server in ERROR at most --retry times (default 3); waits until every server is ACTIVE\n"
	"and has its floating IP, at most --timeout (default 30m).  Running it again is a no-op.\n"
	"USERDATA goes to every server (a role's own `userdata:` wins); a file ending in .tmpl\n"
	"is a template with ${hostname}, ${role}, ${tag} and ${version} (--version).\n"
	"The original form `apply SPEC USERDATA --project_tag T --override_instance_number\n"
	"\"cp=5:ct=2\"` works too.  --cloud local (the default) is the embedded cloud; any other\n"
	"name is a cloud of clouds.yaml (--clouds-yaml FILE, $OS_CLIENT_CONFIG_FILE, ./,\n"
	"~/.config/openstack, /etc/openstack), or \"env\" for the OS_* variables.  Without\n"
	"--cloud: $JCICD_CLOUD, clouds.default of jcicd.yaml, $OS_CLOUD, then local.\n";

int cmd_apply(struct cli *cli, int argc, char **argv)
{
	struct stack_args a;
	const char *pos[2];
	jc_spec *spec = NULL;
	jc_cloud *cloud = NULL;
	jc_plan *p = NULL;
	jc_apply_options ao = JC_APPLY_OPTIONS_INIT;
	jc_error err;
	int rc;

	cli->usage = apply_usage;
	if ((rc = parse_stack_args(cli, argc, argv, &a, pos, 1, 2)) >= 0)
		return rc;
	a.spec = pos[0];
	a.userdata = pos[1];
	if (!a.tag) {
		free(a.overrides);
		return cli_usage_error(cli, "--tag is required");
	}
	if ((rc = load_spec(cli, &a, &spec)) == 0 && (rc = check_offline(cli, spec, a.tag)) == 0 &&
	    (rc = open_cloud(cli, &a, &cloud)) == 0) {
		ao.tag = a.tag;
		ao.userdata_path = a.userdata;
		ao.version_label = a.version;
		ao.key_name = a.key_name;
		ao.retry = a.retry;
		ao.timeout_ms = a.timeout_ms;
		ao.logger = &cli->logger;
		int arc = jc_apply_run(&p, cloud, spec, &ao, &err);
		if (cli->json && p) {
			json_object *o = plan_json(p, a.tag, jc_cloud_name(cloud));
			json_object_object_add(o, "ok", json_object_new_boolean(arc == 0));
			if (arc < 0) {
				char msg[4096];
				json_object_object_add(o, "error", json_object_new_string(jc_error_format(&err, msg, sizeof(msg))));
			}
			cli_print_json(cli, o);
		} else if (p) {
			int created = 0, kept = 0;
			for (size_t i = 0; i < p->n; i++) {
				const jc_plan_entry *e = &p->entries[i];
				if (e->action == JC_PLAN_EXTRA)
					continue;
				if (e->attempts) {
					created++;
					cli_printf(cli, "+ %s %s%s%s\n", e->name, jc_server_status_name(e->status),
						   e->attempts > 1 ? " (after retries)" : "", "");
				} else {
					kept++;
				}
			}
			if (arc == 0)
				cli_printf(cli, "stack %s: %zu server%s ACTIVE (%d created, %d kept)\n", a.tag,
					   (size_t)(created + kept), created + kept == 1 ? "" : "s", created, kept);
		}
		if (arc < 0) {
			bool json = cli->json;
			cli->json = false;  /* the JSON report above already holds the error */
			rc = cli_fail(cli, &err);
			cli->json = json;
		}
	}
	jc_plan_free(p);
	jc_cloud_free(cloud);
	jc_spec_free(spec);
	free(a.overrides);
	return rc;
}

/* ---- delete */

static const char delete_usage[] =
	"Usage: jcicd delete --tag TAG [--cloud NAME] [--timeout S]\n"
	"       jcicd delete TAG\n\n"
	"Deletes every server of the stack TAG (and releases its floating IPs), and waits until\n"
	"they are gone (at most --timeout, default 10m).  Servers of other stacks are never touched.\n";

int cmd_delete(struct cli *cli, int argc, char **argv)
{
	struct stack_args a;
	const char *pos[1];
	jc_cloud *cloud = NULL;
	jc_delete_options dopt = JC_DELETE_OPTIONS_INIT;
	jc_error err;
	size_t n = 0;
	int rc;

	cli->usage = delete_usage;
	if ((rc = parse_stack_args(cli, argc, argv, &a, pos, 0, 1)) >= 0)
		return rc;
	free(a.overrides);
	if (pos[0] && a.tag && strcmp(pos[0], a.tag) != 0)
		return cli_usage_error(cli, "two different tags given ('%s' and --tag %s)", pos[0], a.tag);
	if (!a.tag)
		a.tag = pos[0];
	if (!a.tag)
		return cli_usage_error(cli, "which stack? give --tag TAG");
	if (jc_tag_check(a.tag, &err) < 0)
		return cli_fail(cli, &err);
	if ((rc = open_cloud(cli, &a, &cloud)) != 0)
		return rc;
	dopt.timeout_ms = a.timeout_ms;
	dopt.logger = &cli->logger;
	if (jc_stack_delete(cloud, a.tag, &dopt, &n, &err) < 0) {
		rc = cli_fail(cli, &err);
	} else if (cli->json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "tag", json_object_new_string(a.tag));
		json_object_object_add(o, "deleted", json_object_new_int64((int64_t)n));
		cli_print_json(cli, o);
	} else {
		cli_printf(cli, "stack %s: %zu server%s deleted\n", a.tag, n, n == 1 ? "" : "s");
	}
	jc_cloud_free(cloud);
	return rc;
}

/* ---- list */

static const char list_usage[] =
	"Usage: jcicd list SPEC [--tag TAG] [--mappings FILE] [--override ROLE=N,...] [--hostnames]\n\n"
	"Prints the server names the spec wants, one a line (cp1_TAG), or with --hostnames the\n"
	"hostnames the servers will have (cp1-TAG), for `jcicd verify-hosts`.  Honours overrides.\n"
	"Pure computation: no cloud is asked.\n";

int cmd_list(struct cli *cli, int argc, char **argv)
{
	struct stack_args a;
	const char *pos[1];
	jc_spec *spec = NULL;
	jc_instance *inst = NULL;
	size_t n = 0;
	jc_error err;
	int rc;

	cli->usage = list_usage;
	if ((rc = parse_stack_args(cli, argc, argv, &a, pos, 1, 1)) >= 0)
		return rc;
	a.spec = pos[0];
	rc = load_spec(cli, &a, &spec);
	free(a.overrides);
	if (rc)
		return rc;
	if (jc_spec_instances(spec, a.tag, &inst, &n, &err) < 0) {
		jc_spec_free(spec);
		return cli_fail(cli, &err);
	}
	if (cli->json) {
		json_object *o = json_object_new_object(), *arr = json_object_new_array();
		json_object_object_add(o, "tag", cli_json_str(a.tag));
		for (size_t i = 0; i < n; i++) {
			json_object *s = json_object_new_object();
			json_object_object_add(s, "name", json_object_new_string(inst[i].name));
			json_object_object_add(s, "hostname", json_object_new_string(inst[i].hostname));
			json_object_object_add(s, "role", json_object_new_string(inst[i].role->name));
			json_object_object_add(s, "index", json_object_new_int64(inst[i].index));
			json_object_array_add(arr, s);
		}
		json_object_object_add(o, "servers", arr);
		cli_print_json(cli, o);
	} else {
		for (size_t i = 0; i < n; i++)
			cli_printf(cli, "%s\n", a.hostnames ? inst[i].hostname : inst[i].name);
	}
	jc_instances_free(inst, n);
	jc_spec_free(spec);
	return EXIT_OK;
}

/* ---- status and ssh-config */

static int stack_servers(struct cli *cli, struct stack_args *a, jc_server_list **out)
{
	jc_spec *spec = NULL;
	jc_cloud *cloud = NULL;
	jc_error err;
	int rc;

	*out = NULL;
	if (!a->tag)
		return cli_usage_error(cli, "--tag is required");
	if (a->spec && (rc = load_spec(cli, a, &spec)) != 0)
		return rc;
	if ((rc = open_cloud(cli, a, &cloud)) == 0 && jc_stack_status(out, cloud, a->tag, spec, &err) < 0)
		rc = cli_fail(cli, &err);
	jc_cloud_free(cloud);
	jc_spec_free(spec);
	return rc;
}

static json_object *str_array(char **v, size_t n)
{
	json_object *a = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

static const char status_usage[] =
	"Usage: jcicd status --tag TAG [--cloud NAME] [--spec SPEC]\n\n"
	"Lists the servers of the stack: name, status, addresses (floating ones marked *), and the\n"
	"fault of a server in ERROR.  With --spec (and --override) the servers come in spec order\n"
	"and the ones the spec wants but the cloud lacks are listed as MISSING.\n";

int cmd_status(struct cli *cli, int argc, char **argv)
{
	struct stack_args a;
	const char *pos[1];
	jc_server_list *l = NULL;
	jc_spec *spec = NULL;
	jc_instance *inst = NULL;
	size_t n_inst = 0;
	int rc;

	cli->usage = status_usage;
	if ((rc = parse_stack_args(cli, argc, argv, &a, pos, 0, 0)) >= 0)
		return rc;
	if ((rc = stack_servers(cli, &a, &l)) != 0) {
		free(a.overrides);
		return rc;
	}
	if (a.spec && load_spec(cli, &a, &spec) == 0) {
		jc_error err;
		if (jc_spec_instances(spec, a.tag, &inst, &n_inst, &err) < 0)
			n_inst = 0;
	}
	if (cli->json) {
		json_object *o = json_object_new_object(), *arr = json_object_new_array(), *missing = json_object_new_array();
		json_object_object_add(o, "tag", json_object_new_string(a.tag));
		for (size_t i = 0; i < l->n; i++) {
			const jc_server *s = &l->servers[i];
			json_object *so = json_object_new_object();
			json_object_object_add(so, "id", json_object_new_string(s->id));
			json_object_object_add(so, "name", json_object_new_string(s->name));
			json_object_object_add(so, "status", json_object_new_string(jc_server_status_name(s->status)));
			json_object_object_add(so, "status_text", cli_json_str(s->status_text));
			json_object_object_add(so, "fault", cli_json_str(s->fault));
			json_object_object_add(so, "flavor", cli_json_str(s->flavor));
			json_object_object_add(so, "image", cli_json_str(s->image));
			json_object_object_add(so, "fixed_addresses", str_array(s->fixed_addresses, s->n_fixed));
			json_object_object_add(so, "floating_addresses", str_array(s->floating_addresses, s->n_floating));
			json_object_object_add(so, "created", cli_json_str(s->created));
			json_object_object_add(so, "console", cli_json_str(s->console));
			json_object_array_add(arr, so);
		}
		for (size_t i = 0; i < n_inst; i++)
			if (!jc_server_list_find(l, inst[i].name))
				json_object_array_add(missing, json_object_new_string(inst[i].name));
		json_object_object_add(o, "servers", arr);
		json_object_object_add(o, "missing", missing);
		cli_print_json(cli, o);
	} else {
		if (!l->n && !n_inst)
			cli_printf(cli, "stack %s has no servers\n", a.tag);
		for (size_t i = 0; i < l->n; i++) {
			const jc_server *s = &l->servers[i];
			cli_printf(cli, "%-24s %-8s", s->name, s->status_text ? s->status_text : jc_server_status_name(s->status));
			for (size_t j = 0; j < s->n_fixed; j++)
				cli_printf(cli, " %s", s->fixed_addresses[j]);
			for (size_t j = 0; j < s->n_floating; j++)
				cli_printf(cli, " %s*", s->floating_addresses[j]);
			if (s->fault)
				cli_printf(cli, "  fault: %s", s->fault);
			cli_printf(cli, "\n");
		}
		for (size_t i = 0; i < n_inst; i++)
			if (!jc_server_list_find(l, inst[i].name))
				cli_printf(cli, "%-24s MISSING\n", inst[i].name);
	}
	jc_instances_free(inst, n_inst);
	jc_spec_free(spec);
	jc_server_list_free(l);
	free(a.overrides);
	return EXIT_OK;
}

static const char ssh_config_usage[] =
	"Usage: jcicd ssh-config --tag TAG [--cloud NAME] [--spec SPEC] [--user USER]\n\n"
	"Prints an ssh_config for the stack (Host = server name).  The bastion is the first\n"
	"server with a floating address (in spec order with --spec); the others are reached\n"
	"through it with ProxyCommand ... nc %h %p.  Without a bastion every host is reached\n"
	"directly.  Use as: jcicd ssh-config --tag T > T_ssh_config; ssh -F T_ssh_config cp1_T\n";

int cmd_ssh_config(struct cli *cli, int argc, char **argv)
{
	struct stack_args a;
	const char *pos[1];
	jc_server_list *l = NULL;
	char *text = NULL;
	jc_error err;
	int rc;

	cli->usage = ssh_config_usage;
	if ((rc = parse_stack_args(cli, argc, argv, &a, pos, 0, 0)) >= 0)
		return rc;
	rc = stack_servers(cli, &a, &l);
	free(a.overrides);
	if (rc)
		return rc;
	if (jc_stack_ssh_config(&text, l, a.user, &err) < 0) {
		rc = cli_fail(cli, &err);
	} else if (cli->json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "tag", json_object_new_string(a.tag));
		json_object_object_add(o, "ssh_config", json_object_new_string(text));
		cli_print_json(cli, o);
	} else {
		fputs(text, stdout);
	}
	free(text);
	jc_server_list_free(l);
	return rc;
}
