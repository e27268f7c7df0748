/* snapshot-publish.c - turning a recorded snapshot into a complete APT
 * repository under the publish root, pointers, and finishing whatever an
 * interrupted writer left.
 *
 * Order of effects, so that kill -9 anywhere leaves something a re-run
 * completes: a tree is built in snapshots/.tmp-N-PID and renamed to
 * snapshots/N (readers never see it half-built); only then does the
 * database say "published".  A pointer is changed in the database first,
 * then its symlink is replaced by rename; recovery makes every symlink match
 * the database. */
#include "common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot-internal.h"

static int feed(const char *data, size_t len, jc_error *err, void *payload)
{
	return jc_deb822_parser_feed(payload, data, len, err);
}

int jc_snap_read_packages(jc_snapshots *s, const char *sha, jc_deb822_fn fn, void *payload, jc_error *err)
{
	char *path = jc_pool_path(s->pool, sha);
	jc_deb822_parser *p;
	int rc = jc_deb822_parser_new(&p, path, fn, payload, err);
	if (rc == 0)
		rc = jc_file_stream(path, false, feed, p, err);
	if (rc == 0)
		rc = jc_deb822_parser_finish(p, err);
	jc_deb822_parser_free(p);
	free(path);
	return rc;
}

void jc_snap_indices_free(jc_snap_index *idx, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(idx[i].component);
		free(idx[i].architecture);
	}
	free(idx);
}

int jc_snap_indices(jc_snapshots *s, long number, jc_snap_index **out, size_t *n, jc_error *err)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;
	*out = NULL;
	*n = 0;
	rc = jc_store_prepare(s->store, &st,
			      "SELECT component, architecture, packages_sha256, packages_size, gz_sha256, gz_size,"
			      " n_packages FROM snapshot_indices WHERE number = ? ORDER BY component, architecture",
			      err);
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(st, 1, number);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		jc_snap_index *x;
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			*out = jc_realloc(*out, cap * sizeof(**out));
		}
		x = &(*out)[(*n)++];
		memset(x, 0, sizeof(*x));
		x->component = jc_sql_column_dup(st, 0);
		x->architecture = jc_sql_column_dup(st, 1);
		jc_strlcpy(x->packages_sha256, (const char *)sqlite3_column_text(st, 2), sizeof(x->packages_sha256));
		x->packages_size = sqlite3_column_int64(st, 3);
		jc_strlcpy(x->gz_sha256, (const char *)sqlite3_column_text(st, 4), sizeof(x->gz_sha256));
		x->gz_size = sqlite3_column_int64(st, 5);
		x->n_packages = (long)sqlite3_column_int64(st, 6);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		jc_snap_indices_free(*out, *n);
		*out = NULL;
		*n = 0;
		return jc_store_error(s->store, err, "reading snapshot indices");
	}
	return 0;
}

/* ---- building a tree */

struct tree_ctx {
	jc_snapshots *s;
	const char *tmp;           /* the tree being built */
	char *last_dir;            /* the directory of the last file placed ... */
	int last_fd;               /* ... open, to link relative to it */
	long links;
	bool copied;
};

static int write_file(const char *path, const char *data, size_t len, jc_error *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t off = 0;
	if (fd < 0)
		return jc_err_errno(err, JC_EIO, errno, "cannot create %s", path);
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			return jc_err_errno(err, JC_EIO, e, "cannot write %s", path);
		}
		off += (size_t)w;
	}
	if (close(fd) < 0)
		return jc_err_errno(err, JC_EIO, errno, "cannot write %s", path);
	return 0;
}

