/* build-apt.c - APT entries: a binary package carried over as it is, or a
 * source package rebuilt here, from an external APT repository.
 *
 * The check is a conditional request for the Release (InRelease first,
 * verified against the entry's keyring when it has one).  When the Release
 * changed, the index it names (Packages or Sources) is downloaded, checked
 * against its SHA256 and size, and the newest version of the package that
 * matches the pin is chosen.  The ref is "<version>@<sha256 of the .deb or
 * .dsc>", so a new Release that leaves the package alone builds nothing. */
#include "common.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build-internal.h"
#include "repo-internal.h"

struct apt_file {
	char *relpath;                  /* below the repository's base */
	char sha256[JC_SHA256_HEX_SIZE];
	long long size;
};

/* what the check found, kept for the build */
struct apt_found {
	jc_http *http;
	jc_repo_remote *remote;
	char *version;                  /* NULL: not resolved (an unchanged Release) */
	struct apt_file *files;         /* binary: the .deb; source: the .dsc first */
	size_t n_files;
};

/* the search of an index */
struct pick {
	const jc_build_entry *e;
	const char *index;              /* for messages */
	jc_strv versions;               /* every version of the package seen */
	char *version;
	struct apt_file *files;
	size_t n_files;
};

static bool is_binary(const jc_bld_job *job)
{
	return job->entry->kind == JC_BUILD_APT_BINARY;
}

static void files_free(struct apt_file *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(f[i].relpath);
	free(f);
}

static void found_reset(struct apt_found *f)
{
	free(f->version);
	files_free(f->files, f->n_files);
	f->version = NULL;
	f->files = NULL;
	f->n_files = 0;
}

void jc_bld_apt_free(jc_bld_job *job)
{
	struct apt_found *f = job->apt;
	if (!f)
		return;
	found_reset(f);
	jc_repo_remote_free(f->remote);
	jc_http_free(f->http);
	free(f);
	job->apt = NULL;
}

static int open_remote(jc_bld_job *job, struct apt_found **out, jc_error *err)
{
	const jc_build_entry *e = job->entry;
	struct apt_found *f = job->apt;
	int rc;
	if (!f) {
		f = jc_calloc(1, sizeof(*f));
		job->apt = f;
	}
	*out = f;
	if (f->remote)
		return 0;
	if (e->apt_url && !f->http) {
		/* a handle per job: builds run in threads of their own, and the
		 * caller's logger is not for them */
		jc_http_options ho = JC_HTTP_OPTIONS_INIT;
		if ((rc = jc_http_new(&f->http, &ho, err)) < 0)
			return rc;
	}
	return jc_repo_remote_open(&f->remote, e->apt_url, e->apt_url ? NULL : e->apt_path, f->http, NULL, err);
}

/* <state>/build/apt/<entry>: indices while read, gpg's home */
static char *scratch_dir(jc_builds *b, const jc_bld_job *job)
{
	return jc_sprintf("%s/apt/%s", b->dir, job->entry->name);
}

/* The Release, as InRelease or Release(+.gpg), verified when the entry has
 * a keyring.  *rel is NULL when the source answered 304. */
