/*
 * kv-sqlite.c - the embedded KV backend: one SQLite file in WAL mode that
 * every process on the machine opens, with etcd's model on top: one
 * store-wide revision bumped by each write transaction, a change log that
 * watches read from, and leases that expire by wall-clock time.
 *
 * There is no server, so lease expiry is done by whoever touches the store
 * next: every write, and every watch poll (at most once a second), deletes
 * the keys of expired leases first, as etcd would have done at that time.
 * Watches sleep without touching the database while nothing changed under
 * their prefix: beside the database, a shared-memory change map (<db>-watch,
 * 65536 slots, see map_changes) holds for each hashed "directory" prefix
 * (every prefix of a key that ends in '/', and the key itself) the last
 * revision that changed a key under it, and a counter; writers update
 * both after they commit and wake the counter's futex.  A watch sleeps on
 * its slot's futex (one watch of a process wakes every second to look for
 * expired leases, see sweeps_for_process); only when its slots moved (or
 * every half minute, in case a writer died between its commit and the
 * map) does it open a read transaction.  Read
 * transactions are what a WAL database has few of (five read marks): ten
 * thousand watchers polling the database itself starve the writers, and
 * ten thousand polling the map keep two cores busy waking up.  Without
 * the map (it could not be made), a watch polls the database, backing off
 * from 10 ms to 250 ms.  That is plenty for a fleet on one machine; a real
 * fleet uses etcd.
 */
#include "common.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "kv-internal.h"

/* change log rows kept for watches that fell behind */
#define LOG_KEEP_REVISIONS 100000
#define SWEEP_EVERY_MS 1000
#define POLL_MIN_MS 10
#define POLL_MAX_MS 250
#define CHANGE_SLOTS 65536
#define BEHIND_BY_KEY 256        /* revisions behind: read the log by key, not by revision */
#define FULL_LOOK_MS 30000       /* a watch reads the database at least this often */
#define WAL_RESTART_BYTES (64LL << 20)
/* prepared statements kept per connection: a watch wakes many times a
 * second, and preparing costs more than running these one-row queries */
#define STMT_CACHE 40

struct cached_stmt {
	char *sql;
	sqlite3_stmt *st;
	bool in_use;
};

struct kvs {
	sqlite3 *db;
	struct change_map *changes;   /* NULL: none */
	jc_strv changed;           /* keys the open write transaction changed */
	int64_t changed_rev;
	uint64_t rng;            /* busy-handler naps: no shared lock for them */
	int64_t busy_since_ms;
	struct cached_stmt cache[STMT_CACHE];
	size_t n_cached;
	char *path;
	long long busy_ms;
	long requests;
	long local_commits;      /* our own writes: data_version does not show them */
	int64_t last_sweep_ms;
	const jc_logger *logger;
};

/* a prefix's place in the change map (see map_changes) */
struct slots {
	long a, b;
};

struct kvs_watch {
	struct kvs *s;
	char *key, *end;
	int64_t next_rev;
	int data_version;
	long local_commits;
	bool mapped;             /* its prefix has slots in the change map */
	struct slots slots;
	int64_t full_look_ms;    /* when the database must be read anyway */
	bool primed;
	long long poll_ms;
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS kv_meta(id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  revision INTEGER NOT NULL, compacted INTEGER NOT NULL);"
	"INSERT OR IGNORE INTO kv_meta VALUES (1, 1, 0);"
	"CREATE TABLE IF NOT EXISTS kv(key TEXT PRIMARY KEY, value BLOB NOT NULL,"
	"  create_rev INTEGER NOT NULL, mod_rev INTEGER NOT NULL, version INTEGER NOT NULL,"
	"  lease INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS kv_by_mod ON kv(mod_rev);"
	"CREATE INDEX IF NOT EXISTS kv_by_lease ON kv(lease) WHERE lease != 0;"
	"CREATE TABLE IF NOT EXISTS kv_lease(id INTEGER PRIMARY KEY, ttl INTEGER NOT NULL,"
	"  expires_ms INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS kv_lease_by_expiry ON kv_lease(expires_ms);"
	"CREATE TABLE IF NOT EXISTS kv_log(rev INTEGER NOT NULL, key TEXT NOT NULL,"
	"  type INTEGER NOT NULL, value BLOB, create_rev INTEGER, version INTEGER, lease INTEGER,"
	"  PRIMARY KEY (rev, key)) WITHOUT ROWID;"
	/* a watch asks "anything new under my prefix?" after every commit of
	 * anybody: by key, that is a few rows, not every change since */
	"CREATE INDEX IF NOT EXISTS kv_log_by_key ON kv_log(key, rev);";

static int db_error(struct kvs *s, jc_error *err, const char *what)
{
	int ec = sqlite3_extended_errcode(s->db);
	int code = (ec & 0xff) == SQLITE_BUSY || (ec & 0xff) == SQLITE_LOCKED ? JC_ELOCKED : JC_EIO;
	return jc_err(err, code, "sqlite://%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

static int exec(struct kvs *s, const char *sql, jc_error *err)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_error(s, err, sql);
	return 0;
}

/* A statement for sql, from the cache when it holds an idle one; give it
 * back with done(). */
static int prep(struct kvs *s, sqlite3_stmt **st, const char *sql, jc_error *err)
{
	for (size_t i = 0; i < s->n_cached; i++) {
		struct cached_stmt *c = &s->cache[i];
		if (!c->in_use && strcmp(c->sql, sql) == 0) {
			c->in_use = true;
			*st = c->st;
			return 0;
		}
	}
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
		return db_error(s, err, "prepare");
	if (s->n_cached < STMT_CACHE) {
		struct cached_stmt *c = &s->cache[s->n_cached++];
		c->sql = jc_strdup(sql);
		c->st = *st;
		c->in_use = true;
	}
	return 0;
}

/* Ends a statement from prep(): reset (which also ends its read of the
 * database) and back to the cache, or finalized when it was not cached. */
static void done(struct kvs *s, sqlite3_stmt *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < s->n_cached; i++) {
		if (s->cache[i].st == st) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			s->cache[i].in_use = false;
			return;
		}
	}
	sqlite3_finalize(st);
}

/* SQLite's own busy handler sleeps 1, 2, 5 ... 100 ms: with many writers
 * the lock is free again long before the sleepers wake, and the store
 * idles while everybody waits.  Short random naps keep it busy. */
