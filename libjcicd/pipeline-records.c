/* pipeline-records.c - verdicts, test results, measurements and approvals
 * in the state database. */
#include "common.h"

#include <stdlib.h>
#include <string.h>

#include "pipeline-internal.h"

static const char *const schema[] = {
	"CREATE TABLE pipeline_runs ("
	"  id INTEGER PRIMARY KEY, snapshot INTEGER NOT NULL,"
	"  started_ms INTEGER NOT NULL, finished_ms INTEGER, verdict TEXT NOT NULL);"
	"CREATE TABLE stage_runs ("
	"  id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL DEFAULT 0, stage TEXT NOT NULL,"
	"  snapshot INTEGER NOT NULL, from_snapshot INTEGER NOT NULL DEFAULT 0, tag TEXT,"
	"  verdict TEXT NOT NULL, message TEXT, started_ms INTEGER NOT NULL, finished_ms INTEGER,"
	"  junit_path TEXT, log_path TEXT);"
	"CREATE INDEX stage_runs_snapshot ON stage_runs(snapshot, stage);"
	"CREATE TABLE stage_tests ("
	"  stage_run_id INTEGER NOT NULL REFERENCES stage_runs(id), seq INTEGER NOT NULL,"
	"  name TEXT NOT NULL, verdict TEXT NOT NULL, duration_ms INTEGER, exit_code INTEGER,"
	"  timed_out INTEGER, output TEXT);"
	"CREATE TABLE stage_measurements ("
	"  stage_run_id INTEGER NOT NULL REFERENCES stage_runs(id), seq INTEGER NOT NULL,"
	"  name TEXT NOT NULL, unit TEXT, value REAL, baseline REAL, baseline_snapshot INTEGER,"
	"  threshold_pct REAL, lower_is_better INTEGER, verdict TEXT NOT NULL, output TEXT);"
	"CREATE TABLE stage_approvals ("
	"  snapshot INTEGER NOT NULL, stage TEXT NOT NULL, who TEXT NOT NULL, why TEXT,"
	"  at_ms INTEGER NOT NULL, PRIMARY KEY(snapshot, stage));",
};

int jc_precords_migrate(jc_store *s, jc_error *err)
{
	return jc_store_migrate(s, "pipeline", schema, JC_ARRAY_LEN(schema), err);
}

static jc_verdict verdict_of(const char *s)
{
	for (int v = JC_VERDICT_RUNNING; v <= JC_VERDICT_SKIPPED; v++)
		if (s && strcmp(s, jc_verdict_name((jc_verdict)v)) == 0)
			return (jc_verdict)v;
	return JC_VERDICT_ERROR;
}

/* Runs one statement that changes rows; binds are done by the caller's fn. */
static int step_done(jc_store *s, sqlite3_stmt *st, const char *what, jc_error *err)
{
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : jc_store_error(s, err, what);
	sqlite3_finalize(st);
	return rc;
}

int jc_precords_run_begin(jc_store *s, long snapshot, long *run_id, jc_error *err)
{
	sqlite3_stmt *st;
	int rc = jc_store_prepare(s, &st, "INSERT INTO pipeline_runs(snapshot, started_ms, verdict) VALUES(?, ?, 'running')", err);
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(st, 1, snapshot);
	sqlite3_bind_int64(st, 2, jc_wall_ms());
	rc = step_done(s, st, "recording a pipeline run", err);
	if (rc == 0)
		*run_id = (long)sqlite3_last_insert_rowid(jc_store_db(s));
	return rc;
}

int jc_precords_run_finish(jc_store *s, long run_id, jc_verdict verdict, jc_error *err)
{
	sqlite3_stmt *st;
	int rc = jc_store_prepare(s, &st, "UPDATE pipeline_runs SET verdict = ?, finished_ms = ? WHERE id = ?", err);
	if (rc < 0)
		return rc;
	sqlite3_bind_text(st, 1, jc_verdict_name(verdict), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, jc_wall_ms());
	sqlite3_bind_int64(st, 3, run_id);
	return step_done(s, st, "finishing a pipeline run", err);
}

int jc_precords_stage_begin(jc_store *s, long run_id, const char *stage, long snapshot, long from_snapshot,
			    const char *tag, const char *log_path, long *id, jc_error *err)
{
	sqlite3_stmt *st;
	int rc = jc_store_prepare(s, &st,
				  "INSERT INTO stage_runs(run_id, stage, snapshot, from_snapshot, tag, verdict, started_ms,"
				  " log_path) VALUES(?, ?, ?, ?, ?, 'running', ?, ?)", err);
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_text(st, 2, stage, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, snapshot);
	sqlite3_bind_int64(st, 4, from_snapshot);
	jc_sql_bind_text(st, 5, tag);
	sqlite3_bind_int64(st, 6, jc_wall_ms());
	jc_sql_bind_text(st, 7, log_path);
	rc = step_done(s, st, "recording a stage", err);
	if (rc == 0)
		*id = (long)sqlite3_last_insert_rowid(jc_store_db(s));
	return rc;
}

