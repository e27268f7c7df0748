/* test-jobs.c - job definitions: expansion, variables, errors with their
 * place; the XML; canonical comparison and where two configs differ;
 * writing a set to disk.  (Sync and trigger run against the Jenkins
 * stand-in in test/cli/jobs-sync.sh.) */
#include "tests.h"

#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "jcicd/jobs.h"
#include "jobs-internal.h"

static char *dir;

static void setup(void)
{
	dir = test_tmpdir();
}

static void teardown(void)
{
	jc_rm_rf(dir, NULL);
	free(dir);
}

/* Loads text as a definition file; returns the rc, fills *jobs and err. */
static int load(const char *text, jc_jobs **jobs, jc_error *err)
{
	char *path = test_path(dir, "jobs.yaml");
	int rc;
	test_write(dir, "jobs.yaml", text);
	rc = jc_jobs_load_file(jobs, path, NULL, err);
	free(path);
	return rc;
}

static jc_jobs *load_ok(const char *text)
{
	jc_jobs *jobs = NULL;
	jc_error err;
	int rc = load(text, &jobs, &err);
	ck_assert_msg(rc == 0, "load failed: %s (%d:%d)", err.message, err.line, err.column);
	return jobs;
}

static const char *xml_of(const jc_jobs *jobs, const char *name)
{
	for (size_t i = 0; i < jc_jobs_count(jobs); i++)
		if (strcmp(jc_jobs_name(jobs, i), name) == 0)
			return jc_jobs_xml(jobs, i, NULL);
	ck_abort_msg("no job %s", name);
	return NULL;
}

/* The text of the first node an XPath finds in a job's XML ("" if none). */
static char *xpath(const jc_jobs *jobs, const char *job, const char *expr)
{
	const char *xml = xml_of(jobs, job);
	xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "x", NULL, 0);
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST expr, ctx);
	char *out = NULL;
	if (o && o->type == XPATH_NUMBER) {
		out = jc_sprintf("%g", o->floatval);
	} else if (o && o->nodesetval && o->nodesetval->nodeNr > 0) {
		xmlChar *c = xmlNodeGetContent(o->nodesetval->nodeTab[0]);
		out = jc_strdup((const char *)c);
		xmlFree(c);
	}
	xmlXPathFreeObject(o);
	xmlXPathFreeContext(ctx);
	xmlFreeDoc(doc);
	return out ? out : jc_strdup("");
}

#define ck_xpath(jobs, job, expr, want)                                  \
	do {                                                             \
		char *got_ = xpath(jobs, job, expr);                     \
		ck_assert_str_eq(got_, want);                            \
		free(got_);                                              \
	} while (0)

START_TEST(expansion_order_and_names)
{
	jc_jobs *jobs = load_ok("templates:\n"
				"  t: {name: '{a}-{b}-{name}'}\n"
				"projects:\n"
				"  p:\n"
				"    a: [x, y]\n"
				"    b: [1, 2, 3]\n"
				"    jobs: [t]\n");
	const char *want[] = { "x-1-p", "x-2-p", "x-3-p", "y-1-p", "y-2-p", "y-3-p" };
	ck_assert_uint_eq(jc_jobs_count(jobs), 6);
	for (size_t i = 0; i < 6; i++)
		ck_assert_str_eq(jc_jobs_name(jobs, i), want[i]);
	ck_assert_str_eq(jc_jobs_set_name(jobs), "jcicd");
	jc_jobs_free(jobs);
}
END_TEST

START_TEST(variable_precedence)
{
	jc_jobs *jobs = load_ok("templates:\n"
				"  t:\n"
				"    name: 'j-{who}'\n"
				"    description: '{who} {what} {where}'\n"
				"    vars: {who: tmpl, what: tmpl, where: tmpl}\n"
				"projects:\n"
				"  p:\n"
				"    what: proj\n"
				"    where: proj\n"
				"    jobs:\n"
				"      - t: {where: entry}\n");
	ck_assert_str_eq(jc_jobs_name(jobs, 0), "j-tmpl");
	ck_xpath(jobs, "j-tmpl", "/project/description",
		 "tmpl proj entry<!-- Managed by jcicd (job set jcicd) -->");
	jc_jobs_free(jobs);
}
END_TEST

