/* pipeline-tests.c - a stage's tests and measurements: run each command with
 * its deadline, keep what it printed, judge it. */
#include "common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline-internal.h"
#include "proc.h"

#define OUTPUT_KEEP (64 * 1024)

static long long effective_timeout(long long own, const jc_stage_env *env)
{
	if (env->deadline_ms > 0) {
		long long left = env->deadline_ms - jc_now_ms();
		if (left < 1)
			left = 1;
		if (!own || left < own)
			return left;
	}
	return own;
}

static int run_one(const char *name, const char *cmd, long long timeout_ms, const jc_stage_env *env,
		   jc_buf *out, jc_proc_result *res, jc_error *err)
{
	jc_proc_options o;
	memset(&o, 0, sizeof(o));
	o.shell = cmd;
	o.cwd = env->cwd;
	o.env = env->env;
	o.n_env = env->n_env;
	o.timeout_ms = effective_timeout(timeout_ms, env);
	o.log_path = env->log_path;
	o.output = out;
	o.max_output = OUTPUT_KEEP;
	jc_log(env->logger, JC_LOG_INFO, "stage", "running %s", name);
	return jc_proc_run(&o, res, err);
}

void jc_test_results_free(jc_test_result *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].name);
		free(v[i].output);
	}
	free(v);
}

int jc_stage_run_tests(const jc_stage_def *def, const jc_stage_env *env, jc_test_result **out, size_t *n_out,
		       bool *all_passed, jc_error *err)
{
	jc_test_result *v = jc_calloc(def->n_tests + 1, sizeof(*v));
	*all_passed = true;
	for (size_t i = 0; i < def->n_tests; i++) {
		const jc_test_def *t = &def->tests[i];
		jc_buf output = JC_BUF_INIT;
		jc_proc_result res;
		jc_error perr;
		v[i].name = jc_strdup(t->name);
		jc_progress(env->logger, "stage", "tests run", (long)i, (long)def->n_tests);
		if (env->deadline_ms > 0 && jc_now_ms() >= env->deadline_ms) {
			v[i].verdict = JC_VERDICT_SKIPPED;
			v[i].output = jc_strdup("not run: the stage's test deadline passed");
			*all_passed = false;
			continue;
		}
		if (run_one(t->name, t->run, t->timeout_ms, env, &output, &res, &perr) < 0) {
			v[i].verdict = JC_VERDICT_ERROR;
			v[i].output = jc_strdup(perr.message);
			*all_passed = false;
			jc_buf_free(&output);
			continue;
		}
		v[i].duration_ms = res.elapsed_ms;
		v[i].exit_code = res.exit_code;
		v[i].timed_out = res.timed_out;
		v[i].verdict = res.exit_code == 0 && !res.timed_out ? JC_VERDICT_PASSED : JC_VERDICT_FAILED;
		v[i].output = jc_buf_detach(&output);
		if (v[i].verdict != JC_VERDICT_PASSED) {
			*all_passed = false;
			jc_log(env->logger, JC_LOG_WARN, "stage", "test %s failed (%s)", t->name,
			       res.timed_out ? "timed out" : "non-zero exit status");
		}
	}
	jc_progress(env->logger, "stage", "tests run", (long)def->n_tests, (long)def->n_tests);
	*out = v;
	*n_out = def->n_tests;
	(void)err;
	return 0;
}

jc_verdict jc_measure_judge(double value, bool has_baseline, double baseline, double threshold_pct,
			    bool lower_is_better, double *change_pct)
{
	double change;
	*change_pct = 0;
	if (!has_baseline)
		return JC_VERDICT_PASSED;   /* the first good run sets the baseline */
	if (baseline == 0) {
		/* no relative change from zero: any move the wrong way regresses */
		*change_pct = value == 0 ? 0 : (lower_is_better == (value > 0) ? INFINITY : -INFINITY);
		return (lower_is_better ? value <= 0 : value >= 0) ? JC_VERDICT_PASSED : JC_VERDICT_FAILED;
	}
	change = (value - baseline) / fabs(baseline) * 100.0;
	*change_pct = change;
	/* a regression is a change the wrong way by more than the threshold */
	if (lower_is_better ? change > threshold_pct : -change > threshold_pct)
		return JC_VERDICT_FAILED;
	return JC_VERDICT_PASSED;
}