int jc_precords_stage_finish(jc_store *s, long id, jc_verdict verdict, const char *message,
			     const char *junit_path, jc_error *err)
{
	sqlite3_stmt *st;
	int rc = jc_store_prepare(s, &st,
				  "UPDATE stage_runs SET verdict = ?, message = ?, junit_path = ?, finished_ms = ?"
				  " WHERE id = ?", err);
	if (rc < 0)
		return rc;
	sqlite3_bind_text(st, 1, jc_verdict_name(verdict), -1, SQLITE_STATIC);
	jc_sql_bind_text(st, 2, message);
	jc_sql_bind_text(st, 3, junit_path);
	sqlite3_bind_int64(st, 4, jc_wall_ms());
	sqlite3_bind_int64(st, 5, id);
	return step_done(s, st, "finishing a stage", err);
}

int jc_precords_add_test(jc_store *s, long stage_id, const jc_test_result *t, jc_error *err)
{
	sqlite3_stmt *st;
	int rc = jc_store_prepare(s, &st,
				  "INSERT INTO stage_tests(stage_run_id, seq, name, verdict, duration_ms, exit_code,"
				  " timed_out, output) VALUES(?1, (SELECT count(*) FROM stage_tests WHERE"
				  " stage_run_id = ?1), ?2, ?3, ?4, ?5, ?6, ?7)", err);
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(st, 1, stage_id);
	sqlite3_bind_text(st, 2, t->name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, jc_verdict_name(t->verdict), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, t->duration_ms);
	sqlite3_bind_int(st, 5, t->exit_code);
	sqlite3_bind_int(st, 6, t->timed_out);
	jc_sql_bind_text(st, 7, t->output);
	return step_done(s, st, "recording a test result", err);
}

int jc_precords_add_measure(jc_store *s, long stage_id, const jc_measure_result *m, jc_error *err)
{
	sqlite3_stmt *st;
	int rc = jc_store_prepare(s, &st,
				  "INSERT INTO stage_measurements(stage_run_id, seq, name, unit, value, baseline,"
				  " baseline_snapshot, threshold_pct, lower_is_better, verdict, output) VALUES(?1,"
				  " (SELECT count(*) FROM stage_measurements WHERE stage_run_id = ?1), ?2, ?3, ?4, ?5,"
				  " ?6, ?7, ?8, ?9, ?10)", err);
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(st, 1, stage_id);
	sqlite3_bind_text(st, 2, m->name, -1, SQLITE_TRANSIENT);
	jc_sql_bind_text(st, 3, m->unit);
	sqlite3_bind_double(st, 4, m->value);
	if (m->has_baseline) {
		sqlite3_bind_double(st, 5, m->baseline);
		sqlite3_bind_int64(st, 6, m->baseline_snapshot);
	}
	sqlite3_bind_double(st, 7, m->threshold_pct);
	sqlite3_bind_int(st, 8, m->lower_is_better);
	sqlite3_bind_text(st, 9, jc_verdict_name(m->verdict), -1, SQLITE_STATIC);
	jc_sql_bind_text(st, 10, m->output);
	return step_done(s, st, "recording a measurement", err);
}

int jc_precords_passed(jc_store *s, long snapshot, const char *stage, bool *out, jc_error *err)
{
	sqlite3_stmt *st;
	int rc = jc_store_prepare(s, &st,
				  "SELECT 1 FROM stage_runs WHERE snapshot = ? AND stage = ? AND verdict IN ('passed', 'skipped')"
				  " LIMIT 1",
				  err);
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(st, 1, snapshot);
	sqlite3_bind_text(st, 2, stage, -1, SQLITE_TRANSIENT);
	*out = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return 0;
}

