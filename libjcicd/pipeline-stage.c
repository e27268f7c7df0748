/*
 * pipeline-stage.c - one stage of the pipeline for one snapshot: make its
 * stack exist, bring the nodes to the snapshot through the version protocol,
 * test or measure, judge, record, tear down.
 */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jcicd/apply.h"
#include "jcicd/cloud.h"
#include "jcicd/kv.h"
#include "jcicd/orchestrate.h"
#include "jcicd/snapshot.h"
#include "jcicd/spec.h"
#include "pipeline-internal.h"

struct stage_ctx {
	const jc_pipeline *p;
	const jc_stage_def *def;
	const jc_stage_options *o;
	long snapshot;
	long from_snapshot;
	jc_store *store;
	char *state_dir;
	long record;
	char *tag;
	char *log_path;
	char *junit_path;
	jc_logger log;                /* the caller's, and the stage log file */
	const jc_logger *user_log;
	FILE *log_file;
	jc_snapshot_config *scfg;
	jc_snapshots *snaps;
	char *snapshots_url;          /* what nodes use as APT base URL */
	jc_spec *spec;
	jc_cloud *cloud;
	jc_orch_settings os;
	bool os_loaded;
	jc_kv *kv;
	jc_orch *orch;
	jc_strv hosts;                /* the stack's hostnames */
	char *ssh_config_path;
	bool stack_made;
};

/* ---- the stage log: every line the stage logs also goes to its file */

static void tee(const jc_log_event *ev, void *payload)
{
	struct stage_ctx *c = payload;
	if (c->user_log && c->user_log->fn && (ev->kind == JC_LOG_PROGRESS || ev->level >= c->user_log->level))
		c->user_log->fn(ev, c->user_log->payload);
	if (c->log_file && ev->kind == JC_LOG_LINE) {
		char when[32];
		fprintf(c->log_file, "%s [%s] %s\n", jc_iso8601(jc_wall_ms() / 1000, when, sizeof(when)),
			ev->module ? ev->module : "jcicd", ev->message);
		fflush(c->log_file);
	}
}

/* ---- what the stage needs from the rest of jcicd */

static int prerequisites(struct stage_ctx *c, jc_error *err)
{
	for (size_t i = 0; i < jc_pipeline_stage_count(c->p); i++) {
		const jc_stage_def *d = jc_pipeline_stage(c->p, i);
		bool passed;
		int rc;
		if (d == c->def)
			break;
		if ((rc = jc_precords_passed(c->store, c->snapshot, d->name, &passed, err)) < 0)
			return rc;
		if (!passed)
			return jc_err(err, JC_EINVALID,
				      "snapshot %ld has not passed stage %s, which comes before %s: run "
				      "`jcicd stage %s --snapshot %ld` first",
				      c->snapshot, d->name, c->def->name, d->name, c->snapshot);
	}
	if (c->def->requires_approval) {
		bool approved;
		char *who = NULL;
		int rc;
		if (c->o->approved_by &&
		    (rc = jc_pipeline_approve(c->store, c->snapshot, c->def->name, c->o->approved_by,
					      c->o->approval_reason, err)) < 0)
			return rc;
		if ((rc = jc_precords_approved(c->store, c->snapshot, c->def->name, &approved, &who, err)) < 0)
			return rc;
		if (!approved)
			return jc_err(err, JC_EINVALID,
				      "stage %s needs an approval for snapshot %ld: `jcicd approve --snapshot %ld "
				      "--stage %s --who NAME`, or --approved-by NAME",
				      c->def->name, c->snapshot, c->snapshot, c->def->name);
		jc_log(&c->log, JC_LOG_INFO, "stage", "snapshot %ld approved for %s by %s", c->snapshot, c->def->name,
		       who);
		free(who);
	}
	return 0;
}

/* The snapshot module, when snapshots are configured: the snapshot must
 * exist, and its URL is what the nodes point APT at. */
