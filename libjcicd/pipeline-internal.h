/* pipeline-internal.h - the pipeline's records in the state database. */
#ifndef JCICD_PIPELINE_INTERNAL_H
#define JCICD_PIPELINE_INTERNAL_H

#include "common.h"
#include "jcicd/pipeline.h"
#include "store-internal.h"

int jc_precords_migrate(jc_store *store, jc_error *err);

int jc_precords_run_begin(jc_store *store, long snapshot, long *run_id, jc_error *err);
int jc_precords_run_finish(jc_store *store, long run_id, jc_verdict verdict, jc_error *err);

int jc_precords_stage_begin(jc_store *store, long run_id, const char *stage, long snapshot,
			    long from_snapshot, const char *tag, const char *log_path, long *id,
			    jc_error *err);
int jc_precords_stage_finish(jc_store *store, long id, jc_verdict verdict, const char *message,
			     const char *junit_path, jc_error *err);
int jc_precords_add_test(jc_store *store, long stage_id, const jc_test_result *t, jc_error *err);
int jc_precords_add_measure(jc_store *store, long stage_id, const jc_measure_result *m, jc_error *err);

/* Has the stage passed for the snapshot (in any run)? */
int jc_precords_passed(jc_store *store, long snapshot, const char *stage, bool *out, jc_error *err);
/* The value a measurement had in the newest passed run of the stage for
 * another snapshot: the baseline.  *found false when there is none. */
int jc_precords_baseline(jc_store *store, const char *stage, const char *name, long not_snapshot,
			 double *value, long *snapshot, bool *found, jc_error *err);
int jc_precords_approved(jc_store *store, long snapshot, const char *stage, bool *out, char **who,
			 jc_error *err);
/* One stage record with its tests and measurements. */
int jc_precords_get(jc_store *store, long id, jc_stage_record *out, jc_error *err);
void jc_stage_record_clear(jc_stage_record *r);

#endif

/* ---- running a stage's tests and measurements (pipeline-tests.c) ---- */

typedef struct jc_stage_env {
	const char *cwd;              /* where commands run (the pipeline's directory) */
	const char *const *env;       /* "NAME=value" for the commands (stack, snapshot, ssh config) */
	size_t n_env;
	const char *log_path;         /* every command's output is appended here too */
	const jc_logger *logger;
	long long deadline_ms;        /* monotonic; 0: none beyond each command's own timeout */
} jc_stage_env;

/* Runs every test; *all_passed says whether they all passed. */
int jc_stage_run_tests(const jc_stage_def *def, const jc_stage_env *env, jc_test_result **out,
		       size_t *n_out, bool *all_passed, jc_error *err);
void jc_test_results_free(jc_test_result *v, size_t n);

/* Runs every measurement and judges it against the baseline of the newest
 * passed run of the stage for another snapshot. */
int jc_stage_run_measurements(jc_store *store, const jc_stage_def *def, long snapshot,
			      const jc_stage_env *env, jc_measure_result **out, size_t *n_out,
			      bool *all_passed, jc_error *err);
void jc_measure_results_free(jc_measure_result *v, size_t n);

/* The verdict of one value against its baseline (exposed for tests). */
jc_verdict jc_measure_judge(double value, bool has_baseline, double baseline, double threshold_pct,
			    bool lower_is_better, double *change_pct);