static int on_busy(void *arg, int count)
{
	struct kvs *s = arg;
	int64_t now = jc_now_ms();
	long us;
	if (count == 0)
		s->busy_since_ms = now;
	if (now - s->busy_since_ms >= s->busy_ms)
		return 0;
	us = 50 + (long)(jc_random_next(&s->rng) % (uint64_t)(count < 20 ? 100 * (count + 1) : 2000));
	struct timespec ts = { 0, us * 1000 };
	nanosleep(&ts, NULL);
	return 1;
}

static int begin_write(struct kvs *s, jc_error *err);
static int commit(struct kvs *s, jc_error *err);
static void rollback(struct kvs *s);

/* Does the database have the newest object of the schema?  Then opening
 * needs no write transaction (ten thousand agents open it). */
static bool schema_current(struct kvs *s)
{
	sqlite3_stmt *st = NULL;
	bool yes = false;
	if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM sqlite_master WHERE name = 'kv_log_by_key'", -1, &st, NULL) ==
	    SQLITE_OK)
		yes = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return yes;
}

/* The change map beside the database (<db>-watch), mapped shared: a
 * header, then for each slot two revision arrays indexed by two
 * independent hashes of a prefix, then a futex word per slot of the first.
 * A change under a prefix moves both of its slots; a watch reads the
 * database only when both moved, so a collision in one array (ten
 * thousand hosts' keys land all over it) costs nothing. */
#define CHANGE_MAGIC 0x316863776376636aULL   /* "jcvcwch1" */
#define CHANGE_HEADER 64
#define CHANGE_MAP_SIZE (CHANGE_HEADER + CHANGE_SLOTS * (2 * sizeof(int64_t) + 2 * sizeof(uint32_t)))

struct change_map {
	char *path;
	unsigned char *base;
	_Atomic int64_t *a, *b;
	_Atomic uint32_t *bumps;
	_Atomic uint32_t *waiters;   /* sleepers per futex word: a writer wakes only those */
	int refs;
	struct change_map *next;
};

/* One mapping per database per process, however many connections. */
static pthread_mutex_t maps_lock = PTHREAD_MUTEX_INITIALIZER;
static struct change_map *maps;