START_TEST(escapes_and_shell_braces)
{
	jc_jobs *jobs = load_ok("set: s\n"
				"templates:\n"
				"  t:\n"
				"    name: 'e-{x}'\n"
				"    shell: 'echo {x} {{x}} ${HOME} ${x} {print $1} {}'\n"
				"projects:\n"
				"  p: {x: v, jobs: [t]}\n");
	ck_xpath(jobs, "e-v", "//hudson.tasks.Shell/command", "echo v {x} ${HOME} ${x} {print $1} {}");
	ck_xpath(jobs, "e-v", "/project/description", "<!-- Managed by jcicd (job set s) -->");
	jc_jobs_free(jobs);
}
END_TEST

START_TEST(values_use_variables_and_empty_jobs_drop_out)
{
	jc_jobs *jobs = load_ok("templates:\n"
				"  t:\n"
				"    name: '{app}-{stage}'\n"
				"    downstream:\n"
				"      - job: '{next}'\n"
				"        current-parameters: true\n"
				"      - job: ['{next}', audit]\n"
				"        when: always\n"
				"projects:\n"
				"  p:\n"
				"    app: [a]\n"
				"    jobs:\n"
				"      - t: {stage: one, next: '{app}-two'}\n"
				"      - t: {stage: two, next: ''}\n");
	ck_xpath(jobs, "a-one", "//hudson.plugins.parameterizedtrigger.BuildTriggerConfig[1]/projects", "a-two");
	ck_xpath(jobs, "a-one", "//hudson.plugins.parameterizedtrigger.BuildTriggerConfig[2]/projects",
		 "a-two,audit");
	/* the first trigger of a-two lost its only job, the second keeps one */
	ck_xpath(jobs, "a-two", "count(//hudson.plugins.parameterizedtrigger.BuildTriggerConfig)", "1");
	ck_xpath(jobs, "a-two", "//hudson.plugins.parameterizedtrigger.BuildTriggerConfig/projects", "audit");
	ck_xpath(jobs, "a-two", "//hudson.plugins.parameterizedtrigger.BuildTriggerConfig/condition", "ALWAYS");
	jc_jobs_free(jobs);
}
END_TEST

START_TEST(job_xml_settings)
{
	jc_jobs *jobs = load_ok("set: golden\n"
				"defaults: {node: master, timestamps: true}\n"
				"jobs:\n"
				"  j:\n"
				"    timeout: 1d\n"
				"    keep-builds: 7\n"
				"    parameters: {S: snap, B: {type: bool, default: on}}\n"
				"    junit: {results: 'r/*.xml', allow-empty: true}\n"
				"    on-abort: cleanup\n"
				"  roam: {node: ''}\n");
	ck_xpath(jobs, "j", "//timeoutMinutes", "1440");
	ck_xpath(jobs, "j", "count(//hudson.plugins.build__timeout.operations.AbortOperation)", "1");
	ck_xpath(jobs, "j", "//numToKeep", "7");
	ck_xpath(jobs, "j", "/project/assignedNode", "master");
	ck_xpath(jobs, "j", "/project/canRoam", "false");
	ck_xpath(jobs, "j", "//hudson.model.BooleanParameterDefinition/defaultValue", "true");
	ck_xpath(jobs, "j", "//hudson.model.StringParameterDefinition/description", "snap");
	ck_xpath(jobs, "j", "//testResults", "r/*.xml");
	ck_xpath(jobs, "j", "//allowEmptyResults", "true");
	ck_xpath(jobs, "j", "//org.jenkinsci.plugins.postbuildscript.model.PostBuildStep/results/string", "ABORTED");
	ck_xpath(jobs, "j", "//org.jenkinsci.plugins.postbuildscript.model.PostBuildStep//command", "cleanup");
	ck_xpath(jobs, "j", "count(/project/buildWrappers/hudson.plugins.timestamper.TimestamperBuildWrapper)", "1");
	ck_xpath(jobs, "roam", "count(//hudson.plugins.build__timeout.BuildTimeoutWrapper)", "0");
	ck_xpath(jobs, "roam", "/project/canRoam", "true");
	ck_xpath(jobs, "roam", "/project/assignedNode", "");
	jc_jobs_free(jobs);
}
END_TEST

