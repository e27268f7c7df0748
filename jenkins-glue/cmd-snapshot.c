/* cmd-snapshot.c - jcicd snapshot poll|publish|list|show|diff|promote|prune|
 * watch|apt-source: numbered, immutable APT snapshots. */
#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

enum {
	OPT_PUBLISH_ROOT = OPT_FIRST_COMMAND, OPT_BASE_URL, OPT_SOURCE, OPT_SUITE, OPT_COMPONENTS,
	OPT_ARCHITECTURES, OPT_KEYRING, OPT_SIGN_KEY, OPT_GNUPGHOME, OPT_PASSPHRASE_FILE, OPT_WAIT,
	OPT_NO_SYNC, OPT_NO_PUBLISH, OPT_ALL, OPT_PACKAGES, OPT_WHO, OPT_WHY, OPT_KEEP, OPT_DRY_RUN,
	OPT_INTERVAL, OPT_COUNT, OPT_JITTER, OPT_SIGNED_BY
};

#define SNAPSHOT_LONGOPTS \
	{ "publish-root", required_argument, NULL, OPT_PUBLISH_ROOT }, \
	{ "base-url", required_argument, NULL, OPT_BASE_URL }, \
	{ "source", required_argument, NULL, OPT_SOURCE }, \
	{ "suite", required_argument, NULL, OPT_SUITE }, \
	{ "components", required_argument, NULL, OPT_COMPONENTS }, \
	{ "architectures", required_argument, NULL, OPT_ARCHITECTURES }, \
	{ "keyring", required_argument, NULL, OPT_KEYRING }, \
	{ "sign-key", required_argument, NULL, OPT_SIGN_KEY }, \
	{ "gnupghome", required_argument, NULL, OPT_GNUPGHOME }, \
	{ "passphrase-file", required_argument, NULL, OPT_PASSPHRASE_FILE }, \
	{ "wait", required_argument, NULL, OPT_WAIT }, \
	{ "no-sync", no_argument, NULL, OPT_NO_SYNC }

static const char common_help[] =
	"\nSnapshot options (override the snapshots section of jcicd.yaml):\n"
	"  --publish-root DIR     where snapshots are published\n"
	"  --base-url URL         how clients reach the publish root (for apt lines)\n"
	"  --source URL|DIR       one source repository instead of snapshots.sources, with\n"
	"  --suite S --components a,b --architectures x,y [--keyring FILE]\n"
	"  --sign-key KEY         sign InRelease and Release.gpg (with --gnupghome DIR,\n"
	"                         --passphrase-file FILE)\n"
	"  --wait DURATION        wait this long for another writer (default: fail at once)\n"
	"  --no-sync              do not flush to disk before committing (unsafe on power loss)\n";

struct snap_args {
	const char *publish_root, *base_url, *source, *suite, *keyring, *sign_key, *gnupghome, *passphrase;
	char *components, *architectures;
	long long wait_ms;
	bool no_sync;
	/* verb options */
	bool no_publish, all, packages, dry_run;
	const char *who, *why, *signed_by;
	long keep, count;
	long long interval_ms;
	int jitter;
	bool have_interval;
	const char *pos[3];
	int n_pos;
};

static void free_words(const char **v)
{
	free(v);
}

static const char **split_words(char *s, size_t *n)
{
	const char **v = calloc(strlen(s) + 2, sizeof(*v));
	char *save = NULL;
	*n = 0;
	for (char *w = strtok_r(s, " ,", &save); w; w = strtok_r(NULL, " ,", &save))
		v[(*n)++] = w;
	return v;
}

/* Options and positionals; returns -1 to go on, else an exit status. */
static int parse(struct cli *cli, int argc, char **argv, const struct option *longopts, struct snap_args *a,
		 int min_pos, int max_pos)
{
	int c;
	long n;
	memset(a, 0, sizeof(*a));
	a->keep = -1;
	optind = 1;
	while ((c = cli_getopt(cli, argc, argv, longopts)) != -1) {
		switch (c) {
		case 'h': return EXIT_OK;
		case '?': return EXIT_USAGE;
		case OPT_PUBLISH_ROOT: a->publish_root = optarg; break;
		case OPT_BASE_URL: a->base_url = optarg; break;
		case OPT_SOURCE: a->source = optarg; break;
		case OPT_SUITE: a->suite = optarg; break;
		case OPT_COMPONENTS: a->components = optarg; break;
		case OPT_ARCHITECTURES: a->architectures = optarg; break;
		case OPT_KEYRING: a->keyring = optarg; break;
		case OPT_SIGN_KEY: a->sign_key = optarg; break;
		case OPT_GNUPGHOME: a->gnupghome = optarg; break;
		case OPT_PASSPHRASE_FILE: a->passphrase = optarg; break;
		case OPT_NO_SYNC: a->no_sync = true; break;
		case OPT_NO_PUBLISH: a->no_publish = true; break;
		case OPT_ALL: a->all = true; break;
		case OPT_PACKAGES: a->packages = true; break;
		case OPT_DRY_RUN: a->dry_run = true; break;
		case OPT_WHO: a->who = optarg; break;
		case OPT_WHY: a->why = optarg; break;
		case OPT_SIGNED_BY: a->signed_by = optarg; break;
		case OPT_WAIT:
			if (!cli_parse_duration(optarg, &a->wait_ms))
				return cli_usage_error(cli, "--wait takes a duration (30s, 2m), not '%s'", optarg);
			break;
		case OPT_INTERVAL:
			if (!cli_parse_duration(optarg, &a->interval_ms) || a->interval_ms < 1000)
				return cli_usage_error(cli, "--interval takes a duration of at least 1s (90s, 15m), "
						       "not '%s'", optarg);
			a->have_interval = true;
			break;
		case OPT_KEEP:
			if (!cli_parse_long(optarg, &n) || n < 1)
				return cli_usage_error(cli, "--keep takes a number of snapshots, at least 1, not '%s'", optarg);
			a->keep = n;
			break;
		case OPT_COUNT:
			if (!cli_parse_long(optarg, &n) || n < 1)
				return cli_usage_error(cli, "--count takes a positive number of polls, not '%s'", optarg);
			a->count = n;
			break;
		case OPT_JITTER: {
			char buf[32];
			snprintf(buf, sizeof(buf), "%s", optarg);
			if (*buf && buf[strlen(buf) - 1] == '%')
				buf[strlen(buf) - 1] = '\0';
			if (!cli_parse_long(buf, &n) || n < 0 || n > 50)
				return cli_usage_error(cli, "--jitter takes a percentage from 0 to 50, not '%s'", optarg);
			a->jitter = n == 0 ? -1 : (int)n;
			break;
		}
		default:
			return EXIT_USAGE;
		}
	}
	for (int i = optind; i < argc; i++) {
		if (a->n_pos == max_pos)
			return cli_usage_error(cli, "unexpected argument '%s'", argv[i]);
		a->pos[a->n_pos++] = argv[i];
	}
	if (a->n_pos < min_pos)
		return cli_usage_error(cli, "missing argument%s", min_pos - a->n_pos > 1 ? "s" : "");
	if ((a->suite || a->components || a->architectures || a->keyring) && !a->source)
		return cli_usage_error(cli, "--suite, --components, --architectures and --keyring go with --source");
	if (a->source && !a->suite)
		return cli_usage_error(cli, "--source needs --suite (the directory below dists/)");
	c = cli_setup(cli);
	return c ? c : -1;
}

