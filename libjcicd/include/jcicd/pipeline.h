/*
 * jcicd/pipeline.h - the chain of stages every snapshot goes through, their
 * verdicts, and the record of it all.
 *
 * A pipeline is data (the `pipeline` section of jcicd.yaml, or a file with
 * the same content): an ordered list of stages, each of a kind --
 * acceptance (a fresh stack converged to the snapshot, then tested),
 * nonfunctional (measurements against the baseline of the last good
 * snapshot), upgrade (a fresh stack at the last good snapshot rolled out to
 * the new one, then tested), rollout (a long-lived stack such as staging or
 * production updated in health-gated waves).  A stage's verdict is its exit
 * status; verdicts, timings, test results, measurements and approvals are
 * kept in the state database, and a stage refuses a snapshot that has not
 * passed the stages before it.
 */
#ifndef JCICD_PIPELINE_H
#define JCICD_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>

#include "jcicd/config.h"
#include "jcicd/error.h"
#include "jcicd/log.h"
#include "jcicd/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct jc_pipeline jc_pipeline;

typedef enum jc_stage_kind {
	JC_STAGE_ACCEPTANCE = 0,
	JC_STAGE_NONFUNCTIONAL = 1,
	JC_STAGE_UPGRADE = 2,
	JC_STAGE_ROLLOUT = 3
} jc_stage_kind;

JC_EXTERN const char *jc_stage_kind_name(jc_stage_kind kind);

typedef struct jc_test_def {
	const char *name;
	const char *run;              /* a shell command, run in the pipeline's directory */
	long long timeout_ms;
} jc_test_def;

typedef struct jc_measure_def {
	const char *name;
	const char *run;              /* prints the value (a number) as its last line */
	const char *unit;             /* for the report, may be NULL */
	double threshold_pct;         /* allowed regression, percent of the baseline */
	bool lower_is_better;
	long long timeout_ms;
} jc_measure_def;

/* One stage, borrowed from the pipeline.  Paths are absolute. */
typedef struct jc_stage_def {
	const char *name;
	jc_stage_kind kind;
	const char *cloud;            /* NULL: the default cloud */
	const char *spec;
	const char *mappings;         /* may be NULL */
	const char *userdata;         /* may be NULL */
	const char *overrides;        /* may be NULL */
	const char *key_name;         /* may be NULL */
	const char *stack;            /* fixed tag of a long-lived stack (rollout); NULL: one per run */
	const char *waves;            /* rollout: "1,10%,50%,100%" */
	long max_failures;            /* rollout: failure budget */
	bool requires_approval;
	bool keep_on_failure;
	const char *promote;          /* pointer to move to the snapshot when the stage passes, or NULL */
	long long apply_timeout_ms;
	long long converge_timeout_ms;
	long long tests_timeout_ms;
	long long teardown_timeout_ms;
	const jc_test_def *tests;
	size_t n_tests;
	const jc_measure_def *measurements;
	size_t n_measurements;
	const char *file;             /* where it is defined */
	int line;
} jc_stage_def;

/* Loads the pipeline from the config's `pipeline` section, or from path
 * (a file holding that section's content) when path is not NULL. */
JC_EXTERN int jc_pipeline_load(jc_pipeline **out, const jc_config *config,
			       const char *path, jc_error *err);
JC_EXTERN void jc_pipeline_free(jc_pipeline *pipeline);

JC_EXTERN size_t jc_pipeline_stage_count(const jc_pipeline *pipeline);
JC_EXTERN const jc_stage_def *jc_pipeline_stage(const jc_pipeline *pipeline, size_t i);
/* The stage of that name, or NULL (with a did-you-mean in err). */
JC_EXTERN const jc_stage_def *jc_pipeline_stage_find(const jc_pipeline *pipeline,
						     const char *name, jc_error *err);
/* The directory the pipeline's relative paths and commands are based in. */
JC_EXTERN const char *jc_pipeline_dir(const jc_pipeline *pipeline);
/* Where nodes fetch snapshots from ("file:///..." or "http://..."); NULL: not set. */
JC_EXTERN const char *jc_pipeline_snapshots_url(const jc_pipeline *pipeline);

/* ---- verdicts and records ---- */

typedef enum jc_verdict {
	JC_VERDICT_RUNNING = 0,
	JC_VERDICT_PASSED = 1,
	JC_VERDICT_FAILED = 2,
	JC_VERDICT_ERROR = 3,         /* could not judge: a service down, bad input */
	JC_VERDICT_SKIPPED = 4
} jc_verdict;

JC_EXTERN const char *jc_verdict_name(jc_verdict verdict);

typedef struct jc_test_result {
	char *name;
	jc_verdict verdict;
	long long duration_ms;
	int exit_code;
	bool timed_out;
	char *output;                 /* the tail of what it printed */
} jc_test_result;

typedef struct jc_measure_result {
	char *name;
	char *unit;
	double value;
	bool has_baseline;
	double baseline;
	long baseline_snapshot;
	double threshold_pct;
	bool lower_is_better;
	jc_verdict verdict;
	char *output;
} jc_measure_result;

typedef struct jc_stage_record {
	long id;
	long run_id;                  /* the pipeline run it belongs to, 0 when run alone */
	char *stage;
	long snapshot;
	long from_snapshot;           /* upgrade: the snapshot it upgraded from */
	char *tag;                    /* the stack it used */
	jc_verdict verdict;
	char *message;                /* why, in one line */
	long long started_ms;         /* epoch */
	long long finished_ms;
	char *junit_path;
	char *log_path;
	jc_test_result *tests;
	size_t n_tests;
	jc_measure_result *measurements;
	size_t n_measurements;
} jc_stage_record;

