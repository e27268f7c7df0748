/*
 * proc.h - running a command with a deadline (internal).
 *
 * Every module that runs something (stage tests, converge and validation
 * steps, package builds) runs it through here, so every child has a
 * deadline, its whole process tree is stopped when the deadline passes, and
 * its output is kept.
 */
#ifndef JCICD_PROC_H
#define JCICD_PROC_H

#include "common.h"

typedef struct jc_proc_options {
	const char *const *argv;    /* argv[0] looked up in PATH ... */
	const char *shell;          /* ... or a command for /bin/sh -c */
	const char *cwd;            /* NULL: inherit */
	const char *const *env;     /* "NAME=value" added to (or replacing in) the environment */
	size_t n_env;
	long long timeout_ms;       /* 0: none (only for callers with their own deadline) */
	long long kill_grace_ms;    /* after SIGTERM before SIGKILL; 0: 2 s */
	const char *log_path;       /* append stdout+stderr here, or NULL */
	jc_buf *output;             /* capture stdout+stderr here, or NULL */
	size_t max_output;          /* keep at most this much in output (the tail); 0: 1 MiB */
	const char *stdin_text;     /* fed to stdin, or NULL for /dev/null */
} jc_proc_options;

typedef struct jc_proc_result {
	int exit_code;              /* the exit status, or 128+signal when killed */
	bool timed_out;             /* stopped at the deadline */
	long long elapsed_ms;
} jc_proc_result;

/*
 * Runs the command and waits for it (at most timeout_ms).  Returns 0 when it
 * ran to its end or was stopped at the deadline (see result), or an error
 * when it could not be started.
 */
int jc_proc_run(const jc_proc_options *opts, jc_proc_result *result, jc_error *err);

#endif
