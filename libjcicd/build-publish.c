/* build-publish.c - the build repository: .debs into the pool (never
 * overwritten), indices written by hash first and then by name, the
 * Release last, each file replaced by rename, so a reader sees the old
 * repository or the new one. */
#include "common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build-internal.h"
#include "repo-internal.h"

/* superseded pool files and old by-hash indices stay this long, for a
 * reader that read the previous Release a moment ago */
#define GRACE_SECONDS 3600

static int copy_file(const char *src, const char *dst, jc_error *err)
{
	char *tmp = jc_sprintf("%s.tmp.%ld", dst, (long)getpid());
	int in = -1, out = -1, rc = 0;
	char buf[65536];

	unlink(tmp);
	/* a hard link when the repository shares the file system */
	if (link(src, tmp) == 0)
		goto done;
	in = open(src, O_RDONLY | O_CLOEXEC);
	out = in < 0 ? -1 : open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (in < 0 || out < 0) {
		rc = jc_err_errno(err, JC_EIO, errno, "cannot copy %s to %s", src, dst);
		goto done;
	}
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n == 0)
			break;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || write(out, buf, (size_t)n) != n) {
			rc = jc_err_errno(err, JC_EIO, errno, "cannot copy %s to %s", src, dst);
			goto done;
		}
	}
	if (fsync(out) < 0)
		rc = jc_err_errno(err, JC_EIO, errno, "cannot flush %s", tmp);
done:
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) < 0 && rc == 0)
		rc = jc_err_errno(err, JC_EIO, errno, "cannot write %s", tmp);
	if (rc == 0 && rename(tmp, dst) < 0)
		rc = jc_err_errno(err, JC_EIO, errno, "cannot rename into %s", dst);
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

/* pool/<component>/<p>/<source>/<name>_<version without epoch>_<arch>.deb */
static char *pool_path(jc_builds *b, const jc_bld_deb *d)
{
	char *prefix = jc_bld_pool_prefix(d->source);
	const char *colon = strchr(d->version, ':');
	char *p = jc_sprintf("pool/%s/%s/%s/%s_%s_%s.deb", b->o.component, prefix, d->source, d->name,
			     colon ? colon + 1 : d->version, d->architecture);
	free(prefix);
	return p;
}

static int add_to_pool(jc_builds *b, const jc_bld_deb *d, const char *rel, jc_error *err)
{
	char *dst = jc_path_join(b->o.repo_dir, rel), *dir = jc_strdup(dst);
	int rc;
	*strrchr(dir, '/') = '\0';
	rc = jc_mkdir_p(dir, 0755, err);
	if (rc == 0 && jc_path_exists(dst)) {
		char have[JC_SHA256_HEX_SIZE];
		rc = jc_repo_sha256_file(have, NULL, dst, err);
		if (rc == 0 && strcmp(have, d->sha256) != 0)
			rc = jc_err(err, JC_EEXISTS, "%s exists with other content: a pool file is never replaced "
				    "(a version is built once)", dst);
	} else if (rc == 0) {
		rc = copy_file(d->path, dst, err);
	}
	free(dst);
	free(dir);
	return rc;
}

static int step_done(jc_builds *b, sqlite3_stmt *q, jc_error *err)
{
	int rc = sqlite3_step(q);
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? 0 : jc_store_error(b->store, err, "recording the build repository");
}

