/*
 * jcicd/log.h - how the library tells its caller what it is doing.
 *
 * The library never prints.  Long operations report log lines and progress
 * events through a jc_logger the caller hands in (in the options of the
 * operation); the CLI renders them as a progress line on a terminal and as
 * plain lines otherwise.  Secrets are redacted before a line is emitted.
 */
#ifndef JCICD_LOG_H
#define JCICD_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum jc_log_level {
	JC_LOG_DEBUG = 0,
	JC_LOG_INFO = 1,
	JC_LOG_NOTICE = 2,   /* something the operator should see: a retry, a change */
	JC_LOG_WARN = 3,
	JC_LOG_ERROR = 4
} jc_log_level;

typedef enum jc_log_kind {
	JC_LOG_LINE = 0,     /* a message */
	JC_LOG_PROGRESS = 1  /* a progress update: label, done, total */
} jc_log_kind;

typedef struct jc_log_event {
	jc_log_kind kind;
	jc_log_level level;
	const char *module;   /* "apply", "http", ... */
	const char *message;  /* the line, or the progress label */
	long done;            /* progress: units done */
	long total;           /* progress: units in all, 0 when unknown */
} jc_log_event;

typedef void (*jc_log_fn)(const jc_log_event *event, void *payload);

typedef struct jc_logger {
	jc_log_fn fn;          /* NULL: drop everything */
	jc_log_level level;    /* lines below this level are not built at all */
	void *payload;
} jc_logger;

#define JC_LOGGER_INIT { NULL, JC_LOG_INFO, NULL }

#ifdef __cplusplus
}
#endif
#endif