int jc_precords_baseline(jc_store *s, const char *stage, const char *name, long not_snapshot, double *value,
			 long *snapshot, bool *found, jc_error *err)
{
	sqlite3_stmt *st;
	int rc = jc_store_prepare(s, &st,
				  "SELECT m.value, r.snapshot FROM stage_measurements m JOIN stage_runs r"
				  " ON m.stage_run_id = r.id WHERE r.stage = ? AND m.name = ? AND r.verdict = 'passed'"
				  " AND r.snapshot != ? ORDER BY r.snapshot DESC, r.id DESC LIMIT 1", err);
	if (rc < 0)
		return rc;
	sqlite3_bind_text(st, 1, stage, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, not_snapshot);
	*found = false;
	if (sqlite3_step(st) == SQLITE_ROW) {
		*found = true;
		*value = sqlite3_column_double(st, 0);
		*snapshot = (long)sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return 0;
}

int jc_pipeline_approve(jc_store *s, long snapshot, const char *stage, const char *who, const char *why,
			jc_error *err)
{
	sqlite3_stmt *st;
	int rc = jc_precords_migrate(s, err);
	if (rc < 0)
		return rc;
	if (!who || !*who)
		return jc_err(err, JC_EINVALID, "an approval needs the name of who approves (--who)");
	rc = jc_store_prepare(s, &st,
			      "INSERT INTO stage_approvals(snapshot, stage, who, why, at_ms) VALUES(?, ?, ?, ?, ?)"
			      " ON CONFLICT(snapshot, stage) DO UPDATE SET who = excluded.who, why = excluded.why,"
			      " at_ms = excluded.at_ms", err);
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(st, 1, snapshot);
	sqlite3_bind_text(st, 2, stage, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, who, -1, SQLITE_TRANSIENT);
	jc_sql_bind_text(st, 4, why);
	sqlite3_bind_int64(st, 5, jc_wall_ms());
	return step_done(s, st, "recording an approval", err);
}

int jc_precords_approved(jc_store *s, long snapshot, const char *stage, bool *out, char **who, jc_error *err)
{
	sqlite3_stmt *st;
	int rc = jc_store_prepare(s, &st, "SELECT who FROM stage_approvals WHERE snapshot = ? AND stage = ?", err);
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(st, 1, snapshot);
	sqlite3_bind_text(st, 2, stage, -1, SQLITE_TRANSIENT);
	*out = false;
	if (who)
		*who = NULL;
	if (sqlite3_step(st) == SQLITE_ROW) {
		*out = true;
		if (who)
			*who = jc_sql_column_dup(st, 0);
	}
	sqlite3_finalize(st);
	return 0;
}

void jc_stage_record_clear(jc_stage_record *r)
{
	free(r->stage);
	free(r->tag);
	free(r->message);
	free(r->junit_path);
	free(r->log_path);
	for (size_t i = 0; i < r->n_tests; i++) {
		free(r->tests[i].name);
		free(r->tests[i].output);
	}
	free(r->tests);
	for (size_t i = 0; i < r->n_measurements; i++) {
		free(r->measurements[i].name);
		free(r->measurements[i].unit);
		free(r->measurements[i].output);
	}
	free(r->measurements);
	memset(r, 0, sizeof(*r));
}

void jc_stage_records_free(jc_stage_records *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->n; i++)
		jc_stage_record_clear(&rs->v[i]);
	free(rs->v);
	free(rs);
}

static int load_details(jc_store *s, jc_stage_record *r, jc_error *err)
{
	sqlite3_stmt *st;
	int rc = jc_store_prepare(s, &st,
				  "SELECT name, verdict, duration_ms, exit_code, timed_out, output FROM stage_tests"
				  " WHERE stage_run_id = ? ORDER BY seq", err);
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(st, 1, r->id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		r->tests = jc_realloc(r->tests, (r->n_tests + 1) * sizeof(*r->tests));
		jc_test_result *t = &r->tests[r->n_tests++];
		memset(t, 0, sizeof(*t));
		t->name = jc_sql_column_dup(st, 0);
		t->verdict = verdict_of((const char *)sqlite3_column_text(st, 1));
		t->duration_ms = sqlite3_column_int64(st, 2);
		t->exit_code = sqlite3_column_int(st, 3);
		t->timed_out = sqlite3_column_int(st, 4) != 0;
		t->output = jc_sql_column_dup(st, 5);
	}
	sqlite3_finalize(st);
	rc = jc_store_prepare(s, &st,
			      "SELECT name, unit, value, baseline, baseline_snapshot, threshold_pct, lower_is_better,"
			      " verdict, output FROM stage_measurements WHERE stage_run_id = ? ORDER BY seq", err);
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(st, 1, r->id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		r->measurements = jc_realloc(r->measurements, (r->n_measurements + 1) * sizeof(*r->measurements));
		jc_measure_result *m = &r->measurements[r->n_measurements++];
		memset(m, 0, sizeof(*m));
		m->name = jc_sql_column_dup(st, 0);
		m->unit = jc_sql_column_dup(st, 1);
		m->value = sqlite3_column_double(st, 2);
		m->has_baseline = sqlite3_column_type(st, 3) != SQLITE_NULL;
		m->baseline = sqlite3_column_double(st, 3);
		m->baseline_snapshot = (long)sqlite3_column_int64(st, 4);
		m->threshold_pct = sqlite3_column_double(st, 5);
		m->lower_is_better = sqlite3_column_int(st, 6) != 0;
		m->verdict = verdict_of((const char *)sqlite3_column_text(st, 7));
		m->output = jc_sql_column_dup(st, 8);
	}
	sqlite3_finalize(st);
	return 0;
}