static struct change_map *map_changes(const char *db_path)
{
	struct change_map *m;
	char *path;
	struct stat sb;
	void *base = MAP_FAILED;
	int fd;
	pthread_mutex_lock(&maps_lock);
	for (m = maps; m && strcmp(m->path, db_path) != 0; m = m->next)
		;
	if (m) {
		m->refs++;
		pthread_mutex_unlock(&maps_lock);
		return m;
	}
	path = jc_sprintf("%s-watch", db_path);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	free(path);
	/* zero-filled by the kernel when it grows: every slot starts at 0 */
	if (fd >= 0 && fstat(fd, &sb) == 0 && (sb.st_size >= (off_t)CHANGE_MAP_SIZE ||
					       ftruncate(fd, (off_t)CHANGE_MAP_SIZE) == 0))
		base = mmap(NULL, CHANGE_MAP_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (fd >= 0)
		close(fd);
	if (base != MAP_FAILED) {
		_Atomic uint64_t *magic = base;
		uint64_t seen = 0;
		if (!atomic_compare_exchange_strong(magic, &seen, CHANGE_MAGIC) && seen != CHANGE_MAGIC) {
			munmap(base, CHANGE_MAP_SIZE);   /* not ours: watches poll the database */
			base = MAP_FAILED;
		}
	}
	if (base == MAP_FAILED) {
		pthread_mutex_unlock(&maps_lock);
		return NULL;
	}
	m = jc_calloc(1, sizeof(*m));
	m->path = jc_strdup(db_path);
	m->base = base;
	m->a = (_Atomic int64_t *)(m->base + CHANGE_HEADER);
	m->b = m->a + CHANGE_SLOTS;
	m->bumps = (_Atomic uint32_t *)(m->b + CHANGE_SLOTS);
	/* added after the first layout, at the end: a map of the first size
	 * grows (zeros), and its sleepers from before are found by timeouts */
	m->waiters = m->bumps + CHANGE_SLOTS;
	m->refs = 1;
	m->next = maps;
	maps = m;
	pthread_mutex_unlock(&maps_lock);
	return m;
}

static void unmap_changes(struct change_map *m)
{
	struct change_map **pp;
	if (!m)
		return;
	pthread_mutex_lock(&maps_lock);
	if (--m->refs == 0) {
		for (pp = &maps; *pp != m; pp = &(*pp)->next)
			;
		*pp = m->next;
		munmap(m->base, CHANGE_MAP_SIZE);
		free(m->path);
		free(m);
	}
	pthread_mutex_unlock(&maps_lock);
}

static struct slots change_slots(const char *s, size_t len)
{
	uint32_t h = 2166136261u;   /* FNV-1a */
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	/* the low bits, and a multiplicative hash of all of them */
	return (struct slots){ (long)(h % CHANGE_SLOTS), (long)((h * 2654435761u) >> 16) % CHANGE_SLOTS };
}

/*
 * The kernel maps up to 15 neighbours of a shared page on a first read of
 * it ("fault-around"), and only the page on a first write.  Ten slots of
 * a 1.3 MB map read first would make every agent pay for most of it in
 * resident memory; so slots are first touched by a write: a
 * compare-and-swap here, an add of zero in touch_slots.
 */
static void raise_to(_Atomic int64_t *slot, int64_t rev)
{
	int64_t cur = 0;
	while (!atomic_compare_exchange_weak(slot, &cur, rev) && cur < rev)
		;
}

static void touch_slots(struct change_map *m, struct slots sl)
{
	atomic_fetch_add(&m->a[sl.a], 0);
	atomic_fetch_add(&m->b[sl.b], 0);
	atomic_fetch_add(&m->bumps[sl.a], 0);
	atomic_fetch_add(&m->waiters[sl.a], 0);
}

static void wake_slot(struct kvs *s, long a)
{
	/* a shared (not private) futex: the sleepers are in other processes */
	atomic_fetch_add(&s->changes->bumps[a], 1);
	/* nobody sleeps on most slots (hosts' own keys): no syscall for them.
	 * A sleeper counts itself before it sleeps, and sleeps only while the
	 * word is unchanged: the word moved first, so it never misses this.
	 * (One killed in its sleep leaves its count: that slot is then woken
	 * for nothing, as every slot was before.) */
	if (atomic_fetch_add(&s->changes->waiters[a], 0) > 0)   /* a write: see raise_to */
		syscall(SYS_futex, (void *)&s->changes->bumps[a], FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* Has anything under the prefix of these slots changed at or after rev?
 * False is certain; true may be a collision in both arrays. */
static bool maybe_changed(struct kvs *s, struct slots sl, int64_t rev)
{
	return atomic_load(&s->changes->a[sl.a]) >= rev && atomic_load(&s->changes->b[sl.b]) >= rev;
}

/* Sleeps until the slot's counter moves from `seen`, or for ms. */
static void wait_slot(struct kvs *s, struct slots sl, uint32_t seen, int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	atomic_fetch_add(&s->changes->waiters[sl.a], 1);
	syscall(SYS_futex, (void *)&s->changes->bumps[sl.a], FUTEX_WAIT, seen, &ts, NULL, 0);
	atomic_fetch_sub(&s->changes->waiters[sl.a], 1);
}

/* After a commit: the slot of every directory of every changed key, and of
 * the key itself, moves to the transaction's revision. */
static void publish_changes(struct kvs *s)
{
	/* the keys of one transaction share their directories ("hosts/h1/"
	 * for a report's two keys): each slot is woken once, a syscall each */
	long woken[32];
	size_t n_woken = 0;
	for (size_t i = 0; s->changes && i < s->changed.n; i++) {
		const char *k = s->changed.v[i];
		size_t len = strlen(k);
		for (size_t j = 0; j < len; j++) {
			if (k[j] != '/' && j + 1 < len)
				continue;
			struct slots sl = change_slots(k, j + 1);
			bool again = false;
			raise_to(&s->changes->a[sl.a], s->changed_rev);
			raise_to(&s->changes->b[sl.b], s->changed_rev);
			for (size_t w = 0; w < n_woken && !again; w++)
				again = woken[w] == sl.a;
			if (again)
				continue;
			wake_slot(s, sl.a);
			if (n_woken < JC_ARRAY_LEN(woken))
				woken[n_woken++] = sl.a;
		}
	}
	jc_strv_free(&s->changed);
	s->changed_rev = 0;
}

static int kvs_open(void **state, const char *url, const jc_kv_options *opts, jc_error *err)
{
	struct kvs *s;
	const char *path = url + strlen("sqlite://");
	char *dir, *slash;
	int rc;

	*state = NULL;
	if (*path != '/')
		return jc_err(err, JC_EINVALID,
			      "KV URL '%s' needs an absolute path: sqlite:///var/lib/jcicd/kv.db", url);
	s = jc_calloc(1, sizeof(*s));
	s->path = jc_strdup(path);
	s->busy_ms = opts && opts->busy_timeout_ms ? opts->busy_timeout_ms : 30000;
	s->logger = opts ? opts->logger : NULL;
	dir = jc_strdup(path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if ((rc = jc_mkdir_p(dir, 0755, err)) < 0) {
			free(dir);
			free(s->path);
			free(s);
			return rc;
		}
	}
	free(dir);
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    jc_kv_sqlite_vfs()) != SQLITE_OK) {
		rc = jc_err(err, JC_EIO, "sqlite://%s: cannot open: %s", path,
			    s->db ? sqlite3_errmsg(s->db) : "out of memory");
		sqlite3_close(s->db);
		free(s->path);
		free(s);
		return rc;
	}
	/* SQLite gives each connection 120 KB of small-allocation slots; the
	 * few statements here use a fraction, and a node (or bench/fleet's
	 * 10,000 connections) would pay for the pages they touch */
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_LOOKASIDE, NULL, 128, 64);
	s->changes = map_changes(path);
	s->rng = (jc_random(UINT64_MAX - 1) | 1);
	sqlite3_busy_handler(s->db, on_busy, s);
	rc = exec(s, "PRAGMA journal_mode=WAL", err);
	if (rc == 0)
		rc = exec(s, "PRAGMA synchronous=NORMAL", err);
	if (rc == 0 && !schema_current(s)) {
		/* one writer creates the tables; the others wait for it */
		rc = begin_write(s, err);
		if (rc == 0 && (rc = exec(s, schema, err)) == 0)
			rc = commit(s, err);
		else if (rc < 0)
			rollback(s);
	}
	if (rc < 0) {
		sqlite3_close(s->db);
		unmap_changes(s->changes);
		free(s->path);
		free(s);
		return rc;
	}
	*state = s;
	return 0;
}

static void kvs_close(void *state)
{
	struct kvs *s = state;
	if (!s)
		return;
	for (size_t i = 0; i < s->n_cached; i++) {
		sqlite3_finalize(s->cache[i].st);
		free(s->cache[i].sql);
	}
	sqlite3_close_v2(s->db);
	unmap_changes(s->changes);
	jc_strv_free(&s->changed);
	free(s->path);
	free(s);
}

/* ---- write transactions */

/* Writers of one process take turns here, asleep, before they contend for
 * the database's lock: a thousand threads of one process each polling
 * SQLite's lock leave the holder no CPU to finish with it. */
static pthread_mutex_t write_turn = PTHREAD_MUTEX_INITIALIZER;

static int begin_write(struct kvs *s, jc_error *err)
{
	int rc;
	pthread_mutex_lock(&write_turn);
	if ((rc = exec(s, "BEGIN IMMEDIATE", err)) < 0)
		pthread_mutex_unlock(&write_turn);
	return rc;
}

/* With readers always somewhere (a fleet's watches), SQLite's automatic
 * checkpoints never get to start the WAL over and it grows without end
 * (650 MB after 20,000 reports here).  Now and then a writer waits for a
 * moment without readers and restarts it. */
static _Atomic long process_commits;

static void restart_wal_if_big(struct kvs *s)
{
	char *wal;
	struct stat sb;
	if (atomic_fetch_add(&process_commits, 1) % 128 != 127)
		return;
	wal = jc_sprintf("%s-wal", s->path);
	if (stat(wal, &sb) == 0 && sb.st_size > WAL_RESTART_BYTES)
		sqlite3_exec(s->db, "PRAGMA wal_checkpoint(RESTART)", NULL, NULL, NULL);
	free(wal);
}

static int commit(struct kvs *s, jc_error *err)
{
	int rc = exec(s, "COMMIT", err);
	if (rc < 0) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	} else {
		s->local_commits++;
		restart_wal_if_big(s);
	}
	pthread_mutex_unlock(&write_turn);
	if (rc < 0) {
		jc_strv_free(&s->changed);
		s->changed_rev = 0;
	} else {
		publish_changes(s);
	}
	return rc;
}