/* Hard-links a pool file to tree/relpath, making directories as needed. */
static int place(struct tree_ctx *t, const char *sha, const char *relpath, jc_error *err)
{
	const char *slash = strrchr(relpath, '/');
	size_t dlen = slash ? (size_t)(slash - relpath) : 0;
	bool copied = false;
	int rc;

	if (!t->last_dir || strlen(t->last_dir) != dlen || strncmp(t->last_dir, relpath, dlen) != 0) {
		char *dir = jc_sprintf("%s/%.*s", t->tmp, (int)dlen, relpath);
		if (t->last_fd >= 0)
			close(t->last_fd);
		free(t->last_dir);
		t->last_dir = jc_strndup(relpath, dlen);
		rc = jc_mkdir_p(dir, 0755, err);
		t->last_fd = rc < 0 ? -1 : open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (rc == 0 && t->last_fd < 0)
			rc = jc_err_errno(err, JC_EIO, errno, "cannot open %s", dir);
		free(dir);
		if (rc < 0) {
			free(t->last_dir);
			t->last_dir = NULL;
			return rc;
		}
	}
	rc = jc_pool_link_at(t->s->pool, sha, t->last_fd, slash ? slash + 1 : relpath, &copied, err);
	if (rc == JC_EEXISTS) {
		/* the same package listed by two indices (Architecture: all) */
		jc_error_clear(err);
		rc = 0;
	}
	if (copied && !t->copied) {
		t->copied = true;
		jc_log(t->s->o.logger, JC_LOG_WARN, "snapshot",
		       "the publish root is on another file system than the pool: copying packages "
		       "instead of hard-linking them");
	}
	t->links++;
	return rc;
}

char *jc_snap_prelink_dir(jc_snapshots *s)
{
	return jc_sprintf("%s/snapshots/.tmp-next-%ld", s->o.publish_root, (long)getpid());
}

int jc_snap_prelink(jc_snapshots *s, const char *dir, jc_snap_file *files, size_t n, jc_error *err)
{
	struct tree_ctx t;
	int rc;
	memset(&t, 0, sizeof(t));
	t.s = s;
	t.tmp = dir;
	t.last_fd = -1;
	rc = jc_rm_rf(dir, err);
	if (rc == 0)
		rc = jc_mkdir_p(dir, 0755, err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (!files[i].in_pool)
			continue;   /* downloading: publishing links it */
		rc = place(&t, files[i].sha256, files[i].path, err);
		files[i].placed = rc == 0;
	}
	if (t.last_fd >= 0)
		close(t.last_fd);
	free(t.last_dir);
	return rc;
}

static int place_para(const jc_deb822_para *para, jc_error *err, void *payload)
{
	struct tree_ctx *t = payload;
	const char *file = jc_deb822_get(para, "Filename");
	const char *sha = jc_deb822_get(para, "SHA256");
	if (!file || !sha || !jc_repo_is_sha256(sha) || !jc_repo_relpath_ok(file) || !jc_str_starts(file, "pool/"))
		return jc_err_at(err, JC_EINTEGRITY, "Packages", jc_deb822_line(para), 1,
				 "a recorded Packages file has a bad Filename or SHA256");
	return place(t, sha, file, err);
}

static int words(char *list, const char ***out, size_t *n)
{
	char *save = NULL;
	size_t cap = 8;
	*n = 0;
	*out = jc_calloc(cap, sizeof(**out));
	for (char *w = strtok_r(list, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		if (*n == cap) {
			cap *= 2;
			*out = jc_realloc(*out, cap * sizeof(**out));
		}
		(*out)[(*n)++] = w;
	}
	return 0;
}

struct snap_row {
	long long created_at;
	char *state, *suite, *origin, *label, *components, *architectures;
};

static void snap_row_free(struct snap_row *r)
{
	free(r->state);
	free(r->suite);
	free(r->origin);
	free(r->label);
	free(r->components);
	free(r->architectures);
}

static int read_row(jc_snapshots *s, long number, struct snap_row *r, jc_error *err)
{
	sqlite3_stmt *st;
	int rc;
	memset(r, 0, sizeof(*r));
	rc = jc_store_prepare(s->store, &st, "SELECT created_at, state, suite, origin, label, components,"
			      " architectures FROM snapshots WHERE number = ?", err);
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(st, 1, number);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		r->created_at = sqlite3_column_int64(st, 0);
		r->state = jc_sql_column_dup(st, 1);
		r->suite = jc_sql_column_dup(st, 2);
		r->origin = jc_sql_column_dup(st, 3);
		r->label = jc_sql_column_dup(st, 4);
		r->components = jc_sql_column_dup(st, 5);
		r->architectures = jc_sql_column_dup(st, 6);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = jc_err(err, JC_ENOTFOUND, "there is no snapshot %ld", number);
	} else {
		rc = jc_store_error(s->store, err, "reading a snapshot");
	}
	sqlite3_finalize(st);
	return rc;
}