/* Opens the snapshot state with the configuration and the flags. */
static int open_snapshots(struct cli *cli, struct snap_args *a, jc_snapshots **out)
{
	jc_snapshot_config *sc = NULL;
	jc_snapshot_options o;
	jc_snapshot_source src;
	const char **comps = NULL, **archs = NULL;
	char *comp_copy = NULL, *arch_copy = NULL;
	jc_error err;
	int rc;

	*out = NULL;
	if (jc_snapshot_config_load(&sc, cli->config, &err) < 0)
		return cli_fail(cli, &err);
	o = *jc_snapshot_config_options(sc);
	o.state_dir = cli->state_dir;
	o.logger = &cli->logger;
	if (a->publish_root)
		o.publish_root = a->publish_root;
	if (a->base_url)
		o.base_url = a->base_url;
	if (a->sign_key)
		o.sign_key = a->sign_key;
	if (a->gnupghome)
		o.gnupghome = a->gnupghome;
	if (a->passphrase)
		o.passphrase_file = a->passphrase;
	if (a->wait_ms)
		o.lock_timeout_ms = a->wait_ms;
	if (a->no_sync)
		o.no_sync = true;
	if (a->have_interval)
		o.interval_ms = a->interval_ms;
	if (a->jitter)
		o.jitter_percent = a->jitter;
	if (a->source) {
		size_t nc = 0, na = 0;
		static const char *const main_only[] = { "main" }, *const amd64[] = { "amd64" };
		memset(&src, 0, sizeof(src));
		if (strstr(a->source, "://"))
			src.url = a->source;
		else
			src.path = a->source;
		src.suite = a->suite;
		src.keyring = a->keyring;
		if (a->components) {
			comp_copy = strdup(a->components);
			comps = split_words(comp_copy, &nc);
		}
		if (a->architectures) {
			arch_copy = strdup(a->architectures);
			archs = split_words(arch_copy, &na);
		}
		src.components = nc ? comps : main_only;
		src.n_components = nc ? nc : 1;
		src.architectures = na ? archs : amd64;
		src.n_architectures = na ? na : 1;
		o.sources = &src;
		o.n_sources = 1;
	}
	rc = jc_snapshot_open(out, &o, &err);
	free_words(comps);
	free_words(archs);
	free(comp_copy);
	free(arch_copy);
	jc_snapshot_config_free(sc);
	if (rc < 0)
		return cli_fail(cli, &err);
	return 0;
}

static const char *base_url_of(struct cli *cli, struct snap_args *a)
{
	jc_snapshot_config *sc = NULL;
	static char *kept;
	if (a->base_url)
		return a->base_url;
	if (!kept && jc_snapshot_config_load(&sc, cli->config, NULL) == 0) {
		const char *b = jc_snapshot_config_options(sc)->base_url;
		kept = b ? strdup(b) : NULL;
		jc_snapshot_config_free(sc);
	}
	return kept;
}