static void rollback(struct kvs *s)
{
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	pthread_mutex_unlock(&write_turn);
	jc_strv_free(&s->changed);
	s->changed_rev = 0;
}

static int64_t current_rev(struct kvs *s)
{
	sqlite3_stmt *st = NULL;
	int64_t rev = 0;
	if (prep(s, &st, "SELECT revision FROM kv_meta WHERE id = 1", NULL) == 0 &&
	    sqlite3_step(st) == SQLITE_ROW)
		rev = sqlite3_column_int64(st, 0);
	done(s, st);
	return rev;
}

static int set_rev(struct kvs *s, int64_t rev, jc_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc = prep(s, &st, "UPDATE kv_meta SET revision = ? WHERE id = 1", err);
	if (rc == 0) {
		sqlite3_bind_int64(st, 1, rev);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = db_error(s, err, "bump revision");
	}
	done(s, st);
	/* keep the change log bounded: watches further behind are told to re-read */
	if (rc == 0 && rev % 1000 == 0 && rev > LOG_KEEP_REVISIONS) {
		char sql[160];
		snprintf(sql, sizeof(sql), "DELETE FROM kv_log WHERE rev < %lld;"
			 "UPDATE kv_meta SET compacted = %lld WHERE id = 1",
			 (long long)(rev - LOG_KEEP_REVISIONS), (long long)(rev - LOG_KEEP_REVISIONS));
		rc = exec(s, sql, err);
	}
	return rc;
}

static int log_event(struct kvs *s, int64_t rev, const char *key, int type, const char *value,
		     size_t len, int64_t create_rev, int64_t version, int64_t lease, jc_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc = prep(s, &st, "INSERT OR REPLACE INTO kv_log VALUES (?, ?, ?, ?, ?, ?, ?)", err);
	if (rc < 0)
		return rc;
	if (s->changes) {
		jc_strv_push(&s->changed, key);
		if (rev > s->changed_rev)
			s->changed_rev = rev;
	}
	sqlite3_bind_int64(st, 1, rev);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, type);
	if (value)
		sqlite3_bind_blob(st, 4, value, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, create_rev);
	sqlite3_bind_int64(st, 6, version);
	sqlite3_bind_int64(st, 7, lease);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_error(s, err, "log a change");
	done(s, st);
	return rc;
}

static int do_put(struct kvs *s, int64_t rev, const char *key, const char *value, size_t len,
		  int64_t lease, jc_error *err)
{
	sqlite3_stmt *st = NULL;
	int64_t create_rev = rev, version = 1;
	int rc;

	if (lease) {
		rc = prep(s, &st, "SELECT 1 FROM kv_lease WHERE id = ?", err);
		if (rc < 0)
			return rc;
		sqlite3_bind_int64(st, 1, lease);
		rc = sqlite3_step(st);
		done(s, st);
		if (rc != SQLITE_ROW)
			return jc_err(err, JC_ENOTFOUND, "sqlite://%s: lease %lld not found (expired?)", s->path,
				      (long long)lease);
	}
	rc = prep(s, &st, "SELECT create_rev, version FROM kv WHERE key = ?", err);
	if (rc < 0)
		return rc;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		create_rev = sqlite3_column_int64(st, 0);
		version = sqlite3_column_int64(st, 1) + 1;
	}
	done(s, st);
	rc = prep(s, &st, "INSERT OR REPLACE INTO kv VALUES (?, ?, ?, ?, ?, ?)", err);
	if (rc < 0)
		return rc;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, value, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, create_rev);
	sqlite3_bind_int64(st, 4, rev);
	sqlite3_bind_int64(st, 5, version);
	sqlite3_bind_int64(st, 6, lease);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_error(s, err, "put");
	done(s, st);
	if (rc == 0)
		rc = log_event(s, rev, key, JC_KV_EVENT_PUT, value, len, create_rev, version, lease, err);
	return rc;
}

