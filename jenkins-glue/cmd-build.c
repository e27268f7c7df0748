/* cmd-build.c - jcicd build poll|status|run|publish|watch: the package
 * build server. */
#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

enum {
	OPT_SOURCES = OPT_FIRST_COMMAND, OPT_REPO, OPT_JOBS, OPT_TIMEOUT, OPT_INSTALL_DEPS, OPT_WAIT,
	OPT_INTERVAL, OPT_JITTER, OPT_COUNT
};

#define BUILD_LONGOPTS \
	{ "sources", required_argument, NULL, OPT_SOURCES }, \
	{ "repo", required_argument, NULL, OPT_REPO }, \
	{ "jobs", required_argument, NULL, OPT_JOBS }, \
	{ "timeout", required_argument, NULL, OPT_TIMEOUT }, \
	{ "install-build-deps", no_argument, NULL, OPT_INSTALL_DEPS }, \
	{ "wait", required_argument, NULL, OPT_WAIT }

static const char common_help[] =
	"\nBuild options (override the build section of jcicd.yaml):\n"
	"  --sources FILE         the sources list from this sources.yaml\n"
	"  --repo DIR             the build repository (build.repository.path)\n"
	"  --jobs N               builds at once (build.max_parallel, default 2)\n"
	"  --timeout DURATION     deadline of each build (build.timeout, default 1h)\n"
	"  --install-build-deps   install missing build dependencies with apt-get (root)\n"
	"  --wait DURATION        wait this long for another build writer (default: fail at once)\n";

struct build_args {
	const char *sources, *repo;
	long jobs;
	long long timeout_ms, wait_ms, interval_ms;
	bool install_deps, have_interval;
	int jitter;
	long count;
	const char **pos;
	int n_pos;
};

static bool parse_number(const char *s, long *out)
{
	char *end;
	long v;
	if (!s || !*s || !(*s >= '0' && *s <= '9'))
		return false;
	v = strtol(s, &end, 10);
	if (*end || v < 0)
		return false;
	*out = v;
	return true;
}

static int duration(struct cli *cli, const char *opt, const char *text, long long min_ms, long long *out)
{
	jc_error err;
	if (jc_config_parse_duration(text, opt, out, &err) < 0 || *out < min_ms)
		return cli_usage_error(cli, "%s takes a duration of at least %llds (90s, 5m, 1h), not '%s'", opt,
				       min_ms / 1000, text);
	return -1;
}

/* Options and positionals; returns -1 to go on, else an exit status. */
static int parse(struct cli *cli, int argc, char **argv, const struct option *longopts, struct build_args *a,
		 int max_pos)
{
	int c, rc;
	long n;
	memset(a, 0, sizeof(*a));
	optind = 1;
	while ((c = cli_getopt(cli, argc, argv, longopts)) != -1) {
		switch (c) {
		case 'h': return EXIT_OK;
		case '?': return EXIT_USAGE;
		case OPT_SOURCES: a->sources = optarg; break;
		case OPT_REPO: a->repo = optarg; break;
		case OPT_INSTALL_DEPS: a->install_deps = true; break;
		case OPT_JOBS:
			if (!parse_number(optarg, &n) || n < 1 || n > 64)
				return cli_usage_error(cli, "--jobs takes a number from 1 to 64, not '%s'", optarg);
			a->jobs = n;
			break;
		case OPT_TIMEOUT:
			if ((rc = duration(cli, "--timeout", optarg, 1000, &a->timeout_ms)) >= 0)
				return rc;
			break;
		case OPT_WAIT:
			if ((rc = duration(cli, "--wait", optarg, 0, &a->wait_ms)) >= 0)
				return rc;
			break;
		case OPT_INTERVAL:
			if ((rc = duration(cli, "--interval", optarg, 1000, &a->interval_ms)) >= 0)
				return rc;
			a->have_interval = true;
			break;
		case OPT_COUNT:
			if (!parse_number(optarg, &n) || n < 1)
				return cli_usage_error(cli, "--count takes a positive number of polls, not '%s'", optarg);
			a->count = n;
			break;
		case OPT_JITTER: {
			char buf[32];
			snprintf(buf, sizeof(buf), "%s", optarg);
			if (*buf && buf[strlen(buf) - 1] == '%')
				buf[strlen(buf) - 1] = '\0';
			if (!parse_number(buf, &n) || n > 50)
				return cli_usage_error(cli, "--jitter takes a percentage from 0 to 50, not '%s'", optarg);
			a->jitter = n == 0 ? -1 : (int)n;
			break;
		}
		default:
			return EXIT_USAGE;
		}
	}
	a->pos = (const char **)argv + optind;
	a->n_pos = argc - optind;
	if (a->n_pos > max_pos)
		return cli_usage_error(cli, "unexpected argument '%s'", argv[optind + max_pos]);
	c = cli_setup(cli);
	return c ? c : -1;
}