typedef struct jc_stage_records {
	jc_stage_record *v;
	size_t n;
} jc_stage_records;

JC_EXTERN void jc_stage_records_free(jc_stage_records *records);

/* Every stage record of a snapshot (oldest first), or of a pipeline run
 * when run_id > 0 (then snapshot is ignored). */
JC_EXTERN int jc_pipeline_history(jc_stage_records **out, jc_store *store, long snapshot,
				  long run_id, jc_error *err);
/* The newest snapshot whose every stage up to and including `stage`
 * passed, or 0 when none has. */
JC_EXTERN int jc_pipeline_last_good(long *out, jc_store *store, const jc_pipeline *pipeline,
				    const char *stage, jc_error *err);
/* Records an approval of a snapshot for a stage (who and why). */
JC_EXTERN int jc_pipeline_approve(jc_store *store, long snapshot, const char *stage,
				  const char *who, const char *why, jc_error *err);

/* ---- running stages ---- */

#define JC_STAGE_OPTIONS_VERSION 1
typedef struct jc_stage_options {
	unsigned version;
	const jc_config *config;      /* kv, snapshots, clouds sections; may be NULL */
	const char *state_dir;        /* NULL: the default state directory */
	long run_id;                  /* the pipeline run the stage belongs to; 0: on its own */
	const char *junit_path;       /* NULL: <state>/pipeline/<stage>-<N>-<id>.xml */
	bool keep_on_failure;         /* keep a failed fresh stack (also a stage setting) */
	const char *approved_by;      /* an approval given now (recorded), or NULL */
	const char *approval_reason;
	const jc_logger *logger;
	const char *tag;              /* the fresh stack's tag (a Jenkins job passes one it can
				       * tear down on abort); NULL: <stage>-<N>-<record> */
} jc_stage_options;

#define JC_STAGE_OPTIONS_INIT { JC_STAGE_OPTIONS_VERSION, NULL, NULL, 0, NULL, false, NULL, NULL, NULL, NULL }

typedef struct jc_stage_outcome {
	long record;                  /* the stage record (jc_pipeline_history) */
	jc_verdict verdict;
	long from_snapshot;           /* upgrade: where it started */
	char tag[64];                 /* the stack used */
	char message[512];            /* why, in one line */
	char junit_path[512];
	char log_path[512];
} jc_stage_outcome;

/*
 * Runs one stage of the pipeline for a snapshot, records it, and writes its
 * JUnit file.  Returns 0 when the stage reached a verdict (passed, failed,
 * skipped: see out->verdict), or an error when it could not judge (bad
 * input, a service down, earlier stages not passed, no approval); the
 * record then says "error" when one was made.
 *
 * acceptance:    a fresh stack converged to the snapshot, tested, torn down.
 * nonfunctional: a fresh stack converged to the snapshot, measured against
 *                the baseline of the last good snapshot, torn down.
 * upgrade:       a fresh stack at the last good snapshot, rolled out to this
 *                one in waves, tested, torn down (skipped when there is no
 *                earlier good snapshot).
 * rollout:       the long-lived stack (created if missing) rolled out to the
 *                snapshot in health-gated waves, then tested.
 * A stage with `promote: POINTER` moves that snapshot pointer when it passes.
 */
JC_EXTERN int jc_stage_run(jc_stage_outcome *out, const jc_pipeline *pipeline, const char *stage,
			   long snapshot, const jc_stage_options *opts, jc_error *err);

/*
 * Runs every stage in order for a snapshot, stopping at the first that
 * does not pass.  *run_id gets the run's id (for jc_pipeline_history and
 * the report); *verdict the run's.  Same return convention as jc_stage_run.
 */
JC_EXTERN int jc_pipeline_run(long *run_id, jc_verdict *verdict, const jc_pipeline *pipeline,
			      long snapshot, const jc_stage_options *opts, jc_error *err);

/*
 * Moves a snapshot pointer after checking the pipeline allows it: the stage
 * that promotes to `pointer` and every stage before it passed for the
 * snapshot.  who/why are recorded with the promotion.
 */
JC_EXTERN int jc_pipeline_promote(const jc_pipeline *pipeline, const jc_config *config,
				  const char *state_dir, long snapshot, const char *pointer,
				  const char *who, const char *why, const jc_logger *logger,
				  jc_error *err);

/* ---- outputs ---- */

/* Writes a JUnit XML file for one stage record (libxml2). */
JC_EXTERN int jc_junit_write(const jc_stage_record *record, const char *path, jc_error *err);

/* A package that changed between two snapshots, for the report. */
typedef struct jc_report_change {
	const char *package;
	const char *old_version;      /* NULL: added */
	const char *new_version;      /* NULL: removed */
} jc_report_change;

#define JC_REPORT_OPTIONS_VERSION 1
typedef struct jc_report_options {
	unsigned version;
	const char *title;            /* NULL: "jcicd pipeline report" */
	long snapshot;                /* the snapshot the report is about */
	long diff_from;               /* the snapshot the changes are against, 0: none */
	const jc_report_change *changes;
	size_t n_changes;
} jc_report_options;

#define JC_REPORT_OPTIONS_INIT { JC_REPORT_OPTIONS_VERSION, NULL, 0, 0, NULL, 0 }

/*
 * Writes a static, self-contained HTML report of stage records (one run, or
 * every stage of a snapshot): stages with verdicts and durations, failed
 * tests with their output, measurements against their baselines as a small
 * chart, and the package changes of the snapshot.
 */
JC_EXTERN int jc_report_write(const jc_stage_records *records, const jc_report_options *opts,
			      const char *path, jc_error *err);

#ifdef __cplusplus
}
#endif
#endif
