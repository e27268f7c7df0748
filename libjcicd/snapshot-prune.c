/* snapshot-prune.c - removing old snapshots and the pool files nothing
 * refers to any more.
 *
 * A snapshot is first marked 'pruning' (so an interrupted prune is finished
 * by the next writer), its tree is renamed aside (readers see it whole or
 * not at all) and removed, then it is marked 'pruned'; its number stays
 * taken.  The pool is swept mark-and-sweep: the hashes every live snapshot
 * refers to go into a temporary table (on disk, in SQLite's temp store),
 * filled by streaming each distinct Packages file once; then the pool is
 * walked one directory at a time.  Memory stays bounded whatever the
 * history length or the pool size. */
#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snapshot-internal.h"

static int remove_tree(jc_snapshots *s, long number, jc_error *err)
{
	char *tree = jc_snap_tree(s, number);
	char *trash = jc_sprintf("%s/snapshots/.trash-%ld-%ld", s->o.publish_root, number, (long)getpid());
	int rc = 0;
	if (rename(tree, trash) < 0) {
		if (errno != ENOENT)
			rc = jc_err_errno(err, JC_EIO, errno, "cannot move %s aside", tree);
	} else {
		rc = jc_rm_rf(trash, err);
	}
	free(tree);
	free(trash);
	return rc;
}

static int finish_one(jc_snapshots *s, long number, jc_error *err)
{
	static const char *const sql[] = {
		"DELETE FROM snapshot_indices WHERE number = ?",
		"DELETE FROM snapshot_sources WHERE number = ?",
		"DELETE FROM snapshot_source_indices WHERE number = ?",
		"UPDATE snapshots SET state = 'pruned', pruned_at = strftime('%s', 'now') WHERE number = ?",
	};
	int rc = remove_tree(s, number, err);
	if (rc < 0)
		return rc;
	if ((rc = jc_store_begin(s->store, true, err)) < 0)
		return rc;
	for (size_t i = 0; rc == 0 && i < JC_ARRAY_LEN(sql); i++) {
		sqlite3_stmt *st;
		rc = jc_store_prepare(s->store, &st, sql[i], err);
		if (rc == 0) {
			sqlite3_bind_int64(st, 1, number);
			if (sqlite3_step(st) != SQLITE_DONE)
				rc = jc_store_error(s->store, err, "pruning a snapshot");
			sqlite3_finalize(st);
		}
	}
	if (rc < 0) {
		jc_store_rollback(s->store);
		return rc;
	}
	rc = jc_store_commit(s->store, err);
	if (rc == 0)
		jc_log(s->o.logger, JC_LOG_INFO, "snapshot", "pruned snapshot %ld", number);
	return rc;
}

int jc_snap_finish_prunes(jc_snapshots *s, jc_error *err)
{
	sqlite3_stmt *st;
	int rc;
	/* one at a time, re-querying: the list never has to be held */
	for (;;) {
		long number = 0;
		rc = jc_store_prepare(s->store, &st, "SELECT number FROM snapshots WHERE state = 'pruning'"
				      " ORDER BY number LIMIT 1", err);
		if (rc < 0)
			return rc;
		if (sqlite3_step(st) == SQLITE_ROW)
			number = (long)sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		if (!number)
			return 0;
		if ((rc = finish_one(s, number, err)) < 0)
			return rc;
	}
}

/* ---- the pool */

struct mark {
	jc_snapshots *s;
	sqlite3_stmt *insert;
	sqlite3_stmt *lookup;
	int rc;
};

static int mark_para(const jc_deb822_para *para, jc_error *err, void *payload)
{
	struct mark *m = payload;
	const char *sha = jc_deb822_get(para, "SHA256");
	if (!sha)
		return 0;
	sqlite3_bind_text(m->insert, 1, sha, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(m->insert) != SQLITE_DONE) {
		sqlite3_reset(m->insert);
		return jc_store_error(m->s->store, err, "marking live pool files");
	}
	sqlite3_reset(m->insert);
	return 0;
}

#define LIVE "(SELECT number FROM snapshots WHERE state IN ('recorded', 'published'))"

static int mark_live(jc_snapshots *s, struct mark *m, jc_error *err)
{
	static const char *const direct[] = {
		"INSERT OR IGNORE INTO temp.prune_live SELECT packages_sha256 FROM snapshot_indices WHERE number IN " LIVE,
		"INSERT OR IGNORE INTO temp.prune_live SELECT gz_sha256 FROM snapshot_indices WHERE number IN " LIVE,
		"INSERT OR IGNORE INTO temp.prune_live SELECT release_sha256 FROM snapshot_sources WHERE number IN " LIVE,
		"INSERT OR IGNORE INTO temp.prune_live SELECT sha256 FROM snapshot_source_indices WHERE number IN " LIVE,
		/* what the next poll reads back when its source says "unchanged" */
		"INSERT OR IGNORE INTO temp.prune_live SELECT release_sha256 FROM snapshot_source_state"
		" WHERE release_sha256 IS NOT NULL",
	};
	sqlite3_stmt *st;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < JC_ARRAY_LEN(direct); i++)
		rc = jc_store_exec(s->store, direct[i], err);
	if (rc < 0)
		return rc;
	/* every package of every live snapshot, one distinct Packages file at
	 * a time, read as a stream */
	rc = jc_store_prepare(s->store, &st, "SELECT DISTINCT packages_sha256 FROM snapshot_indices WHERE number IN "
			      LIVE, err);
	if (rc < 0)
		return rc;
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		const char *sha = (const char *)sqlite3_column_text(st, 0);
		rc = jc_snap_read_packages(s, sha, mark_para, m, err);
		if (rc < 0)
			jc_err_prefix(err, "reading a live Packages file");
	}
	sqlite3_finalize(st);
	return rc;
}

