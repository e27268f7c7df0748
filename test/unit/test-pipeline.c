/* test-pipeline.c - pipeline definitions, records, tests and measurements,
 * JUnit and the HTML report. */
#include "tests.h"

#include <math.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "jcicd/pipeline.h"
#include "pipeline-internal.h"

static char *dir;

static void setup(void) { dir = test_tmpdir(); }
static void teardown(void)
{
	jc_rm_rf(dir, NULL);
	free(dir);
}

static jc_pipeline *load(const char *text, jc_error *err)
{
	jc_pipeline *p = NULL;
	char *path = test_path(dir, "pipeline.yaml");
	test_write(dir, "spec.yaml", "resources:\n  cp: {number: 1, flavor: a, image: b}\n");
	test_write(dir, "pipeline.yaml", text);
	jc_pipeline_load(&p, NULL, path, err);
	free(path);
	return p;
}

static const char good[] =
	"stages:\n"
	"  - name: acceptance\n"
	"    spec: spec.yaml\n"
	"    timeouts: {apply: 5m, converge: 10m}\n"
	"    tests:\n"
	"      - {name: smoke, run: 'true', timeout: 30s}\n"
	"  - name: nonfunctional\n"
	"    spec: spec.yaml\n"
	"    measurements:\n"
	"      - {name: boot, run: 'echo 12', unit: ms, threshold: 20%, better: lower}\n"
	"  - name: staging\n"
	"    spec: spec.yaml\n"
	"    stack: staging\n"
	"    waves: 1,100%\n"
	"    promote: stable\n";

START_TEST(definitions)
{
	jc_error err;
	jc_pipeline *p = load(good, &err);
	ck_assert_msg(p != NULL, "%s", err.message);
	ck_assert_uint_eq(jc_pipeline_stage_count(p), 3);
	const jc_stage_def *a = jc_pipeline_stage(p, 0);
	ck_assert_int_eq(a->kind, JC_STAGE_ACCEPTANCE);
	ck_assert_int_eq(a->apply_timeout_ms, 300000);
	ck_assert_uint_eq(a->n_tests, 1);
	ck_assert_int_eq(a->tests[0].timeout_ms, 30000);
	ck_assert(jc_str_ends(a->spec, "/spec.yaml") && a->spec[0] == '/');
	const jc_stage_def *n = jc_pipeline_stage_find(p, "nonfunctional", &err);
	ck_assert_int_eq(n->kind, JC_STAGE_NONFUNCTIONAL);
	ck_assert(n->measurements[0].lower_is_better);
	ck_assert(fabs(n->measurements[0].threshold_pct - 20) < 1e-9);
	const jc_stage_def *s = jc_pipeline_stage(p, 2);
	ck_assert_int_eq(s->kind, JC_STAGE_ROLLOUT);
	ck_assert_str_eq(s->stack, "staging");
	ck_assert_str_eq(s->promote, "stable");
	ck_assert_ptr_null(jc_pipeline_stage_find(p, "stagign", &err));
	ck_assert(strstr(err.message, "did you mean \"staging\"?") != NULL);
	jc_pipeline_free(p);
}
END_TEST

START_TEST(bad_definitions_say_where)
{
	static const struct { const char *text; const char *msg; int line; } cases[] = {
		{ "stages:\n  - name: acceptance\n    spec: spec.yaml\n    tsets: []\n", "did you mean \"tests\"?", 4 },
		{ "stages:\n  - name: x\n    spec: spec.yaml\n", "stage x needs a kind", 2 },
		{ "stages:\n  - name: x\n    kind: acceptence\n    spec: spec.yaml\n", "did you mean \"acceptance\"?", 3 },
		{ "stages:\n  - name: staging\n    spec: spec.yaml\n", "needs the stack", 2 },
		{ "stages:\n  - name: acceptance\n    spec: nope.yaml\n", "does not exist", 3 },
		{ "stages:\n  - name: acceptance\n    spec: spec.yaml\n    timeouts: {apply: soon}\n", "duration", 4 },
		{ "stages:\n  - name: nonfunctional\n    spec: spec.yaml\n", "measures nothing", 2 },
		{ "stages:\n  - {name: a, kind: acceptance, spec: spec.yaml}\n  - {name: a, kind: upgrade, spec: spec.yaml}\n",
		  "two stages are named a", 3 },
		{ "stages: []\n", "needs stages", 1 },
	};
	for (size_t i = 0; i < JC_ARRAY_LEN(cases); i++) {
		jc_error err;
		jc_pipeline *p = load(cases[i].text, &err);
		ck_assert_msg(p == NULL, "case %zu loaded", i);
		ck_assert_int_eq(err.code, JC_EINVALID);
		ck_assert_msg(strstr(err.message, cases[i].msg) != NULL, "case %zu: %s", i, err.message);
		ck_assert_msg(err.line == cases[i].line, "case %zu: line %d", i, err.line);
		ck_assert(jc_str_ends(err.file, "pipeline.yaml"));
	}
}
END_TEST