static int fetch_release(jc_builds *b, jc_bld_job *job, struct apt_found *f, bool conditional,
			 jc_repo_release **rel, char **etag, char **lm, jc_error *err)
{
	static const char *const order[] = { "InRelease", "Release" };
	const jc_build_entry *e = job->entry;
	char *scratch = scratch_dir(b, job), *gpg_dir = jc_path_join(scratch, "gnupg");
	int rc = 0;

	*rel = NULL;
	*etag = *lm = NULL;
	for (size_t i = 0; i < JC_ARRAY_LEN(order); i++) {
		jc_repo_get g;
		char *path = jc_sprintf("dists/%s/%s", e->apt_suite, order[i]), *where, *plain = NULL;
		size_t plain_len = 0;
		rc = jc_repo_remote_get(f->remote, path, conditional ? job->state.etag : NULL,
					conditional ? job->state.last_modified : NULL, &g, err);
		if (rc < 0) {
			free(path);
			goto out;
		}
		if (g.status == 404) {
			jc_repo_get_clear(&g);
			free(path);
			continue;
		}
		*etag = g.etag;
		*lm = g.last_modified;
		g.etag = g.last_modified = NULL;
		if (g.status == 304) {
			jc_repo_get_clear(&g);
			free(path);
			goto out;
		}
		where = jc_repo_remote_where(f->remote, path);
		if (i == 0 && e->apt_keyring) {
			rc = jc_mkdir_p(gpg_dir, 0700, err);
			if (rc == 0)
				rc = jc_repo_verify(&plain, &plain_len, NULL, g.body, g.len, NULL, 0, e->apt_keyring,
						    gpg_dir, where, err);
		} else if (i == 0) {
			rc = jc_repo_clearsign_strip(&plain, &plain_len, g.body, g.len, where, err);
		} else if (e->apt_keyring) {
			jc_repo_get sig;
			char *sig_path = jc_sprintf("dists/%s/Release.gpg", e->apt_suite);
			rc = jc_repo_remote_get(f->remote, sig_path, NULL, NULL, &sig, err);
			if (rc == 0 && sig.status != 200)
				rc = jc_err_http(err, JC_EINTEGRITY, where, sig.status, NULL, "%s has no InRelease and no "
						 "Release.gpg, but the entry has a keyring: refusing an unsigned repository",
						 where);
			if (rc == 0)
				rc = jc_mkdir_p(gpg_dir, 0700, err);
			if (rc == 0)
				rc = jc_repo_verify(&plain, &plain_len, NULL, g.body, g.len, sig.body, sig.len,
						    e->apt_keyring, gpg_dir, where, err);
			jc_repo_get_clear(&sig);
			free(sig_path);
		} else {
			plain = jc_strndup(g.body, g.len);
			plain_len = g.len;
		}
		if (rc == 0)
			rc = jc_repo_source_error(jc_repo_release_parse(rel, plain, plain_len, where, err), err);
		free(plain);
		free(where);
		free(path);
		jc_repo_get_clear(&g);
		goto out;
	}
	rc = jc_err_http(err, JC_ENOTFOUND, jc_repo_remote_location(f->remote), 404, NULL,
			 "neither dists/%s/InRelease nor dists/%s/Release exists at %s", e->apt_suite, e->apt_suite,
			 jc_repo_remote_location(f->remote));
out:
	if (rc < 0) {
		free(*etag);
		free(*lm);
		*etag = *lm = NULL;
	}
	free(scratch);
	free(gpg_dir);
	return rc;
}

/* "sha256 size name" lines of Checksums-Sha256 */
static int source_files(struct pick *pk, const jc_deb822_para *para, struct apt_file **out, size_t *n,
			jc_error *err)
{
	const char *dir = jc_deb822_get(para, "Directory"), *sums = jc_deb822_get(para, "Checksums-Sha256");
	struct apt_file *files = NULL;
	size_t count = 0;
	bool have_dsc = false;

	*out = NULL;
	*n = 0;
	if (!dir || !sums)
		return jc_err_at(err, JC_EINTEGRITY, pk->index, jc_deb822_line(para), 1, "the paragraph of %s lacks "
				 "Directory or Checksums-Sha256", pk->e->package);
	for (const char *p = sums; *p;) {
		size_t len = strcspn(p, "\n");
		char *line = jc_strndup(p, len), sha[80], name[256];
		long long size;
		p += len + (p[len] == '\n');
		if (sscanf(line, " %79s %lld %255s", sha, &size, name) != 3) {
			bool blank = strspn(line, " \t") == strlen(line);
			free(line);
			if (blank)
				continue;
			files_free(files, count);
			return jc_err_at(err, JC_EINTEGRITY, pk->index, jc_deb822_line(para), 1, "a malformed "
					 "Checksums-Sha256 line in the paragraph of %s", pk->e->package);
		}
		free(line);
		if (!jc_repo_is_sha256(sha) || strchr(name, '/') || size < 0) {
			files_free(files, count);
			return jc_err_at(err, JC_EINTEGRITY, pk->index, jc_deb822_line(para), 1, "a bad file entry "
					 "\"%s\" in the paragraph of %s", name, pk->e->package);
		}
		files = jc_realloc(files, (count + 1) * sizeof(*files));
		files[count].relpath = jc_sprintf("%s/%s", dir, name);
		jc_strlcpy(files[count].sha256, sha, sizeof(files[count].sha256));
		files[count].size = size;
		if (jc_str_ends(name, ".dsc") && !have_dsc) {
			/* the .dsc first */
			struct apt_file t = files[count];
			files[count] = files[0];
			files[0] = t;
			have_dsc = true;
		}
		count++;
	}
	if (!have_dsc) {
		files_free(files, count);
		return jc_err_at(err, JC_EINTEGRITY, pk->index, jc_deb822_line(para), 1, "the paragraph of %s lists "
				 "no .dsc", pk->e->package);
	}
	*out = files;
	*n = count;
	return 0;
}