static int open_snapshots(struct stage_ctx *c, jc_error *err)
{
	jc_snapshot_options so;
	jc_snapshot_info *info = NULL;
	int rc = jc_snapshot_config_load(&c->scfg, c->o->config, err);
	if (rc < 0)
		return rc;
	so = *jc_snapshot_config_options(c->scfg);
	so.state_dir = c->state_dir;
	so.logger = &c->log;
	if (!so.publish_root) {
		jc_log(&c->log, JC_LOG_NOTICE, "stage",
		       "no snapshots are configured (snapshots.publish_root): %ld is a version label only", c->snapshot);
		return 0;
	}
	if ((rc = jc_snapshot_open(&c->snaps, &so, err)) < 0)
		return rc;
	if ((rc = jc_snapshot_show(&info, c->snaps, c->snapshot, err)) < 0)
		return rc;
	jc_snapshot_info_free(info, 1);
	if (jc_pipeline_snapshots_url(c->p))
		c->snapshots_url = jc_strdup(jc_pipeline_snapshots_url(c->p));
	else if (so.base_url)
		c->snapshots_url = jc_strdup(so.base_url);
	else
		c->snapshots_url = jc_sprintf("file://%s", so.publish_root);
	return 0;
}

static int open_kv(struct stage_ctx *c, jc_error *err)
{
	jc_orch_options oo = JC_ORCH_OPTIONS_INIT;
	char *prefix;
	int rc;
	if ((rc = jc_orch_settings_load(&c->os, c->o->config, c->state_dir, err)) < 0)
		return rc;
	c->os_loaded = true;
	if ((rc = jc_orch_settings_open_kv(&c->kv, &c->os, &c->log, err)) < 0)
		return rc;
	/* one key space per stack: stacks of different stages never mix */
	prefix = jc_sprintf("%sstacks/%s/", c->os.prefix ? c->os.prefix : "/jcicd/", c->tag);
	oo.prefix = prefix;
	oo.logger = &c->log;
	rc = jc_orch_open(&c->orch, c->kv, &oo, err);
	free(prefix);
	return rc;
}

static char *version_label(long n)
{
	return jc_sprintf("%ld", n);
}