static char *utc(long long t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!t) {
		snprintf(buf, size, "-");
		return buf;
	}
	gmtime_r(&tt, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

static json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

/* ---- poll */

static const char poll_usage[] =
	"Usage: jcicd snapshot poll [--no-publish] [options]\n\n"
	"Looks at every source with one conditional request.  When one changed, fetches the\n"
	"changed indices and the packages the pool lacks, checks each against the SHA256 its\n"
	"Release or Packages file gives, records snapshot N+1 and publishes it at\n"
	"<publish_root>/snapshots/N (pointers in snapshots.pointers, default latest, follow).\n"
	"Nothing is recorded unless every file verified.\n\n"
	"  --no-publish           record the snapshot only ('snapshot publish' later)\n";

static void poll_json(struct cli *cli, const jc_snapshot_poll_result *r, jc_snapshots *s, struct snap_args *a)
{
	json_object *o = json_object_new_object();
	const char *base = base_url_of(cli, a);
	(void)s;
	json_object_object_add(o, "number", r->number ? json_object_new_int64(r->number) : NULL);
	json_object_object_add(o, "changed", json_object_new_boolean(r->changed));
	json_object_object_add(o, "published", json_object_new_boolean(r->published));
	json_object_object_add(o, "previous", r->previous ? json_object_new_int64(r->previous) : NULL);
	json_object_object_add(o, "packages", json_object_new_int64(r->n_packages));
	json_object_object_add(o, "debs_fetched", json_object_new_int64(r->debs_fetched));
	json_object_object_add(o, "debs_reused", json_object_new_int64(r->debs_reused));
	json_object_object_add(o, "indices_fetched", json_object_new_int64(r->indices_fetched));
	json_object_object_add(o, "requests", json_object_new_int64(r->requests));
	json_object_object_add(o, "bytes_fetched", json_object_new_int64(r->bytes_fetched));
	json_object_object_add(o, "elapsed_ms", json_object_new_int64(r->elapsed_ms));
	if (r->number && base) {
		char *url = NULL;
		if (jc_snapshot_url(&url, base, r->number, NULL) == 0)
			json_object_object_add(o, "url", json_object_new_string(url));
		free(url);
	}
	cli_print_json(cli, o);
}

static void poll_text(struct cli *cli, const jc_snapshot_poll_result *r)
{
	double secs = (double)r->elapsed_ms / 1000.0;
	if (!r->changed && !r->number)
		cli_printf(cli, "no change (%ld request%s, %.2f s)\n", r->requests, r->requests == 1 ? "" : "s", secs);
	else if (!r->number)
		cli_printf(cli, "a source changed, its packages did not: no new snapshot (%ld requests, %.2f s)\n",
			   r->requests, secs);
	else
		cli_printf(cli, "snapshot %ld%s: %ld packages, %ld fetched (%.1f MB in %ld requests), %ld already "
			   "in the pool (%.2f s)\n", r->number, r->published ? " published" : " recorded",
			   r->n_packages, r->debs_fetched, (double)r->bytes_fetched / 1e6, r->requests, r->debs_reused,
			   secs);
}

int cmd_snapshot_poll(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		SNAPSHOT_LONGOPTS,
		{ "no-publish", no_argument, NULL, OPT_NO_PUBLISH },
		CLI_COMMON_LONGOPTS
	};
	struct snap_args a;
	jc_snapshots *s;
	jc_snapshot_poll_result r;
	jc_error err;
	int rc;
	char usage[4096];
	snprintf(usage, sizeof(usage), "%s%s", poll_usage, common_help);
	cli->usage = usage;
	if ((rc = parse(cli, argc, argv, longopts, &a, 0, 0)) >= 0)
		return rc;
	if ((rc = open_snapshots(cli, &a, &s)) != 0)
		return rc;
	rc = jc_snapshot_poll(&r, s, a.no_publish ? JC_SNAPSHOT_POLL_NO_PUBLISH : 0, &err);
	if (rc < 0)
		rc = cli_fail(cli, &err);
	else if (cli->json)
		poll_json(cli, &r, s, &a);
	else
		poll_text(cli, &r);
	jc_snapshot_free(s);
	return rc;
}

/* ---- publish */

static const char publish_usage[] =
	"Usage: jcicd snapshot publish [N] [options]\n\n"
	"Makes the publish root match the store: publishes recorded snapshots, rebuilds the\n"
	"tree of any published snapshot that is missing (a new or moved publish root), or of\n"
	"snapshot N, and sets every pointer.\n";

int cmd_snapshot_publish(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = { SNAPSHOT_LONGOPTS, CLI_COMMON_LONGOPTS };
	struct snap_args a;
	jc_snapshots *s;
	jc_error err;
	long n = 0, built = 0;
	int rc;
	char usage[4096];
	snprintf(usage, sizeof(usage), "%s%s", publish_usage, common_help);
	cli->usage = usage;
	if ((rc = parse(cli, argc, argv, longopts, &a, 0, 1)) >= 0)
		return rc;
	if (a.n_pos && (!cli_parse_long(a.pos[0], &n) || n <= 0))
		return cli_usage_error(cli, "'%s' is not a snapshot number", a.pos[0]);
	if ((rc = open_snapshots(cli, &a, &s)) != 0)
		return rc;
	rc = jc_snapshot_publish(&built, s, n, &err);
	if (rc < 0) {
		rc = cli_fail(cli, &err);
	} else if (cli->json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "built", json_object_new_int64(built));
		cli_print_json(cli, o);
	} else {
		cli_printf(cli, "%ld tree%s built; pointers set\n", built, built == 1 ? "" : "s");
	}
	jc_snapshot_free(s);
	return rc;
}

/* ---- list, show */

static const char list_usage[] =
	"Usage: jcicd snapshot list [--all] [options]\n\n"
	"The snapshots, newest first, with the pointers that name them.\n\n"
	"  --all                  pruned snapshots too\n";

static json_object *info_json(const jc_snapshot_info *x)
{
	json_object *o = json_object_new_object(), *ptrs = json_object_new_array();
	char buf[32];
	json_object_object_add(o, "number", json_object_new_int64(x->number));
	json_object_object_add(o, "created_at", json_object_new_string(utc(x->created_at, buf, sizeof(buf))));
	json_object_object_add(o, "published_at", x->published_at ?
			       json_object_new_string(utc(x->published_at, buf, sizeof(buf))) : NULL);
	json_object_object_add(o, "state", jstr(x->state));
	json_object_object_add(o, "suite", jstr(x->suite));
	json_object_object_add(o, "packages", json_object_new_int64(x->n_packages));
	json_object_object_add(o, "size", json_object_new_int64(x->size));
	for (size_t i = 0; i < x->n_pointers; i++)
		json_object_array_add(ptrs, json_object_new_string(x->pointers[i]));
	json_object_object_add(o, "pointers", ptrs);
	return o;
}