START_TEST(judging_measurements)
{
	double c;
	ck_assert_int_eq(jc_measure_judge(12, false, 0, 10, true, &c), JC_VERDICT_PASSED);
	ck_assert_int_eq(jc_measure_judge(110, true, 100, 10, true, &c), JC_VERDICT_PASSED);
	ck_assert(fabs(c - 10) < 1e-9);
	ck_assert_int_eq(jc_measure_judge(111, true, 100, 10, true, &c), JC_VERDICT_FAILED);
	ck_assert_int_eq(jc_measure_judge(50, true, 100, 10, true, &c), JC_VERDICT_PASSED);
	/* higher is better: throughput dropping 20% regresses */
	ck_assert_int_eq(jc_measure_judge(80, true, 100, 10, false, &c), JC_VERDICT_FAILED);
	ck_assert_int_eq(jc_measure_judge(95, true, 100, 10, false, &c), JC_VERDICT_PASSED);
	ck_assert_int_eq(jc_measure_judge(1, true, 0, 10, true, &c), JC_VERDICT_FAILED);
	ck_assert_int_eq(jc_measure_judge(0, true, 0, 10, true, &c), JC_VERDICT_PASSED);
}
END_TEST

START_TEST(tests_measurements_records_and_baselines)
{
	jc_error err;
	jc_store *store;
	jc_pipeline *p = load("stages:\n"
			      "  - name: acceptance\n    spec: spec.yaml\n    tests:\n"
			      "      - {name: ok, run: 'echo fine'}\n"
			      "      - {name: broken, run: 'echo \"$JCICD_SNAPSHOT is bad\"; exit 4'}\n"
			      "      - {name: slow, run: 'sleep 30', timeout: 1s}\n"
			      "  - name: nonfunctional\n    spec: spec.yaml\n    measurements:\n"
			      "      - {name: latency, run: 'echo measuring; echo \"$LATENCY ms\"', unit: ms, threshold: 10%}\n",
			      &err);
	ck_assert_msg(p != NULL, "%s", err.message);
	ck_assert_int_eq(jc_store_open(&store, dir, NULL, &err), 0);
	ck_assert_int_eq(jc_precords_migrate(store, &err), 0);
	const char *env[] = { "JCICD_SNAPSHOT=7", "LATENCY=100" };
	jc_stage_env se = { dir, env, 2, NULL, NULL, 0 };
	jc_test_result *tr;
	size_t nt;
	bool all;
	ck_assert_int_eq(jc_stage_run_tests(jc_pipeline_stage(p, 0), &se, &tr, &nt, &all, &err), 0);
	ck_assert(!all);
	ck_assert_uint_eq(nt, 3);
	ck_assert_int_eq(tr[0].verdict, JC_VERDICT_PASSED);
	ck_assert_int_eq(tr[1].verdict, JC_VERDICT_FAILED);
	ck_assert_int_eq(tr[1].exit_code, 4);
	ck_assert_str_eq(tr[1].output, "7 is bad\n");
	ck_assert(tr[2].timed_out);

	long id;
	ck_assert_int_eq(jc_precords_stage_begin(store, 0, "acceptance", 7, 0, "acc-7", NULL, &id, &err), 0);
	for (size_t i = 0; i < nt; i++)
		ck_assert_int_eq(jc_precords_add_test(store, id, &tr[i], &err), 0);
	ck_assert_int_eq(jc_precords_stage_finish(store, id, JC_VERDICT_FAILED, "2 of 3 tests failed", NULL, &err), 0);
	jc_test_results_free(tr, nt);

	/* JUnit: parse it back */
	jc_stage_record rec;
	char *junit = test_path(dir, "junit.xml");
	ck_assert_int_eq(jc_precords_get(store, id, &rec, &err), 0);
	ck_assert_int_eq(jc_junit_write(&rec, junit, &err), 0);
	xmlDocPtr doc = xmlReadFile(junit, NULL, 0);
	ck_assert_ptr_nonnull(doc);
	xmlNodePtr suite = xmlDocGetRootElement(doc)->children;
	while (suite && suite->type != XML_ELEMENT_NODE)
		suite = suite->next;
	xmlChar *tests = xmlGetProp(suite, (const xmlChar *)"tests");
	xmlChar *failures = xmlGetProp(suite, (const xmlChar *)"failures");
	ck_assert_str_eq((char *)tests, "3");
	ck_assert_str_eq((char *)failures, "2");
	xmlFree(tests);
	xmlFree(failures);
	xmlFreeDoc(doc);
	jc_stage_record_clear(&rec);
	free(junit);

	/* measurements: the first passed run sets the baseline */
	const jc_stage_def *nf = jc_pipeline_stage(p, 1);
	jc_measure_result *mr;
	size_t nm;
	ck_assert_int_eq(jc_stage_run_measurements(store, nf, 7, &se, &mr, &nm, &all, &err), 0);
	ck_assert(all);
	ck_assert(!mr[0].has_baseline);
	ck_assert(fabs(mr[0].value - 100) < 1e-9);
	ck_assert_int_eq(jc_precords_stage_begin(store, 0, "nonfunctional", 7, 0, NULL, NULL, &id, &err), 0);
	ck_assert_int_eq(jc_precords_add_measure(store, id, &mr[0], &err), 0);
	ck_assert_int_eq(jc_precords_stage_finish(store, id, JC_VERDICT_PASSED, NULL, NULL, &err), 0);
	jc_measure_results_free(mr, nm);
	/* snapshot 8 is 25% slower: a regression against snapshot 7 */
	const char *env8[] = { "JCICD_SNAPSHOT=8", "LATENCY=125" };
	jc_stage_env se8 = { dir, env8, 2, NULL, NULL, 0 };
	ck_assert_int_eq(jc_stage_run_measurements(store, nf, 8, &se8, &mr, &nm, &all, &err), 0);
	ck_assert(!all);
	ck_assert(mr[0].has_baseline);
	ck_assert_int_eq(mr[0].baseline_snapshot, 7);
	ck_assert_int_eq(mr[0].verdict, JC_VERDICT_FAILED);
	jc_measure_results_free(mr, nm);

	bool passed;
	ck_assert_int_eq(jc_precords_passed(store, 7, "nonfunctional", &passed, &err), 0);
	ck_assert(passed);
	ck_assert_int_eq(jc_precords_passed(store, 7, "acceptance", &passed, &err), 0);
	ck_assert(!passed);
	long good_snap;
	/* nonfunctional passed for 7, but acceptance (before it) did not */
	ck_assert_int_eq(jc_pipeline_last_good(&good_snap, store, p, "nonfunctional", &err), 0);
	ck_assert_int_eq(good_snap, 0);

	ck_assert_int_eq(jc_pipeline_approve(store, 7, "production", "alice", "change window", &err), 0);
	char *who;
	ck_assert_int_eq(jc_precords_approved(store, 7, "production", &passed, &who, &err), 0);
	ck_assert(passed);
	ck_assert_str_eq(who, "alice");
	free(who);
	ck_assert_int_eq(jc_pipeline_approve(store, 7, "production", "", NULL, &err), JC_EINVALID);

	/* the report */
	jc_stage_records *rs;
	ck_assert_int_eq(jc_pipeline_history(&rs, store, 7, 0, &err), 0);
	ck_assert_uint_eq(rs->n, 2);
	jc_report_change ch[] = { { "hello", "1.0-1", "1.1-1" }, { "new<pkg>", NULL, "0.1" } };
	jc_report_options ro = JC_REPORT_OPTIONS_INIT;
	ro.snapshot = 7;
	ro.diff_from = 6;
	ro.changes = ch;
	ro.n_changes = 2;
	char *html_path = test_path(dir, "report.html");
	ck_assert_int_eq(jc_report_write(rs, &ro, html_path, &err), 0);
	char *html;
	ck_assert_int_eq(jc_file_read(html_path, &html, NULL, NULL), 0);
	ck_assert(strstr(html, "id=\"verdict\">failed</span>") != NULL);
	ck_assert(strstr(html, "7 is bad") != NULL);
	ck_assert(strstr(html, "new&lt;pkg&gt;") != NULL);
	ck_assert(strstr(html, "<svg") != NULL);
	ck_assert(strstr(html, "<script") == NULL);
	free(html);
	free(html_path);
	jc_stage_records_free(rs);
	jc_store_free(store);
	jc_pipeline_free(p);
}
END_TEST

static Suite *pipeline_suite(void)
{
	Suite *s = suite_create("pipeline");
	TCase *tc = tcase_create("pipeline");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, definitions);
	tcase_add_test(tc, bad_definitions_say_where);
	tcase_add_test(tc, judging_measurements);
	tcase_add_test(tc, tests_measurements_records_and_baselines);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(pipeline_suite)