static int newest_before(jc_snapshots *s, long number, long *out, jc_error *err)
{
	sqlite3_stmt *st;
	int rc = jc_store_prepare(s->store, &st, "SELECT max(number) FROM snapshots WHERE number < ? AND"
				  " state = 'published'", err);
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(st, 1, number);
	*out = sqlite3_step(st) == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return 0;
}

/* Links the index files of snapshot `from` into the by-hash directories of
 * the tree at `root`, so an apt client that read from's Release just before
 * a pointer switched still finds the indices it was promised. */
static int add_by_hash(jc_snapshots *s, const char *root, const char *suite, long from, jc_error *err)
{
	jc_snap_index *idx;
	size_t n;
	int rc = jc_snap_indices(s, from, &idx, &n, err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const char *shas[2] = { idx[i].packages_sha256, idx[i].gz_sha256 };
		char *dir = jc_sprintf("%s/dists/%s/%s/binary-%s/by-hash/SHA256", root, suite, idx[i].component,
				       idx[i].architecture);
		if (!jc_path_exists(dir)) {
			free(dir);
			continue;   /* a component the newer tree does not have */
		}
		for (int k = 0; k < 2 && rc == 0; k++) {
			char *dest = jc_path_join(dir, shas[k]);
			if (!jc_path_exists(dest) && jc_pool_has(s->pool, shas[k])) {
				rc = jc_pool_link(s->pool, shas[k], dest, NULL, err);
				if (rc == JC_EEXISTS) {
					jc_error_clear(err);
					rc = 0;
				}
			}
			free(dest);
		}
		free(dir);
	}
	jc_snap_indices_free(idx, n);
	return rc;
}

static int sync_dir(const char *dir, jc_error *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;
	if (fd < 0)
		return jc_err_errno(err, JC_EIO, errno, "cannot open %s", dir);
	if (syncfs(fd) < 0)
		rc = jc_err_errno(err, JC_EIO, errno, "cannot flush %s", dir);
	close(fd);
	return rc;
}

static int write_release(jc_snapshots *s, long number, const struct snap_row *row, const jc_snap_index *idx,
			 size_t n, const char *dist, jc_error *err)
{
	jc_repo_release_info info = JC_REPO_RELEASE_INFO_INIT;
	jc_repo_release_file *files = jc_calloc(2 * n + 1, sizeof(*files));
	char *comps = jc_strdup(row->components), *archs = jc_strdup(row->architectures);
	const char **cv, **av;
	char *text = NULL, *desc, *path;
	size_t len = 0, nc, na;
	jc_strv paths = JC_STRV_INIT;
	int rc;

	for (size_t i = 0; i < n; i++) {
		jc_strv_push_owned(&paths, jc_sprintf("%s/binary-%s/Packages", idx[i].component, idx[i].architecture));
		files[2 * i].path = paths.v[paths.n - 1];
		files[2 * i].size = idx[i].packages_size;
		files[2 * i].sha256 = idx[i].packages_sha256;
		jc_strv_push_owned(&paths, jc_sprintf("%s/binary-%s/Packages.gz", idx[i].component,
						      idx[i].architecture));
		files[2 * i + 1].path = paths.v[paths.n - 1];
		files[2 * i + 1].size = idx[i].gz_size;
		files[2 * i + 1].sha256 = idx[i].gz_sha256;
	}
	words(comps, &cv, &nc);
	words(archs, &av, &na);
	desc = jc_sprintf("jcicd snapshot %ld", number);
	info.origin = row->origin;
	info.label = row->label;
	info.suite = row->suite;
	info.codename = row->suite;
	info.date = row->created_at;
	info.description = desc;
	info.architectures = av;
	info.n_architectures = na;
	info.components = cv;
	info.n_components = nc;
	info.acquire_by_hash = true;
	info.files = files;
	info.n_files = 2 * n;
	rc = jc_repo_release_write(&text, &len, &info, err);
	if (rc == 0) {
		path = jc_path_join(dist, "Release");
		rc = write_file(path, text, len, err);
		free(path);
	}
	if (rc == 0 && s->o.sign_key) {
		jc_repo_sign_options so = JC_REPO_SIGN_OPTIONS_INIT;
		char *inrel = NULL, *gpg = NULL;
		size_t ilen = 0, glen = 0;
		so.key = s->o.sign_key;
		so.gnupghome = s->o.gnupghome;
		so.passphrase_file = s->o.passphrase_file;
		rc = jc_repo_sign(&inrel, &ilen, &gpg, &glen, text, len, &so, err);
		if (rc == 0) {
			path = jc_path_join(dist, "InRelease");
			rc = write_file(path, inrel, ilen, err);
			free(path);
		}
		if (rc == 0) {
			path = jc_path_join(dist, "Release.gpg");
			rc = write_file(path, gpg, glen, err);
			free(path);
		}
		free(inrel);
		free(gpg);
		if (rc < 0)
			jc_err_prefix(err, "signing snapshot %ld", number);
	}
	free(text);
	free(desc);
	free(cv);
	free(av);
	free(comps);
	free(archs);
	free(files);
	jc_strv_free(&paths);
	return rc;
}

