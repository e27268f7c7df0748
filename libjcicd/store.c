/* store.c - the SQLite state database: open, WAL, busy timeout, per-module
 * schema migrations, transactions. */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store-internal.h"

struct jc_store {
	char *dir;
	sqlite3 *db;
	jc_store_options opts;
	int tx_depth;
};

int jc_store_error(jc_store *store, jc_error *err, const char *what)
{
	int rc = sqlite3_errcode(store->db);
	int code = (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) ? JC_ELOCKED : JC_EIO;
	return jc_err(err, code, "state database %s/jcicd.db: %s: %s", store->dir, what,
		      sqlite3_errmsg(store->db));
}

int jc_store_open(jc_store **out, const char *state_dir, const jc_store_options *opts, jc_error *err)
{
	jc_store *s;
	char *path;
	int rc;

	*out = NULL;
	if (opts && opts->version != JC_STORE_OPTIONS_VERSION)
		return jc_err(err, JC_EINVALID, "jc_store_options version %u is not supported", opts->version);
	s = jc_calloc(1, sizeof(*s));
	if (opts)
		s->opts = *opts;
	if (!s->opts.busy_timeout_ms)
		s->opts.busy_timeout_ms = 30000;
	s->dir = jc_state_dir_resolve(state_dir);
	rc = jc_mkdir_p(s->dir, 0755, err);
	if (rc < 0) {
		jc_store_free(s);
		return rc;
	}
	path = jc_path_join(s->dir, "jcicd.db");
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
			    NULL) != SQLITE_OK) {
		rc = jc_err(err, JC_EIO, "cannot open state database %s: %s", path,
			    s->db ? sqlite3_errmsg(s->db) : "out of memory");
		free(path);
		jc_store_free(s);
		return rc;
	}
	free(path);
	sqlite3_busy_timeout(s->db, (int)s->opts.busy_timeout_ms);
	rc = jc_store_exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
			      "PRAGMA foreign_keys=ON;", err);
	if (rc == 0)
		rc = jc_store_exec(s, "CREATE TABLE IF NOT EXISTS schema_versions ("
				      " module TEXT PRIMARY KEY, version INTEGER NOT NULL)", err);
	if (rc < 0) {
		jc_store_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void jc_store_free(jc_store *s)
{
	if (!s)
		return;
	if (s->db)
		sqlite3_close_v2(s->db);
	free(s->dir);
	free(s);
}

const char *jc_store_dir(const jc_store *s)
{
	return s->dir;
}

sqlite3 *jc_store_db(jc_store *s)
{
	return s->db;
}

int jc_store_exec(jc_store *s, const char *sql, jc_error *err)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int rc = sqlite3_errcode(s->db);
		int code = (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) ? JC_ELOCKED : JC_EIO;
		code = jc_err(err, code, "state database %s/jcicd.db: %s", s->dir, msg ? msg : "error");
		sqlite3_free(msg);
		return code;
	}
	return 0;
}

int jc_store_prepare(jc_store *s, sqlite3_stmt **out, const char *sql, jc_error *err)
{
	if (sqlite3_prepare_v2(s->db, sql, -1, out, NULL) != SQLITE_OK)
		return jc_store_error(s, err, "preparing a query");
	return 0;
}

int jc_store_begin(jc_store *s, bool write, jc_error *err)
{
	int rc = jc_store_exec(s, write ? "BEGIN IMMEDIATE" : "BEGIN", err);
	if (rc == 0)
		s->tx_depth++;
	return rc;
}

int jc_store_commit(jc_store *s, jc_error *err)
{
	int rc = jc_store_exec(s, "COMMIT", err);
	if (rc == 0)
		s->tx_depth--;
	else
		jc_store_rollback(s);
	return rc;
}

void jc_store_rollback(jc_store *s)
{
	if (s->tx_depth > 0) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		s->tx_depth--;
	}
}

static int schema_version(jc_store *s, const char *module, long *out, jc_error *err)
{
	sqlite3_stmt *st;
	int rc = jc_store_prepare(s, &st, "SELECT version FROM schema_versions WHERE module = ?", err);
	if (rc < 0)
		return rc;
	sqlite3_bind_text(st, 1, module, -1, SQLITE_TRANSIENT);
	*out = 0;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE) {
		sqlite3_finalize(st);
		return jc_store_error(s, err, "reading schema versions");
	}
	sqlite3_finalize(st);
	return 0;
}

int jc_store_migrate(jc_store *s, const char *module, const char *const *steps, size_t n_steps,
		     jc_error *err)
{
	long have;
	int rc = schema_version(s, module, &have, err);
	if (rc < 0)
		return rc;
	if ((size_t)have > n_steps)
		return jc_err(err, JC_EUNSUPPORTED,
			      "state database %s/jcicd.db has %s schema version %ld, newer than this jcicd "
			      "knows (%zu): upgrade jcicd", s->dir, module, have, n_steps);
	while ((size_t)have < n_steps) {
		sqlite3_stmt *st;
		rc = jc_store_begin(s, true, err);
		if (rc < 0)
			return rc;
		/* another process may have migrated while we waited for the lock */
		rc = schema_version(s, module, &have, err);
		if (rc < 0 || (size_t)have >= n_steps) {
			if (rc < 0) {
				jc_store_rollback(s);
				return rc;
			}
			return jc_store_commit(s, err);
		}
		rc = jc_store_exec(s, steps[have], err);
		if (rc == 0)
			rc = jc_store_prepare(s, &st,
					      "INSERT INTO schema_versions(module, version) VALUES(?, ?) "
					      "ON CONFLICT(module) DO UPDATE SET version = excluded.version", err);
		if (rc == 0) {
			sqlite3_bind_text(st, 1, module, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(st, 2, have + 1);
			if (sqlite3_step(st) != SQLITE_DONE)
				rc = jc_store_error(s, err, "recording a schema version");
			sqlite3_finalize(st);
		}
		if (rc < 0) {
			jc_store_rollback(s);
			jc_err_prefix(err, "migrating %s schema to version %ld", module, have + 1);
			return rc;
		}
		rc = jc_store_commit(s, err);
		if (rc < 0)
			return rc;
		have++;
	}
	return 0;
}

void jc_sql_bind_text(sqlite3_stmt *st, int idx, const char *s)
{
	if (s)
		sqlite3_bind_text(st, idx, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, idx);
}

char *jc_sql_column_dup(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	return t ? jc_strdup((const char *)t) : NULL;
}
