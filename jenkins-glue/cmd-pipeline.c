/* cmd-pipeline.c - the pipeline's verbs: history, report, approve. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { OPT_SNAPSHOT = OPT_FIRST_COMMAND, OPT_RUN, OPT_OUT, OPT_WHO, OPT_WHY, OPT_STAGE, OPT_TITLE };

static const struct option pipeline_longopts[] = {
	{ "snapshot", required_argument, NULL, OPT_SNAPSHOT },
	{ "run", required_argument, NULL, OPT_RUN },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "who", required_argument, NULL, OPT_WHO },
	{ "why", required_argument, NULL, OPT_WHY },
	{ "stage", required_argument, NULL, OPT_STAGE },
	{ "title", required_argument, NULL, OPT_TITLE },
	CLI_COMMON_LONGOPTS
};

struct pipeline_args {
	long snapshot;
	long run;
	const char *out;
	const char *who;
	const char *why;
	const char *stage;
	const char *title;
};

static int parse_number(struct cli *cli, const char *opt, const char *s, long *out)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (!*s || *end || v <= 0)
		return cli_usage_error(cli, "%s takes a positive number, not '%s'", opt, s);
	*out = v;
	return 0;
}

static int parse_pipeline_args(struct cli *cli, int argc, char **argv, struct pipeline_args *a)
{
	int c;
	memset(a, 0, sizeof(*a));
	optind = 1;
	while ((c = cli_getopt(cli, argc, argv, pipeline_longopts)) != -1) {
		switch (c) {
		case 'h': return EXIT_OK;
		case '?': return EXIT_USAGE;
		case OPT_SNAPSHOT:
			if (parse_number(cli, "--snapshot", optarg, &a->snapshot))
				return EXIT_USAGE;
			break;
		case OPT_RUN:
			if (parse_number(cli, "--run", optarg, &a->run))
				return EXIT_USAGE;
			break;
		case OPT_OUT: a->out = optarg; break;
		case OPT_WHO: a->who = optarg; break;
		case OPT_WHY: a->why = optarg; break;
		case OPT_STAGE: a->stage = optarg; break;
		case OPT_TITLE: a->title = optarg; break;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	c = cli_setup(cli);
	return c ? c : -1;
}

static int open_store(struct cli *cli, jc_store **store)
{
	jc_error err;
	jc_store_options so = JC_STORE_OPTIONS_INIT;
	so.logger = &cli->logger;
	if (jc_store_open(store, cli->state_dir, &so, &err) < 0)
		return cli_fail(cli, &err);
	return 0;
}

static const char history_usage[] =
	"Usage: jcicd history (--snapshot N | --run ID)\n\n"
	"Every stage a snapshot (or one pipeline run) went through: verdict, duration, stack,\n"
	"tests passed, and why it failed.\n";

int cmd_history(struct cli *cli, int argc, char **argv)
{
	struct pipeline_args a;
	jc_store *store = NULL;
	jc_stage_records *rs = NULL;
	jc_error err;
	int rc;

	cli->usage = history_usage;
	if ((rc = parse_pipeline_args(cli, argc, argv, &a)) >= 0)
		return rc;
	if (!a.snapshot && !a.run)
		return cli_usage_error(cli, "which snapshot (--snapshot N) or run (--run ID)?");
	if ((rc = open_store(cli, &store)) != 0)
		return rc;
	if (jc_pipeline_history(&rs, store, a.snapshot, a.run, &err) < 0) {
		rc = cli_fail(cli, &err);
	} else if (cli->json) {
		json_object *arr = json_object_new_array();
		for (size_t i = 0; i < rs->n; i++) {
			const jc_stage_record *r = &rs->v[i];
			json_object *o = json_object_new_object(), *tests = json_object_new_array();
			json_object_object_add(o, "id", json_object_new_int64(r->id));
			json_object_object_add(o, "run", json_object_new_int64(r->run_id));
			json_object_object_add(o, "stage", json_object_new_string(r->stage));
			json_object_object_add(o, "snapshot", json_object_new_int64(r->snapshot));
			json_object_object_add(o, "from_snapshot", json_object_new_int64(r->from_snapshot));
			json_object_object_add(o, "tag", cli_json_str(r->tag));
			json_object_object_add(o, "verdict", json_object_new_string(jc_verdict_name(r->verdict)));
			json_object_object_add(o, "message", cli_json_str(r->message));
			json_object_object_add(o, "started_ms", json_object_new_int64(r->started_ms));
			json_object_object_add(o, "finished_ms", json_object_new_int64(r->finished_ms));
			json_object_object_add(o, "junit", cli_json_str(r->junit_path));
			json_object_object_add(o, "log", cli_json_str(r->log_path));
			for (size_t j = 0; j < r->n_tests; j++) {
				json_object *t = json_object_new_object();
				json_object_object_add(t, "name", json_object_new_string(r->tests[j].name));
				json_object_object_add(t, "verdict", json_object_new_string(jc_verdict_name(r->tests[j].verdict)));
				json_object_object_add(t, "duration_ms", json_object_new_int64(r->tests[j].duration_ms));
				json_object_array_add(tests, t);
			}
			json_object_object_add(o, "tests", tests);
			json_object_array_add(arr, o);
		}
		json_object *top = json_object_new_object();
		json_object_object_add(top, "stages", arr);
		cli_print_json(cli, top);
	} else {
		if (!rs->n)
			cli_printf(cli, "no stage has run for %s %ld\n", a.run ? "run" : "snapshot", a.run ? a.run : a.snapshot);
		for (size_t i = 0; i < rs->n; i++) {
			const jc_stage_record *r = &rs->v[i];
			size_t passed = 0;
			for (size_t j = 0; j < r->n_tests; j++)
				passed += r->tests[j].verdict == JC_VERDICT_PASSED;
			cli_printf(cli, "%-14s snapshot %-4ld %-8s %6.1f s  tests %zu/%zu  %s%s%s\n", r->stage, r->snapshot,
				   jc_verdict_name(r->verdict),
				   (double)(r->finished_ms > r->started_ms ? r->finished_ms - r->started_ms : 0) / 1000.0,
				   passed, r->n_tests, r->tag ? r->tag : "", r->message ? "  " : "", r->message ? r->message : "");
		}
	}
	jc_stage_records_free(rs);
	jc_store_free(store);
	return rc;
}

static const char report_usage[] =
	"Usage: jcicd report (--snapshot N | --run ID) --out FILE.html [--title TEXT]\n\n"
	"Writes a static HTML report: the stages with verdicts and durations, failed tests with\n"
	"their output, measurements against their baselines as a chart, and the package changes\n"
	"of the snapshot against the one before it.\n";

int cmd_report(struct cli *cli, int argc, char **argv)
{
	struct pipeline_args a;
	jc_store *store = NULL;
	jc_stage_records *rs = NULL;
	jc_report_options ro = JC_REPORT_OPTIONS_INIT;
	jc_error err;
	int rc;

	cli->usage = report_usage;
	if ((rc = parse_pipeline_args(cli, argc, argv, &a)) >= 0)
		return rc;
	if (!a.snapshot && !a.run)
		return cli_usage_error(cli, "which snapshot (--snapshot N) or run (--run ID)?");
	if (!a.out)
		return cli_usage_error(cli, "where to write it? (--out FILE.html)");
	if ((rc = open_store(cli, &store)) != 0)
		return rc;
	if (jc_pipeline_history(&rs, store, a.snapshot, a.run, &err) < 0) {
		rc = cli_fail(cli, &err);
		goto out;
	}
	ro.title = a.title;
	ro.snapshot = a.snapshot ? a.snapshot : rs->n ? rs->v[0].snapshot : 0;
	if (jc_report_write(rs, &ro, a.out, &err) < 0) {
		rc = cli_fail(cli, &err);
		goto out;
	}
	if (cli->json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "report", json_object_new_string(a.out));
		json_object_object_add(o, "stages", json_object_new_int64((int64_t)rs->n));
		cli_print_json(cli, o);
	} else {
		cli_printf(cli, "wrote %s (%zu stage%s)\n", a.out, rs->n, rs->n == 1 ? "" : "s");
	}
out:
	jc_stage_records_free(rs);
	jc_store_free(store);
	return rc;
}

static const char approve_usage[] =
	"Usage: jcicd approve --snapshot N --stage STAGE --who NAME [--why TEXT]\n\n"
	"Records that NAME approves snapshot N for a stage that requires an approval\n"
	"(production).  The stage still refuses a snapshot that has not passed the stages before it.\n";

int cmd_approve(struct cli *cli, int argc, char **argv)
{
	struct pipeline_args a;
	jc_store *store = NULL;
	jc_error err;
	int rc;

	cli->usage = approve_usage;
	if ((rc = parse_pipeline_args(cli, argc, argv, &a)) >= 0)
		return rc;
	if (!a.snapshot || !a.stage || !a.who)
		return cli_usage_error(cli, "--snapshot, --stage and --who are required");
	if ((rc = open_store(cli, &store)) != 0)
		return rc;
	if (jc_pipeline_approve(store, a.snapshot, a.stage, a.who, a.why, &err) < 0)
		rc = cli_fail(cli, &err);
	else
		cli_printf(cli, "snapshot %ld approved for %s by %s\n", a.snapshot, a.stage, a.who);
	jc_store_free(store);
	return rc;
}