int jc_snap_publish_tree(jc_snapshots *s, long number, jc_error *err)
{
	struct snap_row row;
	struct tree_ctx t;
	jc_snap_index *idx = NULL;
	size_t n = 0;
	char *tree, *tmp = NULL, *dist = NULL, *parent;
	long before = 0;
	int64_t started = jc_now_ms();
	int rc;

	if ((rc = jc_snap_need_root(s, err)) < 0)
		return rc;
	tree = jc_snap_tree(s, number);
	if (jc_path_exists(tree)) {
		/* trees appear by rename only: one that exists is complete */
		free(tree);
		return 0;
	}
	memset(&t, 0, sizeof(t));
	t.last_fd = -1;
	rc = read_row(s, number, &row, err);
	if (rc == 0 && strcmp(row.state, "recorded") != 0 && strcmp(row.state, "published") != 0)
		rc = jc_err(err, JC_ENOTFOUND, "snapshot %ld was pruned; it cannot be published again", number);
	if (rc == 0)
		rc = jc_snap_indices(s, number, &idx, &n, err);
	if (rc == 0)
		rc = newest_before(s, number, &before, err);
	if (rc < 0)
		goto out;
	parent = jc_sprintf("%s/snapshots", s->o.publish_root);
	tmp = jc_sprintf("%s/.tmp-%ld-%ld", parent, number, (long)getpid());
	free(parent);
	if ((rc = jc_rm_rf(tmp, err)) < 0)
		goto out;
	if (s->hint_number == number && s->hint_tree) {
		if (rename(s->hint_tree, tmp) < 0) {
			rc = jc_err_errno(err, JC_EIO, errno, "cannot rename %s to %s", s->hint_tree, tmp);
			goto out;
		}
	} else if ((rc = jc_mkdir_p(tmp, 0755, err)) < 0) {
		goto out;
	}
	t.s = s;
	t.tmp = tmp;
	dist = jc_sprintf("%s/dists/%s", tmp, row.suite);
	for (size_t i = 0; i < n && rc == 0; i++) {
		char *dir = jc_sprintf("dists/%s/%s/binary-%s", row.suite, idx[i].component, idx[i].architecture);
		char *p = jc_sprintf("%s/Packages", dir), *g = jc_sprintf("%s/Packages.gz", dir);
		char *hp = jc_sprintf("%s/by-hash/SHA256/%s", dir, idx[i].packages_sha256);
		char *hg = jc_sprintf("%s/by-hash/SHA256/%s", dir, idx[i].gz_sha256);
		rc = place(&t, idx[i].packages_sha256, p, err);
		if (rc == 0)
			rc = place(&t, idx[i].gz_sha256, g, err);
		if (rc == 0)
			rc = place(&t, idx[i].packages_sha256, hp, err);
		if (rc == 0)
			rc = place(&t, idx[i].gz_sha256, hg, err);
		free(dir);
		free(p);
		free(g);
		free(hp);
		free(hg);
		/* the packages: from the poll that just made the snapshot, else
		 * from its recorded Packages files */
		if (rc == 0 && s->hint_number != number)
			rc = jc_snap_read_packages(s, idx[i].packages_sha256, place_para, &t, err);
	}
	for (size_t i = 0; rc == 0 && s->hint_number == number && i < s->n_hint; i++)
		if (s->hint_tree && s->hint[i].placed)
			t.links++;
		else
			rc = place(&t, s->hint[i].sha256, s->hint[i].path, err);
	if (rc == 0 && before)
		rc = add_by_hash(s, tmp, row.suite, before, err);
	jc_log(s->o.logger, JC_LOG_DEBUG, "snapshot", "linking %ld files: %lld ms", t.links,
	       (long long)(jc_now_ms() - started));
	if (rc == 0)
		jc_snap_crash_point("publish-linked");
	if (rc == 0)
		rc = write_release(s, number, &row, idx, n, dist, err);
	if (rc == 0 && !s->o.no_sync) {
		int64_t f = jc_now_ms();
		rc = sync_dir(tmp, err);
		jc_log(s->o.logger, JC_LOG_DEBUG, "snapshot", "flushing the tree: %lld ms", (long long)(jc_now_ms() - f));
	}
	if (rc == 0)
		jc_snap_crash_point("publish-built");
	if (rc == 0 && rename(tmp, tree) < 0)
		rc = jc_err_errno(err, JC_EIO, errno, "cannot rename %s to %s", tmp, tree);
	if (rc == 0)
		jc_snap_crash_point("publish-renamed");
	if (rc == 0 && !s->o.no_sync)
		rc = sync_dir(s->o.publish_root, err);
	if (rc == 0)
		jc_log(s->o.logger, JC_LOG_INFO, "snapshot", "published snapshot %ld: %ld files in %s (%lld ms)",
		       number, t.links, tree, (long long)(jc_now_ms() - started));
	else
		jc_rm_rf(tmp, NULL);
out:
	if (rc < 0)
		jc_err_prefix(err, "publishing snapshot %ld", number);
	if (t.last_fd >= 0)
		close(t.last_fd);
	free(t.last_dir);
	free(dist);
	free(tmp);
	free(tree);
	jc_snap_indices_free(idx, n);
	snap_row_free(&row);
	return rc;
}

