/* report.c - a pipeline run as one static HTML page: no scripts, no
 * external resources, so it can be archived by Jenkins and opened anywhere. */
#include "common.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "jcicd/pipeline.h"

static void esc(jc_buf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': jc_buf_puts(b, "&lt;"); break;
		case '>': jc_buf_puts(b, "&gt;"); break;
		case '&': jc_buf_puts(b, "&amp;"); break;
		case '"': jc_buf_puts(b, "&quot;"); break;
		default: jc_buf_putc(b, *s);
		}
	}
}

static void duration(jc_buf *b, long long ms)
{
	if (ms < 0)
		ms = 0;
	if (ms < 1000)
		jc_buf_printf(b, "%lld ms", ms);
	else if (ms < 60000)
		jc_buf_printf(b, "%.1f s", (double)ms / 1000.0);
	else
		jc_buf_printf(b, "%lld min %lld s", ms / 60000, (ms / 1000) % 60);
}

static const char style[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222;max-width:70em}"
	"h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ddd}"
	"table{border-collapse:collapse;margin:.5em 0}td,th{padding:.3em .8em;border-bottom:1px solid #eee;"
	"text-align:left;vertical-align:top}th{background:#f6f6f6}"
	".passed{color:#1a7f37;font-weight:600}.failed{color:#cf222e;font-weight:600}"
	".error{color:#9a6700;font-weight:600}.skipped,.running{color:#666}"
	".badge{display:inline-block;padding:.1em .6em;border-radius:1em;color:#fff}"
	".badge.passed{background:#1a7f37}.badge.failed{background:#cf222e}.badge.error{background:#9a6700}"
	".badge.running,.badge.skipped{background:#888}"
	"pre{background:#f6f8fa;padding:.8em;overflow:auto;max-height:30em;font-size:12px}"
	".meta{color:#666}.add{color:#1a7f37}.del{color:#cf222e}#measurements td{white-space:nowrap}";

static jc_verdict overall(const jc_stage_records *rs)
{
	jc_verdict v = rs->n ? JC_VERDICT_PASSED : JC_VERDICT_SKIPPED;
	for (size_t i = 0; i < rs->n; i++) {
		if (rs->v[i].verdict == JC_VERDICT_FAILED)
			return JC_VERDICT_FAILED;
		if (rs->v[i].verdict == JC_VERDICT_ERROR)
			v = JC_VERDICT_ERROR;
		else if (rs->v[i].verdict == JC_VERDICT_RUNNING && v == JC_VERDICT_PASSED)
			v = JC_VERDICT_RUNNING;
	}
	return v;
}

