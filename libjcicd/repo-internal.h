/* repo-internal.h - what the snapshot module uses of the repo module beyond
 * its public header: streaming hashes, gzip, and fetching files of a source
 * repository (over HTTP(S) or from a local directory). */
#ifndef JCICD_REPO_INTERNAL_H
#define JCICD_REPO_INTERNAL_H

#include "common.h"
#include "jcicd/http.h"
#include "jcicd/repo.h"

/* ---- streaming SHA256 */
typedef struct jc_sha256_ctx {
	void *md;              /* EVP_MD_CTX */
	long long size;        /* bytes hashed so far */
} jc_sha256_ctx;

void jc_sha256_init(jc_sha256_ctx *c);
void jc_sha256_update(jc_sha256_ctx *c, const void *data, size_t len);
/* Writes the hex digest and releases the context. */
void jc_sha256_final(jc_sha256_ctx *c, char out[JC_SHA256_HEX_SIZE]);
/* Releases a context without a digest (NULL-safe, idempotent). */
void jc_sha256_discard(jc_sha256_ctx *c);

/* ---- gzip (RFC 1952), deterministic: no name, no timestamp */
int jc_gzip_compress(jc_buf *out, const void *data, size_t len, int level, jc_error *err);
int jc_gzip_decompress(jc_buf *out, const void *data, size_t len, const char *name, jc_error *err);

/* Reads a file in chunks, gunzipping when `gz`, and hands each chunk to fn
 * (memory stays bounded whatever the file's size). */
typedef int (*jc_chunk_fn)(const char *data, size_t len, jc_error *err, void *payload);
int jc_file_stream(const char *path, bool gz, jc_chunk_fn fn, void *payload, jc_error *err);

/* ---- the place a source repository is read from */
typedef struct jc_repo_remote jc_repo_remote;

/* Exactly one of url (http:// or https://) and dir is set.  The http handle
 * is borrowed (NULL for a directory). */
int jc_repo_remote_open(jc_repo_remote **out, const char *url, const char *dir, jc_http *http,
			const jc_logger *logger, jc_error *err);
void jc_repo_remote_free(jc_repo_remote *remote);
/* A malformed file from a source is the source's failure (JC_EINTEGRITY),
 * not bad input from the operator (JC_EPARSE): maps rc and err->code. */
int jc_repo_source_error(int rc, jc_error *err);
/* The URL or the directory, for messages.  Borrowed. */
const char *jc_repo_remote_location(const jc_repo_remote *remote);
/* Where relpath lives (URL or path).  Caller frees. */
char *jc_repo_remote_where(const jc_repo_remote *remote, const char *relpath);
/* True when relpath is safe to append to a base: relative, no "..", no
 * empty or "." segments, printable ASCII. */
bool jc_repo_relpath_ok(const char *relpath);

typedef struct jc_repo_get {
	int status;                  /* 200, 304 (unchanged) or 404 */
	char *body;                  /* 200 only */
	size_t len;
	char *etag;                  /* validators to send next time (may be NULL) */
	char *last_modified;
} jc_repo_get;

/*
 * Fetches a small file (a Release) into memory, conditionally: with etag or
 * last_modified from a previous answer the source may say 304, unchanged.
 * Any status but 200, 304 and 404 is an error (JC_EHTTP / JC_EAUTH).  A
 * Last-Modified within 2 s of the server's clock is not returned: a change
 * in the same second would be invisible to If-Modified-Since.
 */
int jc_repo_remote_get(jc_repo_remote *remote, const char *relpath, const char *etag,
		       const char *last_modified, jc_repo_get *out, jc_error *err);
void jc_repo_get_clear(jc_repo_get *get);

/* One file to download and verify. */
typedef struct jc_repo_download {
	const char *relpath;         /* below the source's base */
	const char *sha256;          /* expected */
	long long size;              /* expected; -1 when unknown */
	const char *dest;            /* file to create (a pool temp file) */
	int rc;                      /* out: 0, or the failure's code */
	jc_error err;                /* out: the failure */
} jc_repo_download;

#define JC_REPO_DOWNLOAD_ATTEMPTS 4
/*
 * Downloads files in parallel (streamed to disk, never held in memory),
 * each checked against its size and SHA256 while it arrives.  Transport
 * failures, 429 and 5xx are retried (JC_REPO_DOWNLOAD_ATTEMPTS in all,
 * within a budget); a hash or size mismatch and any other status are final.
 * A failed download leaves no file.  Returns 0 when all succeeded, else the
 * first failure (every entry has its own rc and err).
 */
int jc_repo_remote_download(jc_repo_remote *remote, jc_repo_download *downloads, size_t n,
			    jc_error *err);

/* Requests made and body bytes received (or files and bytes read from a
 * directory) since the remote was opened. */
void jc_repo_remote_stats(const jc_repo_remote *remote, long *requests, long long *bytes);

#endif
