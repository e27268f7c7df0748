/* repo-fetch.c - reading a source repository over HTTP(S) or from a local
 * directory: conditional fetches of Release files, and parallel, streamed,
 * hash-checked downloads of indices and packages. */
#include "common.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "repo-internal.h"

struct jc_repo_remote {
	char *url;             /* base URL, no trailing slash */
	char *dir;             /* base directory, no trailing slash */
	jc_http *http;
	const jc_logger *logger;
	long requests;
	long long bytes;
};

/* a Last-Modified (or mtime) this close to "now" may hide a change made in
 * the same second, so it is not used as a validator */
#define RACY_SECONDS 2

int jc_repo_remote_open(jc_repo_remote **out, const char *url, const char *dir, jc_http *http,
			const jc_logger *logger, jc_error *err)
{
	jc_repo_remote *r;
	*out = NULL;
	if ((!url) == (!dir))
		return jc_err(err, JC_EINVALID, "a source is either a URL or a directory");
	if (url && !jc_str_starts(url, "http://") && !jc_str_starts(url, "https://"))
		return jc_err(err, JC_EINVALID, "source URL %s is not http:// or https://", url);
	if (url && !http)
		return jc_err(err, JC_EINVALID, "source URL %s needs an HTTP client", url);
	r = jc_calloc(1, sizeof(*r));
	r->url = jc_strdup(url);
	r->dir = jc_strdup(dir);
	for (char *base = r->url ? r->url : r->dir; strlen(base) > 1 && base[strlen(base) - 1] == '/';)
		base[strlen(base) - 1] = '\0';
	r->http = http;
	r->logger = logger;
	*out = r;
	return 0;
}

void jc_repo_remote_free(jc_repo_remote *r)
{
	if (!r)
		return;
	free(r->url);
	free(r->dir);
	free(r);
}

const char *jc_repo_remote_location(const jc_repo_remote *r)
{
	return r->url ? r->url : r->dir;
}

void jc_repo_remote_stats(const jc_repo_remote *r, long *requests, long long *bytes)
{
	if (requests)
		*requests = r->requests;
	if (bytes)
		*bytes = r->bytes;
}

bool jc_repo_relpath_ok(const char *p)
{
	const char *seg = p;
	if (!p || !*p || *p == '/')
		return false;
	for (const char *c = p;; c++) {
		if (*c == '/' || *c == '\0') {
			size_t n = (size_t)(c - seg);
			if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
				return false;
			if (*c == '\0')
				return true;
			seg = c + 1;
			continue;
		}
		if ((unsigned char)*c <= 32 || (unsigned char)*c >= 127 || *c == '\\')
			return false;
	}
}

char *jc_repo_remote_where(const jc_repo_remote *r, const char *relpath)
{
	jc_buf b = JC_BUF_INIT;
	static const char hex[] = "0123456789ABCDEF";
	if (r->dir)
		return jc_sprintf("%s/%s", r->dir, relpath);
	jc_buf_puts(&b, r->url);
	jc_buf_putc(&b, '/');
	for (const unsigned char *c = (const unsigned char *)relpath; *c; c++) {
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		    strchr("-._~+/", *c)) {
			jc_buf_putc(&b, (char)*c);
		} else {
			jc_buf_putc(&b, '%');
			jc_buf_putc(&b, hex[*c >> 4]);
			jc_buf_putc(&b, hex[*c & 15]);
		}
	}
	return jc_buf_detach(&b);
}

void jc_repo_get_clear(jc_repo_get *g)
{
	if (!g)
		return;
	free(g->body);
	free(g->etag);
	free(g->last_modified);
	memset(g, 0, sizeof(*g));
}

static int dir_get(jc_repo_remote *r, const char *relpath, const char *etag, jc_repo_get *out,
		   jc_error *err)
{
	char *path = jc_repo_remote_where(r, relpath);
	struct stat st;
	char tag[128];
	int rc = 0;

	if (stat(path, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR) {
			out->status = 404;
			free(path);
			return 0;
		}
		rc = jc_err_errno(err, JC_EIO, errno, "cannot stat %s", path);
		free(path);
		return rc;
	}
	snprintf(tag, sizeof(tag), "%llu-%llu-%lld-%lld.%09ld", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino, (long long)st.st_size, (long long)st.st_mtim.tv_sec,
		 st.st_mtim.tv_nsec);
	if (etag && strcmp(etag, tag) == 0) {
		out->status = 304;
		free(path);
		return 0;
	}
	r->requests++;
	rc = jc_file_read(path, &out->body, &out->len, err);
	free(path);
	if (rc < 0)
		return rc;
	r->bytes += (long long)out->len;
	out->status = 200;
	if ((long long)st.st_mtim.tv_sec + RACY_SECONDS <= jc_wall_ms() / 1000)
		out->etag = jc_strdup(tag);
	return 0;
}

