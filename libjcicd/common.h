/*
 * common.h - internal helpers every module of libjcicd uses: allocation,
 * growable buffers, error and log plumbing, clocks.  Never installed.
 */
#ifndef JCICD_COMMON_H
#define JCICD_COMMON_H

#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jcicd/error.h"
#include "jcicd/log.h"

#if defined(__GNUC__)
#define JC_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define JC_UNUSED __attribute__((unused))
#else
#define JC_PRINTF(f, a)
#define JC_UNUSED
#endif

#define JC_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- memory: these never return NULL for a non-zero size; they abort on
 * exhaustion the way the allocator of a CLI tool reasonably can.  Input never
 * makes the library abort. */
void *jc_malloc(size_t size);
void *jc_calloc(size_t n, size_t size);
void *jc_realloc(void *ptr, size_t size);
char *jc_strdup(const char *s);          /* NULL -> NULL */
char *jc_strndup(const char *s, size_t n);
char *jc_sprintf(const char *fmt, ...) JC_PRINTF(1, 2);
char *jc_vsprintf(const char *fmt, va_list ap) JC_PRINTF(1, 0);

/* ---- growable byte buffer, always NUL-terminated */
typedef struct jc_buf {
	char *data;
	size_t len;
	size_t cap;
} jc_buf;

#define JC_BUF_INIT { NULL, 0, 0 }
void jc_buf_grow(jc_buf *b, size_t extra);
void jc_buf_add(jc_buf *b, const void *data, size_t len);
void jc_buf_puts(jc_buf *b, const char *s);
void jc_buf_putc(jc_buf *b, char c);
void jc_buf_printf(jc_buf *b, const char *fmt, ...) JC_PRINTF(2, 3);
void jc_buf_vprintf(jc_buf *b, const char *fmt, va_list ap) JC_PRINTF(2, 0);
void jc_buf_clear(jc_buf *b);
char *jc_buf_detach(jc_buf *b);          /* caller frees; b is reset */
void jc_buf_free(jc_buf *b);
const char *jc_buf_cstr(const jc_buf *b); /* "" when empty */

/* ---- string list (owned strings) */
typedef struct jc_strv {
	char **v;
	size_t n;
	size_t cap;
} jc_strv;

#define JC_STRV_INIT { NULL, 0, 0 }
/* The words of map[key] (yaml.c): a sequence, or one scalar of words
 * separated by spaces or commas ("main contrib").  Absent or null: none;
 * present but empty: an error at the value. */
struct jc_yaml_node;
int jc_yaml_words(const struct jc_yaml_node *map, const char *key, const char *what, jc_strv *out,
		  jc_error *err);
void jc_strv_push(jc_strv *sv, const char *s);
void jc_strv_push_owned(jc_strv *sv, char *s);
bool jc_strv_contains(const jc_strv *sv, const char *s);
void jc_strv_free(jc_strv *sv);
void jc_strv_sort(jc_strv *sv);

/* ---- string helpers */
bool jc_str_starts(const char *s, const char *prefix);
bool jc_str_ends(const char *s, const char *suffix);
bool jc_str_eq(const char *a, const char *b);      /* NULL-safe */
size_t jc_strlcpy(char *dst, const char *src, size_t size);
int jc_str_distance(const char *a, const char *b); /* Levenshtein */
/* The candidate closest to word, or NULL when none is close enough to be a
 * plausible typo. */
const char *jc_str_suggest(const char *word, const char *const *candidates, size_t n);
/* Parses a whole decimal integer; false on junk, overflow or empty. */
bool jc_parse_long(const char *s, long *out);
/* "90", "90s", "15m", "2h", "1d" -> milliseconds; false on junk. */
bool jc_parse_duration_ms(const char *s, long long *out_ms);
/* A numeric IPv4 or IPv6 address ("10.0.0.5", "fd00::5"), not a name. */
bool jc_is_ip_address(const char *s);

/* ---- errors (all return the code they set, for `return jc_err(...)`) */
int jc_err(jc_error *err, int code, const char *fmt, ...) JC_PRINTF(3, 4);
int jc_err_at(jc_error *err, int code, const char *file, int line, int col,
	      const char *fmt, ...) JC_PRINTF(6, 7);
int jc_err_errno(jc_error *err, int code, int errnum, const char *fmt, ...) JC_PRINTF(4, 5);
int jc_err_http(jc_error *err, int code, const char *url, int status,
		const char *request_id, const char *fmt, ...) JC_PRINTF(6, 7);
/* Prepends "context: " to the message already in err. */
void jc_err_prefix(jc_error *err, const char *fmt, ...) JC_PRINTF(2, 3);
void jc_err_copy(jc_error *dst, const jc_error *src);

/* ---- logging */
bool jc_log_enabled(const jc_logger *log, jc_log_level level);
void jc_log(const jc_logger *log, jc_log_level level, const char *module,
	    const char *fmt, ...) JC_PRINTF(4, 5);
void jc_progress(const jc_logger *log, const char *module, const char *label,
		 long done, long total);

/* ---- secrets: registered strings are replaced by "***" in every log line
 * and error message the library builds. */
void jc_secret_register(const char *secret);
/* Replaces every registered secret in s (in place when it fits). */
void jc_redact(char *s, size_t size);

/* ---- time */
int64_t jc_now_ms(void);        /* monotonic */
int64_t jc_wall_ms(void);       /* since the epoch */
void jc_sleep_ms(int64_t ms);
/* Uniform random in [0, n), from a per-process seeded generator. */
uint64_t jc_random(uint64_t n);
/* The generator behind jc_random on a caller's own state (non-zero): for
 * hot paths that must not share jc_random's lock. */
uint64_t jc_random_next(uint64_t *state);
/* ISO 8601 UTC "2026-11-25T14:07:07Z" of epoch seconds into buf (>= 21). */
char *jc_iso8601(int64_t epoch_s, char *buf, size_t size);

/* ---- files */
int jc_file_read(const char *path, char **out, size_t *out_len, jc_error *err);
/* Writes data to path atomically (temp file + fsync + rename). */
int jc_file_write_atomic(const char *path, const void *data, size_t len, int mode, jc_error *err);
int jc_mkdir_p(const char *path, int mode, jc_error *err);
int jc_rm_rf(const char *path, jc_error *err);
bool jc_path_exists(const char *path);
char *jc_path_join(const char *a, const char *b);
/* The state directory: explicit, else $JCICD_STATE_DIR, else
 * $XDG_STATE_HOME/jcicd, else $HOME/.local/state/jcicd. */
char *jc_state_dir_resolve(const char *explicit_dir);

#endif
