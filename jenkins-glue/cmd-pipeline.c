/* cmd-pipeline.c - the pipeline's verbs: history, report, approve. */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

enum {
	OPT_SNAPSHOT = OPT_FIRST_COMMAND, OPT_RUN, OPT_OUT, OPT_WHO, OPT_WHY, OPT_STAGE, OPT_TITLE,
	OPT_PIPELINE, OPT_JUNIT, OPT_KEEP, OPT_APPROVED_BY, OPT_TO, OPT_REPORT, OPT_TAG
};

static const struct option pipeline_longopts[] = {
	{ "snapshot", required_argument, NULL, OPT_SNAPSHOT },
	{ "run", required_argument, NULL, OPT_RUN },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "who", required_argument, NULL, OPT_WHO },
	{ "why", required_argument, NULL, OPT_WHY },
	{ "stage", required_argument, NULL, OPT_STAGE },
	{ "title", required_argument, NULL, OPT_TITLE },
	{ "pipeline", required_argument, NULL, OPT_PIPELINE },
	{ "junit", required_argument, NULL, OPT_JUNIT },
	{ "keep-on-failure", no_argument, NULL, OPT_KEEP },
	{ "approved-by", required_argument, NULL, OPT_APPROVED_BY },
	{ "to", required_argument, NULL, OPT_TO },
	{ "report", required_argument, NULL, OPT_REPORT },
	{ "tag", required_argument, NULL, OPT_TAG },
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
	const char *pipeline;
	const char *junit;
	bool keep_on_failure;
	const char *approved_by;
	const char *to;
	const char *report;
	const char *tag;
	const char *positional;   /* the one positional argument a verb takes, if any */
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
		case OPT_PIPELINE: a->pipeline = optarg; break;
		case OPT_JUNIT: a->junit = optarg; break;
		case OPT_KEEP: a->keep_on_failure = true; break;
		case OPT_APPROVED_BY: a->approved_by = optarg; break;
		case OPT_TO: a->to = optarg; break;
		case OPT_REPORT: a->report = optarg; break;
		case OPT_TAG: a->tag = optarg; break;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc)
		a->positional = argv[optind++];
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
	if (a.positional)
		return cli_usage_error(cli, "unexpected argument '%s'", a.positional);
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

/* The package changes of a snapshot against the one before it, when
 * snapshots are configured (the report works without them). */
#define JC_STRV_INIT_CLI { NULL, 0 }
struct strs {
	char **v;
	size_t n;
};
struct changes {
	jc_report_change *v;
	size_t n;
	struct strs owned;
};

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int add_change(const jc_snapshot_change *c, void *payload)
{
	struct changes *ch = payload;
	jc_report_change *r;
	ch->v = realloc(ch->v, (ch->n + 1) * sizeof(*ch->v));
	ch->owned.v = realloc(ch->owned.v, (ch->owned.n + 3) * sizeof(char *));
	r = &ch->v[ch->n++];
	r->package = ch->owned.v[ch->owned.n++] = strdup(c->name);
	r->old_version = ch->owned.v[ch->owned.n++] = dup_or_null(c->from);
	r->new_version = ch->owned.v[ch->owned.n++] = dup_or_null(c->to);
	return 0;
}

static void changes_free(struct changes *ch)
{
	for (size_t i = 0; i < ch->owned.n; i++)
		free(ch->owned.v[i]);
	free(ch->owned.v);
	free(ch->v);
}