int jc_repo_remote_get(jc_repo_remote *r, const char *relpath, const char *etag, const char *last_modified,
		       jc_repo_get *out, jc_error *err)
{
	jc_http_request req;
	jc_http_response resp;
	const char *headers[2];
	size_t nh = 0;
	char *url, *h_etag = NULL, *h_ims = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!jc_repo_relpath_ok(relpath))
		return jc_err(err, JC_EINVALID, "unsafe path \"%s\" in a repository", relpath);
	if (r->dir)
		return dir_get(r, relpath, etag, out, err);
	url = jc_repo_remote_where(r, relpath);
	if (etag)
		headers[nh++] = h_etag = jc_sprintf("If-None-Match: %s", etag);
	if (last_modified)
		headers[nh++] = h_ims = jc_sprintf("If-Modified-Since: %s", last_modified);
	memset(&req, 0, sizeof(req));
	req.url = url;
	req.headers = headers;
	req.n_headers = nh;
	rc = jc_http_do(r->http, &req, &resp, err);
	free(h_etag);
	free(h_ims);
	r->requests += resp.attempts ? resp.attempts : 1;
	r->bytes += (long long)resp.body_len;
	if (rc < 0) {
		jc_http_response_clear(&resp);
		free(url);
		return rc;
	}
	if (resp.status == 304) {
		out->status = 304;
	} else if (resp.status == 404 || resp.status == 410) {
		out->status = 404;
	} else if ((rc = jc_http_check(&resp, "GET", url, err)) == 0) {
		const char *v;
		out->status = 200;
		out->body = resp.body;
		out->len = resp.body_len;
		resp.body = NULL;
		if ((v = jc_http_response_header(&resp, "etag")) != NULL && *v)
			out->etag = jc_strdup(v);
		if ((v = jc_http_response_header(&resp, "last-modified")) != NULL && *v) {
			const char *date = jc_http_response_header(&resp, "date");
			time_t lm = curl_getdate(v, NULL);
			time_t now = date ? curl_getdate(date, NULL) : (time_t)(jc_wall_ms() / 1000);
			if (lm > 0 && now > 0 && lm + RACY_SECONDS <= now)
				out->last_modified = jc_strdup(v);
		}
	}
	jc_http_response_clear(&resp);
	free(url);
	return rc;
}

/* ---- downloads */

struct dl {
	jc_repo_download *d;
	char *where;
	int fd;
	jc_sha256_ctx sha;
	bool too_big;
	int write_errno;
	bool transient;        /* worth another attempt */
};

static int dl_data(const char *data, size_t len, void *payload)
{
	struct dl *s = payload;
	if (s->d->size >= 0 && s->sha.size + (long long)len > s->d->size) {
		s->too_big = true;
		return 1;
	}
	jc_sha256_update(&s->sha, data, len);
	while (len) {
		ssize_t w = write(s->fd, data, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			s->write_errno = errno;
			return 1;
		}
		data += w;
		len -= (size_t)w;
	}
	return 0;
}