/* Opens the build state with the configuration and the flags.  A verb that
 * builds (writing) needs sources and a repository: without them it is bad
 * input, refused before the state directory is created. */
static int open_builds(struct cli *cli, struct build_args *a, bool writing, jc_builds **out)
{
	jc_build_config *bc = NULL;
	jc_build_options o;
	jc_error err;
	int rc;

	*out = NULL;
	if (jc_build_config_load(&bc, cli->config, &err) < 0 ||
	    (a->sources && jc_build_config_load_sources(bc, a->sources, &err) < 0)) {
		jc_build_config_free(bc);
		return cli_fail(cli, &err);
	}
	o = *jc_build_config_options(bc);
	o.state_dir = cli->state_dir;
	o.logger = &cli->logger;
	if (a->repo)
		o.repo_dir = a->repo;
	if (a->jobs)
		o.max_parallel = (int)a->jobs;
	if (a->timeout_ms)
		o.timeout_ms = a->timeout_ms;
	if (a->install_deps)
		o.install_build_deps = true;
	if (a->wait_ms)
		o.lock_timeout_ms = a->wait_ms;
	if (a->have_interval)
		o.interval_ms = a->interval_ms;
	if (a->jitter)
		o.jitter_percent = a->jitter;
	if (writing && !o.repo_dir) {
		jc_build_config_free(bc);
		return cli_usage_error(cli, "no build repository: set build.repository.path in jcicd.yaml (or pass --repo)");
	}
	if (writing && o.n_entries == 0) {
		jc_build_config_free(bc);
		return cli_usage_error(cli, "no build sources: add build.sources to jcicd.yaml (or pass --sources)");
	}
	rc = jc_build_open(out, &o, &err);
	jc_build_config_free(bc);
	if (rc < 0)
		return cli_fail(cli, &err);
	return 0;
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

static const char *short_ref(const char *ref, char *buf, size_t size)
{
	/* "sha" or "sha+sha": 7 digits of each; APT entries'
	 * "version@sha256#key": the version and 7 digits */
	const char *plus, *at;
	if (!ref)
		return "-";
	plus = strchr(ref, '+');
	at = strchr(ref, '@');
	if (at && strlen(at + 1) >= 64)
		snprintf(buf, size, "%.*s@%.7s", (int)(at - ref), ref, at + 1);
	else if (plus && plus - ref >= 40)
		snprintf(buf, size, "%.7s+%.7s", ref, plus + 1);
	else if (strlen(ref) >= 40)
		snprintf(buf, size, "%.7s", ref);
	else
		snprintf(buf, size, "%s", ref);
	return buf;
}

static json_object *status_json(const jc_build_entry_status *st, bool with_result)
{
	static const char *const results[] = { "unchanged", "ok", "failed", "unreachable", "skipped" };
	json_object *o = json_object_new_object(), *pk = json_object_new_array();
	char buf[32];
	json_object_object_add(o, "name", cli_json_str(st->name));
	json_object_object_add(o, "kind", cli_json_str(st->kind));
	json_object_object_add(o, "location", cli_json_str(st->location));
	json_object_object_add(o, "last_commit_seen", cli_json_str(st->seen));
	json_object_object_add(o, "seen_at", st->seen_at ? json_object_new_string(utc(st->seen_at, buf, sizeof(buf))) : NULL);
	json_object_object_add(o, "last_built_commit", cli_json_str(st->built));
	json_object_object_add(o, "last_built_version", cli_json_str(st->built_version));
	json_object_object_add(o, "last_version", cli_json_str(st->last_version));
	json_object_object_add(o, "last_result", cli_json_str(st->last_result));
	json_object_object_add(o, "last_error", cli_json_str(st->last_error));
	json_object_object_add(o, "log", cli_json_str(st->log));
	json_object_object_add(o, "last_finished",
			       st->last_finished ? json_object_new_string(utc(st->last_finished, buf, sizeof(buf))) : NULL);
	json_object_object_add(o, "builds", json_object_new_int64(st->builds));
	for (size_t i = 0; i < st->n_packages; i++)
		json_object_array_add(pk, json_object_new_string(st->packages[i]));
	json_object_object_add(o, "packages", pk);
	if (with_result) {
		json_object_object_add(o, "result", json_object_new_string(results[st->result]));
		json_object_object_add(o, "elapsed_ms", json_object_new_int64(st->elapsed_ms));
	}
	return o;
}

static void result_line(struct cli *cli, const jc_build_entry_status *st)
{
	char b1[40];
	switch (st->result) {
	case JC_BUILD_OK:
		cli_printf(cli, "%s: built %s from %s (%.1f s)\n", st->name, st->last_version,
			   short_ref(st->built, b1, sizeof(b1)), (double)st->elapsed_ms / 1000.0);
		break;
	case JC_BUILD_FAILED:
		cli_printf(cli, "%s: FAILED: %s\n  log: %s\n", st->name, st->last_error ? st->last_error : "?",
			   st->log ? st->log : "-");
		break;
	case JC_BUILD_UNREACHABLE:
		cli_printf(cli, "%s: UNREACHABLE: %s\n", st->name, st->last_error ? st->last_error : "?");
		break;
	case JC_BUILD_SKIPPED:
		cli_printf(cli, "%s: skipped: %s\n", st->name, st->last_error ? st->last_error : "");
		break;
	default:
		cli_printf(cli, "%s: unchanged at %s (%s %s)\n", st->name, short_ref(st->seen, b1, sizeof(b1)),
			   st->last_result ? st->last_result : "never built",
			   st->built_version ? st->built_version : "");
		break;
	}
}

/* Prints a poll or run and returns the exit status. */
static int report(struct cli *cli, int rc, const jc_build_poll_result *r, const jc_error *err)
{
	if (rc < 0 && r->n_entries == 0)
		return cli_fail(cli, err);
	if (cli->json) {
		json_object *o = json_object_new_object(), *arr = json_object_new_array();
		for (size_t i = 0; i < r->n_entries; i++)
			json_object_array_add(arr, status_json(&r->entries[i], true));
		json_object_object_add(o, "entries", arr);
		json_object_object_add(o, "checked", json_object_new_int64(r->checked));
		json_object_object_add(o, "changed", json_object_new_int64(r->changed));
		json_object_object_add(o, "built", json_object_new_int64(r->built));
		json_object_object_add(o, "failed", json_object_new_int64(r->failed));
		json_object_object_add(o, "unreachable", json_object_new_int64(r->unreachable));
		json_object_object_add(o, "published", json_object_new_boolean(r->published));
		json_object_object_add(o, "elapsed_ms", json_object_new_int64(r->elapsed_ms));
		if (rc < 0) {
			char msg[2048];
			json_object_object_add(o, "error", json_object_new_string(jc_error_format(err, msg, sizeof(msg))));
		}
		cli_print_json(cli, o);
	} else {
		for (size_t i = 0; i < r->n_entries; i++)
			result_line(cli, &r->entries[i]);
		cli_printf(cli, "%ld source%s checked, %ld changed, %ld built, %ld failed, %ld unreachable%s (%.1f s)\n",
			   r->checked, r->checked == 1 ? "" : "s", r->changed, r->built, r->failed, r->unreachable,
			   r->published ? "; repository published" : "", (double)r->elapsed_ms / 1000.0);
		if (rc < 0) {
			char msg[2048];
			cli_progress_end(cli);
			fprintf(stderr, "%s %s: %s\n", cli->prog, cli->command, jc_error_format(err, msg, sizeof(msg)));
		}
	}
	return rc < 0 ? jc_error_exit_status(rc) : EXIT_OK;
}

/* ---- poll, run */

static const char poll_usage[] =
	"Usage: jcicd build poll [options]\n\n"
	"Asks every build source whether it changed: git entries with one `git ls-remote`\n"
	"(nothing is fetched while the branch does not move); APT entries (apt: with source:\n"
	"or binary:) with a conditional request for the Release, then the newest version of\n"
	"the package in Packages or Sources that matches the entry's pin.\n"
	"Each changed git entry is built in a clean directory from the tree at that commit,\n"
	"an APT source package from its verified .dsc (version <version>+jcicd<build>)\n"
	"(dpkg-buildpackage -us -uc -b, after a build-dependency check), in parallel up to\n"
	"--jobs; an APT binary package is downloaded, checked against its SHA256 and size and\n"
	"carried over as it is.  What succeeded is published into the build repository.\n"
	"A failed build publishes nothing and is not retried until the source moves again\n"
	"(or `jcicd build run`).  Exit 0 all well, 1 a build failed, 2 bad configuration,\n"
	"3 a source could not be reached; the others are built all the same.\n";

int cmd_build_poll(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = { BUILD_LONGOPTS, CLI_COMMON_LONGOPTS };
	struct build_args a;
	jc_builds *b;
	jc_build_poll_result r;
	jc_error err;
	int rc;
	char usage[4096];
	snprintf(usage, sizeof(usage), "%s%s", poll_usage, common_help);
	cli->usage = usage;
	if ((rc = parse(cli, argc, argv, longopts, &a, 0)) >= 0)
		return rc;
	if ((rc = open_builds(cli, &a, true, &b)) != 0)
		return rc;
	jc_error_clear(&err);
	rc = jc_build_poll(&r, b, &err);
	rc = report(cli, rc, &r, &err);
	jc_build_poll_result_clear(&r);
	jc_build_free(b);
	return rc;
}

static const char run_usage[] =
	"Usage: jcicd build run [ENTRY...] [options]\n\n"
	"Builds the named sources (every one without names) now, changed or not, each with a\n"
	"new build number and so a new version, and publishes what succeeded.\n";

int cmd_build_run(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = { BUILD_LONGOPTS, CLI_COMMON_LONGOPTS };
	struct build_args a;
	jc_builds *b;
	jc_build_poll_result r;
	jc_error err;
	int rc;
	char usage[4096];
	snprintf(usage, sizeof(usage), "%s%s", run_usage, common_help);
	cli->usage = usage;
	if ((rc = parse(cli, argc, argv, longopts, &a, 1000)) >= 0)
		return rc;
	if ((rc = open_builds(cli, &a, true, &b)) != 0)
		return rc;
	jc_error_clear(&err);
	rc = jc_build_run(&r, b, a.pos, (size_t)a.n_pos, &err);
	rc = report(cli, rc, &r, &err);
	jc_build_poll_result_clear(&r);
	jc_build_free(b);
	return rc;
}

/* ---- status */

static const char status_usage[] =
	"Usage: jcicd build status [--json] [options]\n\n"
	"Per build source: the last commit seen, the last built commit and version, the last\n"
	"result and its log, and the packages it has in the build repository.\n";

int cmd_build_status(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = { BUILD_LONGOPTS, CLI_COMMON_LONGOPTS };
	struct build_args a;
	jc_builds *b;
	jc_build_entry_status *st = NULL;
	size_t n = 0;
	jc_error err;
	int rc;
	char usage[4096];
	snprintf(usage, sizeof(usage), "%s%s", status_usage, common_help);
	cli->usage = usage;
	if ((rc = parse(cli, argc, argv, longopts, &a, 0)) >= 0)
		return rc;
	if ((rc = open_builds(cli, &a, false, &b)) != 0)
		return rc;
	if (jc_build_status(&st, &n, b, &err) < 0) {
		rc = cli_fail(cli, &err);
	} else if (cli->json) {
		json_object *o = json_object_new_object(), *arr = json_object_new_array();
		for (size_t i = 0; i < n; i++)
			json_object_array_add(arr, status_json(&st[i], false));
		json_object_object_add(o, "entries", arr);
		cli_print_json(cli, o);
	} else {
		char b1[40], b2[40], t[32];
		if (n == 0)
			cli_printf(cli, "no build sources (add build.sources to jcicd.yaml)\n");
		for (size_t i = 0; i < n; i++) {
			cli_printf(cli, "%s (%s %s)\n", st[i].name, st[i].kind ? st[i].kind : "no longer configured",
				   st[i].location ? st[i].location : "");
			cli_printf(cli, "  seen      %s at %s\n", short_ref(st[i].seen, b1, sizeof(b1)),
				   utc(st[i].seen_at, t, sizeof(t)));
			cli_printf(cli, "  built     %s as %s\n", short_ref(st[i].built, b2, sizeof(b2)),
				   st[i].built_version ? st[i].built_version : "-");
			cli_printf(cli, "  last      %s %s at %s (build %ld)\n", st[i].last_result ? st[i].last_result : "never",
				   st[i].last_version ? st[i].last_version : "", utc(st[i].last_finished, t, sizeof(t)),
				   st[i].builds);
			if (st[i].last_error && st[i].last_result && strcmp(st[i].last_result, "ok") != 0)
				cli_printf(cli, "  error     %s\n", st[i].last_error);
			if (st[i].log)
				cli_printf(cli, "  log       %s\n", st[i].log);
			for (size_t k = 0; k < st[i].n_packages; k++)
				cli_printf(cli, "  package   %s\n", st[i].packages[k]);
		}
	}
	jc_build_entry_status_free(st, n);
	jc_build_free(b);
	return rc;
}

/* ---- publish */

static const char publish_usage[] =
	"Usage: jcicd build publish [options]\n\n"
	"Rewrites the build repository's indices (Packages, Release, signatures) from the\n"
	"builds recorded in the state directory: after moving the repository or changing\n"
	"its signing key.\n";

int cmd_build_publish(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = { BUILD_LONGOPTS, CLI_COMMON_LONGOPTS };
	struct build_args a;
	jc_builds *b;
	jc_error err;
	int rc;
	char usage[4096];
	snprintf(usage, sizeof(usage), "%s%s", publish_usage, common_help);
	cli->usage = usage;
	if ((rc = parse(cli, argc, argv, longopts, &a, 0)) >= 0)
		return rc;
	if ((rc = open_builds(cli, &a, false, &b)) != 0)
		return rc;
	if (jc_build_publish(b, &err) < 0) {
		rc = cli_fail(cli, &err);
	} else if (cli->json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "published", json_object_new_boolean(true));
		cli_print_json(cli, o);
	} else {
		cli_printf(cli, "build repository published\n");
	}
	jc_build_free(b);
	return rc;
}