int cmd_snapshot_list(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		SNAPSHOT_LONGOPTS,
		{ "all", no_argument, NULL, OPT_ALL },
		CLI_COMMON_LONGOPTS
	};
	struct snap_args a;
	jc_snapshots *s;
	jc_snapshot_info *info;
	jc_snapshot_pointer *ptrs = NULL;
	size_t n, np = 0;
	jc_error err;
	int rc;
	char usage[4096];
	snprintf(usage, sizeof(usage), "%s%s", list_usage, common_help);
	cli->usage = usage;
	if ((rc = parse(cli, argc, argv, longopts, &a, 0, 0)) >= 0)
		return rc;
	if ((rc = open_snapshots(cli, &a, &s)) != 0)
		return rc;
	rc = jc_snapshot_list(&info, &n, s, a.all, &err);
	if (rc == 0)
		rc = jc_snapshot_pointers(&ptrs, &np, s, &err);
	if (rc < 0) {
		rc = cli_fail(cli, &err);
	} else if (cli->json) {
		json_object *o = json_object_new_object(), *arr = json_object_new_array(), *pj = json_object_new_array();
		char buf[32];
		for (size_t i = 0; i < n; i++)
			json_object_array_add(arr, info_json(&info[i]));
		for (size_t i = 0; i < np; i++) {
			json_object *p = json_object_new_object();
			json_object_object_add(p, "name", json_object_new_string(ptrs[i].name));
			json_object_object_add(p, "number", json_object_new_int64(ptrs[i].number));
			json_object_object_add(p, "updated_at", json_object_new_string(utc(ptrs[i].updated_at, buf,
											  sizeof(buf))));
			json_object_object_add(p, "who", jstr(ptrs[i].who));
			json_object_object_add(p, "why", jstr(ptrs[i].why));
			json_object_array_add(pj, p);
		}
		json_object_object_add(o, "snapshots", arr);
		json_object_object_add(o, "pointers", pj);
		cli_print_json(cli, o);
	} else {
		char buf[32];
		cli_printf(cli, "%-8s %-21s %-10s %9s  %s\n", "NUMBER", "CREATED", "STATE", "PACKAGES", "POINTERS");
		for (size_t i = 0; i < n; i++) {
			cli_printf(cli, "%-8ld %-21s %-10s %9ld ", info[i].number, utc(info[i].created_at, buf, sizeof(buf)),
				   info[i].state, info[i].n_packages);
			for (size_t k = 0; k < info[i].n_pointers; k++)
				cli_printf(cli, " %s", info[i].pointers[k]);
			cli_printf(cli, "\n");
		}
	}
	if (rc == 0) {
		jc_snapshot_info_free(info, n);
		jc_snapshot_pointers_free(ptrs, np);
	}
	jc_snapshot_free(s);
	return rc;
}

static const char show_usage[] =
	"Usage: jcicd snapshot show N|POINTER [--packages] [options]\n\n"
	"One snapshot: when it was made, from which source Releases (their SHA256 and signing\n"
	"key), its indices, the pointers naming it, and its apt source line.\n\n"
	"  --packages             list every package (name, version, architecture)\n";

struct pkg_out {
	struct cli *cli;
	json_object *arr;
};

static int print_pkg(const jc_snapshot_package *p, void *payload)
{
	struct pkg_out *po = payload;
	if (po->arr) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "name", jstr(p->name));
		json_object_object_add(o, "version", jstr(p->version));
		json_object_object_add(o, "architecture", jstr(p->architecture));
		json_object_object_add(o, "component", jstr(p->component));
		json_object_object_add(o, "filename", jstr(p->filename));
		json_object_object_add(o, "sha256", jstr(p->sha256));
		json_object_object_add(o, "size", json_object_new_int64(p->size));
		json_object_array_add(po->arr, o);
	} else {
		cli_printf(po->cli, "  %-40s %-24s %s\n", p->name, p->version, p->architecture);
	}
	return 0;
}

static int resolve(struct cli *cli, jc_snapshots *s, const char *ref, long *n)
{
	jc_error err;
	if (jc_snapshot_resolve(n, s, ref, &err) < 0)
		return cli_fail(cli, &err);
	return 0;
}