static void report_changes(struct cli *cli, long snapshot, jc_report_options *ro, struct changes *ch)
{
	jc_snapshot_config *scfg = NULL;
	jc_snapshots *snaps = NULL;
	jc_snapshot_options so;
	jc_snapshot_diff_summary sum;
	jc_snapshot_info *list = NULL;
	size_t n = 0;
	long prev = 0;
	jc_error err;

	if (snapshot <= 0 || jc_snapshot_config_load(&scfg, cli->config, &err) < 0)
		goto out;
	so = *jc_snapshot_config_options(scfg);
	so.state_dir = cli->state_dir;
	if (jc_snapshot_open(&snaps, &so, &err) < 0 || jc_snapshot_list(&list, &n, snaps, false, &err) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (list[i].number < snapshot && list[i].number > prev)
			prev = list[i].number;
	if (prev && jc_snapshot_diff(&sum, snaps, prev, snapshot, add_change, ch, &err) == 0) {
		ro->diff_from = prev;
		ro->changes = ch->v;
		ro->n_changes = ch->n;
	}
out:
	jc_snapshot_info_free(list, n);
	jc_snapshot_free(snaps);
	jc_snapshot_config_free(scfg);
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
	if (a.positional)
		return cli_usage_error(cli, "unexpected argument '%s'", a.positional);
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
	struct changes ch = { NULL, 0, JC_STRV_INIT_CLI };
	report_changes(cli, ro.snapshot, &ro, &ch);
	if (jc_report_write(rs, &ro, a.out, &err) < 0) {
		changes_free(&ch);
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
	changes_free(&ch);
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
	if (a.positional)
		return cli_usage_error(cli, "unexpected argument '%s'", a.positional);
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

/* ---- running stages */

static int load_pipeline(struct cli *cli, const struct pipeline_args *a, jc_pipeline **p)
{
	jc_error err;
	if (jc_pipeline_load(p, cli->config, a->pipeline, &err) < 0)
		return cli_fail(cli, &err);
	return 0;
}

static void fill_stage_options(struct cli *cli, const struct pipeline_args *a, jc_stage_options *so)
{
	so->config = cli->config;
	so->state_dir = cli->state_dir;
	so->junit_path = a->junit;
	so->keep_on_failure = a->keep_on_failure;
	so->approved_by = a->approved_by;
	so->approval_reason = a->why;
	so->logger = &cli->logger;
	so->tag = a->tag;
}

/* Nodes of the local cloud run `jcicd agent` from their userdata: let them
 * find this very jcicd. */
static void export_self(struct cli *cli)
{
	char path[4096];
	ssize_t n;
	const char *cfg = jc_config_file(cli->config);
	if (!getenv("JCICD")) {
		n = readlink("/proc/self/exe", path, sizeof(path) - 1);
		if (n > 0) {
			path[n] = '\0';
			setenv("JCICD", path, 1);
		}
	}
	/* and the project file, so a node's agent reads the same kv section */
	if (cfg) {
		char *abs = realpath(cfg, NULL);
		if (abs)
			setenv("JCICD_CONFIG", abs, 1);
		free(abs);
	}
	if (cli->state_dir) {
		char *abs = realpath(cli->state_dir, NULL);
		setenv("JCICD_STATE_DIR", abs ? abs : cli->state_dir, 1);
		free(abs);
	}
}

static const char stage_usage[] =
	"Usage: jcicd stage STAGE --snapshot N [--pipeline FILE] [--junit FILE] [--keep-on-failure]\n"
	"                   [--tag TAG] [--approved-by NAME [--why TEXT]]\n\n"
	"Runs one stage of the pipeline (jcicd.yaml's pipeline section, or --pipeline FILE) for\n"
	"snapshot N, records its verdict, writes its JUnit file, and exits with it: 0 passed (or\n"
	"skipped: an upgrade with nothing to upgrade from), 1 failed.  A stage refuses a snapshot\n"
	"that has not passed the stages before it (exit 2); a stage that requires an approval\n"
	"needs one (`jcicd approve`, or --approved-by).  Fresh stacks are torn down afterwards\n"
	"unless --keep-on-failure and the stage failed; --tag names a fresh stack (default\n"
	"STAGE-N-RECORD), so that a Jenkins job can `jcicd delete --tag` it when aborted.\n"
	"This is what each Jenkins stage job runs.\n";

int cmd_stage(struct cli *cli, int argc, char **argv)
{
	struct pipeline_args a;
	jc_pipeline *p = NULL;
	jc_stage_options so = JC_STAGE_OPTIONS_INIT;
	jc_stage_outcome out;
	jc_error err;
	int rc;

	cli->usage = stage_usage;
	if ((rc = parse_pipeline_args(cli, argc, argv, &a)) >= 0)
		return rc;
	if (!a.positional)
		return cli_usage_error(cli, "which stage? (jcicd stage STAGE --snapshot N)");
	if (!a.snapshot)
		return cli_usage_error(cli, "--snapshot N is required");
	if ((rc = load_pipeline(cli, &a, &p)) != 0)
		return rc;
	export_self(cli);
	fill_stage_options(cli, &a, &so);
	rc = jc_stage_run(&out, p, a.positional, a.snapshot, &so, &err);
	if (cli->json && out.record) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "stage", json_object_new_string(a.positional));
		json_object_object_add(o, "snapshot", json_object_new_int64(a.snapshot));
		json_object_object_add(o, "record", json_object_new_int64(out.record));
		json_object_object_add(o, "verdict", json_object_new_string(jc_verdict_name(out.verdict)));
		json_object_object_add(o, "message", json_object_new_string(out.message));
		json_object_object_add(o, "tag", json_object_new_string(out.tag));
		json_object_object_add(o, "from_snapshot", json_object_new_int64(out.from_snapshot));
		json_object_object_add(o, "junit", json_object_new_string(out.junit_path));
		json_object_object_add(o, "log", json_object_new_string(out.log_path));
		cli_print_json(cli, o);
	}
	if (rc < 0) {
		bool json = cli->json;
		cli->json = cli->json && !out.record;
		rc = cli_fail(cli, &err);
		cli->json = json;
	} else {
		cli_printf(cli, "%s for snapshot %ld: %s%s%s\n", a.positional, a.snapshot, jc_verdict_name(out.verdict),
			   out.message[0] ? " (" : "", out.message[0] ? out.message : "");
		if (out.message[0])
			cli_printf(cli, "%s", ")\n");
		cli_printf(cli, "JUnit: %s\nlog:   %s\n", out.junit_path, out.log_path);
		rc = out.verdict == JC_VERDICT_PASSED || out.verdict == JC_VERDICT_SKIPPED ? EXIT_OK : EXIT_FAILED;
	}
	jc_pipeline_free(p);
	return rc;
}

static const char pipeline_run_usage[] =
	"Usage: jcicd pipeline run --snapshot N [--pipeline FILE] [--approved-by NAME [--why TEXT]]\n"
	"                          [--report FILE.html]\n\n"
	"Runs every stage of the pipeline in order for snapshot N (what Jenkins does job by job),\n"
	"stopping at the first that does not pass, and optionally writes the HTML report of the run.\n"
	"Exit status: 0 every stage passed, 1 a stage failed, 2 bad input or a missing approval.\n";

int cmd_pipeline_run(struct cli *cli, int argc, char **argv)
{
	struct pipeline_args a;
	jc_pipeline *p = NULL;
	jc_stage_options so = JC_STAGE_OPTIONS_INIT;
	jc_verdict verdict;
	long run_id = 0;
	jc_error err;
	int rc;

	cli->usage = pipeline_run_usage;
	if ((rc = parse_pipeline_args(cli, argc, argv, &a)) >= 0)
		return rc;
	if (a.positional)
		return cli_usage_error(cli, "unexpected argument '%s'", a.positional);
	if (!a.snapshot)
		return cli_usage_error(cli, "--snapshot N is required");
	if ((rc = load_pipeline(cli, &a, &p)) != 0)
		return rc;
	export_self(cli);
	fill_stage_options(cli, &a, &so);
	rc = jc_pipeline_run(&run_id, &verdict, p, a.snapshot, &so, &err);
	if (rc < 0)
		rc = cli_fail(cli, &err);
	else
		rc = verdict == JC_VERDICT_PASSED ? EXIT_OK : EXIT_FAILED;
	if (run_id) {
		jc_store *store = NULL;
		jc_stage_records *rs = NULL;
		if (jc_store_open(&store, cli->state_dir, NULL, &err) == 0 &&
		    jc_pipeline_history(&rs, store, 0, run_id, &err) == 0) {
			if (cli->json) {
				json_object *o = json_object_new_object(), *arr = json_object_new_array();
				json_object_object_add(o, "run", json_object_new_int64(run_id));
				json_object_object_add(o, "snapshot", json_object_new_int64(a.snapshot));
				json_object_object_add(o, "verdict", json_object_new_string(rc == EXIT_OK ? "passed" : "failed"));
				for (size_t i = 0; i < rs->n; i++) {
					json_object *st = json_object_new_object();
					json_object_object_add(st, "stage", json_object_new_string(rs->v[i].stage));
					json_object_object_add(st, "verdict", json_object_new_string(jc_verdict_name(rs->v[i].verdict)));
					json_object_object_add(st, "message", cli_json_str(rs->v[i].message));
					json_object_object_add(st, "junit", cli_json_str(rs->v[i].junit_path));
					json_object_array_add(arr, st);
				}
				json_object_object_add(o, "stages", arr);
				cli_print_json(cli, o);
			} else {
				cli_printf(cli, "pipeline run %ld, snapshot %ld:\n", run_id, a.snapshot);
				for (size_t i = 0; i < rs->n; i++)
					cli_printf(cli, "  %-14s %-8s %6.1f s  %s\n", rs->v[i].stage, jc_verdict_name(rs->v[i].verdict),
						   (double)(rs->v[i].finished_ms - rs->v[i].started_ms) / 1000.0,
						   rs->v[i].message ? rs->v[i].message : "");
			}
			if (a.report) {
				jc_report_options ro = JC_REPORT_OPTIONS_INIT;
				struct changes ch = { NULL, 0, JC_STRV_INIT_CLI };
				ro.snapshot = a.snapshot;
				report_changes(cli, a.snapshot, &ro, &ch);
				if (jc_report_write(rs, &ro, a.report, &err) < 0)
					cli_fail(cli, &err);
				else
					cli_note(cli, "report: %s\n", a.report);
				changes_free(&ch);
			}
		}
		jc_stage_records_free(rs);
		jc_store_free(store);
	}
	jc_pipeline_free(p);
	return rc;
}

static const char promote_usage[] =
	"Usage: jcicd promote --snapshot N --to POINTER [--pipeline FILE] [--who NAME] [--why TEXT]\n\n"
	"Points the snapshot pointer POINTER (testing, stable, ...) at snapshot N, once the stage\n"
	"that promotes to it (promote: POINTER in the pipeline) and every stage before it passed\n"
	"for N.  Who and why are recorded.  `jcicd snapshot promote` moves a pointer unchecked.\n";

int cmd_promote(struct cli *cli, int argc, char **argv)
{
	struct pipeline_args a;
	jc_pipeline *p = NULL;
	jc_error err;
	int rc;

	cli->usage = promote_usage;
	if ((rc = parse_pipeline_args(cli, argc, argv, &a)) >= 0)
		return rc;
	if (a.positional)
		return cli_usage_error(cli, "unexpected argument '%s'", a.positional);
	if (!a.snapshot || !a.to)
		return cli_usage_error(cli, "--snapshot N and --to POINTER are required");
	if ((rc = load_pipeline(cli, &a, &p)) != 0)
		return rc;
	if (jc_pipeline_promote(p, cli->config, cli->state_dir, a.snapshot, a.to, a.who, a.why, &cli->logger, &err) < 0)
		rc = cli_fail(cli, &err);
	else
		cli_printf(cli, "%s -> snapshot %ld\n", a.to, a.snapshot);
	jc_pipeline_free(p);
	return rc;
}