/* Builds the stack (apply is idempotent: a long-lived stack is kept). */
static int make_stack(struct stage_ctx *c, long version, jc_error *err)
{
	jc_spec_options so = JC_SPEC_OPTIONS_INIT;
	jc_mappings *m = NULL;
	jc_cloud_options co = JC_CLOUD_OPTIONS_INIT;
	jc_apply_options ao = JC_APPLY_OPTIONS_INIT;
	jc_instance *inst = NULL;
	size_t n = 0;
	char *label = version_label(version);
	int rc;

	if (c->def->mappings && (rc = jc_mappings_load(&m, c->def->mappings, err)) < 0)
		goto out;
	so.mappings = m;
	so.overrides = c->def->overrides;
	if ((rc = jc_spec_load(&c->spec, c->def->spec, &so, err)) < 0)
		goto out;
	if ((rc = jc_spec_instances(c->spec, c->tag, &inst, &n, err)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		jc_strv_push(&c->hosts, inst[i].hostname);
	co.state_dir = c->state_dir;
	co.logger = &c->log;
	if ((rc = jc_cloud_open(&c->cloud, c->def->cloud ? c->def->cloud : "local", &co, err)) < 0)
		goto out;
	ao.tag = c->tag;
	ao.userdata_path = c->def->userdata;
	ao.version_label = label;
	ao.key_name = c->def->key_name;
	ao.timeout_ms = c->def->apply_timeout_ms;
	ao.logger = &c->log;
	jc_log(&c->log, JC_LOG_INFO, "stage", "%s: stack %s (%zu servers) on cloud %s", c->def->name, c->tag, n,
	       jc_cloud_name(c->cloud));
	c->stack_made = true;
	rc = jc_apply_run(NULL, c->cloud, c->spec, &ao, err);
	if (rc < 0)
		jc_err_prefix(err, "building stack %s", c->tag);
out:
	jc_instances_free(inst, n);
	jc_mappings_free(m);
	free(label);
	return rc;
}

/* Sets the desired version and waits for every node to run it, healthy. */
static int converge(struct stage_ctx *c, long version, jc_error *err)
{
	jc_wait_result wr;
	char *label = version_label(version);
	int rc;

	memset(&wr, 0, sizeof(wr));
	jc_log(&c->log, JC_LOG_INFO, "stage", "desired version of %s: %s; waiting for %zu nodes", c->tag, label,
	       c->hosts.n);
	if ((rc = jc_orch_trigger_update(c->orch, label, err)) == 0)
		rc = jc_orch_wait_hosts(&wr, c->orch, label, (const char *const *)c->hosts.v, c->hosts.n,
					c->def->converge_timeout_ms, 0, err);
	if (rc == JC_ETIMEOUT || rc == JC_EFAILED) {
		jc_buf b = JC_BUF_INIT;
		for (size_t i = 0; i < wr.n_failed; i++)
			jc_buf_printf(&b, "%s%s", b.len ? "; " : "", wr.fail_why[i]);
		for (size_t i = 0; i < wr.n_lagging; i++)
			jc_buf_printf(&b, "%s%s", b.len ? "; " : "", wr.lag_why[i]);
		rc = jc_err(err, JC_EFAILED, "nodes did not converge to %s: %s", label, jc_buf_cstr(&b));
		jc_buf_free(&b);
	}
	jc_wait_result_clear(&wr);
	free(label);
	return rc;
}

/* Waits until every node of the stack has registered (its agent started):
 * a rollout gates hosts it knows of, so it must know them all. */
static int wait_registered(struct stage_ctx *c, jc_error *err)
{
	int64_t deadline = jc_now_ms() + c->def->converge_timeout_ms;
	for (;;) {
		size_t alive = 0;
		jc_buf missing = JC_BUF_INIT;
		bool changed;
		int rc = jc_orch_refresh(c->orch, err);
		if (rc < 0)
			return rc;
		for (size_t i = 0; i < c->hosts.n; i++) {
			const jc_host *h = jc_orch_host_find(c->orch, c->hosts.v[i]);
			if (h && h->alive)
				alive++;
			else
				jc_buf_printf(&missing, "%s%s", missing.len ? ", " : "", c->hosts.v[i]);
		}
		jc_progress(&c->log, "stage", "nodes registered", (long)alive, (long)c->hosts.n);
		if (alive == c->hosts.n) {
			jc_buf_free(&missing);
			return 0;
		}
		if (jc_now_ms() >= deadline) {
			rc = jc_err(err, JC_EFAILED, "%zu of %zu nodes of %s never registered (their agent did not "
				    "start?): %s", c->hosts.n - alive, c->hosts.n, c->tag, jc_buf_cstr(&missing));
			jc_buf_free(&missing);
			return rc;
		}
		jc_buf_free(&missing);
		rc = jc_orch_wait_change(c->orch, 1000, &changed, err);
		if (rc < 0)
			return rc;
	}
}

static int rollout(struct stage_ctx *c, long version, jc_error *err)
{
	jc_rollout_options ro = JC_ROLLOUT_OPTIONS_INIT;
	char *label = version_label(version);
	int rc;
	ro.waves = c->def->waves;
	ro.max_failures = c->def->max_failures;
	ro.wave_timeout_ms = c->def->converge_timeout_ms;
	ro.roles = (const char *const *)c->os.roles;
	ro.deps = (const char *const *)c->os.deps;
	ro.n_roles = c->os.n_roles;
	jc_log(&c->log, JC_LOG_INFO, "stage", "rolling %s out to %s in waves %s", label, c->tag, c->def->waves);
	rc = jc_rollout_start(c->orch, label, &ro, err);
	if (rc == JC_ELOCKED) {
		/* a rollout of this very version stopped half-way (an earlier run
		 * of this stage died): carry it on instead of starting over */
		char *status = NULL;
		char *want = jc_sprintf("\"version\":\"%s\"", label);
		if (jc_rollout_status(&status, c->orch, NULL) == 0 && strstr(status, want)) {
			jc_log(&c->log, JC_LOG_NOTICE, "stage", "resuming the rollout of %s to %s", label, c->tag);
			rc = jc_rollout_resume(c->orch, &ro, err);
		}
		free(status);
		free(want);
	}
	if (rc < 0)
		jc_err_prefix(err, "rollout of %s to stack %s", label, c->tag);
	free(label);
	return rc;
}

/* What the stage's commands see of the stack. */
static void stage_env(struct stage_ctx *c, jc_strv *env)
{
	jc_buf hosts = JC_BUF_INIT;
	for (size_t i = 0; i < c->hosts.n; i++)
		jc_buf_printf(&hosts, "%s%s", i ? " " : "", c->hosts.v[i]);
	jc_strv_push_owned(env, jc_sprintf("JCICD_SNAPSHOT=%ld", c->snapshot));
	jc_strv_push_owned(env, jc_sprintf("JCICD_FROM_SNAPSHOT=%ld", c->from_snapshot));
	jc_strv_push_owned(env, jc_sprintf("JCICD_STAGE=%s", c->def->name));
	jc_strv_push_owned(env, jc_sprintf("JCICD_TAG=%s", c->tag));
	jc_strv_push_owned(env, jc_sprintf("JCICD_HOSTS=%s", jc_buf_cstr(&hosts)));
	jc_strv_push_owned(env, jc_sprintf("JCICD_STATE_DIR=%s", c->state_dir));
	jc_strv_push_owned(env, jc_sprintf("JCICD_SPEC=%s", c->def->spec));
	if (c->ssh_config_path)
		jc_strv_push_owned(env, jc_sprintf("JCICD_SSH_CONFIG=%s", c->ssh_config_path));
	if (c->os_loaded) {
		jc_strv_push_owned(env, jc_sprintf("JCICD_KV=%s", c->os.kv_url));
		jc_strv_push_owned(env, jc_sprintf("JCICD_KV_PREFIX=%sstacks/%s/", c->os.prefix ? c->os.prefix : "/jcicd/",
						   c->tag));
	}
	if (c->snapshots_url)
		jc_strv_push_owned(env, jc_sprintf("JCICD_SNAPSHOTS_URL=%s", c->snapshots_url));
	jc_buf_free(&hosts);
}

static int write_ssh_config(struct stage_ctx *c, jc_error *err)
{
	jc_server_list *l = NULL;
	char *text = NULL;
	int rc = jc_stack_status(&l, c->cloud, c->tag, c->spec, err);
	if (rc == 0)
		rc = jc_stack_ssh_config(&text, l, NULL, err);
	if (rc == 0) {
		c->ssh_config_path = jc_sprintf("%s/pipeline/%s_ssh_config", c->state_dir, c->tag);
		rc = jc_file_write_atomic(c->ssh_config_path, text, strlen(text), 0644, err);
	}
	free(text);
	jc_server_list_free(l);
	return rc;
}

static void teardown(struct stage_ctx *c, bool failed)
{
	jc_delete_options dopt = JC_DELETE_OPTIONS_INIT;
	jc_error err;
	size_t n;
	if (!c->cloud || c->def->kind == JC_STAGE_ROLLOUT || !c->stack_made)
		return;
	if (failed && (c->def->keep_on_failure || c->o->keep_on_failure)) {
		jc_log(&c->log, JC_LOG_NOTICE, "stage", "keeping stack %s for inspection (keep on failure); delete it "
		       "with `jcicd delete --tag %s`", c->tag, c->tag);
		return;
	}
	dopt.timeout_ms = c->def->teardown_timeout_ms;
	dopt.logger = &c->log;
	if (jc_stack_delete(c->cloud, c->tag, &dopt, &n, &err) < 0)
		jc_log(&c->log, JC_LOG_WARN, "stage", "teardown of %s failed: %s", c->tag, err.message);
	else
		jc_log(&c->log, JC_LOG_INFO, "stage", "stack %s torn down (%zu servers)", c->tag, n);
	/* the stack's keys went with its nodes' leases; drop what is left */
	if (c->kv) {
		char *prefix = jc_sprintf("%sstacks/%s/", c->os.prefix ? c->os.prefix : "/jcicd/", c->tag);
		jc_kv_delete(c->kv, prefix, true, NULL, NULL);
		free(prefix);
	}
}

/* The newest snapshot below this one that passed every stage up to and
 * including this one: what upgrade starts from. */
static int last_good_below(struct stage_ctx *c, long *out, jc_error *err)
{
	sqlite3_stmt *st;
	int rc;
	*out = 0;
	rc = jc_store_prepare(c->store, &st,
			      "SELECT DISTINCT snapshot FROM stage_runs WHERE stage = ? AND verdict IN"
			      " ('passed', 'skipped') AND snapshot < ? ORDER BY snapshot DESC", err);
	if (rc < 0)
		return rc;
	sqlite3_bind_text(st, 1, c->def->name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, c->snapshot);
	while (*out == 0 && rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		long snap = (long)sqlite3_column_int64(st, 0);
		bool all = true;
		for (size_t i = 0; i < jc_pipeline_stage_count(c->p) && all && rc == 0; i++) {
			const jc_stage_def *d = jc_pipeline_stage(c->p, i);
			if (d == c->def)
				break;
			rc = jc_precords_passed(c->store, snap, d->name, &all, err);
		}
		if (rc == 0 && all)
			*out = snap;
	}
	sqlite3_finalize(st);
	return rc;
}

static void ctx_free(struct stage_ctx *c)
{
	jc_orch_free(c->orch);
	jc_kv_free(c->kv);
	if (c->os_loaded)
		jc_orch_settings_clear(&c->os);
	jc_cloud_free(c->cloud);
	jc_spec_free(c->spec);
	jc_snapshot_free(c->snaps);
	jc_snapshot_config_free(c->scfg);
	jc_store_free(c->store);
	if (c->log_file)
		fclose(c->log_file);
	jc_strv_free(&c->hosts);
	free(c->snapshots_url);
	free(c->ssh_config_path);
	free(c->state_dir);
	free(c->tag);
	free(c->log_path);
	free(c->junit_path);
}

static void set_outcome(jc_stage_outcome *out, const struct stage_ctx *c, jc_verdict v, const char *msg)
{
	out->record = c->record;
	out->verdict = v;
	out->from_snapshot = c->from_snapshot;
	jc_strlcpy(out->tag, c->tag ? c->tag : "", sizeof(out->tag));
	jc_strlcpy(out->message, msg ? msg : "", sizeof(out->message));
	jc_strlcpy(out->junit_path, c->junit_path ? c->junit_path : "", sizeof(out->junit_path));
	jc_strlcpy(out->log_path, c->log_path ? c->log_path : "", sizeof(out->log_path));
}

/* Judges the stage: runs the tests (and measurements), records them. */
static int judge(struct stage_ctx *c, jc_verdict *verdict, jc_buf *why, jc_error *err)
{
	jc_strv env = JC_STRV_INIT;
	jc_stage_env se;
	bool tests_ok = true, measures_ok = true;
	int rc = 0;

	stage_env(c, &env);
	memset(&se, 0, sizeof(se));
	se.cwd = jc_pipeline_dir(c->p);
	se.env = (const char *const *)env.v;
	se.n_env = env.n;
	se.log_path = c->log_path;
	se.logger = &c->log;
	se.deadline_ms = jc_now_ms() + c->def->tests_timeout_ms;
	if (c->def->n_tests) {
		jc_test_result *tr = NULL;
		size_t nt = 0, failed = 0;
		rc = jc_stage_run_tests(c->def, &se, &tr, &nt, &tests_ok, err);
		for (size_t i = 0; rc == 0 && i < nt; i++) {
			rc = jc_precords_add_test(c->store, c->record, &tr[i], err);
			failed += tr[i].verdict != JC_VERDICT_PASSED;
		}
		if (!tests_ok)
			jc_buf_printf(why, "%zu of %zu tests failed", failed, nt);
		jc_test_results_free(tr, nt);
	}
	if (rc == 0 && c->def->n_measurements) {
		jc_measure_result *mr = NULL;
		size_t nm = 0;
		rc = jc_stage_run_measurements(c->store, c->def, c->snapshot, &se, &mr, &nm, &measures_ok, err);
		for (size_t i = 0; rc == 0 && i < nm; i++) {
			rc = jc_precords_add_measure(c->store, c->record, &mr[i], err);
			if (mr[i].verdict != JC_VERDICT_PASSED)
				jc_buf_printf(why, "%s%s %s (%g%s%s)", why->len ? "; " : "", mr[i].name,
					      mr[i].verdict == JC_VERDICT_FAILED ? "regressed" : "gave no value", mr[i].value,
					      mr[i].unit ? " " : "", mr[i].unit ? mr[i].unit : "");
		}
		jc_measure_results_free(mr, nm);
	}
	jc_strv_free(&env);
	*verdict = tests_ok && measures_ok ? JC_VERDICT_PASSED : JC_VERDICT_FAILED;
	return rc;
}

/* The part of the stage between its record and its verdict. */
static int execute(struct stage_ctx *c, jc_verdict *verdict, jc_buf *why, jc_error *err)
{
	int rc;
	long version = c->snapshot;

	if (c->def->kind == JC_STAGE_UPGRADE) {
		if ((rc = last_good_below(c, &c->from_snapshot, err)) < 0)
			return rc;
		if (!c->from_snapshot) {
			*verdict = JC_VERDICT_SKIPPED;
			jc_buf_printf(why, "no earlier good snapshot to upgrade from");
			jc_log(&c->log, JC_LOG_NOTICE, "stage", "upgrade: skipped, %s", jc_buf_cstr(why));
			return 0;
		}
		version = c->from_snapshot;
		jc_log(&c->log, JC_LOG_INFO, "stage", "upgrade: from the last good snapshot %ld to %ld",
		       c->from_snapshot, c->snapshot);
	}
	if ((rc = open_kv(c, err)) < 0 || (rc = make_stack(c, version, err)) < 0)
		return rc;
	if (c->def->kind == JC_STAGE_ROLLOUT) {
		rc = wait_registered(c, err);
		if (rc == 0)
			rc = rollout(c, c->snapshot, err);
	} else {
		rc = converge(c, version, err);
		if (rc == 0 && c->def->kind == JC_STAGE_UPGRADE)
			rc = rollout(c, c->snapshot, err);
	}
	if (rc == JC_EFAILED || rc == JC_ETIMEOUT) {
		/* the nodes could not take the snapshot: that is a verdict */
		*verdict = JC_VERDICT_FAILED;
		jc_buf_puts(why, err->message);
		return 0;
	}
	if (rc < 0)
		return rc;
	if ((rc = write_ssh_config(c, err)) < 0)
		return rc;
	return judge(c, verdict, why, err);
}

int jc_stage_run(jc_stage_outcome *out, const jc_pipeline *p, const char *stage, long snapshot,
		 const jc_stage_options *opts, jc_error *err)
{
	struct stage_ctx c;
	jc_stage_options defaults = JC_STAGE_OPTIONS_INIT;
	jc_store_options so = JC_STORE_OPTIONS_INIT;
	jc_verdict verdict = JC_VERDICT_ERROR;
	jc_buf why = JC_BUF_INIT;
	jc_error run_err;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	jc_error_clear(&run_err);
	if (!opts)
		opts = &defaults;
	if (opts->version != JC_STAGE_OPTIONS_VERSION)
		return jc_err(err, JC_EINVALID, "jc_stage_options version %u is not supported", opts->version);
	if (snapshot <= 0)
		return jc_err(err, JC_EINVALID, "a snapshot is a positive number, not %ld", snapshot);
	if (opts->tag && (rc = jc_tag_check(opts->tag, err)) < 0)
		return rc;
	c.p = p;
	c.o = opts;
	c.snapshot = snapshot;
	c.user_log = opts->logger;
	c.log.fn = tee;
	c.log.payload = &c;
	c.log.level = JC_LOG_DEBUG;
	if (!(c.def = jc_pipeline_stage_find(p, stage, err)))
		return JC_EINVALID;
	c.state_dir = jc_state_dir_resolve(opts->state_dir);
	so.logger = &c.log;
	if ((rc = jc_store_open(&c.store, c.state_dir, &so, err)) < 0 ||
	    (rc = jc_precords_migrate(c.store, err)) < 0 ||
	    (rc = prerequisites(&c, err)) < 0 ||
	    (rc = open_snapshots(&c, err)) < 0) {
		ctx_free(&c);
		return rc;
	}

	/* from here on there is a record, and every outcome is written to it */
	char *dir = jc_path_join(c.state_dir, "pipeline");
	if ((rc = jc_mkdir_p(dir, 0755, err)) < 0) {
		free(dir);
		ctx_free(&c);
		return rc;
	}
	if ((rc = jc_precords_stage_begin(c.store, opts->run_id, c.def->name, snapshot, 0, NULL, NULL, &c.record,
					  err)) < 0) {
		free(dir);
		ctx_free(&c);
		return rc;
	}
	c.tag = c.def->stack ? jc_strdup(c.def->stack) :
		opts->tag ? jc_strdup(opts->tag) : jc_sprintf("%s-%ld-%ld", c.def->name, snapshot, c.record);
	c.log_path = jc_sprintf("%s/%s-%ld-%ld.log", dir, c.def->name, snapshot, c.record);
	c.junit_path = opts->junit_path ? jc_strdup(opts->junit_path) :
		       jc_sprintf("%s/%s-%ld-%ld.xml", dir, c.def->name, snapshot, c.record);
	free(dir);
	c.log_file = fopen(c.log_path, "a");
	{
		sqlite3_stmt *st;
		if (jc_store_prepare(c.store, &st, "UPDATE stage_runs SET tag = ?, log_path = ? WHERE id = ?", NULL) == 0) {
			sqlite3_bind_text(st, 1, c.tag, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 2, c.log_path, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(st, 3, c.record);
			sqlite3_step(st);
			sqlite3_finalize(st);
		}
	}
	jc_log(&c.log, JC_LOG_INFO, "stage", "%s (%s) for snapshot %ld: record %ld, stack %s", c.def->name,
	       jc_stage_kind_name(c.def->kind), snapshot, c.record, c.tag);

	rc = execute(&c, &verdict, &why, &run_err);
	if (rc < 0) {
		verdict = JC_VERDICT_ERROR;
		jc_buf_clear(&why);
		jc_buf_puts(&why, run_err.message);
	}
	teardown(&c, verdict != JC_VERDICT_PASSED && verdict != JC_VERDICT_SKIPPED);
	/* a stage skipped as not applicable (the first snapshot has nothing to
	 * upgrade from) does not hold the pointer back: otherwise the first
	 * snapshot would reach stable without ever being testing */
	if ((verdict == JC_VERDICT_PASSED || verdict == JC_VERDICT_SKIPPED) && c.def->promote && c.snaps) {
		jc_error perr;
		char *reason = jc_sprintf("%s stage %s (record %ld)", jc_verdict_name(verdict), c.def->name, c.record);
		if (jc_snapshot_promote(NULL, c.snaps, snapshot, c.def->promote, "jcicd pipeline", reason, &perr) < 0) {
			verdict = JC_VERDICT_ERROR;
			jc_buf_printf(&why, "%spromoting to %s failed: %s", why.len ? "; " : "", c.def->promote, perr.message);
			if (rc == 0) {
				jc_err_copy(&run_err, &perr);
				rc = perr.code;
			}
		} else {
			jc_log(&c.log, JC_LOG_INFO, "stage", "snapshot %ld promoted to %s", snapshot, c.def->promote);
		}
		free(reason);
	}
	jc_log(&c.log, verdict == JC_VERDICT_PASSED || verdict == JC_VERDICT_SKIPPED ? JC_LOG_INFO : JC_LOG_WARN,
	       "stage", "%s for snapshot %ld: %s%s%s", c.def->name, snapshot, jc_verdict_name(verdict),
	       why.len ? ": " : "", jc_buf_cstr(&why));

	jc_error ferr;
	{
		sqlite3_stmt *st;
		if (jc_store_prepare(c.store, &st, "UPDATE stage_runs SET from_snapshot = ? WHERE id = ?", NULL) == 0) {
			sqlite3_bind_int64(st, 1, c.from_snapshot);
			sqlite3_bind_int64(st, 2, c.record);
			sqlite3_step(st);
			sqlite3_finalize(st);
		}
	}
	if (jc_precords_stage_finish(c.store, c.record, verdict, why.len ? why.data : NULL, c.junit_path, &ferr) == 0) {
		jc_stage_record rec;
		if (jc_precords_get(c.store, c.record, &rec, &ferr) == 0) {
			if (jc_junit_write(&rec, c.junit_path, &ferr) < 0)
				jc_log(&c.log, JC_LOG_WARN, "stage", "%s", ferr.message);
			jc_stage_record_clear(&rec);
		}
	}
	set_outcome(out, &c, verdict, jc_buf_cstr(&why));
	if (rc < 0)
		jc_err_copy(err, &run_err);
	jc_buf_free(&why);
	ctx_free(&c);
	return rc;
}

int jc_pipeline_run(long *run_id, jc_verdict *verdict, const jc_pipeline *p, long snapshot,
		    const jc_stage_options *opts, jc_error *err)
{
	jc_stage_options so = opts ? *opts : (jc_stage_options)JC_STAGE_OPTIONS_INIT;
	jc_store *store = NULL;
	char *state_dir = jc_state_dir_resolve(so.state_dir);
	int rc;

	*run_id = 0;
	*verdict = JC_VERDICT_ERROR;
	rc = jc_store_open(&store, state_dir, NULL, err);
	if (rc == 0)
		rc = jc_precords_migrate(store, err);
	if (rc == 0)
		rc = jc_precords_run_begin(store, snapshot, run_id, err);
	if (rc < 0) {
		jc_store_free(store);
		free(state_dir);
		return rc;
	}
	so.run_id = *run_id;
	so.junit_path = NULL;  /* one file per stage */
	*verdict = JC_VERDICT_PASSED;
	for (size_t i = 0; i < jc_pipeline_stage_count(p); i++) {
		const jc_stage_def *d = jc_pipeline_stage(p, i);
		jc_stage_outcome out;
		jc_progress(so.logger, "pipeline", "stages passed", (long)i, (long)jc_pipeline_stage_count(p));
		rc = jc_stage_run(&out, p, d->name, snapshot, &so, err);
		if (rc < 0) {
			*verdict = JC_VERDICT_ERROR;
			break;
		}
		if (out.verdict != JC_VERDICT_PASSED && out.verdict != JC_VERDICT_SKIPPED) {
			*verdict = out.verdict;
			break;
		}
	}
	jc_precords_run_finish(store, *run_id, *verdict, NULL);
	jc_store_free(store);
	free(state_dir);
	return rc;
}

int jc_pipeline_promote(const jc_pipeline *p, const jc_config *config, const char *state_dir, long snapshot,
			const char *pointer, const char *who, const char *why, const jc_logger *logger, jc_error *err)
{
	jc_store *store = NULL;
	jc_snapshot_config *scfg = NULL;
	jc_snapshots *snaps = NULL;
	jc_snapshot_options so;
	const jc_stage_def *gate = NULL;
	char *dir = jc_state_dir_resolve(state_dir);
	int rc;

	for (size_t i = 0; i < jc_pipeline_stage_count(p) && !gate; i++)
		if (jc_pipeline_stage(p, i)->promote && strcmp(jc_pipeline_stage(p, i)->promote, pointer) == 0)
			gate = jc_pipeline_stage(p, i);
	if (!gate) {
		free(dir);
		return jc_err(err, JC_EINVALID, "no stage of the pipeline promotes to \"%s\" (set promote: %s on the "
			      "stage that must pass first)", pointer, pointer);
	}
	rc = jc_store_open(&store, dir, NULL, err);
	if (rc == 0)
		rc = jc_precords_migrate(store, err);
	for (size_t i = 0; rc == 0 && i < jc_pipeline_stage_count(p); i++) {
		const jc_stage_def *d = jc_pipeline_stage(p, i);
		bool passed;
		if ((rc = jc_precords_passed(store, snapshot, d->name, &passed, err)) < 0)
			break;
		if (!passed) {
			rc = jc_err(err, JC_EINVALID, "snapshot %ld cannot go to %s: it has not passed stage %s", snapshot,
				    pointer, d->name);
			break;
		}
		if (d == gate)
			break;
	}
	if (rc == 0)
		rc = jc_snapshot_config_load(&scfg, config, err);
	if (rc == 0) {
		so = *jc_snapshot_config_options(scfg);
		so.state_dir = dir;
		so.logger = logger;
		rc = jc_snapshot_open(&snaps, &so, err);
	}
	if (rc == 0)
		rc = jc_snapshot_promote(NULL, snaps, snapshot, pointer, who ? who : "jcicd", why, err);
	jc_snapshot_free(snaps);
	jc_snapshot_config_free(scfg);
	jc_store_free(store);
	free(dir);
	return rc;
}