static int on_para(const jc_deb822_para *para, jc_error *err, void *payload)
{
	struct pick *pk = payload;
	const char *name = jc_deb822_get(para, "Package"), *version = jc_deb822_get(para, "Version");
	struct apt_file *files = NULL;
	size_t n = 0;
	int rc;

	if (!name || strcmp(name, pk->e->package) != 0 || !version)
		return 0;
	if (!jc_strv_contains(&pk->versions, version))
		jc_strv_push(&pk->versions, version);
	if (pk->e->pin && fnmatch(pk->e->pin, version, 0) != 0)
		return 0;
	if (pk->version && jc_repo_version_compare(version, pk->version) <= 0)
		return 0;
	if (!jc_bld_version_valid(version))
		return jc_err_at(err, JC_EINTEGRITY, pk->index, jc_deb822_line(para), 1, "\"%s\" is not a Debian "
				 "version", version);
	if (pk->e->kind == JC_BUILD_APT_BINARY) {
		const char *fn = jc_deb822_get(para, "Filename"), *sha = jc_deb822_get(para, "SHA256");
		const char *size = jc_deb822_get(para, "Size");
		long sz = -1;
		if (!fn || !sha || !size || !jc_repo_is_sha256(sha) || !jc_parse_long(size, &sz) || sz < 0 ||
		    !jc_repo_relpath_ok(fn) || !jc_str_ends(fn, ".deb"))
			return jc_err_at(err, JC_EINTEGRITY, pk->index, jc_deb822_line(para), 1, "the paragraph of %s %s "
					 "lacks a usable Filename, SHA256 or Size", name, version);
		files = jc_calloc(1, sizeof(*files));
		files[0].relpath = jc_strdup(fn);
		jc_strlcpy(files[0].sha256, sha, sizeof(files[0].sha256));
		files[0].size = sz;
		n = 1;
	} else if ((rc = source_files(pk, para, &files, &n, err)) < 0) {
		return rc;
	}
	free(pk->version);
	files_free(pk->files, pk->n_files);
	pk->version = jc_strdup(version);
	pk->files = files;
	pk->n_files = n;
	return 0;
}

static int feed(const char *data, size_t len, jc_error *err, void *payload)
{
	return jc_deb822_parser_feed(payload, data, len, err);
}

static int cmp_version(const void *a, const void *b)
{
	return jc_repo_version_compare(*(char *const *)a, *(char *const *)b);
}