/* ---- watch */

static const char watch_usage[] =
	"Usage: jcicd build watch [--interval 5m] [--jitter 10%] [--count N] [options]\n\n"
	"Polls now and then every interval (+- jitter at random), until SIGINT or SIGTERM\n"
	"(or N polls).  One watcher per state directory; a failed poll is reported and the\n"
	"watch goes on; a bad configuration stops it (exit 2).\n\n"
	"  --interval DURATION    between polls (default build.interval, else 5m)\n"
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

static void on_cycle(const jc_build_poll_result *r, const jc_error *err, void *payload)
{
	struct cli *cli = payload;
	if (cli->json) {
		json_object *o = json_object_new_object();
		char msg[2048];
		json_object_object_add(o, "checked", json_object_new_int64(r->checked));
		json_object_object_add(o, "changed", json_object_new_int64(r->changed));
		json_object_object_add(o, "built", json_object_new_int64(r->built));
		json_object_object_add(o, "failed", json_object_new_int64(r->failed));
		json_object_object_add(o, "unreachable", json_object_new_int64(r->unreachable));
		if (err)
			json_object_object_add(o, "error", json_object_new_string(jc_error_format(err, msg, sizeof(msg))));
		/* one line per poll: a stream of JSON documents */
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	} else {
		for (size_t i = 0; i < r->n_entries; i++)
			if (r->entries[i].result != JC_BUILD_NONE)
				result_line(cli, &r->entries[i]);
		cli_printf(cli, "poll: %ld checked, %ld changed, %ld built, %ld failed, %ld unreachable\n", r->checked,
			   r->changed, r->built, r->failed, r->unreachable);
		if (err && r->n_entries == 0) {
			char msg[2048];
			cli_note(cli, "poll failed: %s\n", jc_error_format(err, msg, sizeof(msg)));
		}
	}
	fflush(stdout);
}

int cmd_build_watch(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		BUILD_LONGOPTS,
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		{ "jitter", required_argument, NULL, OPT_JITTER },
		{ "count", required_argument, NULL, OPT_COUNT },
		CLI_COMMON_LONGOPTS
	};
	struct build_args a;
	jc_builds *b;
	jc_build_watch_options wo = JC_BUILD_WATCH_OPTIONS_INIT;
	struct sigaction sa;
	jc_error err;
	int rc;
	char usage[4096];
	snprintf(usage, sizeof(usage), "%s%s", watch_usage, common_help);
	cli->usage = usage;
	if ((rc = parse(cli, argc, argv, longopts, &a, 0)) >= 0)
		return rc;
	if ((rc = open_builds(cli, &a, true, &b)) != 0)
		return rc;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	wo.max_cycles = a.count;
	wo.stop = should_stop;
	wo.on_cycle = on_cycle;
	wo.payload = cli;
	rc = jc_build_watch(b, &wo, &err);
	if (rc < 0)
		rc = cli_fail(cli, &err);
	jc_build_free(b);
	return rc;
}
