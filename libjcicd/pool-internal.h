/* pool-internal.h - the content-addressed file pool of the store: files
 * named by their SHA256 under <state>/pool/sha256/<2 hex>/<64 hex>, written
 * once and never changed, hard-linked into published trees.
 *
 * The pool belongs to the store module (DESIGN.md); it is internal because
 * only the library's own modules put files in it.  A file enters the pool
 * only after its hash was verified, through a temporary file and a rename,
 * so a pool file is always complete.  Writers serialise on the caller's
 * lock (the snapshot writer lock); readers need none.  Within the writer,
 * lookups, links, adopts and puts may run from several threads at once;
 * sweeping may not. */
#ifndef JCICD_POOL_INTERNAL_H
#define JCICD_POOL_INTERNAL_H

#include "common.h"
#include "jcicd/repo.h"

typedef struct jc_pool jc_pool;

int jc_pool_open(jc_pool **out, const char *state_dir, jc_error *err);
void jc_pool_free(jc_pool *pool);
const char *jc_pool_dir(const jc_pool *pool);

/* Where the file of a hash is (whether or not it exists).  Caller frees. */
char *jc_pool_path(const jc_pool *pool, const char *sha256);
bool jc_pool_has(jc_pool *pool, const char *sha256);

/* A fresh temporary file name in the pool (on the pool's file system, so
 * it can be renamed in); `hint` makes it readable.  Caller frees. */
char *jc_pool_temp_name(jc_pool *pool, const char *hint);
/* Removes temporary files left by an interrupted writer.  Only while
 * holding the writer lock. */
int jc_pool_clean_temp(jc_pool *pool, jc_error *err);

/* Moves a complete temporary file whose SHA256 the caller verified into
 * the pool.  When the pool has the hash already, the temporary is dropped. */
int jc_pool_adopt(jc_pool *pool, const char *temp, const char *sha256, jc_error *err);
/* Stores bytes, returning their hash. */
int jc_pool_put(jc_pool *pool, const void *data, size_t len, char sha256_out[JC_SHA256_HEX_SIZE],
		jc_error *err);
/* Stores bytes whose hash the caller computed. */
int jc_pool_put_hashed(jc_pool *pool, const void *data, size_t len, const char *sha256, jc_error *err);

/* Makes dest a hard link to the pool file of sha256; across file systems
 * it copies instead (*copied set; NULL allowed).  JC_EEXISTS when dest
 * exists. */
int jc_pool_link(jc_pool *pool, const char *sha256, const char *dest, bool *copied, jc_error *err);
/* The same, dest being `name` in the directory open as dirfd. */
int jc_pool_link_at(jc_pool *pool, const char *sha256, int dirfd, const char *name, bool *copied,
		    jc_error *err);

/* Flushes the pool's file system, so that what was added survives a power
 * loss before the database refers to it. */
int jc_pool_sync(jc_pool *pool, jc_error *err);

/* Walks every pool file, one directory at a time (memory does not grow
 * with the pool), and removes those `keep` says are unreferenced. */
typedef int (*jc_pool_keep_fn)(const char *sha256, bool *keep, jc_error *err, void *payload);
int jc_pool_sweep(jc_pool *pool, jc_pool_keep_fn keep, void *payload, long *removed,
		  long long *removed_bytes, jc_error *err);

#endif