static int dl_open(struct dl *s, jc_error *err)
{
	s->fd = open(s->d->dest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (s->fd < 0)
		return jc_err_errno(err, JC_EIO, errno, "cannot create %s", s->d->dest);
	jc_sha256_init(&s->sha);
	s->too_big = false;
	s->write_errno = 0;
	s->transient = false;
	return 0;
}

/* Judges a finished transfer by its hash and size. */
static int dl_verify(struct dl *s)
{
	jc_repo_download *d = s->d;
	char got[JC_SHA256_HEX_SIZE];
	long long size = s->sha.size;
	jc_sha256_final(&s->sha, got);
	if (s->write_errno)
		return jc_err_errno(&d->err, JC_EIO, s->write_errno, "cannot write %s", d->dest);
	if (close(s->fd) < 0) {
		s->fd = -1;
		return jc_err_errno(&d->err, JC_EIO, errno, "cannot write %s", d->dest);
	}
	s->fd = -1;
	if (s->too_big)
		return jc_err_http(&d->err, JC_EINTEGRITY, s->where, 0, NULL,
				   "%s is larger than the %lld bytes its index says: refusing it", s->where, d->size);
	if (d->size >= 0 && size < d->size) {
		/* a connection cut short without a length to tell; try again */
		s->transient = true;
		return jc_err_http(&d->err, JC_EINTEGRITY, s->where, 0, NULL,
				   "%s is truncated: %lld of %lld bytes arrived", s->where, size, d->size);
	}
	if (strcmp(got, d->sha256) != 0)
		return jc_err_http(&d->err, JC_EINTEGRITY, s->where, 0, NULL,
				   "%s does not match its index: SHA256 %s, expected %s", s->where, got, d->sha256);
	return 0;
}

static void dl_abandon(struct dl *s)
{
	jc_sha256_discard(&s->sha);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	unlink(s->d->dest);
}

static int dir_download(jc_repo_remote *r, struct dl *s)
{
	char buf[1 << 16];
	ssize_t n;
	int in = open(s->where, O_RDONLY | O_CLOEXEC), rc;
	if (in < 0)
		return jc_err_errno(&s->d->err, errno == ENOENT ? JC_ENOTFOUND : JC_EIO, errno, "cannot open %s",
				    s->where);
	rc = dl_open(s, &s->d->err);
	if (rc < 0) {
		close(in);
		return rc;
	}
	r->requests++;
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = jc_err_errno(&s->d->err, JC_EIO, errno, "cannot read %s", s->where);
			close(in);
			dl_abandon(s);
			return rc;
		}
		r->bytes += n;
		if (dl_data(buf, (size_t)n, s) != 0)
			break;
	}
	close(in);
	rc = dl_verify(s);
	if (rc < 0)
		dl_abandon(s);
	return rc;
}

#define DL_BATCH 128      /* open files at once */
#define DL_BUDGET_MS 300000
#define DL_TIMEOUT_MS 600000

/* One attempt over the pending downloads; returns how many are worth
 * another attempt (their indices are moved to the front of pending). */
static size_t http_attempt(jc_repo_remote *r, struct dl *st, size_t *pending, size_t np, size_t *done,
			   size_t total)
{
	size_t again = 0;
	for (size_t b = 0; b < np; b += DL_BATCH) {
		size_t k = np - b < DL_BATCH ? np - b : DL_BATCH, live = 0;
		jc_http_request *reqs = jc_calloc(k, sizeof(*reqs));
		jc_http_response *resps = jc_calloc(k, sizeof(*resps));
		jc_error *errs = jc_calloc(k, sizeof(*errs));
		size_t *idx = jc_calloc(k, sizeof(*idx));
		for (size_t i = 0; i < k; i++) {
			struct dl *s = &st[pending[b + i]];
			jc_error_clear(&s->d->err);
			if (dl_open(s, &s->d->err) < 0) {
				s->d->rc = s->d->err.code;
				(*done)++;
				continue;
			}
			idx[live] = pending[b + i];
			reqs[live].url = s->where;
			reqs[live].on_data = dl_data;
			reqs[live].payload = s;
			reqs[live].no_retry = true;   /* retried here, from the first byte */
			reqs[live].timeout_ms = DL_TIMEOUT_MS;
			live++;
		}
		jc_http_do_many(r->http, reqs, resps, errs, live);
		r->requests += (long)live;
		for (size_t i = 0; i < live; i++) {
			struct dl *s = &st[idx[i]];
			jc_repo_download *d = s->d;
			r->bytes += s->sha.size;
			if (errs[i].code < 0 && resps[i].status == 0) {
				/* the transport failed: before the answer (unreachable, a
				 * timeout), or in the middle of the body */
				const char *why = strstr(errs[i].message, "attempt: ");
				long long got = s->sha.size;
				why = why ? why + 9 : errs[i].message;
				if (got > 0)
					jc_err_http(&d->err, JC_EINTEGRITY, s->where, 0, NULL,
						    "%s is truncated: %lld of %lld bytes arrived before the connection "
						    "failed (%s)", s->where, got, d->size, why);
				else
					jc_err_http(&d->err, errs[i].code, s->where, 0, NULL, "GET %s: %s", s->where, why);
				s->transient = true;
				dl_abandon(s);
			} else if (resps[i].status >= 200 && resps[i].status < 300) {
				if (dl_verify(s) < 0)
					dl_abandon(s);
			} else {
				dl_abandon(s);
				jc_http_check(&resps[i], "GET", s->where, &d->err);
				s->transient = resps[i].status == 429 || resps[i].status >= 500;
			}
			d->rc = d->err.code;
			if (d->rc < 0 && s->transient)
				pending[again++] = idx[i];
			else
				(*done)++;
			jc_http_response_clear(&resps[i]);
		}
		jc_progress(r->logger, "snapshot", "downloading", (long)*done, (long)total);
		free(reqs);
		free(resps);
		free(errs);
		free(idx);
	}
	return again;
}