static int mark_published(jc_snapshots *s, long number, jc_error *err)
{
	sqlite3_stmt *st;
	int rc = jc_store_prepare(s->store, &st, "UPDATE snapshots SET state = 'published', published_at = ?"
				  " WHERE number = ? AND state = 'recorded'", err);
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(st, 1, jc_snap_now());
	sqlite3_bind_int64(st, 2, number);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = jc_store_error(s->store, err, "marking a snapshot published");
	sqlite3_finalize(st);
	return rc;
}

/* ---- pointers */

static int switch_symlink(jc_snapshots *s, const char *name, long number, jc_error *err)
{
	char *link_path = jc_path_join(s->o.publish_root, name);
	char *tmp = jc_sprintf("%s/.%s.tmp-%ld", s->o.publish_root, name, (long)getpid());
	char *target = jc_sprintf("snapshots/%ld", number);
	char have[256];
	struct stat st;
	ssize_t k;
	int rc = 0;

	k = readlink(link_path, have, sizeof(have) - 1);
	if (k >= 0) {
		have[k] = '\0';
		if (strcmp(have, target) == 0)
			goto out;   /* already right */
	} else if (lstat(link_path, &st) == 0) {
		rc = jc_err(err, JC_EEXISTS, "%s exists and is not a symlink: refusing to replace it with "
			    "pointer %s", link_path, name);
		goto out;
	}
	unlink(tmp);
	if (symlink(target, tmp) < 0) {
		rc = jc_err_errno(err, JC_EIO, errno, "cannot create symlink %s", tmp);
		goto out;
	}
	jc_snap_crash_point("pointer-symlinked");
	/* rename replaces the old symlink in one step: a reader resolves
	 * either the old or the new snapshot, never nothing */
	if (rename(tmp, link_path) < 0) {
		rc = jc_err_errno(err, JC_EIO, errno, "cannot switch pointer %s", link_path);
		unlink(tmp);
	}
out:
	free(link_path);
	free(tmp);
	free(target);
	return rc;
}