static void expect_error(const char *text, int line, int column, const char *fragment)
{
	jc_jobs *jobs = NULL;
	jc_error err;
	int rc = load(text, &jobs, &err);
	ck_assert_int_eq(rc, JC_EINVALID);
	ck_assert_ptr_null(jobs);
	ck_assert_msg(strstr(err.message, fragment), "\"%s\" not in \"%s\"", fragment, err.message);
	ck_assert_int_eq(err.line, line);
	ck_assert_int_eq(err.column, column);
	ck_assert_msg(jc_str_ends(err.file, "jobs.yaml"), "file %s", err.file);
}

START_TEST(errors_have_places)
{
	expect_error("jobs:\n  a:\n    shel: x\n", 3, 5, "did you mean \"shell\"");
	expect_error("templates:\n  t: {name: 'x{sage}'}\nprojects:\n  p: {stage: a, jobs: [t]}\n", 2, 13,
		     "{sage}, which is not defined; did you mean {stage}?");
	expect_error("jobs:\n  a: {timeout: 4}\n", 2, 16, "needs a unit");
	expect_error("jobs:\n  a: {}\ntemplates:\n  t: {name: a}\nprojects:\n  p: {jobs: [t]}\n", 6, 14,
		     "job \"a\" is defined twice (first at");
	expect_error("jobs:\n  a:\n    downstream:\n      - job: b\n        when: soon\n", 5, 15, "when must be");
	expect_error("- job: {name: a}\n", 1, 1, "Jenkins Job Builder's format");
}
END_TEST

START_TEST(options_version_is_checked)
{
	jc_jobs_load_options o = JC_JOBS_LOAD_OPTIONS_INIT;
	jc_jobs *jobs = (jc_jobs *)1;
	jc_error err;
	o.version = 99;
	ck_assert_int_eq(jc_jobs_load_file(&jobs, "/nonexistent", &o, &err), JC_EINVALID);
	ck_assert_ptr_null(jobs);
}
END_TEST

START_TEST(jenkins_settings_resolve_against_the_file)
{
	char *sub = test_path(dir, "sub");
	char *path, *want;
	jc_jobs *jobs = NULL;
	jc_error err;
	jc_mkdir_p(sub, 0755, NULL);
	test_write(sub, "inc.yaml", "jenkins: {url: 'http://j:8080/', user: u, token-file: tok}\njobs: {x: {}}\n");
	test_write(dir, "main.yaml", "include: sub/inc.yaml\n");
	path = test_path(dir, "main.yaml");
	ck_assert_int_eq(jc_jobs_load_file(&jobs, path, NULL, &err), 0);
	want = jc_path_join(sub, "tok");
	ck_assert_str_eq(jc_jobs_jenkins_setting(jobs, "token-file"), want);
	ck_assert_str_eq(jc_jobs_jenkins_setting(jobs, "url"), "http://j:8080/");
	ck_assert_str_eq(jc_jobs_jenkins_setting(jobs, "user"), "u");
	ck_assert_ptr_null(jc_jobs_jenkins_setting(jobs, "password"));
	ck_assert_str_eq(jc_jobs_name(jobs, 0), "x");
	jc_jobs_free(jobs);
	free(want);
	free(path);
	free(sub);
}
END_TEST