/* The value is the first number on the last line that has one. */
static bool parse_value(const char *output, double *value)
{
	const char *end = output + strlen(output);
	while (end > output) {
		const char *line = end;
		while (line > output && line[-1] != '\n')
			line--;
		char *stop;
		const char *p = line;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		double v = strtod(p, &stop);
		if (stop != p && isfinite(v)) {
			*value = v;
			return true;
		}
		end = line > output ? line - 1 : output;
	}
	return false;
}

void jc_measure_results_free(jc_measure_result *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].name);
		free(v[i].unit);
		free(v[i].output);
	}
	free(v);
}

int jc_stage_run_measurements(jc_store *store, const jc_stage_def *def, long snapshot, const jc_stage_env *env,
			      jc_measure_result **out, size_t *n_out, bool *all_passed, jc_error *err)
{
	jc_measure_result *v = jc_calloc(def->n_measurements + 1, sizeof(*v));
	int rc = 0;
	*all_passed = true;
	for (size_t i = 0; i < def->n_measurements && rc == 0; i++) {
		const jc_measure_def *m = &def->measurements[i];
		jc_measure_result *r = &v[i];
		jc_buf output = JC_BUF_INIT;
		jc_proc_result res;
		jc_error perr;
		double change;
		r->name = jc_strdup(m->name);
		r->unit = jc_strdup(m->unit);
		r->threshold_pct = m->threshold_pct;
		r->lower_is_better = m->lower_is_better;
		jc_progress(env->logger, "stage", "measurements taken", (long)i, (long)def->n_measurements);
		if (run_one(m->name, m->run, m->timeout_ms, env, &output, &res, &perr) < 0) {
			r->verdict = JC_VERDICT_ERROR;
			r->output = jc_strdup(perr.message);
			*all_passed = false;
			jc_buf_free(&output);
			continue;
		}
		r->output = jc_buf_detach(&output);
		if (res.exit_code != 0 || res.timed_out || !parse_value(r->output, &r->value)) {
			r->verdict = JC_VERDICT_ERROR;
			*all_passed = false;
			jc_log(env->logger, JC_LOG_WARN, "stage", "measurement %s gave no value (%s)", m->name,
			       res.timed_out ? "timed out" : res.exit_code ? "non-zero exit status" :
			       "no number in its output");
			continue;
		}
		rc = jc_precords_baseline(store, def->name, m->name, snapshot, &r->baseline, &r->baseline_snapshot,
					  &r->has_baseline, err);
		r->verdict = jc_measure_judge(r->value, r->has_baseline, r->baseline, m->threshold_pct,
					      m->lower_is_better, &change);
		if (r->has_baseline)
			jc_log(env->logger, r->verdict == JC_VERDICT_PASSED ? JC_LOG_INFO : JC_LOG_WARN, "stage",
			       "%s = %g%s%s, baseline %g (snapshot %ld): %+.1f%% (allowed %g%% %s)", m->name, r->value,
			       m->unit ? " " : "", m->unit ? m->unit : "", r->baseline, r->baseline_snapshot, change,
			       m->threshold_pct, m->lower_is_better ? "up" : "down");
		else
			jc_log(env->logger, JC_LOG_INFO, "stage", "%s = %g%s%s (no baseline yet: this sets it)", m->name,
			       r->value, m->unit ? " " : "", m->unit ? m->unit : "");
		if (r->verdict != JC_VERDICT_PASSED)
			*all_passed = false;
	}
	jc_progress(env->logger, "stage", "measurements taken", (long)def->n_measurements, (long)def->n_measurements);
	*out = v;
	*n_out = def->n_measurements;
	return rc;
}
