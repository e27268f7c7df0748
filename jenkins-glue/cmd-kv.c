/* cmd-kv.c - `jcicd kv get|put|delete|list`: the coordination store by hand. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { OPT_KV = OPT_FIRST_COMMAND, OPT_PREFIX_FLAG, OPT_KEYS_ONLY };

static const struct option kv_longopts[] = {
	{ "kv", required_argument, NULL, OPT_KV },
	{ "prefix", no_argument, NULL, OPT_PREFIX_FLAG },
	{ "keys-only", no_argument, NULL, OPT_KEYS_ONLY },
	CLI_COMMON_LONGOPTS
};

struct kv_args {
	const char *url;
	bool prefix, keys_only;
	const char *pos[2];
	int n_pos;
	jc_kv *kv;
};

static int kv_setup(struct cli *cli, int argc, char **argv, struct kv_args *a, int min_pos, int max_pos)
{
	jc_orch_settings s;
	jc_error err;
	int c, rc;
	memset(a, 0, sizeof(*a));
	optind = 1;
	while ((c = cli_getopt(cli, argc, argv, kv_longopts)) != -1) {
		switch (c) {
		case 'h': return EXIT_OK;
		case '?': return EXIT_USAGE;
		case OPT_KV: a->url = optarg; break;
		case OPT_PREFIX_FLAG: a->prefix = true; break;
		case OPT_KEYS_ONLY: a->keys_only = true; break;
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
	if ((rc = cli_setup(cli)) != 0)
		return rc;
	if (jc_orch_settings_load(&s, cli->config, cli->state_dir, &err) < 0)
		return cli_fail(cli, &err);
	if (a->url) {
		free(s.kv_url);
		s.kv_url = strdup(a->url);
	}
	rc = jc_orch_settings_open_kv(&a->kv, &s, &cli->logger, &err) < 0 ? cli_fail(cli, &err) : -1;
	jc_orch_settings_clear(&s);
	return rc;
}

static const char kv_opts_help[] =
	"\nOptions:\n  --kv URL   the store (default: $JCICD_KV, then kv.url in jcicd.yaml, then sqlite://<state>/kv.db)\n";

static json_object *pair_json(const jc_kv_pair *p)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "key", json_object_new_string(p->key));
	if (p->value)
		json_object_object_add(o, "value", json_object_new_string_len(p->value, (int)p->value_len));
	json_object_object_add(o, "create_revision", json_object_new_int64(p->create_revision));
	json_object_object_add(o, "mod_revision", json_object_new_int64(p->mod_revision));
	json_object_object_add(o, "version", json_object_new_int64(p->version));
	json_object_object_add(o, "lease", json_object_new_int64(p->lease));
	return o;
}

int cmd_kv_get(struct cli *cli, int argc, char **argv)
{
	struct kv_args a;
	jc_kv_pair p;
	jc_error err;
	int rc;
	char usage[512];
	snprintf(usage, sizeof(usage), "Usage: jcicd kv get KEY\n\nPrints the value (exit 1 when the key does not exist).\n%s",
		 kv_opts_help);
	cli->usage = usage;
	if ((rc = kv_setup(cli, argc, argv, &a, 1, 1)) >= 0)
		return rc;
	rc = jc_kv_get(&p, a.kv, a.pos[0], &err);
	if (rc == 0) {
		if (cli->json)
			cli_print_json(cli, pair_json(&p));
		else
			cli_printf(cli, "%s\n", p.value);
		jc_kv_pair_clear(&p);
	} else if (rc == JC_ENOTFOUND) {
		fprintf(stderr, "%s %s: %s\n", cli->prog, cli->command, err.message);
		rc = EXIT_FAILED;
	} else {
		rc = cli_fail(cli, &err);
	}
	jc_kv_free(a.kv);
	return rc;
}

int cmd_kv_put(struct cli *cli, int argc, char **argv)
{
	struct kv_args a;
	jc_error err;
	int rc;
	cli->usage = "Usage: jcicd kv put KEY VALUE\n";
	if ((rc = kv_setup(cli, argc, argv, &a, 2, 2)) >= 0)
		return rc;
	rc = jc_kv_put(a.kv, a.pos[0], a.pos[1], strlen(a.pos[1]), 0, NULL, &err) < 0 ? cli_fail(cli, &err) : EXIT_OK;
	jc_kv_free(a.kv);
	return rc;
}

int cmd_kv_delete(struct cli *cli, int argc, char **argv)
{
	struct kv_args a;
	jc_error err;
	long n = 0;
	int rc;
	cli->usage = "Usage: jcicd kv delete KEY [--prefix]\n\n--prefix deletes every key starting with KEY.\n";
	if ((rc = kv_setup(cli, argc, argv, &a, 1, 1)) >= 0)
		return rc;
	rc = jc_kv_delete(a.kv, a.pos[0], a.prefix, &n, &err) < 0 ? cli_fail(cli, &err) : EXIT_OK;
	if (rc == EXIT_OK)
		cli_note(cli, "%ld key%s deleted\n", n, n == 1 ? "" : "s");
	jc_kv_free(a.kv);
	return rc;
}

int cmd_kv_list(struct cli *cli, int argc, char **argv)
{
	struct kv_args a;
	jc_kv_range_options o = JC_KV_RANGE_OPTIONS_INIT;
	json_object *arr = json_object_new_array();
	jc_error err;
	char *after = NULL;
	int rc;
	cli->usage = "Usage: jcicd kv list [PREFIX] [--keys-only]\n\nKEY=VALUE lines, sorted.\n";
	if ((rc = kv_setup(cli, argc, argv, &a, 0, 1)) >= 0) {
		json_object_put(arr);
		return rc;
	}
	o.keys_only = a.keys_only;
	o.limit = 1000;
	for (rc = EXIT_OK;;) {
		jc_kv_list l;
		o.start_after = after;
		if (jc_kv_range(&l, a.kv, a.n_pos ? a.pos[0] : "", &o, &err) < 0) {
			rc = cli_fail(cli, &err);
			break;
		}
		for (size_t i = 0; i < l.n; i++) {
			if (a.keys_only)
				cli_printf(cli, "%s\n", l.items[i].key);
			else
				cli_printf(cli, "%s=%s\n", l.items[i].key, l.items[i].value);
			json_object_array_add(arr, pair_json(&l.items[i]));
		}
		free(after);
		after = l.n ? strdup(l.items[l.n - 1].key) : NULL;
		bool more = l.more;
		jc_kv_list_clear(&l);
		if (!more)
			break;
	}
	free(after);
	if (cli->json && rc == EXIT_OK)
		cli_print_json(cli, arr);
	else
		json_object_put(arr);
	jc_kv_free(a.kv);
	return rc;
}