int cmd_snapshot_show(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		SNAPSHOT_LONGOPTS,
		{ "packages", no_argument, NULL, OPT_PACKAGES },
		CLI_COMMON_LONGOPTS
	};
	struct snap_args a;
	jc_snapshots *s;
	jc_snapshot_info *x = NULL;
	jc_error err;
	long n;
	char buf[32], *url = NULL, *line = NULL;
	int rc;
	char usage[4096];
	snprintf(usage, sizeof(usage), "%s%s", show_usage, common_help);
	cli->usage = usage;
	if ((rc = parse(cli, argc, argv, longopts, &a, 1, 1)) >= 0)
		return rc;
	if ((rc = open_snapshots(cli, &a, &s)) != 0)
		return rc;
	if ((rc = resolve(cli, s, a.pos[0], &n)) != 0) {
		jc_snapshot_free(s);
		return rc;
	}
	if (jc_snapshot_show(&x, s, n, &err) < 0) {
		rc = cli_fail(cli, &err);
		jc_snapshot_free(s);
		return rc;
	}
	if (base_url_of(cli, &a) && jc_snapshot_url(&url, base_url_of(cli, &a), n, NULL) == 0) {
		const char **comps = calloc(x->n_indices + 1, sizeof(*comps));
		size_t nc = 0;
		for (size_t i = 0; i < x->n_indices; i++) {
			bool seen = false;
			for (size_t k = 0; k < nc; k++)
				seen = seen || strcmp(comps[k], x->indices[i].component) == 0;
			if (!seen)
				comps[nc++] = x->indices[i].component;
		}
		jc_snapshot_apt_line(&line, url, x->suite, comps, nc, NULL, NULL);
		free(comps);
	}
	if (cli->json) {
		json_object *o = info_json(x), *srcs = json_object_new_array(), *idx = json_object_new_array();
		struct pkg_out po = { cli, NULL };
		for (size_t i = 0; i < x->n_sources; i++) {
			json_object *j = json_object_new_object();
			json_object_object_add(j, "name", jstr(x->sources[i].name));
			json_object_object_add(j, "location", jstr(x->sources[i].location));
			json_object_object_add(j, "suite", jstr(x->sources[i].suite));
			json_object_object_add(j, "release_file", jstr(x->sources[i].release_file));
			json_object_object_add(j, "release_sha256", jstr(x->sources[i].release_sha256));
			json_object_object_add(j, "release_date", jstr(x->sources[i].release_date));
			json_object_object_add(j, "signed_by", jstr(x->sources[i].signed_by));
			json_object_array_add(srcs, j);
		}
		for (size_t i = 0; i < x->n_indices; i++) {
			json_object *j = json_object_new_object();
			json_object_object_add(j, "component", jstr(x->indices[i].component));
			json_object_object_add(j, "architecture", jstr(x->indices[i].architecture));
			json_object_object_add(j, "packages_sha256", jstr(x->indices[i].packages_sha256));
			json_object_object_add(j, "packages_size", json_object_new_int64(x->indices[i].packages_size));
			json_object_object_add(j, "packages", json_object_new_int64(x->indices[i].n_packages));
			json_object_array_add(idx, j);
		}
		json_object_object_add(o, "sources", srcs);
		json_object_object_add(o, "indices", idx);
		json_object_object_add(o, "url", jstr(url));
		json_object_object_add(o, "apt_source", jstr(line));
		if (a.packages) {
			po.arr = json_object_new_array();
			rc = jc_snapshot_packages(s, n, print_pkg, &po, &err);
			json_object_object_add(o, "package_list", po.arr);
		}
		if (rc < 0) {
			json_object_put(o);
			rc = cli_fail(cli, &err);
		} else {
			cli_print_json(cli, o);
		}
	} else {
		cli_printf(cli, "snapshot %ld (%s)\n", x->number, x->state);
		cli_printf(cli, "  created    %s\n", utc(x->created_at, buf, sizeof(buf)));
		cli_printf(cli, "  published  %s\n", utc(x->published_at, buf, sizeof(buf)));
		cli_printf(cli, "  suite      %s\n", x->suite);
		cli_printf(cli, "  packages   %ld (%.1f MB)\n", x->n_packages, (double)x->size / 1e6);
		cli_printf(cli, "  pointers  ");
		for (size_t i = 0; i < x->n_pointers; i++)
			cli_printf(cli, " %s", x->pointers[i]);
		cli_printf(cli, "%s\n", x->n_pointers ? "" : " -");
		if (line)
			cli_printf(cli, "  apt        %s\n", line);
		for (size_t i = 0; i < x->n_sources; i++)
			cli_printf(cli, "  source     %s: %s/dists/%s/%s sha256 %s%s%s\n", x->sources[i].name,
				   x->sources[i].location, x->sources[i].suite, x->sources[i].release_file,
				   x->sources[i].release_sha256, x->sources[i].signed_by ? ", signed by " : "",
				   x->sources[i].signed_by ? x->sources[i].signed_by : "");
		for (size_t i = 0; i < x->n_indices; i++)
			cli_printf(cli, "  index      %s/binary-%s: %ld packages, Packages sha256 %s\n",
				   x->indices[i].component, x->indices[i].architecture, x->indices[i].n_packages,
				   x->indices[i].packages_sha256);
		if (a.packages) {
			struct pkg_out po = { cli, NULL };
			rc = jc_snapshot_packages(s, n, print_pkg, &po, &err);
			if (rc < 0)
				rc = cli_fail(cli, &err);
		}
	}
	free(url);
	free(line);
	jc_snapshot_info_free(x, 1);
	jc_snapshot_free(s);
	return rc;
}

/* ---- diff */

static const char diff_usage[] =
	"Usage: jcicd snapshot diff A B [options]\n\n"
	"The packages that differ from snapshot A to snapshot B (numbers or pointers): one line\n"
	"per package and architecture, '+' added, '-' removed, '!' changed version.\n";

struct diff_out {
	struct cli *cli;
	json_object *added, *removed, *changed;
};