static int keep_file(const char *sha, bool *keep, jc_error *err, void *payload)
{
	struct mark *m = payload;
	int r;
	sqlite3_bind_text(m->lookup, 1, sha, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(m->lookup);
	sqlite3_reset(m->lookup);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return jc_store_error(m->s->store, err, "looking up a pool file");
	*keep = r == SQLITE_ROW;
	return 0;
}

static int sweep(jc_snapshots *s, jc_snapshot_prune_result *out, jc_error *err)
{
	struct mark m;
	int rc;
	memset(&m, 0, sizeof(m));
	m.s = s;
	rc = jc_store_exec(s->store, "PRAGMA temp_store = FILE;"
			   " CREATE TEMP TABLE IF NOT EXISTS prune_live (sha TEXT PRIMARY KEY) WITHOUT ROWID;"
			   " DELETE FROM temp.prune_live;", err);
	if (rc < 0)
		return rc;
	/* a read transaction: a consistent view of the live set, and the temp
	 * table writes batched, without holding the database's write lock */
	if ((rc = jc_store_begin(s->store, false, err)) < 0)
		return rc;
	rc = jc_store_prepare(s->store, &m.insert, "INSERT OR IGNORE INTO temp.prune_live VALUES (?)", err);
	if (rc == 0)
		rc = jc_store_prepare(s->store, &m.lookup, "SELECT 1 FROM temp.prune_live WHERE sha = ?", err);
	if (rc == 0)
		rc = mark_live(s, &m, err);
	if (rc == 0)
		rc = jc_pool_sweep(s->pool, keep_file, &m, &out->files_removed, &out->bytes_removed, err);
	sqlite3_finalize(m.insert);
	sqlite3_finalize(m.lookup);
	if (rc < 0)
		jc_store_rollback(s->store);
	else
		rc = jc_store_commit(s->store, err);
	jc_store_exec(s->store, "DROP TABLE IF EXISTS temp.prune_live", NULL);
	return rc;
}

int jc_snapshot_prune(jc_snapshot_prune_result *out, jc_snapshots *s, long keep, bool dry_run, jc_error *err)
{
	sqlite3_stmt *st = NULL;
	long seen = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (keep < 1)
		return jc_err(err, JC_EINVALID, "--keep must be at least 1 (the newest snapshot always stays)");
	if ((rc = jc_snap_need_root(s, err)) < 0 || (rc = jc_snap_lock(s, err)) < 0)
		return rc;
	if (!dry_run && (rc = jc_store_begin(s->store, true, err)) < 0)
		goto out;
	rc = jc_store_prepare(s->store, &st, "SELECT number, number IN (SELECT number FROM snapshot_pointers)"
			      " FROM snapshots WHERE state = 'published' ORDER BY number DESC", err);
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		long number = (long)sqlite3_column_int64(st, 0);
		bool named = sqlite3_column_int(st, 1) != 0;
		if (++seen <= keep || named) {
			out->kept++;
			continue;
		}
		out->removed++;
		if (!dry_run) {
			sqlite3_stmt *up;
			rc = jc_store_prepare(s->store, &up, "UPDATE snapshots SET state = 'pruning' WHERE number = ?", err);
			if (rc == 0) {
				sqlite3_bind_int64(up, 1, number);
				if (sqlite3_step(up) != SQLITE_DONE)
					rc = jc_store_error(s->store, err, "marking a snapshot for pruning");
				sqlite3_finalize(up);
			}
		}
	}
	sqlite3_finalize(st);
	if (dry_run)
		goto out;
	if (rc < 0) {
		jc_store_rollback(s->store);
		goto out;
	}
	if ((rc = jc_store_commit(s->store, err)) < 0)
		goto out;
	rc = jc_snap_finish_prunes(s, err);
	if (rc == 0)
		rc = sweep(s, out, err);
	if (rc == 0)
		jc_log(s->o.logger, JC_LOG_INFO, "snapshot", "prune: %ld snapshot%s removed, %ld kept; %ld pool "
		       "file%s (%lld bytes) removed", out->removed, out->removed == 1 ? "" : "s", out->kept,
		       out->files_removed, out->files_removed == 1 ? "" : "s", out->bytes_removed);
out:
	jc_snap_unlock(s);
	return rc;
}