/* Deletes [key, end) (end NULL: the key; "": to the end); logs each. */
static int do_delete(struct kvs *s, int64_t rev, const char *key, const char *end, long *deleted,
		     jc_error *err)
{
	sqlite3_stmt *st = NULL;
	jc_strv keys = JC_STRV_INIT;
	int rc;

	*deleted = 0;
	if (!end)
		rc = prep(s, &st, "SELECT key FROM kv WHERE key = ?1", err);
	else if (!*end)
		rc = prep(s, &st, "SELECT key FROM kv WHERE key >= ?1", err);
	else
		rc = prep(s, &st, "SELECT key FROM kv WHERE key >= ?1 AND key < ?2", err);
	if (rc < 0)
		return rc;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (end && *end)
		sqlite3_bind_text(st, 2, end, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW)
		jc_strv_push(&keys, (const char *)sqlite3_column_text(st, 0));
	done(s, st);
	for (size_t i = 0; i < keys.n && rc == 0; i++) {
		rc = prep(s, &st, "DELETE FROM kv WHERE key = ?", err);
		if (rc < 0)
			break;
		sqlite3_bind_text(st, 1, keys.v[i], -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = db_error(s, err, "delete");
		done(s, st);
		if (rc == 0)
			rc = log_event(s, rev, keys.v[i], JC_KV_EVENT_DELETE, NULL, 0, 0, 0, 0, err);
	}
	if (rc == 0)
		*deleted = (long)keys.n;
	jc_strv_free(&keys);
	return rc;
}

/* Deletes the keys of every expired lease, one revision per lease (as etcd
 * does).  Runs inside a write transaction. */
static int sweep_expired(struct kvs *s, jc_error *err)
{
	sqlite3_stmt *st = NULL;
	int64_t ids[64];
	size_t n = 0;
	int rc = prep(s, &st, "SELECT id FROM kv_lease WHERE expires_ms < ? LIMIT 64", err);
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(st, 1, jc_wall_ms());
	while (n < JC_ARRAY_LEN(ids) && sqlite3_step(st) == SQLITE_ROW)
		ids[n++] = sqlite3_column_int64(st, 0);
	done(s, st);
	for (size_t i = 0; i < n && rc == 0; i++) {
		int64_t rev = current_rev(s) + 1;
		jc_strv keys = JC_STRV_INIT;
		bool any;
		rc = prep(s, &st, "SELECT key FROM kv WHERE lease = ?", err);
		if (rc < 0)
			break;
		sqlite3_bind_int64(st, 1, ids[i]);
		while (sqlite3_step(st) == SQLITE_ROW)
			jc_strv_push(&keys, (const char *)sqlite3_column_text(st, 0));
		done(s, st);
		any = keys.n > 0;
		for (size_t k = 0; k < keys.n && rc == 0; k++) {
			long d;
			rc = do_delete(s, rev, keys.v[k], NULL, &d, err);
		}
		jc_strv_free(&keys);
		if (rc == 0 && any)
			rc = set_rev(s, rev, err);
		if (rc == 0) {
			char sql[96];
			snprintf(sql, sizeof(sql), "DELETE FROM kv_lease WHERE id = %lld", (long long)ids[i]);
			rc = exec(s, sql, err);
		}
		if (rc == 0)
			jc_log(s->logger, JC_LOG_DEBUG, "kv", "sqlite: lease %lld expired", (long long)ids[i]);
	}
	s->last_sweep_ms = jc_now_ms();
	return rc;
}

/* Is there an expired lease to sweep?  A read, so cheap to ask often. */
static bool expired_pending(struct kvs *s)
{
	sqlite3_stmt *st = NULL;
	bool any = false;
	if (prep(s, &st, "SELECT 1 FROM kv_lease WHERE expires_ms < ? LIMIT 1", NULL) == 0) {
		sqlite3_bind_int64(st, 1, jc_wall_ms());
		any = sqlite3_step(st) == SQLITE_ROW;
	}
	done(s, st);
	return any;   /* a local poll, not counted as a request */
}

/* when some connection of this process last looked for expired leases:
 * one look a second is enough, however many connections it has */
static _Atomic int64_t process_swept_ms;

/* Does this connection look for expired leases for its process?  The one
 * that last did keeps doing it, once a second; if none did for a while,
 * whoever wakes takes over.  The process's other watches sleep until their
 * prefix changes: ten thousand watches waking every second only to find
 * another one did the look keep two cores busy. */
static bool sweeps_for_process(const struct kvs *s, int64_t now)
{
	int64_t last = atomic_load(&process_swept_ms);
	return s->last_sweep_ms == last || now - last >= 2 * SWEEP_EVERY_MS;
}

static int sweep_if_due(struct kvs *s, jc_error *err)
{
	int64_t now = jc_now_ms(), prev;
	int rc;
	if (now - s->last_sweep_ms < SWEEP_EVERY_MS)
		return 0;
	s->last_sweep_ms = now;
	prev = atomic_load(&process_swept_ms);
	if (now - prev < SWEEP_EVERY_MS || !atomic_compare_exchange_strong(&process_swept_ms, &prev, now))
		return 0;
	if (!expired_pending(s))
		return 0;
	if ((rc = begin_write(s, err)) < 0)
		return rc;
	if ((rc = sweep_expired(s, err)) < 0) {
		rollback(s);
		return rc;
	}
	return commit(s, err);
}

/* ---- the operations */

static void fill_pair(jc_kv_pair *p, sqlite3_stmt *st, bool keys_only)
{
	p->key = jc_strdup((const char *)sqlite3_column_text(st, 0));
	if (!keys_only) {
		size_t len = (size_t)sqlite3_column_bytes(st, 1);
		const void *v = sqlite3_column_blob(st, 1);
		p->value = jc_malloc(len + 1);
		if (len)
			memcpy(p->value, v, len);
		p->value[len] = '\0';
		p->value_len = len;
	}
	p->create_revision = sqlite3_column_int64(st, 2);
	p->mod_revision = sqlite3_column_int64(st, 3);
	p->version = sqlite3_column_int64(st, 4);
	p->lease = sqlite3_column_int64(st, 5);
}

static int kvs_range(void *state, jc_kv_list *out, const char *key, const char *end,
		     const jc_kv_range_options *o, jc_error *err)
{
	struct kvs *s = state;
	s->requests++;   /* one operation, whatever it takes in SQL */
	sqlite3_stmt *st = NULL;
	jc_buf where = JC_BUF_INIT;
	char *sql;
	int rc;

	if ((rc = sweep_if_due(s, err)) < 0)
		return rc;
	if (!end)
		jc_buf_puts(&where, "key = ?1");
	else if (!*end)
		jc_buf_puts(&where, "key >= ?1");
	else
		jc_buf_puts(&where, "key >= ?1 AND key < ?2");
	if ((rc = exec(s, "BEGIN", err)) < 0) {
		jc_buf_free(&where);
		return rc;
	}
	out->revision = current_rev(s);
	/* like etcd, count is every key in the range, before the revision filter */
	sql = jc_sprintf("SELECT count(*) FROM kv WHERE %s", jc_buf_cstr(&where));
	rc = prep(s, &st, sql, err);
	free(sql);
	if (rc == 0) {
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
		if (end && *end)
			sqlite3_bind_text(st, 2, end, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			out->count = sqlite3_column_int64(st, 0);
		done(s, st);
	}
	if (o->min_mod_revision > 0)
		jc_buf_puts(&where, " AND mod_rev >= ?3");
	if (rc == 0 && !o->count_only) {
		sql = jc_sprintf("SELECT key, value, create_rev, mod_rev, version, lease FROM kv WHERE %s "
				 "ORDER BY key LIMIT ?4", jc_buf_cstr(&where));
		rc = prep(s, &st, sql, err);
		free(sql);
		if (rc == 0) {
			sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
			if (end && *end)
				sqlite3_bind_text(st, 2, end, -1, SQLITE_STATIC);
			if (o->min_mod_revision > 0)
				sqlite3_bind_int64(st, 3, o->min_mod_revision);
			sqlite3_bind_int64(st, 4, o->limit > 0 ? o->limit + 1 : -1);
			while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
				if (o->limit > 0 && (long)out->n == o->limit) {
					out->more = true;
					break;
				}
				fill_pair(jc_kv_list_push(out), st, o->keys_only);
			}
			rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_error(s, err, "range");
			done(s, st);
		}
	}
	sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	jc_buf_free(&where);
	if (rc < 0)
		jc_kv_list_clear(out);
	return rc;
}

static int kvs_put(void *state, const char *key, const char *value, size_t len, int64_t lease,
		   int64_t *out_rev, jc_error *err)
{
	struct kvs *s = state;
	s->requests++;   /* one operation, whatever it takes in SQL */
	int64_t rev;
	int rc = begin_write(s, err);
	if (rc < 0)
		return rc;
	rc = sweep_expired(s, err);
	rev = current_rev(s) + 1;
	if (rc == 0)
		rc = do_put(s, rev, key, value, len, lease, err);
	if (rc == 0)
		rc = set_rev(s, rev, err);
	if (rc < 0) {
		rollback(s);
		return rc;
	}
	if (out_rev)
		*out_rev = rev;
	return commit(s, err);
}

static int kvs_delete(void *state, const char *key, const char *end, long *deleted, jc_error *err)
{
	struct kvs *s = state;
	s->requests++;   /* one operation, whatever it takes in SQL */
	int64_t rev;
	int rc = begin_write(s, err);
	if (rc < 0)
		return rc;
	rc = sweep_expired(s, err);
	rev = current_rev(s) + 1;
	if (rc == 0)
		rc = do_delete(s, rev, key, end, deleted, err);
	if (rc == 0 && *deleted > 0)
		rc = set_rev(s, rev, err);
	if (rc < 0) {
		rollback(s);
		return rc;
	}
	return commit(s, err);
}

static bool compare_one(struct kvs *s, const jc_kv_compare *c)
{
	sqlite3_stmt *st = NULL;
	bool exists = false, holds = false;
	int64_t have = 0;
	int order = 0;

	if (prep(s, &st, "SELECT value, create_rev, mod_rev, version FROM kv WHERE key = ?", NULL) < 0)
		return false;
	sqlite3_bind_text(st, 1, c->key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		exists = true;
		if (c->target == JC_KV_VALUE) {
			size_t len = (size_t)sqlite3_column_bytes(st, 0);
			const void *v = sqlite3_column_blob(st, 0);
			size_t m = len < c->value_len ? len : c->value_len;
			order = m ? memcmp(v, c->value, m) : 0;
			if (order == 0)
				order = len < c->value_len ? -1 : len > c->value_len ? 1 : 0;
		} else {
			have = sqlite3_column_int64(st, c->target == JC_KV_CREATE ? 1 : c->target == JC_KV_MOD ? 2 : 3);
		}
	}
	done(s, st);
	if (c->target == JC_KV_VALUE) {
		if (!exists)   /* like etcd: a missing key fails every value compare */
			return false;
	} else {
		order = have < c->number ? -1 : have > c->number ? 1 : 0;
	}
	switch (c->op) {
	case JC_KV_EQUAL: holds = order == 0; break;
	case JC_KV_NOT_EQUAL: holds = order != 0; break;
	case JC_KV_LESS: holds = order < 0; break;
	case JC_KV_GREATER: holds = order > 0; break;
	}
	return holds;
}

static int kvs_txn(void *state, const jc_kv_compare *cmps, size_t n_cmps, const jc_kv_op *then_ops,
		   size_t n_then, const jc_kv_op *else_ops, size_t n_else, bool *succeeded,
		   int64_t *out_rev, jc_error *err)
{
	struct kvs *s = state;
	s->requests++;   /* one operation, whatever it takes in SQL */
	const jc_kv_op *ops;
	size_t n;
	bool ok = true, wrote = false;
	int64_t rev;
	int rc = begin_write(s, err);

	if (rc < 0)
		return rc;
	rc = sweep_expired(s, err);
	for (size_t i = 0; i < n_cmps && ok; i++)
		ok = compare_one(s, &cmps[i]);
	ops = ok ? then_ops : else_ops;
	n = ok ? n_then : n_else;
	rev = current_rev(s) + 1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		long d = 0;
		if (ops[i].type == JC_KV_OP_PUT) {
			rc = do_put(s, rev, ops[i].key, ops[i].value, ops[i].value_len, ops[i].lease, err);
			wrote = true;
		} else {
			rc = do_delete(s, rev, ops[i].key, ops[i].type == JC_KV_OP_DELETE ? NULL : ops[i].value,
				       &d, err);
			wrote = wrote || d > 0;
		}
	}
	if (rc == 0 && wrote)
		rc = set_rev(s, rev, err);
	if (rc < 0) {
		rollback(s);
		return rc;
	}
	*succeeded = ok;
	if (out_rev)
		*out_rev = wrote ? rev : rev - 1;
	return commit(s, err);
}

