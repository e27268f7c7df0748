/*
 * kv-sqlite-vfs.c - a VFS over SQLite's own that writes the frames of a
 * WAL commit with one system call.
 *
 * SQLite appends each WAL frame with two writes (its 24-byte header, then
 * the page), so a report of two keys, which touches a dozen pages, costs
 * two dozen pwrite calls; on a virtual machine each is several
 * microseconds, and the store's writers queue behind them.  Here the WAL
 * file gathers contiguous writes in memory and hands them to the real
 * file at once:
 *
 *   - when the page of a commit frame (a frame header whose "database size"
 *     is not zero) has been added: the commit is then on file before
 *     SQLite publishes it in the WAL index, and a write error is returned
 *     by the write that completed the commit, as without the buffer;
 *   - before anything else touches the WAL file (read, sync, truncate,
 *     size, lock, close), before a write elsewhere in it, when the buffer
 *     would pass 124 KB, and before the database's connection gives up the WAL
 *     write lock (a rolled-back transaction's frames are written then, as
 *     they would have been, and never after another writer's).
 *
 * Only a process with more than one connection gathers (bench/fleet's
 * simulated agents, a service with many clients): there writers queue for
 * the WAL write lock, and the time each holds it is what counts.  A
 * process with one connection writes through.  Everything else is the
 * unix VFS, unchanged.
 */
#include "common.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "kv-internal.h"

#define WALBUF_VFS "jcicd-walbuf"
/* the unix VFS writes at most 128 KB - 1 at a time (it masks the size
 * with 0x1ffff): a buffer never holds more than one write of it */
#define WALBUF_MAX (124 * 1024)
/* where the real file starts in ours: SQLite aligns files to 8 bytes */
#define BFILE_SIZE ((sizeof(struct bfile) + 7) / 8 * 8)

struct bfile {
	sqlite3_file base;
	sqlite3_file *real;          /* the unix VFS's file, right after us */
	struct bfile *wal;           /* a database: its open WAL */
	struct bfile *db;            /* a WAL: its database */
	char *buf;                   /* a WAL: pending bytes at [off, off + len) */
	size_t len;
	sqlite3_int64 off;
	bool commit_frame;           /* the last header buffered was a commit's */
};

/* Spare buffers, shared by the process's connections: a writer holds the
 * WAL write lock while it fills one, so a few serve any number of
 * connections, and no commit pays for fresh pages (ten thousand
 * connections in bench/fleet fault them in otherwise). */
#define SPARES 4
static pthread_mutex_t spares_lock = PTHREAD_MUTEX_INITIALIZER;
static char *spares[SPARES];
static size_t n_spares;
static int open_wals;            /* under spares_lock */

/* NULL: write through.  A process with one connection (an agent, a
 * command) has nobody waiting for its write lock: gathering would save it
 * little and cost it a buffer's worth of resident memory. */
static char *buffer_get(void)
{
	char *b = NULL;
	bool alone;
	pthread_mutex_lock(&spares_lock);
	alone = open_wals <= 1;
	if (!alone && n_spares)
		b = spares[--n_spares];
	pthread_mutex_unlock(&spares_lock);
	if (!alone && !b)
		b = malloc(WALBUF_MAX);
	return b;
}

static void buffer_put(char *b)
{
	if (!b)
		return;
	pthread_mutex_lock(&spares_lock);
	if (n_spares < SPARES) {
		spares[n_spares++] = b;
		b = NULL;
	}
	pthread_mutex_unlock(&spares_lock);
	free(b);
}

static void count_wal(int d)
{
	pthread_mutex_lock(&spares_lock);
	open_wals += d;
	pthread_mutex_unlock(&spares_lock);
}

static sqlite3_vfs *unix_vfs;
static sqlite3_vfs walbuf_vfs;
static pthread_once_t walbuf_once = PTHREAD_ONCE_INIT;

/* Writes what is pending, and gives the buffer back (a connection that
 * keeps one would cost bench/fleet's 10,000 connections 1.2 GB). */
static int flush(struct bfile *f)
{
	int rc = SQLITE_OK;
	if (f->len)
		rc = f->real->pMethods->xWrite(f->real, f->buf, (int)f->len, f->off);
	buffer_put(f->buf);
	f->buf = NULL;
	f->len = 0;
	f->commit_frame = false;
	return rc;
}

static int b_close(sqlite3_file *file)
{
	struct bfile *f = (struct bfile *)file;
	int rc = flush(f), rc2;
	if (f->db) {
		f->db->wal = NULL;
		count_wal(-1);
	}
	if (f->wal)
		f->wal->db = NULL;
	rc2 = f->real->pMethods->xClose(f->real);
	return rc != SQLITE_OK ? rc : rc2;
}