int jc_repo_source_error(int rc, jc_error *err)
{
	if (rc == JC_EPARSE && err)
		err->code = JC_EINTEGRITY;
	return rc == JC_EPARSE ? JC_EINTEGRITY : rc;
}

int jc_repo_remote_download(jc_repo_remote *r, jc_repo_download *downloads, size_t n, jc_error *err)
{
	struct dl *st;
	size_t *pending, np = n, done = 0;
	int64_t deadline = jc_now_ms() + DL_BUDGET_MS;
	int first = 0, attempts = 0;

	if (n == 0)
		return 0;
	st = jc_calloc(n, sizeof(*st));
	pending = jc_calloc(n, sizeof(*pending));
	for (size_t i = 0; i < n; i++) {
		st[i].d = &downloads[i];
		st[i].fd = -1;
		downloads[i].rc = 0;
		jc_error_clear(&downloads[i].err);
		pending[i] = i;
		if (!jc_repo_relpath_ok(downloads[i].relpath)) {
			downloads[i].rc = jc_err(&downloads[i].err, JC_EINTEGRITY,
						 "unsafe file name \"%s\" in the index of %s", downloads[i].relpath,
						 jc_repo_remote_location(r));
			np = 0;
		}
		st[i].where = jc_repo_remote_where(r, downloads[i].relpath);
	}
	if (np == 0) {
		/* a poisoned index: download nothing of it */
		for (size_t i = 0; i < n; i++)
			if (downloads[i].rc == 0)
				downloads[i].rc = jc_err(&downloads[i].err, JC_ECANCELLED,
							 "not downloaded: the index names an unsafe file");
	}
	if (np && r->dir) {
		for (size_t i = 0; i < n; i++) {
			downloads[i].rc = dir_download(r, &st[i]);
			jc_progress(r->logger, "snapshot", "copying", (long)i + 1, (long)n);
		}
	} else if (np) {
		for (int attempt = 1; np > 0; attempt++) {
			np = http_attempt(r, st, pending, np, &done, n);
			attempts = attempt;
			if (np == 0 || attempt >= JC_REPO_DOWNLOAD_ATTEMPTS)
				break;
			long long delay = 500LL << (attempt - 1);
			delay = delay / 2 + (long long)jc_random((uint64_t)delay / 2 + 1);
			if (jc_now_ms() + delay > deadline)
				break;
			jc_log(r->logger, JC_LOG_NOTICE, "snapshot",
			       "%zu download%s failed (%s); retrying in %.1f s (attempt %d of %d)", np,
			       np == 1 ? "" : "s", downloads[pending[0]].err.message, (double)delay / 1000.0,
			       attempt + 1, JC_REPO_DOWNLOAD_ATTEMPTS);
			jc_sleep_ms(delay);
		}
	}
	for (size_t k = 0; k < np && !r->dir; k++) {
		/* still failing when the attempts ran out */
		jc_repo_download *d = &downloads[pending[k]];
		if (d->rc < 0)
			jc_err_prefix(&d->err, "gave up after %d attempts", attempts);
	}
	for (size_t i = 0; i < n; i++) {
		if (downloads[i].rc < 0 && first == 0) {
			first = downloads[i].rc;
			jc_err_copy(err, &downloads[i].err);
		}
		free(st[i].where);
	}
	free(st);
	free(pending);
	return first;
}