static int kvs_lease_grant(void *state, int64_t *out_id, long ttl_s, jc_error *err)
{
	struct kvs *s = state;
	s->requests++;   /* one operation, whatever it takes in SQL */
	sqlite3_stmt *st = NULL;
	/* random ids: a reused id would let a dead holder's keep-alive revive
	 * somebody else's lease */
	int64_t id = (int64_t)(jc_random((uint64_t)INT64_MAX / 2) + 1);
	int rc = begin_write(s, err);
	if (rc < 0)
		return rc;
	rc = prep(s, &st, "INSERT INTO kv_lease VALUES (?, ?, ?)", err);
	if (rc == 0) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, ttl_s);
		sqlite3_bind_int64(st, 3, jc_wall_ms() + (int64_t)ttl_s * 1000);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = db_error(s, err, "grant a lease");
		done(s, st);
	}
	if (rc < 0) {
		rollback(s);
		return rc;
	}
	*out_id = id;
	return commit(s, err);
}

static int kvs_lease_keepalive(void *state, int64_t id, long *out_ttl, jc_error *err)
{
	struct kvs *s = state;
	s->requests++;   /* one operation, whatever it takes in SQL */
	sqlite3_stmt *st = NULL;
	long ttl = 0;
	int rc = begin_write(s, err);
	if (rc < 0)
		return rc;
	rc = sweep_expired(s, err);
	if (rc == 0)
		rc = prep(s, &st, "SELECT ttl FROM kv_lease WHERE id = ?", err);
	if (rc == 0) {
		sqlite3_bind_int64(st, 1, id);
		if (sqlite3_step(st) == SQLITE_ROW)
			ttl = (long)sqlite3_column_int64(st, 0);
		done(s, st);
	}
	if (rc == 0 && ttl > 0) {
		rc = prep(s, &st, "UPDATE kv_lease SET expires_ms = ? WHERE id = ?", err);
		if (rc == 0) {
			sqlite3_bind_int64(st, 1, jc_wall_ms() + (int64_t)ttl * 1000);
			sqlite3_bind_int64(st, 2, id);
			if (sqlite3_step(st) != SQLITE_DONE)
				rc = db_error(s, err, "keep a lease alive");
			done(s, st);
		}
	}
	if (rc < 0) {
		rollback(s);
		return rc;
	}
	if ((rc = commit(s, err)) < 0)
		return rc;
	if (ttl == 0)
		return jc_err(err, JC_ENOTFOUND, "sqlite://%s: lease %lld has expired", s->path, (long long)id);
	*out_ttl = ttl;
	return 0;
}