static int b_read(sqlite3_file *file, void *out, int n, sqlite3_int64 off)
{
	struct bfile *f = (struct bfile *)file;
	int rc = flush(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xRead(f->real, out, n, off);
}

static int b_write(sqlite3_file *file, const void *data, int n, sqlite3_int64 off)
{
	struct bfile *f = (struct bfile *)file;
	const unsigned char *p = data;
	bool completes;
	int rc;

	if (!f->db || (size_t)n > WALBUF_MAX) {   /* not a WAL, or too big to gather */
		if ((rc = flush(f)) != SQLITE_OK)
			return rc;
		return f->real->pMethods->xWrite(f->real, data, n, off);
	}
	if (f->len && (off != f->off + (sqlite3_int64)f->len || f->len + (size_t)n > WALBUF_MAX) &&
	    (rc = flush(f)) != SQLITE_OK)
		return rc;
	if (f->len == 0)
		f->off = off;
	if (!f->buf && !(f->buf = buffer_get()))
		return f->real->pMethods->xWrite(f->real, data, n, off);
	memcpy(f->buf + f->len, data, (size_t)n);
	f->len += (size_t)n;
	/* a frame header is 24 bytes; bytes 4..7 hold the database size after
	 * a commit, zero in the frames before it; the page follows */
	completes = f->commit_frame && n != 24;
	f->commit_frame = n == 24 && (p[4] | p[5] | p[6] | p[7]) != 0;
	return completes ? flush(f) : SQLITE_OK;
}

static int b_truncate(sqlite3_file *file, sqlite3_int64 size)
{
	struct bfile *f = (struct bfile *)file;
	int rc = flush(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xTruncate(f->real, size);
}

static int b_sync(sqlite3_file *file, int flags)
{
	struct bfile *f = (struct bfile *)file;
	int rc = flush(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xSync(f->real, flags);
}

static int b_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
	struct bfile *f = (struct bfile *)file;
	int rc = flush(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xFileSize(f->real, size);
}

static int b_lock(sqlite3_file *file, int lock)
{
	struct bfile *f = (struct bfile *)file;
	int rc = flush(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xLock(f->real, lock);
}

static int b_unlock(sqlite3_file *file, int lock)
{
	struct bfile *f = (struct bfile *)file;
	int rc = flush(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xUnlock(f->real, lock);
}

static int b_check_reserved(sqlite3_file *file, int *out)
{
	struct bfile *f = (struct bfile *)file;
	return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int b_file_control(sqlite3_file *file, int op, void *arg)
{
	struct bfile *f = (struct bfile *)file;
	if (op == SQLITE_FCNTL_VFSNAME) {
		*(char **)arg = sqlite3_mprintf("%s", WALBUF_VFS);
		return SQLITE_OK;
	}
	return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int b_sector_size(sqlite3_file *file)
{
	struct bfile *f = (struct bfile *)file;
	return f->real->pMethods->xSectorSize(f->real);
}

static int b_device_characteristics(sqlite3_file *file)
{
	struct bfile *f = (struct bfile *)file;
	return f->real->pMethods->xDeviceCharacteristics(f->real);
}

static int b_shm_map(sqlite3_file *file, int page, int size, int extend, void volatile **out)
{
	struct bfile *f = (struct bfile *)file;
	return f->real->pMethods->xShmMap(f->real, page, size, extend, out);
}

static int b_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
	struct bfile *f = (struct bfile *)file;
	/* lock 0 is the WAL write lock: what this writer buffered goes to the
	 * file before another writer may write there */
	if (f->wal && offset == 0 && (flags & SQLITE_SHM_UNLOCK)) {
		int rc = flush(f->wal);
		if (rc != SQLITE_OK)
			return rc;
	}
	return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

static void b_shm_barrier(sqlite3_file *file)
{
	struct bfile *f = (struct bfile *)file;
	/* SQLite publishes a commit in the WAL index across a barrier: its
	 * frames must be on file first.  A commit frame has flushed them
	 * already (b_write), with an error to return; this is the net */
	if (f->wal && f->wal->len && flush(f->wal) != SQLITE_OK)
		jc_log(NULL, JC_LOG_ERROR, "kv", "writing the WAL failed before a commit was published");
	f->real->pMethods->xShmBarrier(f->real);
}

static int b_shm_unmap(sqlite3_file *file, int delete_flag)
{
	struct bfile *f = (struct bfile *)file;
	return f->real->pMethods->xShmUnmap(f->real, delete_flag);
}

static int b_fetch(sqlite3_file *file, sqlite3_int64 off, int n, void **out)
{
	struct bfile *f = (struct bfile *)file;
	return f->real->pMethods->xFetch(f->real, off, n, out);
}

static int b_unfetch(sqlite3_file *file, sqlite3_int64 off, void *p)
{
	struct bfile *f = (struct bfile *)file;
	return f->real->pMethods->xUnfetch(f->real, off, p);
}

static const sqlite3_io_methods b_methods = {
	3, b_close, b_read, b_write, b_truncate, b_sync, b_file_size, b_lock, b_unlock, b_check_reserved,
	b_file_control, b_sector_size, b_device_characteristics, b_shm_map, b_shm_lock, b_shm_barrier,
	b_shm_unmap, b_fetch, b_unfetch,
};

static int b_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags, int *out_flags)
{
	struct bfile *f = (struct bfile *)file;
	int rc;
	(void)vfs;
	memset(f, 0, sizeof(*f));
	f->real = (sqlite3_file *)((char *)f + BFILE_SIZE);
	rc = unix_vfs->xOpen(unix_vfs, name, f->real, flags, out_flags);
	if (rc != SQLITE_OK) {
		if (f->real->pMethods)
			f->real->pMethods->xClose(f->real);
		f->base.pMethods = NULL;
		return rc;
	}
	if ((flags & SQLITE_OPEN_WAL) && name) {
		struct bfile *db = (struct bfile *)sqlite3_database_file_object(name);
		if (db && db->base.pMethods == &b_methods) {
			f->db = db;
			db->wal = f;
			count_wal(1);
		}
	}
	f->base.pMethods = &b_methods;
	return SQLITE_OK;
}

static int v_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	(void)vfs;
	return unix_vfs->xDelete(unix_vfs, name, sync_dir);
}

static int v_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	(void)vfs;
	return unix_vfs->xAccess(unix_vfs, name, flags, out);
}

static int v_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	(void)vfs;
	return unix_vfs->xFullPathname(unix_vfs, name, n, out);
}

static void *v_dlopen(sqlite3_vfs *vfs, const char *name)
{
	(void)vfs;
	return unix_vfs->xDlOpen(unix_vfs, name);
}

static void v_dlerror(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	unix_vfs->xDlError(unix_vfs, n, out);
}

static void (*v_dlsym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
	(void)vfs;
	return unix_vfs->xDlSym(unix_vfs, h, sym);
}

static void v_dlclose(sqlite3_vfs *vfs, void *h)
{
	(void)vfs;
	unix_vfs->xDlClose(unix_vfs, h);
}

static int v_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return unix_vfs->xRandomness(unix_vfs, n, out);
}

static int v_sleep(sqlite3_vfs *vfs, int us)
{
	(void)vfs;
	return unix_vfs->xSleep(unix_vfs, us);
}

static int v_current_time(sqlite3_vfs *vfs, double *out)
{
	(void)vfs;
	return unix_vfs->xCurrentTime(unix_vfs, out);
}

static int v_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return unix_vfs->xGetLastError(unix_vfs, n, out);
}

static int v_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	(void)vfs;
	return unix_vfs->xCurrentTimeInt64(unix_vfs, out);
}

