/*
 * jcicd/store.h - the embedded state of jcicd: one state directory holding
 * one SQLite database (jcicd.db, WAL mode, schema versioned per module and
 * migrated forward on open) and a content-addressed file pool.
 *
 * Many processes may open the same store at once; writers serialise on
 * SQLite's lock with a bounded wait (busy timeout), never forever.
 */
#ifndef JCICD_STORE_H
#define JCICD_STORE_H

#include "jcicd/error.h"
#include "jcicd/log.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct jc_store jc_store;

#define JC_STORE_OPTIONS_VERSION 1
typedef struct jc_store_options {
	unsigned version;
	long long busy_timeout_ms;   /* wait for another writer; 0: 30 s */
	const jc_logger *logger;
} jc_store_options;

#define JC_STORE_OPTIONS_INIT { JC_STORE_OPTIONS_VERSION, 0, NULL }

/* Opens (creating when needed) the store in state_dir; NULL state_dir means
 * the default one (see jcicd(1): --state-dir, $JCICD_STATE_DIR,
 * $XDG_STATE_HOME/jcicd). */
JC_EXTERN int jc_store_open(jc_store **out, const char *state_dir,
		  const jc_store_options *opts, jc_error *err);
JC_EXTERN void jc_store_free(jc_store *store);

/* The state directory (borrowed). */
JC_EXTERN const char *jc_store_dir(const jc_store *store);

#ifdef __cplusplus
}
#endif
#endif