static int kvs_lease_revoke(void *state, int64_t id, jc_error *err)
{
	struct kvs *s = state;
	s->requests++;   /* one operation, whatever it takes in SQL */
	sqlite3_stmt *st = NULL;
	jc_strv keys = JC_STRV_INIT;
	int64_t rev;
	bool found = false;
	int rc = begin_write(s, err);
	if (rc < 0)
		return rc;
	rev = current_rev(s) + 1;
	rc = prep(s, &st, "SELECT 1 FROM kv_lease WHERE id = ?", err);
	if (rc == 0) {
		sqlite3_bind_int64(st, 1, id);
		found = sqlite3_step(st) == SQLITE_ROW;
		done(s, st);
	}
	if (rc == 0 && (rc = prep(s, &st, "SELECT key FROM kv WHERE lease = ?", err)) == 0) {
		sqlite3_bind_int64(st, 1, id);
		while (sqlite3_step(st) == SQLITE_ROW)
			jc_strv_push(&keys, (const char *)sqlite3_column_text(st, 0));
		done(s, st);
	}
	for (size_t i = 0; i < keys.n && rc == 0; i++) {
		long d;
		rc = do_delete(s, rev, keys.v[i], NULL, &d, err);
	}
	if (rc == 0 && keys.n)
		rc = set_rev(s, rev, err);
	jc_strv_free(&keys);
	if (rc == 0) {
		char sql[96];
		snprintf(sql, sizeof(sql), "DELETE FROM kv_lease WHERE id = %lld", (long long)id);
		rc = exec(s, sql, err);
	}
	if (rc < 0) {
		rollback(s);
		return rc;
	}
	if ((rc = commit(s, err)) < 0)
		return rc;
	if (!found)
		return jc_err(err, JC_ENOTFOUND, "sqlite://%s: lease %lld not found", s->path, (long long)id);
	return 0;
}

/* ---- watches */