static int on_change(const jc_snapshot_change *c, void *payload)
{
	struct diff_out *d = payload;
	if (d->added) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "name", jstr(c->name));
		json_object_object_add(o, "architecture", jstr(c->architecture));
		if (c->kind == JC_SNAPSHOT_ADDED) {
			json_object_object_add(o, "version", jstr(c->to));
			json_object_array_add(d->added, o);
		} else if (c->kind == JC_SNAPSHOT_REMOVED) {
			json_object_object_add(o, "version", jstr(c->from));
			json_object_array_add(d->removed, o);
		} else {
			json_object_object_add(o, "from", jstr(c->from));
			json_object_object_add(o, "to", jstr(c->to));
			if (strcmp(c->from, c->from_all) != 0 || strcmp(c->to, c->to_all) != 0) {
				json_object_object_add(o, "from_all", jstr(c->from_all));
				json_object_object_add(o, "to_all", jstr(c->to_all));
			}
			json_object_array_add(d->changed, o);
		}
		return 0;
	}
	if (c->kind == JC_SNAPSHOT_ADDED)
		cli_printf(d->cli, "+ %s %s %s\n", c->name, c->architecture, c->to_all);
	else if (c->kind == JC_SNAPSHOT_REMOVED)
		cli_printf(d->cli, "- %s %s %s\n", c->name, c->architecture, c->from_all);
	else
		cli_printf(d->cli, "! %s %s %s -> %s\n", c->name, c->architecture, c->from_all, c->to_all);
	return 0;
}

int cmd_snapshot_diff(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = { SNAPSHOT_LONGOPTS, CLI_COMMON_LONGOPTS };
	struct snap_args a;
	jc_snapshots *s;
	jc_snapshot_diff_summary sum;
	struct diff_out d;
	jc_error err;
	long na, nb;
	int rc;
	char usage[4096];
	snprintf(usage, sizeof(usage), "%s%s", diff_usage, common_help);
	cli->usage = usage;
	if ((rc = parse(cli, argc, argv, longopts, &a, 2, 2)) >= 0)
		return rc;
	if ((rc = open_snapshots(cli, &a, &s)) != 0)
		return rc;
	if ((rc = resolve(cli, s, a.pos[0], &na)) != 0 || (rc = resolve(cli, s, a.pos[1], &nb)) != 0) {
		jc_snapshot_free(s);
		return rc;
	}
	memset(&d, 0, sizeof(d));
	d.cli = cli;
	if (cli->json) {
		d.added = json_object_new_array();
		d.removed = json_object_new_array();
		d.changed = json_object_new_array();
	}
	rc = jc_snapshot_diff(&sum, s, na, nb, on_change, &d, &err);
	if (rc < 0) {
		rc = cli_fail(cli, &err);
		json_object_put(d.added);
		json_object_put(d.removed);
		json_object_put(d.changed);
	} else if (cli->json) {
		json_object *o = json_object_new_object(), *sj = json_object_new_object();
		json_object_object_add(o, "from", json_object_new_int64(na));
		json_object_object_add(o, "to", json_object_new_int64(nb));
		json_object_object_add(o, "added", d.added);
		json_object_object_add(o, "removed", d.removed);
		json_object_object_add(o, "changed", d.changed);
		json_object_object_add(sj, "added", json_object_new_int64(sum.added));
		json_object_object_add(sj, "removed", json_object_new_int64(sum.removed));
		json_object_object_add(sj, "changed", json_object_new_int64(sum.changed));
		json_object_object_add(sj, "unchanged", json_object_new_int64(sum.unchanged));
		json_object_object_add(o, "summary", sj);
		cli_print_json(cli, o);
	} else {
		cli_printf(cli, "snapshot %ld -> %ld: %ld added, %ld removed, %ld changed, %ld unchanged\n", na, nb,
			   sum.added, sum.removed, sum.changed, sum.unchanged);
	}
	jc_snapshot_free(s);
	return rc;
}

/* ---- promote */

static const char promote_usage[] =
	"Usage: jcicd snapshot promote N|POINTER NAME [--who WHO] [--why TEXT] [options]\n\n"
	"Points NAME (testing, stable, ...) at snapshot N: <publish_root>/NAME becomes a symlink\n"
	"to snapshots/N, replaced in one step.  Who and why go into the promotion history\n"
	"(who defaults to $JCICD_WHO, then $USER).  Waits up to 30 s for another writer\n"
	"unless --wait says otherwise.\n\n"
	"  --who WHO              who promotes (a person, a pipeline run)\n"
	"  --why TEXT             why (a verdict, a ticket)\n";

int cmd_snapshot_promote(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		SNAPSHOT_LONGOPTS,
		{ "who", required_argument, NULL, OPT_WHO },
		{ "why", required_argument, NULL, OPT_WHY },
		CLI_COMMON_LONGOPTS
	};
	struct snap_args a;
	jc_snapshots *s;
	jc_error err;
	long n, prev = 0;
	const char *who;
	int rc;
	char usage[4096];
	snprintf(usage, sizeof(usage), "%s%s", promote_usage, common_help);
	cli->usage = usage;
	if ((rc = parse(cli, argc, argv, longopts, &a, 2, 2)) >= 0)
		return rc;
	if (!jc_snapshot_pointer_name_ok(a.pos[1]))
		return cli_usage_error(cli, "'%s' is not a pointer name (lower-case letters, digits, - and _, "
				       "starting with a letter; not 'snapshots')", a.pos[1]);
	if (!a.wait_ms)
		a.wait_ms = 30000;   /* a pipeline's promotion should not fail on a poll in progress */
	if ((rc = open_snapshots(cli, &a, &s)) != 0)
		return rc;
	if ((rc = resolve(cli, s, a.pos[0], &n)) != 0) {
		jc_snapshot_free(s);
		return rc;
	}
	who = a.who ? a.who : getenv("JCICD_WHO") ? getenv("JCICD_WHO") : getenv("USER") ? getenv("USER") : "unknown";
	rc = jc_snapshot_promote(&prev, s, n, a.pos[1], who, a.why, &err);
	if (rc < 0) {
		rc = cli_fail(cli, &err);
	} else if (cli->json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "pointer", json_object_new_string(a.pos[1]));
		json_object_object_add(o, "number", json_object_new_int64(n));
		json_object_object_add(o, "previous", prev ? json_object_new_int64(prev) : NULL);
		json_object_object_add(o, "who", jstr(who));
		json_object_object_add(o, "why", jstr(a.why));
		cli_print_json(cli, o);
	} else if (prev == n) {
		cli_printf(cli, "%s already points at snapshot %ld\n", a.pos[1], n);
	} else {
		cli_printf(cli, "%s: snapshot %ld -> %ld (by %s%s%s)\n", a.pos[1], prev, n, who, a.why ? ": " : "",
			   a.why ? a.why : "");
	}
	jc_snapshot_free(s);
	return rc;
}

