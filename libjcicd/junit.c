/* junit.c - a stage's results as JUnit XML, the format Jenkins' JUnit
 * publisher reads: one testsuite per stage, one testcase per test or
 * measurement. */
#include "common.h"

#include <stdio.h>
#include <string.h>
#include <libxml/tree.h>
#include <libxml/xmlsave.h>

#include "jcicd/pipeline.h"

static void set_attr(xmlNodePtr n, const char *name, const char *value)
{
	xmlNewProp(n, (const xmlChar *)name, (const xmlChar *)(value ? value : ""));
}

static void set_seconds(xmlNodePtr n, long long ms)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%.3f", (double)ms / 1000.0);
	set_attr(n, "time", buf);
}

static void set_count(xmlNodePtr n, const char *name, long v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%ld", v);
	set_attr(n, name, buf);
}

/* XML 1.0 cannot carry most control characters: test output can. */
static char *xml_safe(const char *s)
{
	char *copy = jc_strdup(s ? s : "");
	for (unsigned char *p = (unsigned char *)copy; *p; p++)
		if (*p < 0x20 && *p != '\n' && *p != '\r' && *p != '\t')
			*p = '?';
	return copy;
}

static void add_text_child(xmlNodePtr parent, const char *name, const char *text)
{
	char *safe = xml_safe(text);
	xmlNodePtr c = xmlNewChild(parent, NULL, (const xmlChar *)name, NULL);
	xmlAddChild(c, xmlNewText((const xmlChar *)safe));
	free(safe);
}

int jc_junit_write(const jc_stage_record *r, const char *path, jc_error *err)
{
	xmlDocPtr doc = xmlNewDoc((const xmlChar *)"1.0");
	xmlNodePtr suites = xmlNewNode(NULL, (const xmlChar *)"testsuites");
	xmlNodePtr suite;
	char name[256], snap[32];
	long failures = 0, errors = 0, skipped = 0;
	long n = (long)(r->n_tests + r->n_measurements);
	int rc = 0;

	xmlDocSetRootElement(doc, suites);
	suite = xmlNewChild(suites, NULL, (const xmlChar *)"testsuite", NULL);
	snprintf(name, sizeof(name), "%s.snapshot-%ld", r->stage, r->snapshot);
	set_attr(suite, "name", name);
	for (size_t i = 0; i < r->n_tests; i++) {
		failures += r->tests[i].verdict == JC_VERDICT_FAILED;
		errors += r->tests[i].verdict == JC_VERDICT_ERROR;
		skipped += r->tests[i].verdict == JC_VERDICT_SKIPPED;
	}
	for (size_t i = 0; i < r->n_measurements; i++)
		failures += r->measurements[i].verdict == JC_VERDICT_FAILED;
	/* a stage that failed before its tests ran still shows as a failure */
	bool stage_case = n == 0 || (r->verdict != JC_VERDICT_PASSED && failures + errors == 0);
	if (stage_case) {
		n++;
		if (r->verdict == JC_VERDICT_FAILED)
			failures++;
		else if (r->verdict == JC_VERDICT_ERROR)
			errors++;
	}
	set_count(suite, "tests", n);
	set_count(suite, "failures", failures);
	set_count(suite, "errors", errors);
	set_count(suite, "skipped", skipped);
	set_seconds(suite, r->finished_ms > r->started_ms ? r->finished_ms - r->started_ms : 0);
	snprintf(snap, sizeof(snap), "%ld", r->snapshot);
	xmlNodePtr props = xmlNewChild(suite, NULL, (const xmlChar *)"properties", NULL);
	xmlNodePtr p = xmlNewChild(props, NULL, (const xmlChar *)"property", NULL);
	set_attr(p, "name", "snapshot");
	set_attr(p, "value", snap);
	if (r->tag) {
		p = xmlNewChild(props, NULL, (const xmlChar *)"property", NULL);
		set_attr(p, "name", "stack");
		set_attr(p, "value", r->tag);
	}

	for (size_t i = 0; i < r->n_tests; i++) {
		const jc_test_result *t = &r->tests[i];
		xmlNodePtr tc = xmlNewChild(suite, NULL, (const xmlChar *)"testcase", NULL);
		char msg[128];
		set_attr(tc, "classname", name);
		set_attr(tc, "name", t->name);
		set_seconds(tc, t->duration_ms);
		if (t->verdict == JC_VERDICT_FAILED || t->verdict == JC_VERDICT_ERROR) {
			xmlNodePtr f = xmlNewChild(tc, NULL,
						   (const xmlChar *)(t->verdict == JC_VERDICT_FAILED ? "failure" : "error"),
						   NULL);
			if (t->timed_out)
				snprintf(msg, sizeof(msg), "timed out");
			else
				snprintf(msg, sizeof(msg), "exit status %d", t->exit_code);
			set_attr(f, "message", msg);
		} else if (t->verdict == JC_VERDICT_SKIPPED) {
			xmlNewChild(tc, NULL, (const xmlChar *)"skipped", NULL);
		}
		if (t->output && *t->output)
			add_text_child(tc, "system-out", t->output);
	}
	for (size_t i = 0; i < r->n_measurements; i++) {
		const jc_measure_result *m = &r->measurements[i];
		xmlNodePtr tc = xmlNewChild(suite, NULL, (const xmlChar *)"testcase", NULL);
		char tname[256], msg[256];
		snprintf(tname, sizeof(tname), "measure %s", m->name);
		set_attr(tc, "classname", name);
		set_attr(tc, "name", tname);
		set_seconds(tc, 0);
		if (m->has_baseline)
			snprintf(msg, sizeof(msg), "%g%s%s against baseline %g of snapshot %ld (allowed: %g%% %s)",
				 m->value, m->unit ? " " : "", m->unit ? m->unit : "", m->baseline,
				 m->baseline_snapshot, m->threshold_pct, m->lower_is_better ? "higher" : "lower");
		else
			snprintf(msg, sizeof(msg), "%g%s%s (no baseline yet)", m->value, m->unit ? " " : "",
				 m->unit ? m->unit : "");
		if (m->verdict != JC_VERDICT_PASSED) {
			xmlNodePtr f = xmlNewChild(tc, NULL, (const xmlChar *)"failure", NULL);
			set_attr(f, "message", msg);
		}
		add_text_child(tc, "system-out", msg);
	}
	if (stage_case) {
		xmlNodePtr tc = xmlNewChild(suite, NULL, (const xmlChar *)"testcase", NULL);
		set_attr(tc, "classname", name);
		set_attr(tc, "name", "stage");
		set_seconds(tc, r->finished_ms > r->started_ms ? r->finished_ms - r->started_ms : 0);
		if (r->verdict == JC_VERDICT_FAILED || r->verdict == JC_VERDICT_ERROR) {
			xmlNodePtr f = xmlNewChild(tc, NULL,
						   (const xmlChar *)(r->verdict == JC_VERDICT_FAILED ? "failure" : "error"),
						   NULL);
			char *safe = xml_safe(r->message ? r->message : jc_verdict_name(r->verdict));
			set_attr(f, "message", safe);
			free(safe);
		}
	}

	char *tmp = jc_sprintf("%s.tmp", path);
	if (xmlSaveFormatFileEnc(tmp, doc, "UTF-8", 1) < 0 || rename(tmp, path) < 0)
		rc = jc_err(err, JC_EIO, "cannot write JUnit file %s", path);
	free(tmp);
	xmlFreeDoc(doc);
	return rc;
}