static int record_job(jc_builds *b, jc_bld_job *job, int64_t now, jc_strv *added, jc_error *err)
{
	sqlite3_stmt *q;
	int rc = jc_store_prepare(b->store, &q, "UPDATE build_packages SET superseded_at = ? "
				  "WHERE entry = ? AND superseded_at IS NULL", err);
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(q, 1, now);
	sqlite3_bind_text(q, 2, job->entry->name, -1, SQLITE_TRANSIENT);
	if ((rc = step_done(b, q, err)) < 0)
		return rc;
	for (size_t i = 0; i < job->n_debs; i++) {
		jc_bld_deb *d = &job->debs[i];
		char *rel = pool_path(b, d);
		rc = add_to_pool(b, d, rel, err);
		if (rc == 0)
			rc = jc_store_prepare(b->store, &q, "INSERT INTO build_packages(filename, entry, name, version, "
					      "architecture, size, sha256, control, added_at, superseded_at) "
					      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL) ON CONFLICT(filename) DO UPDATE SET "
					      "entry = excluded.entry, superseded_at = NULL", err);
		if (rc == 0) {
			jc_sql_bind_text(q, 1, rel);
			jc_sql_bind_text(q, 2, job->entry->name);
			jc_sql_bind_text(q, 3, d->name);
			jc_sql_bind_text(q, 4, d->version);
			jc_sql_bind_text(q, 5, d->architecture);
			sqlite3_bind_int64(q, 6, d->size);
			jc_sql_bind_text(q, 7, d->sha256);
			jc_sql_bind_text(q, 8, d->control);
			sqlite3_bind_int64(q, 9, now);
			rc = step_done(b, q, err);
		}
		if (rc == 0)
			jc_strv_push(added, rel);
		free(rel);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The Packages text of one architecture: every current package for it
 * and every Architecture: all one. */
static int packages_text(jc_builds *b, const char *arch, jc_buf *out, long *count, jc_error *err)
{
	sqlite3_stmt *q;
	int rc = jc_store_prepare(b->store, &q, "SELECT control, filename, size, sha256 FROM build_packages "
				  "WHERE superseded_at IS NULL AND (architecture = ? OR architecture = 'all') "
				  "ORDER BY name, architecture, filename", err);
	*count = 0;
	if (rc < 0)
		return rc;
	sqlite3_bind_text(q, 1, arch, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		jc_buf_printf(out, "%s\nFilename: %s\nSize: %lld\nSHA256: %s\n\n", sqlite3_column_text(q, 0),
			      sqlite3_column_text(q, 1), (long long)sqlite3_column_int64(q, 2), sqlite3_column_text(q, 3));
		(*count)++;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return jc_store_error(b->store, err, "reading the build repository");
	return 0;
}

/* Writes an index by hash (kept: readers of the Release that names it may
 * still come) and by name; `files` gets its Release entry. */
static int write_index(jc_builds *b, const char *dists, const char *rel, const void *data, size_t len,
		       jc_repo_release_file *entry, jc_strv *owned, jc_error *err)
{
	char sha[JC_SHA256_HEX_SIZE];
	char *path = jc_path_join(dists, rel), *dir = jc_strdup(path), *hashdir, *hashed;
	int rc;
	(void)b;
	*strrchr(dir, '/') = '\0';
	jc_repo_sha256_buf(sha, data, len);
	hashdir = jc_sprintf("%s/by-hash/SHA256", dir);
	hashed = jc_path_join(hashdir, sha);
	rc = jc_mkdir_p(hashdir, 0755, err);
	if (rc == 0 && !jc_path_exists(hashed))
		rc = jc_file_write_atomic(hashed, data, len, 0644, err);
	if (rc == 0)
		rc = jc_file_write_atomic(path, data, len, 0644, err);
	if (rc == 0) {
		jc_strv_push(owned, rel);
		entry->path = owned->v[owned->n - 1];
		jc_strv_push(owned, sha);
		entry->sha256 = owned->v[owned->n - 1];
		entry->size = (long long)len;
	}
	free(path);
	free(dir);
	free(hashdir);
	free(hashed);
	return rc;
}

static int write_release(jc_builds *b, const char *dists, const jc_repo_release_file *files, size_t n,
			 jc_error *err)
{
	jc_repo_release_info info = JC_REPO_RELEASE_INFO_INIT;
	const char *components[] = { b->o.component };
	char *text = NULL, *inrel = NULL, *gpg = NULL;
	char *p_rel = jc_path_join(dists, "Release"), *p_in = jc_path_join(dists, "InRelease");
	char *p_gpg = jc_path_join(dists, "Release.gpg");
	size_t len = 0, in_len = 0, gpg_len = 0;
	int rc;

	info.origin = b->o.origin;
	info.label = b->o.label;
	info.suite = b->o.suite;
	info.date = jc_wall_ms() / 1000;
	info.description = "packages built by jcicd";
	info.architectures = b->o.architectures;
	info.n_architectures = b->o.n_architectures;
	info.components = components;
	info.n_components = 1;
	info.acquire_by_hash = true;
	info.files = files;
	info.n_files = n;
	rc = jc_repo_release_write(&text, &len, &info, err);
	if (rc == 0 && b->o.sign_key) {
		jc_repo_sign_options so = JC_REPO_SIGN_OPTIONS_INIT;
		so.key = b->o.sign_key;
		so.gnupghome = b->o.gnupghome;
		so.passphrase_file = b->o.passphrase_file;
		rc = jc_repo_sign(&inrel, &in_len, &gpg, &gpg_len, text, len, &so, err);
		if (rc < 0)
			jc_err_prefix(err, "signing the build repository's Release");
	}
	if (rc == 0) {
		if (inrel) {
			rc = jc_file_write_atomic(p_in, inrel, in_len, 0644, err);
		} else if (unlink(p_in) < 0 && errno != ENOENT) {
			rc = jc_err_errno(err, JC_EIO, errno, "cannot remove the stale %s", p_in);
		}
	}
	if (rc == 0)
		rc = jc_file_write_atomic(p_rel, text, len, 0644, err);
	if (rc == 0) {
		if (gpg)
			rc = jc_file_write_atomic(p_gpg, gpg, gpg_len, 0644, err);
		else if (unlink(p_gpg) < 0 && errno != ENOENT)
			rc = jc_err_errno(err, JC_EIO, errno, "cannot remove the stale %s", p_gpg);
	}
	free(text);
	free(inrel);
	free(gpg);
	free(p_rel);
	free(p_in);
	free(p_gpg);
	return rc;
}

static int write_indices(jc_builds *b, long *total, jc_error *err)
{
	char *dists = jc_sprintf("%s/dists/%s", b->o.repo_dir, b->o.suite);
	size_t n_arch = b->o.n_architectures;
	jc_repo_release_file *files = jc_calloc(2 * n_arch + 1, sizeof(*files));
	jc_strv owned = JC_STRV_INIT;
	size_t nf = 0;
	int rc = 0;

	*total = 0;
	for (size_t i = 0; i < n_arch && rc == 0; i++) {
		jc_buf text = JC_BUF_INIT, gz = JC_BUF_INIT;
		char *rel = jc_sprintf("%s/binary-%s/Packages", b->o.component, b->o.architectures[i]);
		char *rel_gz = jc_sprintf("%s.gz", rel);
		long count = 0;
		rc = packages_text(b, b->o.architectures[i], &text, &count, err);
		if (rc == 0)
			rc = jc_gzip_compress(&gz, text.data ? text.data : "", text.len, 9, err);
		if (rc == 0)
			rc = write_index(b, dists, rel, text.data ? text.data : "", text.len, &files[nf++], &owned, err);
		if (rc == 0)
			rc = write_index(b, dists, rel_gz, gz.data ? gz.data : "", gz.len, &files[nf++], &owned, err);
		*total += count;
		jc_buf_free(&text);
		jc_buf_free(&gz);
		free(rel);
		free(rel_gz);
	}
	if (rc == 0)
		rc = write_release(b, dists, files, nf, err);
	free(files);
	jc_strv_free(&owned);
	free(dists);
	return rc;
}

/* Removes what no reader can still want: pool files superseded and
 * by-hash indices replaced more than GRACE_SECONDS ago. */
static void sweep(jc_builds *b, int64_t now)
{
	sqlite3_stmt *q;
	jc_strv gone = JC_STRV_INIT;
	if (jc_store_prepare(b->store, &q, "SELECT filename FROM build_packages WHERE superseded_at IS NOT NULL "
			     "AND superseded_at < ?", NULL) == 0) {
		sqlite3_bind_int64(q, 1, now - GRACE_SECONDS);
		while (sqlite3_step(q) == SQLITE_ROW)
			jc_strv_push(&gone, (const char *)sqlite3_column_text(q, 0));
		sqlite3_finalize(q);
	}
	for (size_t i = 0; i < gone.n; i++) {
		char *path = jc_path_join(b->o.repo_dir, gone.v[i]);
		if ((unlink(path) == 0 || errno == ENOENT) &&
		    jc_store_prepare(b->store, &q, "DELETE FROM build_packages WHERE filename = ? AND "
				     "superseded_at IS NOT NULL", NULL) == 0) {
			sqlite3_bind_text(q, 1, gone.v[i], -1, SQLITE_TRANSIENT);
			sqlite3_step(q);
			sqlite3_finalize(q);
		}
		free(path);
	}
	jc_strv_free(&gone);
	for (size_t i = 0; i < b->o.n_architectures; i++) {
		char *dir = jc_sprintf("%s/dists/%s/%s/binary-%s/by-hash/SHA256", b->o.repo_dir, b->o.suite,
				       b->o.component, b->o.architectures[i]);
		char cur[2][JC_SHA256_HEX_SIZE] = { "", "" };
		const char *names[2] = { "Packages", "Packages.gz" };
		DIR *d;
		struct dirent *de;
		for (int k = 0; k < 2; k++) {
			char *p = jc_sprintf("%s/../../%s", dir, names[k]);
			if (jc_repo_sha256_file(cur[k], NULL, p, NULL) < 0)
				cur[k][0] = '\0';
			free(p);
		}
		if ((d = opendir(dir)) != NULL) {
			while ((de = readdir(d)) != NULL) {
				char *p;
				struct stat sb;
				if (de->d_name[0] == '.' || strcmp(de->d_name, cur[0]) == 0 || strcmp(de->d_name, cur[1]) == 0)
					continue;
				p = jc_path_join(dir, de->d_name);
				if (stat(p, &sb) == 0 && sb.st_mtime < now - GRACE_SECONDS)
					unlink(p);
				free(p);
			}
			closedir(d);
		}
		free(dir);
	}
}

int jc_bld_publish(jc_builds *b, jc_bld_job *jobs, size_t n, jc_error *err)
{
	int64_t now = jc_wall_ms() / 1000;
	jc_strv added = JC_STRV_INIT;
	long total = 0;
	int rc;

	rc = jc_mkdir_p(b->o.repo_dir, 0755, err);
	if (rc == 0)
		rc = jc_store_begin(b->store, true, err);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n && rc == 0; i++)
		if (jobs[i].result == JC_BUILD_OK && jobs[i].n_debs)
			rc = record_job(b, &jobs[i], now, &added, err);
	/* the indices are written from the transaction's view, then it
	 * commits: a failure before the commit leaves the database as it was,
	 * and the next publish rewrites whatever was written */
	if (rc == 0)
		rc = write_indices(b, &total, err);
	if (rc == 0)
		rc = jc_store_commit(b->store, err);
	else
		jc_store_rollback(b->store);
	if (rc == 0) {
		jc_bld_log(b, JC_LOG_INFO, "published %s: %zu new file%s, %ld package%s listed", b->o.repo_dir, added.n,
			   added.n == 1 ? "" : "s", total, total == 1 ? "" : "s");
		sweep(b, now);
	}
	jc_strv_free(&added);
	return rc;
}

int jc_bld_publish_ensure(jc_builds *b, jc_error *err)
{
	char *rel = jc_sprintf("%s/dists/%s/Release", b->o.repo_dir, b->o.suite);
	bool have = jc_path_exists(rel);
	free(rel);
	return have ? 0 : jc_bld_publish(b, NULL, 0, err);
}