static bool same(const char *a, const char *b)
{
	char *ca, *cb;
	size_t la, lb;
	bool eq;
	ck_assert_int_eq(jc_jobs_canonicalize(&ca, &la, a, strlen(a), "a", NULL), 0);
	ck_assert_int_eq(jc_jobs_canonicalize(&cb, &lb, b, strlen(b), "b", NULL), 0);
	eq = la == lb && memcmp(ca, cb, la) == 0;
	free(ca);
	free(cb);
	return eq;
}

START_TEST(canonical_equivalences)
{
	const char *mine = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<project>\n  <a x=\"1\" y=\"2\"/>\n"
			   "  <c>say &quot;hi&quot; &amp; go\n</c>\n  <d></d>\n</project>\n";
	/* what Jenkins may store: XML 1.1 declaration, other quoting and
	 * attribute order, no indentation, a comment, <d/> */
	ck_assert(same(mine, "<?xml version='1.1' encoding='UTF-8'?><project><!-- c --><a y='2' x='1' />"
			     "<c>say \"hi\" &amp; go&#10;</c><d/></project>"));
	ck_assert(same(mine, "<project>\r\n\t<a x=\"1\" y=\"2\"></a>\n<c>say \"hi\" &amp; go\n</c><d/>\n</project>"));
	/* but content is content */
	ck_assert(!same(mine, "<project><a x=\"1\" y=\"2\"/><c>say \"hi\" &amp; go</c><d/></project>"));
	ck_assert(!same(mine, "<project><a x=\"1\" y=\"3\"/><c>say \"hi\" &amp; go\n</c><d/></project>"));
	ck_assert(!same(mine, "<project><c>say \"hi\" &amp; go\n</c><a x=\"1\" y=\"2\"/><d/></project>"));
	ck_assert(!same("<p><c> </c></p>", "<p><c/></p>"));
}
END_TEST

START_TEST(canonical_errors)
{
	char *out = (char *)1;
	jc_error err;
	const char *bad = "<project>\n  <a>\n</project>\n";
	ck_assert_int_eq(jc_jobs_canonicalize(&out, NULL, bad, strlen(bad), "server.xml", &err), JC_EPARSE);
	ck_assert_ptr_null(out);
	ck_assert_str_eq(err.file, "server.xml");
	ck_assert_int_ge(err.line, 3);   /* libxml2 may count the line it read ahead to */
	ck_assert_msg(strstr(err.message, "not well-formed"), "%s", err.message);
}
END_TEST

static char *diff(const char *a, const char *b)
{
	char *where = NULL;
	ck_assert_int_eq(jc_jobs_xml_difference(&where, a, strlen(a), b, strlen(b), NULL), 0);
	return where;
}

START_TEST(first_difference_paths)
{
	const char *base = "<project><description>d</description><builders>"
			   "<hudson.tasks.Shell><command>one</command></hudson.tasks.Shell>"
			   "<hudson.tasks.Shell><command>two</command></hudson.tasks.Shell></builders></project>";
	char *w;
	ck_assert_ptr_null(diff(base, base));
	w = diff(base, "<project><description>e</description><builders/></project>");
	ck_assert_str_eq(w, "/project/description");
	free(w);
	w = diff(base, "<project><description>d</description><builders>"
		       "<hudson.tasks.Shell><command>one</command></hudson.tasks.Shell>"
		       "<hudson.tasks.Shell><command>2</command></hudson.tasks.Shell></builders></project>");
	ck_assert_str_eq(w, "/project/builders/hudson.tasks.Shell[2]/command");
	free(w);
	w = diff(base, "<project><description>d</description><builders>"
		       "<hudson.tasks.Shell><command>one</command></hudson.tasks.Shell></builders></project>");
	ck_assert_str_eq(w, "/project/builders/hudson.tasks.Shell[2]");
	free(w);
	w = diff("<p><a k='1'/></p>", "<p><a k='2'/></p>");
	ck_assert_str_eq(w, "/p/a");
	free(w);
}
END_TEST