/* Downloads the indices the Release names and picks the version. */
static int resolve(jc_builds *b, jc_bld_job *job, struct apt_found *f, const jc_repo_release *rel, jc_error *err)
{
	const jc_build_entry *e = job->entry;
	const char *loc = jc_repo_remote_location(f->remote);
	char *scratch = scratch_dir(b, job);
	struct pick pk;
	size_t n_read = 0;
	jc_strv wanted = JC_STRV_INIT;
	int rc;

	memset(&pk, 0, sizeof(pk));
	pk.e = e;
	if (is_binary(job)) {
		for (size_t i = 0; i < b->o.n_architectures; i++)
			jc_strv_push_owned(&wanted, jc_sprintf("%s/binary-%s/Packages", e->apt_component,
							       b->o.architectures[i]));
	} else {
		jc_strv_push_owned(&wanted, jc_sprintf("%s/source/Sources", e->apt_component));
	}
	rc = jc_mkdir_p(scratch, 0755, err);
	for (size_t i = 0; rc == 0 && i < wanted.n; i++) {
		char *gz = jc_sprintf("%s.gz", wanted.v[i]);
		const jc_repo_release_file *rf = jc_repo_release_lookup(rel, gz);
		bool is_gz = rf != NULL;
		jc_repo_download d;
		jc_deb822_parser *dp = NULL;
		char *relpath, *dest, *name;
		if (!rf)
			rf = jc_repo_release_lookup(rel, wanted.v[i]);
		free(gz);
		if (!rf)
			continue;
		relpath = jc_sprintf("dists/%s/%s", e->apt_suite, rf->path);
		dest = jc_sprintf("%s/index-%zu", scratch, i);
		name = jc_repo_remote_where(f->remote, relpath);
		memset(&d, 0, sizeof(d));
		d.relpath = relpath;
		d.sha256 = rf->sha256;
		d.size = rf->size;
		d.dest = dest;
		rc = jc_repo_remote_download(f->remote, &d, 1, err);
		pk.index = name;
		if (rc == 0)
			rc = jc_deb822_parser_new(&dp, name, on_para, &pk, err);
		if (rc == 0)
			rc = jc_file_stream(dest, is_gz, feed, dp, err);
		if (rc == 0)
			rc = jc_deb822_parser_finish(dp, err);
		rc = jc_repo_source_error(rc, err);
		jc_deb822_parser_free(dp);
		unlink(dest);
		pk.index = NULL;
		free(relpath);
		free(dest);
		free(name);
		n_read++;
	}
	if (rc == 0 && n_read == 0)
		rc = jc_err_http(err, JC_ENOTFOUND, loc, 0, NULL, "the Release of %s (suite %s) lists no %s(.gz)%s",
				 loc, e->apt_suite, wanted.v[0], wanted.n > 1 ? " for the repository's "
				 "architectures" : "");
	if (rc == 0 && !pk.version) {
		jc_buf have = JC_BUF_INIT;
		qsort(pk.versions.v, pk.versions.n, sizeof(*pk.versions.v), cmp_version);
		for (size_t i = 0; i < pk.versions.n; i++)
			jc_buf_printf(&have, "%s%s", i ? ", " : "", pk.versions.v[i]);
		rc = jc_err_http(err, JC_ENOTFOUND, loc, 0, NULL, "%s package %s%s%s%s is not in %s (suite %s, "
				 "component %s)%s%s", is_binary(job) ? "binary" : "source", e->package,
				 e->pin ? " matching \"" : "", e->pin ? e->pin : "", e->pin ? "\"" : "", loc, e->apt_suite,
				 e->apt_component, pk.versions.n ? "; versions there: " : "; no version of it there",
				 jc_buf_cstr(&have));
		jc_buf_free(&have);
	}
	if (rc == 0) {
		found_reset(f);
		f->version = pk.version;
		f->files = pk.files;
		f->n_files = pk.n_files;
		pk.version = NULL;
		pk.files = NULL;
		pk.n_files = 0;
	}
	free(pk.version);
	files_free(pk.files, pk.n_files);
	jc_strv_free(&pk.versions);
	jc_strv_free(&wanted);
	free(scratch);
	return rc;
}

/* What of the entry decides the choice: a pin, a suite or a keyring changed
 * in the sources file must not hide behind a Release that answers 304. */