static int data_version(struct kvs *s)
{
	sqlite3_stmt *st = NULL;
	int v = -1;
	if (prep(s, &st, "PRAGMA data_version", NULL) == 0 && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	done(s, st);
	return v;
}

static int kvs_watch_open(void *state, void **out, const char *key, const char *end, int64_t start,
			  jc_error *err)
{
	struct kvs *s = state;
	struct kvs_watch *w = jc_calloc(1, sizeof(*w));
	(void)err;
	w->s = s;
	w->key = jc_strdup(key);
	w->end = jc_strdup(end);
	w->next_rev = start > 0 ? start : current_rev(s) + 1;
	w->poll_ms = POLL_MIN_MS;
	if (s->changes && jc_str_ends(key, "/") && end && *end)
	{
		w->mapped = true;
		w->slots = change_slots(key, strlen(key));
		touch_slots(s->changes, w->slots);
	}
	*out = w;
	return 0;
}

/* Has anything under the watch's range been logged in [w->next_rev, rev]? */
static int log_has_news(struct kvs_watch *w, int64_t rev, bool *news, jc_error *err)
{
	struct kvs *s = w->s;
	sqlite3_stmt *st = NULL;
	int rc = prep(s, &st, *w->end ? "SELECT 1 FROM kv_log INDEXED BY kv_log_by_key WHERE key >= ?1 AND key < ?2 "
					"AND rev >= ?3 AND rev <= ?4 LIMIT 1"
				      : "SELECT 1 FROM kv_log INDEXED BY kv_log_by_key WHERE key >= ?1 "
					"AND rev >= ?3 AND rev <= ?4 LIMIT 1", err);
	if (rc < 0)
		return rc;
	sqlite3_bind_text(st, 1, w->key, -1, SQLITE_STATIC);
	if (*w->end)
		sqlite3_bind_text(st, 2, w->end, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, w->next_rev);
	sqlite3_bind_int64(st, 4, rev);
	rc = sqlite3_step(st);
	*news = rc == SQLITE_ROW;
	rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_error(s, err, "watch");
	done(s, st);
	return rc;
}

/* exec() for the statements a watch runs many times a second */
static int exec_cached(struct kvs *s, const char *sql, jc_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc = prep(s, &st, sql, err);
	if (rc < 0)
		return rc;
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_error(s, err, sql);
	done(s, st);
	return rc;
}

/* The store's revision and compaction point, in one read. */
static void read_meta(struct kvs *s, int64_t *rev, int64_t *compacted)
{
	sqlite3_stmt *st = NULL;
	*rev = *compacted = 0;
	if (prep(s, &st, "SELECT revision, compacted FROM kv_meta WHERE id = 1", NULL) == 0 &&
	    sqlite3_step(st) == SQLITE_ROW) {
		*rev = sqlite3_column_int64(st, 0);
		*compacted = sqlite3_column_int64(st, 1);
	}
	done(s, st);
}

/* Reads logged changes from w->next_rev on; returns how many. */
static int read_log(struct kvs_watch *w, jc_kv_events *out, jc_error *err)
{
	struct kvs *s = w->s;
	sqlite3_stmt *st = NULL;
	int64_t rev, compacted;
	int rc;

	if ((rc = exec(s, "BEGIN", err)) < 0)
		return rc;
	read_meta(s, &rev, &compacted);
	if (compacted >= w->next_rev) {
		sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
		out->compacted = true;
		out->revision = rev;
		w->next_rev = rev + 1;
		return 0;
	}
	/* a watch far behind (it slept while the rest of the store changed: a
	 * fleet registering) reads its keys' rows by key; one close behind
	 * reads the few newest revisions.  Either way the rows are the same. */
	if (rev - w->next_rev > BEHIND_BY_KEY)
		rc = prep(s, &st, *w->end ? "SELECT rev, key, type, value, create_rev, version, lease FROM kv_log "
					    "INDEXED BY kv_log_by_key "
					    "WHERE rev >= ?1 AND rev <= ?2 AND key >= ?3 AND key < ?4 ORDER BY rev, key"
					  : "SELECT rev, key, type, value, create_rev, version, lease FROM kv_log "
					    "INDEXED BY kv_log_by_key "
					    "WHERE rev >= ?1 AND rev <= ?2 AND key >= ?3 ORDER BY rev, key", err);
	else
		rc = prep(s, &st, *w->end ? "SELECT rev, key, type, value, create_rev, version, lease FROM kv_log "
					    "WHERE rev >= ?1 AND rev <= ?2 AND key >= ?3 AND key < ?4 ORDER BY rev, key"
					  : "SELECT rev, key, type, value, create_rev, version, lease FROM kv_log "
					    "WHERE rev >= ?1 AND rev <= ?2 AND key >= ?3 ORDER BY rev, key", err);
	if (rc == 0) {
		sqlite3_bind_int64(st, 1, w->next_rev);
		sqlite3_bind_int64(st, 2, rev);
		sqlite3_bind_text(st, 3, w->key, -1, SQLITE_STATIC);
		if (*w->end)
			sqlite3_bind_text(st, 4, w->end, -1, SQLITE_STATIC);
		while (sqlite3_step(st) == SQLITE_ROW) {
			jc_kv_event *e = jc_kv_events_push(out);
			size_t len = (size_t)sqlite3_column_bytes(st, 3);
			e->type = sqlite3_column_int(st, 2) ? JC_KV_EVENT_DELETE : JC_KV_EVENT_PUT;
			e->kv.key = jc_strdup((const char *)sqlite3_column_text(st, 1));
			e->kv.mod_revision = sqlite3_column_int64(st, 0);
			if (e->type == JC_KV_EVENT_PUT) {
				e->kv.value = jc_malloc(len + 1);
				if (len)
					memcpy(e->kv.value, sqlite3_column_blob(st, 3), len);
				e->kv.value[len] = '\0';
				e->kv.value_len = len;
				e->kv.create_revision = sqlite3_column_int64(st, 4);
				e->kv.version = sqlite3_column_int64(st, 5);
				e->kv.lease = sqlite3_column_int64(st, 6);
			}
		}
		done(s, st);
	}
	sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	if (rc == 0) {
		w->next_rev = rev + 1;
		out->revision = rev;
	}
	return rc;
}

static int kvs_watch_next(void *watch, jc_kv_events *out, long long timeout_ms, jc_error *err)
{
	struct kvs_watch *w = watch;
	struct kvs *s = w->s;
	int64_t deadline = jc_now_ms() + timeout_ms;
	int rc;

	out->revision = w->next_rev - 1;
	for (;;) {
		int dv;
		/* read before the slot: a change after this wakes the wait */
		uint32_t seen = w->mapped ? atomic_load(&s->changes->bumps[w->slots.a]) : 0;
		if ((rc = sweep_if_due(s, err)) < 0)
			return rc;
		/* nothing under the prefix since the last look: no need to ask */
		if (w->primed && w->mapped && s->local_commits == w->local_commits &&
		    !maybe_changed(s, w->slots, w->next_rev) && jc_now_ms() < w->full_look_ms)
			goto wait;
		w->full_look_ms = jc_now_ms() + FULL_LOOK_MS;
		dv = data_version(s);
		if (!w->primed || dv != w->data_version || s->local_commits != w->local_commits) {
			w->primed = true;
			w->data_version = dv;
			w->local_commits = s->local_commits;
			/* a commit that made no revision (a lease keep-alive), or
			 * changed only keys outside the range, is no news: with a
			 * fleet, that is nearly every commit */
			int64_t rev, compacted;
			bool news = true;
			/* one read transaction: a compaction between the two reads
			 * would hide rows */
			if ((rc = exec_cached(s, "BEGIN", err)) < 0)
				return rc;
			read_meta(s, &rev, &compacted);
			rc = rev >= w->next_rev && compacted < w->next_rev ? log_has_news(w, rev, &news, err) : 0;
			exec_cached(s, "COMMIT", NULL);
			if (rc < 0)
				return rc;
			if (rev < w->next_rev)
				goto wait;
			if (compacted < w->next_rev && !news) {
				/* rows of revisions up to rev are all committed: none
				 * of them can appear later */
				w->next_rev = rev + 1;
				out->revision = rev;
				goto wait;
			}
			if ((rc = read_log(w, out, err)) < 0)
				return rc;
			if (out->n || out->compacted) {
				w->poll_ms = POLL_MIN_MS;
				return 0;
			}
		}
wait:;
		int64_t now = jc_now_ms(), left = deadline - now;
		if (left <= 0)
			return 0;
		if (w->mapped) {
			int64_t cap = sweeps_for_process(s, now) ? SWEEP_EVERY_MS : FULL_LOOK_MS;
			int64_t ms = left < cap ? left : cap;
			if (w->full_look_ms - now < ms)
				ms = w->full_look_ms - now > 0 ? w->full_look_ms - now : 0;
			wait_slot(s, w->slots, seen, ms);
			continue;
		}
		jc_sleep_ms(w->poll_ms < left ? w->poll_ms : left);
		if (w->poll_ms < POLL_MAX_MS)
			w->poll_ms = w->poll_ms * 3 / 2 + 1;
	}
}

static int64_t kvs_watch_revision(const void *watch)
{
	return ((const struct kvs_watch *)watch)->next_rev;
}

static void kvs_watch_close(void *watch)
{
	struct kvs_watch *w = watch;
	if (!w)
		return;
	free(w->key);
	free(w->end);
	free(w);
}

static void kvs_stats(const void *state, jc_kv_stats *out)
{
	out->requests = ((const struct kvs *)state)->requests;
}

static int kvs_status(void *state, jc_kv_status *out, jc_error *err)
{
	struct kvs *s = state;
	struct stat sb;
	char *wal = jc_sprintf("%s-wal", s->path);
	(void)err;
	out->revision = current_rev(s);
	if (stat(s->path, &sb) == 0)
		out->db_size = (long long)sb.st_size;
	if (stat(wal, &sb) == 0)
		out->db_size += (long long)sb.st_size;
	free(wal);
	snprintf(out->server_version, sizeof(out->server_version), "sqlite %s", sqlite3_libversion());
	return 0;
}

const jc_kv_provider jc_kv_sqlite_provider = {
	JC_KV_PROVIDER_VERSION, "sqlite", NULL, kvs_open, kvs_close, kvs_range, kvs_put, kvs_delete,
	kvs_txn, kvs_lease_grant, kvs_lease_keepalive, kvs_lease_revoke, kvs_watch_open, kvs_watch_next,
	kvs_watch_revision, kvs_watch_close, kvs_stats, kvs_status,
};