START_TEST(write_is_idempotent)
{
	jc_jobs *jobs = load_ok("jobs: {a: {}, 'f/b': {shell: x}}\n");
	char *out = test_path(dir, "out"), *file;
	size_t n;
	char *text;
	ck_assert_int_eq(jc_jobs_write(jobs, out, &n, NULL), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(jc_jobs_write(jobs, out, &n, NULL), 0);
	ck_assert_uint_eq(n, 0);
	file = jc_sprintf("%s/f/b/config.xml", out);
	ck_assert_int_eq(jc_file_read(file, &text, &n, NULL), 0);
	ck_assert_str_eq(text, xml_of(jobs, "f/b"));
	free(text);
	free(file);
	free(out);
	jc_jobs_free(jobs);
}
END_TEST

START_TEST(job_paths_escape_each_folder)
{
	char *p = jc_jenkins_job_path("my folder/job#1");
	ck_assert_str_eq(p, "/job/my%20folder/job/job%231");
	free(p);
}
END_TEST

START_TEST(jenkins_options_are_checked)
{
	jc_jenkins_options o = JC_JENKINS_OPTIONS_INIT;
	jc_jenkins *jk = NULL;
	jc_error err;
	o.url = "ftp://x";
	ck_assert_int_eq(jc_jenkins_open(&jk, &o, &err), JC_EINVALID);
	o.url = "http://127.0.0.1:1/";
	o.user = "u";
	ck_assert_int_eq(jc_jenkins_open(&jk, &o, &err), JC_EINVALID);   /* a user needs a token */
	o.token = "s3cret-token";
	ck_assert_int_eq(jc_jenkins_open(&jk, &o, &err), 0);
	ck_assert_str_eq(jk->base, "http://127.0.0.1:1");
	jc_jenkins_free(jk);
}
END_TEST

START_TEST(unreachable_jenkins)
{
	jc_jenkins_options o = JC_JENKINS_OPTIONS_INIT;
	jc_jenkins *jk = NULL;
	jc_jobs *jobs = load_ok("jobs: {a: {}}\n");
	jc_jobs_sync_result r;
	jc_error err;
	o.url = "http://127.0.0.1:1";
	o.user = "u";
	o.token = "tok-never-printed";
	o.max_retries = 0;
	ck_assert_int_eq(jc_jenkins_open(&jk, &o, &err), 0);
	ck_assert_int_eq(jc_jobs_sync(&r, jk, jobs, NULL, &err), JC_EUNREACHABLE);
	ck_assert_int_eq(jc_error_exit_status(err.code), 3);
	ck_assert_ptr_null(strstr(err.message, "tok-never-printed"));
	ck_assert_uint_eq(r.created + r.updated + r.deleted, 0);
	jc_jobs_sync_result_clear(&r);
	jc_jenkins_free(jk);
	jc_jobs_free(jobs);
}
END_TEST

static Suite *jobs_suite(void)
{
	Suite *s = suite_create("jobs");
	TCase *t = tcase_create("definitions");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, expansion_order_and_names);
	tcase_add_test(t, variable_precedence);
	tcase_add_test(t, escapes_and_shell_braces);
	tcase_add_test(t, values_use_variables_and_empty_jobs_drop_out);
	tcase_add_test(t, job_xml_settings);
	tcase_add_test(t, errors_have_places);
	tcase_add_test(t, options_version_is_checked);
	tcase_add_test(t, jenkins_settings_resolve_against_the_file);
	tcase_add_test(t, write_is_idempotent);
	tcase_add_test(t, unreachable_jenkins);
	suite_add_tcase(s, t);
	t = tcase_create("xml");
	tcase_add_test(t, canonical_equivalences);
	tcase_add_test(t, canonical_errors);
	tcase_add_test(t, first_difference_paths);
	tcase_add_test(t, job_paths_escape_each_folder);
	tcase_add_test(t, jenkins_options_are_checked);
	suite_add_tcase(s, t);
	return s;
}

TEST_MAIN(jobs_suite)