/* ---- history */

static const char history_usage[] =
	"Usage: jcicd snapshot history [POINTER] [options]\n\n"
	"Every change of a pointer (or of all pointers), oldest first: when, from which\n"
	"snapshot to which, who and why.\n";

int cmd_snapshot_history(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = { SNAPSHOT_LONGOPTS, CLI_COMMON_LONGOPTS };
	struct snap_args a;
	jc_snapshots *s;
	jc_snapshot_promotion *h = NULL;
	size_t n = 0;
	jc_error err;
	int rc;
	char usage[4096];
	snprintf(usage, sizeof(usage), "%s%s", history_usage, common_help);
	cli->usage = usage;
	if ((rc = parse(cli, argc, argv, longopts, &a, 0, 1)) >= 0)
		return rc;
	if (a.n_pos && !jc_snapshot_pointer_name_ok(a.pos[0]))
		return cli_usage_error(cli, "'%s' is not a pointer name", a.pos[0]);
	if ((rc = open_snapshots(cli, &a, &s)) != 0)
		return rc;
	rc = jc_snapshot_history(&h, &n, s, a.n_pos ? a.pos[0] : NULL, &err);
	if (rc < 0) {
		rc = cli_fail(cli, &err);
	} else if (cli->json) {
		json_object *arr = json_object_new_array();
		char buf[32];
		for (size_t i = 0; i < n; i++) {
			json_object *o = json_object_new_object();
			json_object_object_add(o, "pointer", jstr(h[i].pointer));
			json_object_object_add(o, "number", json_object_new_int64(h[i].number));
			json_object_object_add(o, "previous", h[i].previous ? json_object_new_int64(h[i].previous) : NULL);
			json_object_object_add(o, "at", json_object_new_string(utc(h[i].at, buf, sizeof(buf))));
			json_object_object_add(o, "who", jstr(h[i].who));
			json_object_object_add(o, "why", jstr(h[i].why));
			json_object_array_add(arr, o);
		}
		cli_print_json(cli, arr);
	} else {
		char buf[32];
		for (size_t i = 0; i < n; i++)
			cli_printf(cli, "%s  %-10s %4ld -> %-4ld %s%s%s\n", utc(h[i].at, buf, sizeof(buf)), h[i].pointer,
				   h[i].previous, h[i].number, h[i].who ? h[i].who : "-", h[i].why ? ": " : "",
				   h[i].why ? h[i].why : "");
	}
	jc_snapshot_history_free(h, n);
	jc_snapshot_free(s);
	return rc;
}

/* ---- prune */

static const char prune_usage[] =
	"Usage: jcicd snapshot prune --keep K [--dry-run] [options]\n\n"
	"Removes published snapshots beyond the K newest, never one a pointer names, then the\n"
	"pool files no remaining snapshot needs.  Numbers of removed snapshots are never reused.\n\n"
	"  --keep K               how many of the newest snapshots stay (at least 1)\n"
	"  --dry-run              only say how many would go\n";

int cmd_snapshot_prune(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		SNAPSHOT_LONGOPTS,
		{ "keep", required_argument, NULL, OPT_KEEP },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		CLI_COMMON_LONGOPTS
	};
	struct snap_args a;
	jc_snapshots *s;
	jc_snapshot_prune_result r;
	jc_error err;
	int rc;
	char usage[4096];
	snprintf(usage, sizeof(usage), "%s%s", prune_usage, common_help);
	cli->usage = usage;
	if ((rc = parse(cli, argc, argv, longopts, &a, 0, 0)) >= 0)
		return rc;
	if (a.keep < 0)
		return cli_usage_error(cli, "--keep is required (how many of the newest snapshots stay)");
	if ((rc = open_snapshots(cli, &a, &s)) != 0)
		return rc;
	rc = jc_snapshot_prune(&r, s, a.keep, a.dry_run, &err);
	if (rc < 0) {
		rc = cli_fail(cli, &err);
	} else if (cli->json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "dry_run", json_object_new_boolean(a.dry_run));
		json_object_object_add(o, "kept", json_object_new_int64(r.kept));
		json_object_object_add(o, "removed", json_object_new_int64(r.removed));
		json_object_object_add(o, "files_removed", json_object_new_int64(r.files_removed));
		json_object_object_add(o, "bytes_removed", json_object_new_int64(r.bytes_removed));
		cli_print_json(cli, o);
	} else {
		cli_printf(cli, "%s%ld snapshot%s removed, %ld kept; %ld pool file%s (%.1f MB) removed\n",
			   a.dry_run ? "(dry run) " : "", r.removed, r.removed == 1 ? "" : "s", r.kept,
			   r.files_removed, r.files_removed == 1 ? "" : "s", (double)r.bytes_removed / 1e6);
	}
	jc_snapshot_free(s);
	return rc;
}

/* ---- watch */