static void config_key(jc_builds *b, const jc_bld_job *job, char out[9])
{
	const jc_build_entry *e = job->entry;
	char sha[JC_SHA256_HEX_SIZE];
	jc_buf k = JC_BUF_INIT;
	jc_buf_printf(&k, "%d\n%s\n%s\n%s\n%s\n%s\n%s\n%s\n", (int)e->kind, e->apt_url ? e->apt_url : "",
		      e->apt_path ? e->apt_path : "", e->apt_suite, e->apt_component, e->package, e->pin ? e->pin : "",
		      e->apt_keyring ? e->apt_keyring : "");
	for (size_t i = 0; i < b->o.n_architectures; i++)
		jc_buf_printf(&k, "%s ", b->o.architectures[i]);
	jc_repo_sha256_buf(sha, k.data, k.len);
	jc_buf_free(&k);
	memcpy(out, sha, 8);
	out[8] = '\0';
}

/* "<version>@<sha256 of the .deb or .dsc>#<config key>" */
static char *ref_of(jc_builds *b, const jc_bld_job *job, const struct apt_found *f)
{
	char key[9];
	config_key(b, job, key);
	return jc_sprintf("%s@%s#%s", f->version, f->files[0].sha256, key);
}

/* The last ref was made with this configuration. */
static bool same_config(jc_builds *b, const jc_bld_job *job)
{
	char key[9];
	const char *hash = job->state.seen ? strrchr(job->state.seen, '#') : NULL;
	config_key(b, job, key);
	return hash && strcmp(hash + 1, key) == 0;
}

static int save_validators(jc_builds *b, const jc_bld_job *job, const char *etag, const char *lm, jc_error *err)
{
	sqlite3_stmt *q;
	int rc = jc_store_prepare(b->store, &q, "UPDATE build_entries SET etag = ?, last_modified = ? WHERE name = ?",
				  err);
	if (rc < 0)
		return rc;
	jc_sql_bind_text(q, 1, etag);
	jc_sql_bind_text(q, 2, lm);
	jc_sql_bind_text(q, 3, job->entry->name);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? 0 : jc_store_error(b->store, err, "recording an APT source's validators");
}

int jc_bld_apt_check(jc_builds *b, jc_bld_job *job, char **ref, bool *unchanged, jc_error *err)
{
	struct apt_found *f;
	jc_repo_release *rel = NULL;
	char *etag = NULL, *lm = NULL;
	/* validators only help when we know what they stood for */
	bool conditional = job->state.seen && (job->state.etag || job->state.last_modified) && same_config(b, job);
	int rc;

	*ref = NULL;
	*unchanged = false;
	rc = open_remote(job, &f, err);
	if (rc == 0)
		rc = fetch_release(b, job, f, conditional, &rel, &etag, &lm, err);
	if (rc == 0 && !rel) {
		jc_bld_log(b, JC_LOG_DEBUG, "%s: the Release of %s is unchanged", job->entry->name,
			   jc_repo_remote_location(f->remote));
		*ref = jc_strdup(job->state.seen);
		*unchanged = true;
		/* a 304 may carry no validators: keep the old ones */
		if (!etag && !lm) {
			etag = jc_strdup(job->state.etag);
			lm = jc_strdup(job->state.last_modified);
		}
	} else if (rc == 0) {
		rc = resolve(b, job, f, rel, err);
		if (rc == 0)
			*ref = ref_of(b, job, f);
	}
	if (rc == 0)
		rc = save_validators(b, job, etag, lm, err);
	if (rc < 0) {
		free(*ref);
		*ref = NULL;
	}
	jc_repo_release_free(rel);
	free(etag);
	free(lm);
	return rc;
}

/* After a 304 (a forced build) the index was not read: read it now. */
static int ensure_resolved(jc_builds *b, jc_bld_job *job, struct apt_found **out, jc_error *err)
{
	struct apt_found *f;
	jc_repo_release *rel = NULL;
	char *etag = NULL, *lm = NULL;
	int rc = open_remote(job, &f, err);
	*out = f;
	if (rc < 0 || f->version)
		return rc;
	rc = fetch_release(b, job, f, false, &rel, &etag, &lm, err);
	if (rc == 0)
		rc = resolve(b, job, f, rel, err);
	if (rc == 0) {
		char *now = ref_of(b, job, f);
		if (!job->ref || strcmp(now, job->ref) != 0) {
			jc_bld_logf(job, "the source moved on since the poll: building %s", now);
			free(job->ref);
			job->ref = now;
		} else {
			free(now);
		}
	}
	jc_repo_release_free(rel);
	free(etag);
	free(lm);
	return rc;
}