int jc_snap_set_pointer(jc_snapshots *s, const char *name, long number, const char *who, const char *why,
			long *previous, jc_error *err)
{
	sqlite3_stmt *st = NULL;
	long prev = 0;
	int64_t now = jc_snap_now();
	int rc;

	if (previous)
		*previous = 0;
	if (!jc_snapshot_pointer_name_ok(name))
		return jc_err(err, JC_EINVALID, "\"%s\" is not a pointer name (lower-case letters, digits, - and "
			      "_, starting with a letter; not \"snapshots\")", name ? name : "");
	if ((rc = jc_store_begin(s->store, true, err)) < 0)
		return rc;
	rc = jc_store_prepare(s->store, &st, "SELECT number FROM snapshot_pointers WHERE name = ?", err);
	if (rc == 0) {
		jc_sql_bind_text(st, 1, name);
		if (sqlite3_step(st) == SQLITE_ROW)
			prev = (long)sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		rc = jc_store_prepare(s->store, &st,
				      "INSERT INTO snapshot_pointers(name, number, updated_at, who, why) VALUES (?, ?, ?, ?, ?)"
				      " ON CONFLICT(name) DO UPDATE SET number = excluded.number,"
				      " updated_at = excluded.updated_at, who = excluded.who, why = excluded.why", err);
	}
	if (rc == 0) {
		jc_sql_bind_text(st, 1, name);
		sqlite3_bind_int64(st, 2, number);
		sqlite3_bind_int64(st, 3, now);
		jc_sql_bind_text(st, 4, who);
		jc_sql_bind_text(st, 5, why);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = jc_store_error(s->store, err, "setting a pointer");
		sqlite3_finalize(st);
	}
	if (rc == 0 && prev != number)
		rc = jc_store_prepare(s->store, &st, "INSERT INTO snapshot_promotions(name, number, previous, at, who,"
				      " why) VALUES (?, ?, ?, ?, ?, ?)", err);
	if (rc == 0 && prev != number) {
		jc_sql_bind_text(st, 1, name);
		sqlite3_bind_int64(st, 2, number);
		if (prev)
			sqlite3_bind_int64(st, 3, prev);
		else
			sqlite3_bind_null(st, 3);
		sqlite3_bind_int64(st, 4, now);
		jc_sql_bind_text(st, 5, who);
		jc_sql_bind_text(st, 6, why);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = jc_store_error(s->store, err, "recording a promotion");
		sqlite3_finalize(st);
	}
	if (rc < 0) {
		jc_store_rollback(s->store);
		return rc;
	}
	if ((rc = jc_store_commit(s->store, err)) < 0)
		return rc;
	jc_snap_crash_point("pointer-recorded");
	if (previous)
		*previous = prev;
	if (prev && prev != number) {
		char *tree = jc_snap_tree(s, number);
		struct snap_row row;
		if (read_row(s, number, &row, NULL) == 0) {
			/* best effort: only in-flight clients depend on it */
			add_by_hash(s, tree, row.suite, prev, NULL);
			snap_row_free(&row);
		}
		free(tree);
	}
	rc = switch_symlink(s, name, number, err);
	if (rc == 0 && prev != number)
		jc_log(s->o.logger, JC_LOG_INFO, "snapshot", "pointer %s: %ld -> %ld", name, prev, number);
	return rc;
}

int jc_snap_apply_pointers(jc_snapshots *s, jc_error *err)
{
	sqlite3_stmt *st;
	int rc = jc_store_prepare(s->store, &st, "SELECT name, number FROM snapshot_pointers ORDER BY name", err);
	if (rc < 0)
		return rc;
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		long number = (long)sqlite3_column_int64(st, 1);
		char *tree = jc_snap_tree(s, number);
		if (jc_path_exists(tree))
			rc = switch_symlink(s, name, number, err);
		free(tree);
	}
	sqlite3_finalize(st);
	return rc;
}

/* Publishes a recorded snapshot and moves the automatic pointers to it. */
static int publish_recorded(jc_snapshots *s, long number, jc_error *err)
{
	int rc = jc_snap_publish_tree(s, number, err);
	if (rc == 0)
		rc = mark_published(s, number, err);
	for (size_t i = 0; rc == 0 && i < s->o.n_pointers; i++) {
		long at = 0;
		if (jc_snapshot_resolve(&at, s, s->o.pointers[i], NULL) == 0 && at > number)
			continue;   /* never move an automatic pointer backwards */
		rc = jc_snap_set_pointer(s, s->o.pointers[i], number, "jcicd snapshot poll",
					 "new snapshot", NULL, err);
	}
	return rc;
}