static const char watch_usage[] =
	"Usage: jcicd snapshot watch [--interval 15m] [--jitter 10%] [--count N] [options]\n\n"
	"Polls now and then every interval (+- jitter at random), until SIGINT or SIGTERM\n"
	"(or N polls).  One watcher per state directory; a failed poll is reported and the\n"
	"watch goes on.  The systemd timer in examples/systemd is the alternative.\n\n"
	"  --interval DURATION    between polls (default snapshots.interval, else 15m)\n"
	"  --jitter PERCENT       spread (default 10%%)\n"
	"  --count N              stop after N polls\n";

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static bool should_stop(void *payload)
{
	(void)payload;
	return stop_requested != 0;
}

static void on_cycle(const jc_snapshot_poll_result *r, const jc_error *err, void *payload)
{
	struct cli *cli = payload;
	char msg[2048];
	if (err) {
		jc_error_format(err, msg, sizeof(msg));
		if (cli->json) {
			json_object *o = json_object_new_object();
			json_object_object_add(o, "error", json_object_new_string(msg));
			puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
			json_object_put(o);
		} else {
			cli_note(cli, "poll failed: %s\n", msg);
		}
	} else if (cli->json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "number", r->number ? json_object_new_int64(r->number) : NULL);
		json_object_object_add(o, "changed", json_object_new_boolean(r->changed));
		json_object_object_add(o, "requests", json_object_new_int64(r->requests));
		json_object_object_add(o, "elapsed_ms", json_object_new_int64(r->elapsed_ms));
		/* one line per poll: a stream of JSON documents */
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	} else {
		poll_text(cli, r);
	}
	fflush(stdout);
}

int cmd_snapshot_watch(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		SNAPSHOT_LONGOPTS,
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		{ "jitter", required_argument, NULL, OPT_JITTER },
		{ "count", required_argument, NULL, OPT_COUNT },
		CLI_COMMON_LONGOPTS
	};
	struct snap_args a;
	jc_snapshots *s;
	jc_snapshot_watch_options wo = JC_SNAPSHOT_WATCH_OPTIONS_INIT;
	struct sigaction sa;
	jc_error err;
	int rc;
	char usage[4096];
	snprintf(usage, sizeof(usage), "%s%s", watch_usage, common_help);
	cli->usage = usage;
	if ((rc = parse(cli, argc, argv, longopts, &a, 0, 0)) >= 0)
		return rc;
	if ((rc = open_snapshots(cli, &a, &s)) != 0)
		return rc;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	wo.max_cycles = a.count;
	wo.stop = should_stop;
	wo.on_cycle = on_cycle;
	wo.payload = cli;
	rc = jc_snapshot_watch(s, &wo, &err);
	if (rc < 0)
		rc = cli_fail(cli, &err);
	jc_snapshot_free(s);
	return rc;
}

/* ---- apt-source */

static const char apt_usage[] =
	"Usage: jcicd snapshot apt-source N|POINTER [--base-url URL] [--signed-by FILE] [options]\n\n"
	"The sources.list line that pins snapshot N (or follows POINTER), for a node's apt.\n"
	"A number is written as it is; a pointer name stays a pointer (it follows promotions).\n\n"
	"  --signed-by FILE       the keyring clients verify with (default: [trusted=yes])\n";

int cmd_snapshot_apt_source(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		SNAPSHOT_LONGOPTS,
		{ "signed-by", required_argument, NULL, OPT_SIGNED_BY },
		CLI_COMMON_LONGOPTS
	};
	struct snap_args a;
	jc_snapshots *s;
	jc_snapshot_info *x = NULL;
	jc_error err;
	char *url = NULL, *line = NULL;
	const char *base;
	long n;
	bool is_pointer;
	int rc;
	char usage[4096];
	snprintf(usage, sizeof(usage), "%s%s", apt_usage, common_help);
	cli->usage = usage;
	if ((rc = parse(cli, argc, argv, longopts, &a, 1, 1)) >= 0)
		return rc;
	base = base_url_of(cli, &a);
	if (!base)
		return cli_usage_error(cli, "no base URL: set snapshots.base_url or pass --base-url");
	if ((rc = open_snapshots(cli, &a, &s)) != 0)
		return rc;
	is_pointer = !(a.pos[0][0] >= '0' && a.pos[0][0] <= '9');
	rc = jc_snapshot_resolve(&n, s, a.pos[0], &err);
	if (rc == 0)
		rc = jc_snapshot_show(&x, s, n, &err);
	if (rc == 0)
		rc = is_pointer ? jc_snapshot_pointer_url(&url, base, a.pos[0], &err) : jc_snapshot_url(&url, base, n, &err);
	if (rc == 0) {
		const char **comps = calloc(x->n_indices + 1, sizeof(*comps));
		size_t nc = 0;
		for (size_t i = 0; i < x->n_indices; i++) {
			bool seen = false;
			for (size_t k = 0; k < nc; k++)
				seen = seen || strcmp(comps[k], x->indices[i].component) == 0;
			if (!seen)
				comps[nc++] = x->indices[i].component;
		}
		rc = jc_snapshot_apt_line(&line, url, x->suite, comps, nc, a.signed_by, &err);
		free(comps);
	}
	if (rc < 0) {
		rc = cli_fail(cli, &err);
	} else if (cli->json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "number", json_object_new_int64(n));
		json_object_object_add(o, "url", jstr(url));
		json_object_object_add(o, "apt_source", jstr(line));
		cli_print_json(cli, o);
	} else {
		cli_printf(cli, "%s\n", line);
	}
	free(url);
	free(line);
	jc_snapshot_info_free(x, x ? 1 : 0);
	jc_snapshot_free(s);
	return rc;
}