static void register_walbuf(void)
{
	/* its files have the methods of version 3 (shared memory, mmap) that
	 * b_methods forwards to: the unix VFS's always do */
	sqlite3_vfs *u = sqlite3_vfs_find("unix");
	if (!u || u->iVersion < 2)
		return;
	unix_vfs = u;
	walbuf_vfs = (sqlite3_vfs){
		.iVersion = 2,
		/* our struct, then the real file, aligned as SQLite aligns */
		.szOsFile = (int)BFILE_SIZE + u->szOsFile,
		.mxPathname = u->mxPathname,
		.zName = WALBUF_VFS,
		.xOpen = b_open,
		.xDelete = v_delete,
		.xAccess = v_access,
		.xFullPathname = v_full_pathname,
		.xDlOpen = v_dlopen,
		.xDlError = v_dlerror,
		.xDlSym = v_dlsym,
		.xDlClose = v_dlclose,
		.xRandomness = v_randomness,
		.xSleep = v_sleep,
		.xCurrentTime = v_current_time,
		.xGetLastError = v_last_error,
		.xCurrentTimeInt64 = v_current_time_int64,
	};
	if (sqlite3_vfs_register(&walbuf_vfs, 0) != SQLITE_OK)
		unix_vfs = NULL;
}

const char *jc_kv_sqlite_vfs(void)
{
	pthread_once(&walbuf_once, register_walbuf);
	return unix_vfs ? WALBUF_VFS : NULL;
}