#define RECORD_COLUMNS "id, run_id, stage, snapshot, from_snapshot, tag, verdict, message, started_ms," \
		       " finished_ms, junit_path, log_path"

static void read_record(sqlite3_stmt *st, jc_stage_record *r)
{
	memset(r, 0, sizeof(*r));
	r->id = (long)sqlite3_column_int64(st, 0);
	r->run_id = (long)sqlite3_column_int64(st, 1);
	r->stage = jc_sql_column_dup(st, 2);
	r->snapshot = (long)sqlite3_column_int64(st, 3);
	r->from_snapshot = (long)sqlite3_column_int64(st, 4);
	r->tag = jc_sql_column_dup(st, 5);
	r->verdict = verdict_of((const char *)sqlite3_column_text(st, 6));
	r->message = jc_sql_column_dup(st, 7);
	r->started_ms = sqlite3_column_int64(st, 8);
	r->finished_ms = sqlite3_column_int64(st, 9);
	r->junit_path = jc_sql_column_dup(st, 10);
	r->log_path = jc_sql_column_dup(st, 11);
}

int jc_precords_get(jc_store *s, long id, jc_stage_record *out, jc_error *err)
{
	sqlite3_stmt *st;
	int rc = jc_store_prepare(s, &st, "SELECT " RECORD_COLUMNS " FROM stage_runs WHERE id = ?", err);
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return jc_err(err, JC_ENOTFOUND, "no stage record %ld", id);
	}
	read_record(st, out);
	sqlite3_finalize(st);
	return load_details(s, out, err);
}

int jc_pipeline_history(jc_stage_records **out, jc_store *s, long snapshot, long run_id, jc_error *err)
{
	sqlite3_stmt *st;
	jc_stage_records *rs;
	int rc;

	*out = NULL;
	if ((rc = jc_precords_migrate(s, err)) < 0)
		return rc;
	rc = jc_store_prepare(s, &st, run_id > 0 ?
			      "SELECT " RECORD_COLUMNS " FROM stage_runs WHERE run_id = ?2 ORDER BY id" :
			      "SELECT " RECORD_COLUMNS " FROM stage_runs WHERE snapshot = ?1 ORDER BY id", err);
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(st, 1, snapshot);
	sqlite3_bind_int64(st, 2, run_id);
	rs = jc_calloc(1, sizeof(*rs));
	while (sqlite3_step(st) == SQLITE_ROW) {
		rs->v = jc_realloc(rs->v, (rs->n + 1) * sizeof(*rs->v));
		read_record(st, &rs->v[rs->n++]);
	}
	sqlite3_finalize(st);
	for (size_t i = 0; i < rs->n && rc == 0; i++)
		rc = load_details(s, &rs->v[i], err);
	if (rc < 0) {
		jc_stage_records_free(rs);
		return rc;
	}
	*out = rs;
	return 0;
}

int jc_pipeline_last_good(long *out, jc_store *s, const jc_pipeline *p, const char *stage, jc_error *err)
{
	sqlite3_stmt *st;
	int rc;
	*out = 0;
	if ((rc = jc_precords_migrate(s, err)) < 0)
		return rc;
	/* candidates: snapshots that passed `stage`, newest first; the first
	 * one that also passed every stage before it wins */
	rc = jc_store_prepare(s, &st,
			      "SELECT DISTINCT snapshot FROM stage_runs WHERE stage = ? AND verdict = 'passed'"
			      " ORDER BY snapshot DESC", err);
	if (rc < 0)
		return rc;
	sqlite3_bind_text(st, 1, stage, -1, SQLITE_TRANSIENT);
	while (*out == 0 && sqlite3_step(st) == SQLITE_ROW) {
		long snap = (long)sqlite3_column_int64(st, 0);
		bool all = true;
		for (size_t i = 0; i < jc_pipeline_stage_count(p) && all; i++) {
			const jc_stage_def *d = jc_pipeline_stage(p, i);
			if (strcmp(d->name, stage) == 0)
				break;
			if ((rc = jc_precords_passed(s, snap, d->name, &all, err)) < 0)
				break;
		}
		if (rc < 0)
			break;
		if (all)
			*out = snap;
	}
	sqlite3_finalize(st);
	return rc;
}
