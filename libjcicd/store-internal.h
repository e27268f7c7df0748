/* store-internal.h - what modules of libjcicd use of the store. */
#ifndef JCICD_STORE_INTERNAL_H
#define JCICD_STORE_INTERNAL_H

#include <sqlite3.h>

#include "common.h"
#include "jcicd/store.h"

sqlite3 *jc_store_db(jc_store *store);

/* Brings a module's tables to the newest of `steps` (SQL scripts, step i
 * takes the schema from version i to i+1), each step in its own
 * transaction, recorded in the schema_versions table. */
int jc_store_migrate(jc_store *store, const char *module, const char *const *steps,
		     size_t n_steps, jc_error *err);

/* Transactions.  BEGIN IMMEDIATE takes the write lock up front, so a
 * read-then-write cannot deadlock against another writer. */
int jc_store_begin(jc_store *store, bool write, jc_error *err);
int jc_store_commit(jc_store *store, jc_error *err);
void jc_store_rollback(jc_store *store);

/* Runs SQL with no result rows. */
int jc_store_exec(jc_store *store, const char *sql, jc_error *err);
/* Prepares a statement; errors name the SQL's purpose via `what`. */
int jc_store_prepare(jc_store *store, sqlite3_stmt **out, const char *sql, jc_error *err);
/* Fills err from the database's last error. */
int jc_store_error(jc_store *store, jc_error *err, const char *what);

/* Binds a possibly-NULL string. */
void jc_sql_bind_text(sqlite3_stmt *st, int idx, const char *s);
/* A column as an owned string (NULL stays NULL). */
char *jc_sql_column_dup(sqlite3_stmt *st, int col);

#endif