/* Downloads the chosen files into the job's directory, each checked
 * against its SHA256 and size. */
static int download(jc_bld_job *job, struct apt_found *f, jc_error *err)
{
	jc_repo_download *d = jc_calloc(f->n_files + 1, sizeof(*d));
	jc_strv dests = JC_STRV_INIT;
	int rc;
	for (size_t i = 0; i < f->n_files; i++) {
		const char *slash = strrchr(f->files[i].relpath, '/');
		jc_strv_push_owned(&dests, jc_path_join(job->work, slash ? slash + 1 : f->files[i].relpath));
		d[i].relpath = f->files[i].relpath;
		d[i].sha256 = f->files[i].sha256;
		d[i].size = f->files[i].size;
		d[i].dest = dests.v[i];
		jc_bld_logf(job, "downloading %s (%lld bytes, sha256 %s)", f->files[i].relpath, f->files[i].size,
			    f->files[i].sha256);
	}
	rc = jc_repo_remote_download(f->remote, d, f->n_files, err);
	if (rc < 0)
		jc_bld_logf(job, "download failed: %s", err ? err->message : "");
	free(d);
	jc_strv_free(&dests);
	return rc;
}

static int build_binary(jc_builds *b, jc_bld_job *job, struct apt_found *f, jc_error *err)
{
	int rc = download(job, f, err);
	if (rc == 0)
		rc = jc_bld_collect_debs(b, job, err);
	if (rc == 0 && (strcmp(job->debs[0].name, job->entry->package) != 0 ||
			strcmp(job->debs[0].version, f->version) != 0))
		rc = jc_err(err, JC_EINTEGRITY, "%s is %s %s, but the index said %s %s", f->files[0].relpath,
			    job->debs[0].name, job->debs[0].version, job->entry->package, f->version);
	if (rc == 0) {
		job->version = jc_strdup(f->version);
		jc_bld_logf(job, "carried over %s %s from %s", job->entry->package, f->version,
			    jc_repo_remote_location(f->remote));
	}
	return rc;
}

static int build_source(jc_builds *b, jc_bld_job *job, struct apt_found *f, jc_error *err)
{
	const char *dsc = strrchr(f->files[0].relpath, '/');
	char *tree = jc_path_join(job->work, "source"), *text = NULL;
	int rc = download(job, f, err);
	dsc = dsc ? dsc + 1 : f->files[0].relpath;
	if (rc == 0) {
		const char *argv[] = { "dpkg-source", "-x", dsc, "source", NULL };
		rc = jc_bld_run(b, job, argv, job->work, 600000, "dpkg-source -x", NULL, err);
	}
	if (rc == 0) {
		text = jc_sprintf("Rebuilt by jcicd from %s %s (%s, %s/%s).", job->entry->package, f->version,
				  jc_repo_remote_location(f->remote), job->entry->apt_suite, job->entry->apt_component);
		rc = jc_bld_build_tree(b, job, tree, text, err);
	}
	free(tree);
	free(text);
	return rc;
}

int jc_bld_apt_build(jc_builds *b, jc_bld_job *job, jc_error *err)
{
	struct apt_found *f;
	int rc = ensure_resolved(b, job, &f, err);
	if (rc == 0)
		jc_bld_logf(job, "%s %s %s from %s (suite %s, component %s)", is_binary(job) ? "binary" : "source",
			    job->entry->package, f->version, jc_repo_remote_location(f->remote), job->entry->apt_suite,
			    job->entry->apt_component);
	if (rc == 0)
		rc = is_binary(job) ? build_binary(b, job, f, err) : build_source(b, job, f, err);
	return rc;
}