/* Baseline and value as two bars, with the allowed band marked. */
static void chart(jc_buf *b, const jc_measure_result *m)
{
	const int w = 360, bar_h = 16;
	double top = m->value;
	if (m->has_baseline) {
		double limit = m->baseline * (1 + (m->lower_is_better ? 1 : -1) * m->threshold_pct / 100.0);
		if (m->baseline > top)
			top = m->baseline;
		if (limit > top)
			top = limit;
	}
	if (top <= 0)
		top = 1;
	jc_buf_printf(b, "<svg width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"", w + 110, m->has_baseline ? 2 * bar_h + 14 : bar_h + 6);
	esc(b, m->name);
	jc_buf_puts(b, "\">");
	int y = 2;
	if (m->has_baseline) {
		int bw = (int)lround(m->baseline / top * w);
		jc_buf_printf(b, "<rect x=\"100\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#9aa4af\"/>"
				 "<text x=\"0\" y=\"%d\" font-size=\"11\">baseline #%ld</text>",
			      y, bw < 1 ? 1 : bw, bar_h, y + 12, m->baseline_snapshot);
		double limit = m->baseline * (1 + (m->lower_is_better ? 1 : -1) * m->threshold_pct / 100.0);
		int lx = 100 + (int)lround(limit / top * w);
		jc_buf_printf(b, "<line x1=\"%d\" y1=\"0\" x2=\"%d\" y2=\"%d\" stroke=\"#cf222e\" stroke-dasharray=\"3,2\"/>",
			      lx, lx, 2 * bar_h + 12);
		y += bar_h + 6;
	}
	int vw = (int)lround(m->value / top * w);
	jc_buf_printf(b, "<rect x=\"100\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/>"
			 "<text x=\"0\" y=\"%d\" font-size=\"11\">this snapshot</text></svg>",
		      y, vw < 1 ? 1 : vw, bar_h, m->verdict == JC_VERDICT_PASSED ? "#1a7f37" : "#cf222e", y + 12);
}

int jc_report_write(const jc_stage_records *rs, const jc_report_options *o, const char *path, jc_error *err)
{
	jc_buf b = JC_BUF_INIT;
	jc_report_options defaults = JC_REPORT_OPTIONS_INIT;
	jc_verdict v = overall(rs);
	long long first = 0, last = 0;
	char when[32];
	int rc;

	if (!o)
		o = &defaults;
	if (o->version != JC_REPORT_OPTIONS_VERSION)
		return jc_err(err, JC_EINVALID, "jc_report_options version %u is not supported", o->version);
	for (size_t i = 0; i < rs->n; i++) {
		if (!first || rs->v[i].started_ms < first)
			first = rs->v[i].started_ms;
		if (rs->v[i].finished_ms > last)
			last = rs->v[i].finished_ms;
	}
	jc_buf_puts(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>");
	esc(&b, o->title ? o->title : "jcicd pipeline report");
	jc_buf_printf(&b, "</title><style>%s</style></head><body>\n<h1>", style);
	esc(&b, o->title ? o->title : "jcicd pipeline report");
	jc_buf_printf(&b, "</h1>\n<p><span class=\"badge %s\" id=\"verdict\">%s</span> snapshot <b>%ld</b>",
		      jc_verdict_name(v), jc_verdict_name(v), o->snapshot ? o->snapshot : rs->n ? rs->v[0].snapshot : 0);
	if (first) {
		jc_buf_printf(&b, " <span class=\"meta\">started %s, took ", jc_iso8601(first / 1000, when, sizeof(when)));
		duration(&b, last - first);
		jc_buf_puts(&b, "</span>");
	}
	jc_buf_puts(&b, "</p>\n<h2>Stages</h2>\n<table id=\"stages\"><tr><th>stage</th><th>verdict</th>"
			"<th>duration</th><th>stack</th><th>tests</th><th>why</th></tr>\n");
	for (size_t i = 0; i < rs->n; i++) {
		const jc_stage_record *r = &rs->v[i];
		size_t passed = 0;
		for (size_t j = 0; j < r->n_tests; j++)
			passed += r->tests[j].verdict == JC_VERDICT_PASSED;
		jc_buf_puts(&b, "<tr><td>");
		esc(&b, r->stage);
		if (r->from_snapshot)
			jc_buf_printf(&b, " <span class=\"meta\">(from %ld)</span>", r->from_snapshot);
		jc_buf_printf(&b, "</td><td class=\"%s\">%s</td><td>", jc_verdict_name(r->verdict),
			      jc_verdict_name(r->verdict));
		duration(&b, r->finished_ms ? r->finished_ms - r->started_ms : 0);
		jc_buf_puts(&b, "</td><td>");
		esc(&b, r->tag ? r->tag : "-");
		jc_buf_printf(&b, "</td><td>%zu/%zu</td><td>", passed, r->n_tests);
		esc(&b, r->message ? r->message : "");
		jc_buf_puts(&b, "</td></tr>\n");
	}
	jc_buf_puts(&b, "</table>\n");

	bool any_failed = false;
	for (size_t i = 0; i < rs->n; i++) {
		const jc_stage_record *r = &rs->v[i];
		for (size_t j = 0; j < r->n_tests; j++) {
			const jc_test_result *t = &r->tests[j];
			if (t->verdict == JC_VERDICT_PASSED)
				continue;
			if (!any_failed)
				jc_buf_puts(&b, "<h2>Failed tests</h2>\n");
			any_failed = true;
			jc_buf_puts(&b, "<h3 class=\"failed-test\">");
			esc(&b, r->stage);
			jc_buf_puts(&b, ": ");
			esc(&b, t->name);
			jc_buf_printf(&b, " <span class=\"%s\">%s</span> <span class=\"meta\">(%s, ",
				      jc_verdict_name(t->verdict), jc_verdict_name(t->verdict),
				      t->timed_out ? "timed out" : "exit status");
			if (!t->timed_out)
				jc_buf_printf(&b, "%d, ", t->exit_code);
			duration(&b, t->duration_ms);
			jc_buf_puts(&b, ")</span></h3>\n<pre>");
			esc(&b, t->output && *t->output ? t->output : "(no output)");
			jc_buf_puts(&b, "</pre>\n");
		}
	}

	bool any_measure = false;
	for (size_t i = 0; i < rs->n; i++) {
		const jc_stage_record *r = &rs->v[i];
		for (size_t j = 0; j < r->n_measurements; j++) {
			const jc_measure_result *m = &r->measurements[j];
			if (!any_measure)
				jc_buf_puts(&b, "<h2>Performance against the baseline</h2>\n<table id=\"measurements\">"
						"<tr><th>measurement</th><th>value</th><th>baseline</th><th>change</th>"
						"<th>verdict</th><th></th></tr>\n");
			any_measure = true;
			jc_buf_puts(&b, "<tr><td>");
			esc(&b, m->name);
			jc_buf_printf(&b, "</td><td>%g ", m->value);
			esc(&b, m->unit ? m->unit : "");
			jc_buf_puts(&b, "</td><td>");
			if (m->has_baseline) {
				jc_buf_printf(&b, "%g (snapshot %ld)</td><td>", m->baseline, m->baseline_snapshot);
				if (m->baseline != 0)
					jc_buf_printf(&b, "%+.1f%% (allowed %g%%)", (m->value - m->baseline) / fabs(m->baseline) * 100,
						      m->threshold_pct);
			} else {
				jc_buf_puts(&b, "none yet</td><td>sets the baseline");
			}
			jc_buf_printf(&b, "</td><td class=\"%s\">%s</td><td>", jc_verdict_name(m->verdict),
				      jc_verdict_name(m->verdict));
			chart(&b, m);
			jc_buf_puts(&b, "</td></tr>\n");
		}
	}
	if (any_measure)
		jc_buf_puts(&b, "</table>\n");

	if (o->n_changes || o->diff_from) {
		jc_buf_printf(&b, "<h2>Package changes since snapshot %ld</h2>\n<table id=\"changes\"><tr><th>package</th>"
				  "<th>was</th><th>now</th></tr>\n", o->diff_from);
		for (size_t i = 0; i < o->n_changes; i++) {
			const jc_report_change *c = &o->changes[i];
			jc_buf_printf(&b, "<tr class=\"%s\"><td>", !c->old_version ? "add" : !c->new_version ? "del" : "chg");
			esc(&b, c->package);
			jc_buf_puts(&b, "</td><td>");
			esc(&b, c->old_version ? c->old_version : "-");
			jc_buf_puts(&b, "</td><td>");
			esc(&b, c->new_version ? c->new_version : "-");
			jc_buf_puts(&b, "</td></tr>\n");
		}
		if (!o->n_changes)
			jc_buf_puts(&b, "<tr><td colspan=\"3\">no package changed</td></tr>\n");
		jc_buf_puts(&b, "</table>\n");
	}
	jc_buf_printf(&b, "<p class=\"meta\">written by jcicd %s</p>\n</body></html>\n", PACKAGE_VERSION);
	rc = jc_file_write_atomic(path, b.data, b.len, 0644, err);
	jc_buf_free(&b);
	return rc;
}
