/*
 * jcicd/error.h - the one error type of libjcicd.
 *
 * Every fallible call returns an int: 0 on success, a negative JC_E* code on
 * failure.  When the caller passes a jc_error, the library fills it with the
 * code, a message that says what went wrong and why, and where: a file
 * position for bad input, a URL, HTTP status and server request id for a
 * remote failure.  The return code decides; the message explains.
 */
#ifndef JCICD_ERROR_H
#define JCICD_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/* Marks the functions the shared library exports; everything else is
 * hidden (the library is built with -fvisibility=hidden). */
#ifndef JC_EXTERN
#if defined(__GNUC__) && __GNUC__ >= 4
#define JC_EXTERN __attribute__((visibility("default")))
#else
#define JC_EXTERN
#endif
#endif

typedef enum jc_error_code {
	JC_OK = 0,
	JC_ERROR = -1,          /* generic failure */
	JC_ENOMEM = -2,         /* out of memory */
	JC_EINVALID = -3,       /* bad input: usage, spec, config, argument */
	JC_EPARSE = -4,         /* malformed document (YAML, JSON, deb822) */
	JC_ENOTFOUND = -5,      /* the named thing does not exist */
	JC_EEXISTS = -6,        /* it exists already */
	JC_EAMBIGUOUS = -7,     /* a name matched more than one thing */
	JC_ELOCKED = -8,        /* somebody else holds the lock */
	JC_EAUTH = -9,          /* authentication or authorization refused */
	JC_EUNREACHABLE = -10,  /* a service could not be reached */
	JC_ETIMEOUT = -11,      /* a deadline passed */
	JC_EHTTP = -12,         /* a server answered with an error status */
	JC_EIO = -13,           /* local I/O failed */
	JC_EFAILED = -14,       /* the operation ran and failed (test, ERROR server) */
	JC_ECONFLICT = -15,     /* a compare-and-swap lost */
	JC_EINTEGRITY = -16,    /* a hash or signature did not verify */
	JC_ECANCELLED = -17,    /* stopped on request */
	JC_EUNSUPPORTED = -18   /* not supported by this server or build */
} jc_error_code;

#define JC_ERROR_MESSAGE_MAX 1024
#define JC_ERROR_FILE_MAX 512
#define JC_ERROR_URL_MAX 512
#define JC_ERROR_REQID_MAX 128

typedef struct jc_error {
	int code;                          /* a jc_error_code */
	char message[JC_ERROR_MESSAGE_MAX];
	char file[JC_ERROR_FILE_MAX];      /* input file, "" when not about a file */
	int line;                          /* 1-based; 0 when unknown */
	int column;                        /* 1-based; 0 when unknown */
	char url[JC_ERROR_URL_MAX];        /* remote resource, "" when local */
	int http_status;                   /* 0 when not an HTTP answer */
	char request_id[JC_ERROR_REQID_MAX]; /* server's request id, if it sent one */
} jc_error;

/* Resets an error to "no error".  NULL-safe. */
JC_EXTERN void jc_error_clear(jc_error *err);

/* A static, one-line description of a code ("not found", "timed out"). */
JC_EXTERN const char *jc_strerror(int code);

/*
 * Writes the whole error as one line into buf: "file:line:col: message",
 * or "message (HTTP 500 from URL, request id req-...)".  Returns buf.
 */
JC_EXTERN char *jc_error_format(const jc_error *err, char *buf, unsigned long size);

/*
 * The process exit status the jcicd tool uses for a code: 0 ok, 1 the
 * operation failed, 2 bad input or usage (nothing was changed), 3 a service
 * was unreachable or refused authentication.
 */
JC_EXTERN int jc_error_exit_status(int code);

#ifdef __cplusplus
}
#endif
#endif