int jc_snap_publish_recorded(jc_snapshots *s, long number, jc_error *err)
{
	return publish_recorded(s, number, err);
}

/* Removes what an interrupted writer left in the publish root: trees being
 * built or deleted, pointer symlinks being created. */
static int clean_root(jc_snapshots *s, jc_error *err)
{
	char *snaps = jc_sprintf("%s/snapshots", s->o.publish_root);
	DIR *d;
	struct dirent *de;
	int rc = jc_mkdir_p(snaps, 0755, err);
	if (rc < 0) {
		free(snaps);
		return rc;
	}
	d = opendir(snaps);
	while (d && rc == 0 && (de = readdir(d)) != NULL) {
		if (jc_str_starts(de->d_name, ".tmp-") || jc_str_starts(de->d_name, ".trash-")) {
			char *p = jc_path_join(snaps, de->d_name);
			rc = jc_rm_rf(p, err);
			free(p);
		}
	}
	if (d)
		closedir(d);
	d = opendir(s->o.publish_root);
	while (d && rc == 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' && strstr(de->d_name, ".tmp-")) {
			char *p = jc_path_join(s->o.publish_root, de->d_name);
			unlink(p);
			free(p);
		}
	}
	if (d)
		closedir(d);
	free(snaps);
	return rc;
}

static int numbers_in_state(jc_snapshots *s, const char *state, long **out, size_t *n, jc_error *err)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc = jc_store_prepare(s->store, &st, "SELECT number FROM snapshots WHERE state = ? ORDER BY number",
				  err);
	*out = NULL;
	*n = 0;
	if (rc < 0)
		return rc;
	jc_sql_bind_text(st, 1, state);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*out = jc_realloc(*out, cap * sizeof(**out));
		}
		(*out)[(*n)++] = (long)sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return 0;
}

int jc_snap_recover(jc_snapshots *s, jc_error *err)
{
	long *nums = NULL;
	size_t n = 0;
	int rc = jc_pool_clean_temp(s->pool, err);
	if (rc < 0 || !s->o.publish_root)
		return rc;
	rc = clean_root(s, err);
	if (rc == 0)
		rc = jc_snap_finish_prunes(s, err);
	if (rc == 0)
		rc = numbers_in_state(s, "recorded", &nums, &n, err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		jc_log(s->o.logger, JC_LOG_NOTICE, "snapshot", "snapshot %ld was recorded but not published "
		       "(interrupted?): publishing it now", nums[i]);
		rc = publish_recorded(s, nums[i], err);
	}
	free(nums);
	if (rc == 0)
		rc = jc_snap_apply_pointers(s, err);
	return rc;
}

int jc_snapshot_publish(long *published, jc_snapshots *s, long number, jc_error *err)
{
	long *nums = NULL;
	size_t n = 0;
	int rc;

	if (published)
		*published = 0;
	if ((rc = jc_snap_need_root(s, err)) < 0 || (rc = jc_snap_lock(s, err)) < 0)
		return rc;
	if (number > 0) {
		char *state = NULL;
		rc = jc_snap_state(s, number, &state, err);
		if (rc == 0 && strcmp(state, "published") != 0 && strcmp(state, "recorded") != 0)
			rc = jc_err(err, JC_ENOTFOUND, "snapshot %ld was pruned; it cannot be published again", number);
		if (rc == 0) {
			char *tree = jc_snap_tree(s, number);
			bool have = jc_path_exists(tree);
			free(tree);
			if (!have) {
				rc = jc_snap_publish_tree(s, number, err);
				if (rc == 0 && published)
					(*published)++;
			}
		}
		free(state);
	} else {
		/* every published snapshot's tree, e.g. after moving the root */
		rc = numbers_in_state(s, "published", &nums, &n, err);
		for (size_t i = 0; rc == 0 && i < n; i++) {
			char *tree = jc_snap_tree(s, nums[i]);
			bool have = jc_path_exists(tree);
			free(tree);
			if (have)
				continue;
			rc = jc_snap_publish_tree(s, nums[i], err);
			if (rc == 0 && published)
				(*published)++;
		}
		free(nums);
	}
	if (rc == 0)
		rc = jc_snap_apply_pointers(s, err);
	jc_snap_unlock(s);
	return rc;
}
