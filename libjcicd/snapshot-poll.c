/* snapshot-poll.c - one poll: look at every source with one conditional
 * request; when something changed, fetch what the pool lacks (verified
 * against Release and Packages), build the snapshot's indices, record
 * snapshot N+1 and publish it.
 *
 * Nothing is recorded unless every file verified; the database transaction
 * that allocates N commits only after every file it refers to is in the
 * pool (and flushed to disk), so an interruption at any point leaves at
 * most unreferenced pool files, which prune removes. */
#include "common.h"

#include <curl/curl.h>
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot-internal.h"

/* One package paragraph of a source index, rewritten for publishing. */
struct pkg {
	char *text;              /* the paragraph without its Filename line;
				  * the strings below live after its NUL */
	size_t filename_at;      /* where "Filename: ..." goes back in */
	char *name, *version, *arch;
	char sha256[JC_SHA256_HEX_SIZE];
	long long size;
	char *src_file;          /* Filename in the source */
	char *pool_path;         /* Filename in the snapshot */
	size_t source;           /* source index: earlier sources win */
	size_t seq;              /* order of appearance */
	size_t out;              /* output index it belongs to */
	bool dup;                /* shadowed by an earlier equal package */
	bool in_pool;            /* before this poll downloaded anything */
};

/* One (component, architecture) index of the snapshot. */
struct outidx {
	const char *component;
	const char *architecture;
	struct pkg **pkgs;
	size_t n, cap;
	jc_buf text, gz;         /* the Packages file and its gzip, until stored */
	char sha[JC_SHA256_HEX_SIZE], gz_sha[JC_SHA256_HEX_SIZE];
	long long size, gz_size;
	long count;
};

/* One index file a source's Release lists and the snapshot uses. */
struct srcidx {
	size_t out;
	char *path;              /* below dists/<suite>/, e.g. main/binary-amd64/Packages.gz */
	char sha256[JC_SHA256_HEX_SIZE];
	long long size;
	bool gz;
};

struct src {
	const jc_snapshot_source *cfg;
	const char *name;
	jc_repo_remote *remote;
	char fingerprint[JC_SHA256_HEX_SIZE];
	/* from the last successful poll */
	bool have_prev;
	char *prev_file, *prev_etag, *prev_lm, *prev_sha, *prev_signed_by;
	/* now */
	bool unchanged;
	char *release_file;      /* InRelease or Release */
	char release_sha[JC_SHA256_HEX_SIZE];   /* of the file as served */
	char *etag, *lm;
	char *signed_by;
	jc_repo_release *rel;
	struct srcidx *idx;
	size_t n_idx;
};

struct poll {
	jc_snapshots *s;
	struct src *srcs;
	size_t n_srcs;
	struct outidx *outs;
	size_t n_outs;
	struct pkg *pkgs;
	size_t n_pkgs, cap_pkgs;
	jc_strv components, architectures;
	/* the index being parsed */
	size_t cur_src, cur_out;
	const char *cur_name;
	jc_snapshot_poll_result *res;
};

static void src_clear(struct src *x)
{
	jc_repo_remote_free(x->remote);
	free(x->prev_file);
	free(x->prev_etag);
	free(x->prev_lm);
	free(x->prev_sha);
	free(x->prev_signed_by);
	free(x->release_file);
	free(x->etag);
	free(x->lm);
	free(x->signed_by);
	jc_repo_release_free(x->rel);
	for (size_t i = 0; i < x->n_idx; i++)
		free(x->idx[i].path);
	free(x->idx);
}

static void poll_clear(struct poll *p)
{
	for (size_t i = 0; i < p->n_srcs; i++)
		src_clear(&p->srcs[i]);
	free(p->srcs);
	for (size_t i = 0; i < p->n_outs; i++) {
		free(p->outs[i].pkgs);
		jc_buf_free(&p->outs[i].text);
		jc_buf_free(&p->outs[i].gz);
	}
	free(p->outs);
	for (size_t i = 0; i < p->n_pkgs; i++) {
		free(p->pkgs[i].text);   /* name, version, arch, src_file too */
		free(p->pkgs[i].pool_path);
	}
	free(p->pkgs);
	jc_strv_free(&p->components);
	jc_strv_free(&p->architectures);
}

/* ---- what the last poll saw */

static void fingerprint(struct src *x)
{
	jc_buf b = JC_BUF_INIT;
	const jc_snapshot_source *c = x->cfg;
	jc_buf_printf(&b, "url=%s\npath=%s\nsuite=%s\n", c->url ? c->url : "", c->path ? c->path : "", c->suite);
	for (size_t i = 0; i < c->n_components; i++)
		jc_buf_printf(&b, "component=%s\n", c->components[i]);
	for (size_t i = 0; i < c->n_architectures; i++)
		jc_buf_printf(&b, "architecture=%s\n", c->architectures[i]);
	if (c->keyring) {
		char *data = NULL;
		size_t len = 0;
		char sha[JC_SHA256_HEX_SIZE] = "unreadable";
		/* a changed keyring must make the next poll verify again */
		if (jc_file_read(c->keyring, &data, &len, NULL) == 0)
			jc_repo_sha256_buf(sha, data, len);
		free(data);
		jc_buf_printf(&b, "keyring=%s %s\n", c->keyring, sha);
	}
	jc_repo_sha256_buf(x->fingerprint, b.data, b.len);
	jc_buf_free(&b);
}

static int load_prev(struct poll *p, struct src *x, jc_error *err)
{
	sqlite3_stmt *st;
	int rc = jc_store_prepare(p->s->store, &st, "SELECT fingerprint, release_file, etag, last_modified,"
				  " release_sha256, signed_by FROM snapshot_source_state WHERE source = ?", err);
	if (rc < 0)
		return rc;
	jc_sql_bind_text(st, 1, x->name);
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *fp = (const char *)sqlite3_column_text(st, 0);
		x->prev_file = jc_sql_column_dup(st, 1);
		/* validators only count for the same source configuration */
		if (fp && strcmp(fp, x->fingerprint) == 0) {
			x->have_prev = true;
			x->prev_etag = jc_sql_column_dup(st, 2);
			x->prev_lm = jc_sql_column_dup(st, 3);
			x->prev_sha = jc_sql_column_dup(st, 4);
			x->prev_signed_by = jc_sql_column_dup(st, 5);
		}
	}
	sqlite3_finalize(st);
	return 0;
}

/* ---- the Release of a source */

static int check_valid_until(const jc_repo_release *rel, const char *where, jc_error *err)
{
	const char *vu = jc_repo_release_field(rel, "Valid-Until");
	if (vu) {
		time_t t = curl_getdate(vu, NULL);
		if (t > 0 && (int64_t)t < jc_snap_now())
			return jc_err_http(err, JC_EINTEGRITY, where, 0, NULL, "%s expired at %s (Valid-Until)", where, vu);
	}
	return 0;
}

/* Verifies and parses a Release file as served (raw). */
static int accept_release(struct poll *p, struct src *x, const char *file, const char *raw, size_t len,
			  jc_error *err)
{
	char *plain = NULL, *where = NULL, *rel_path = NULL;
	size_t plain_len = 0;
	int rc = 0;

	rel_path = jc_sprintf("dists/%s/%s", x->cfg->suite, file);
	where = jc_repo_remote_where(x->remote, rel_path);
	free(x->signed_by);
	x->signed_by = NULL;
	if (strcmp(file, "InRelease") == 0) {
		if (x->cfg->keyring)
			rc = jc_repo_verify(&plain, &plain_len, &x->signed_by, raw, len, NULL, 0, x->cfg->keyring,
					    p->s->gpg_dir, where, err);
		else
			rc = jc_repo_clearsign_strip(&plain, &plain_len, raw, len, where, err);
	} else if (x->cfg->keyring) {
		jc_repo_get sig;
		char *sig_path = jc_sprintf("dists/%s/Release.gpg", x->cfg->suite);
		rc = jc_repo_remote_get(x->remote, sig_path, NULL, NULL, &sig, err);
		if (rc == 0 && sig.status == 404)
			rc = jc_err_http(err, JC_EINTEGRITY, where, 0, NULL, "%s has no Release.gpg (and no InRelease), "
					 "but source %s has a keyring: refusing an unsigned repository", where, x->name);
		if (rc == 0 && sig.status != 200)
			rc = jc_err_http(err, JC_EINTEGRITY, where, sig.status, NULL, "unexpected answer for Release.gpg");
		if (rc == 0)
			rc = jc_repo_verify(&plain, &plain_len, &x->signed_by, raw, len, sig.body, sig.len,
					    x->cfg->keyring, p->s->gpg_dir, where, err);
		jc_repo_get_clear(&sig);
		free(sig_path);
	} else {
		plain = jc_strndup(raw, len);
		plain_len = len;
	}
	if (rc == 0) {
		jc_repo_release_free(x->rel);
		x->rel = NULL;
		rc = jc_repo_source_error(jc_repo_release_parse(&x->rel, plain, plain_len, where, err), err);
	}
	if (rc == 0)
		rc = check_valid_until(x->rel, where, err);
	if (rc == 0) {
		char sha[JC_SHA256_HEX_SIZE];
		/* kept so a later poll that hears "unchanged" can read it */
		rc = jc_pool_put(p->s->pool, raw, len, sha, err);
		jc_strlcpy(x->release_sha, sha, sizeof(x->release_sha));
		free(x->release_file);
		x->release_file = jc_strdup(file);
	}
	free(plain);
	free(where);
	free(rel_path);
	return rc;
}

/* The conditional request: InRelease or Release, whichever the source
 * served last time first, the other one on 404. */
static int check_release(struct poll *p, struct src *x, jc_error *err)
{
	const char *order[2];
	bool conditional = x->have_prev && x->prev_sha && jc_pool_has(p->s->pool, x->prev_sha);
	int rc;

	if (x->prev_file && strcmp(x->prev_file, "Release") == 0) {
		order[0] = "Release";
		order[1] = "InRelease";
	} else {
		order[0] = "InRelease";
		order[1] = "Release";
	}
	for (int i = 0; i < 2; i++) {
		jc_repo_get g;
		char *path = jc_sprintf("dists/%s/%s", x->cfg->suite, order[i]);
		bool cond = conditional && i == 0 && x->prev_file && strcmp(x->prev_file, order[i]) == 0;
		rc = jc_repo_remote_get(x->remote, path, cond ? x->prev_etag : NULL, cond ? x->prev_lm : NULL, &g, err);
		free(path);
		if (rc < 0) {
			jc_err_prefix(err, "source %s", x->name);
			return rc;
		}
		if (g.status == 404) {
			jc_repo_get_clear(&g);
			continue;
		}
		free(x->etag);
		free(x->lm);
		x->etag = g.etag;
		x->lm = g.last_modified;
		g.etag = g.last_modified = NULL;
		if (g.status == 304) {
			x->unchanged = true;
			x->release_file = jc_strdup(order[i]);
			jc_strlcpy(x->release_sha, x->prev_sha, sizeof(x->release_sha));
			/* a 304 carries no new validators: keep the old ones */
			if (!x->etag)
				x->etag = jc_strdup(x->prev_etag);
			if (!x->lm)
				x->lm = jc_strdup(x->prev_lm);
			jc_repo_get_clear(&g);
			return 0;
		}
		char sha[JC_SHA256_HEX_SIZE];
		jc_repo_sha256_buf(sha, g.body, g.len);
		if (conditional && strcmp(sha, x->prev_sha) == 0) {
			/* a server without validators: the bytes say unchanged */
			x->unchanged = true;
			x->release_file = jc_strdup(order[i]);
			jc_strlcpy(x->release_sha, sha, sizeof(x->release_sha));
			jc_repo_get_clear(&g);
			return 0;
		}
		rc = accept_release(p, x, order[i], g.body, g.len, err);
		jc_repo_get_clear(&g);
		if (rc < 0)
			jc_err_prefix(err, "source %s", x->name);
		else
			jc_log(p->s->o.logger, JC_LOG_INFO, "snapshot", "source %s: %s changed%s%s", x->name,
			       order[i], x->signed_by ? ", signed by " : "", x->signed_by ? x->signed_by : "");
		return rc;
	}
	return jc_err_http(err, JC_ENOTFOUND, jc_repo_remote_location(x->remote), 404, NULL,
			   "source %s: neither dists/%s/InRelease nor dists/%s/Release exists at %s", x->name,
			   x->cfg->suite, x->cfg->suite, jc_repo_remote_location(x->remote));
}

/* The Release of an unchanged source, from the pool. */
static int reload_release(struct poll *p, struct src *x, jc_error *err)
{
	char *path = jc_pool_path(p->s->pool, x->release_sha), *raw = NULL, *plain = NULL;
	size_t len = 0, plain_len = 0;
	int rc = jc_file_read(path, &raw, &len, err);
	if (rc == 0 && strcmp(x->release_file, "InRelease") == 0)
		rc = jc_repo_clearsign_strip(&plain, &plain_len, raw, len, path, err);
	else if (rc == 0) {
		plain = raw;
		plain_len = len;
		raw = NULL;
	}
	if (rc == 0)
		rc = jc_repo_release_parse(&x->rel, plain, plain_len, path, err);
	if (rc == 0 && !x->signed_by && x->prev_signed_by)
		x->signed_by = jc_strdup(x->prev_signed_by);
	free(raw);
	free(plain);
	free(path);
	return rc;
}

/* ---- indices */

static size_t out_index(struct poll *p, const char *comp, const char *arch)
{
	for (size_t i = 0; i < p->n_outs; i++)
		if (strcmp(p->outs[i].component, comp) == 0 && strcmp(p->outs[i].architecture, arch) == 0)
			return i;
	p->outs = jc_realloc(p->outs, (p->n_outs + 1) * sizeof(*p->outs));
	memset(&p->outs[p->n_outs], 0, sizeof(*p->outs));
	p->outs[p->n_outs].component = comp;
	p->outs[p->n_outs].architecture = arch;
	if (!jc_strv_contains(&p->components, comp))
		jc_strv_push(&p->components, comp);
	if (!jc_strv_contains(&p->architectures, arch))
		jc_strv_push(&p->architectures, arch);
	return p->n_outs++;
}

static int choose_indices(struct poll *p, struct src *x, jc_error *err)
{
	const jc_snapshot_source *c = x->cfg;
	x->idx = jc_calloc(c->n_components * c->n_architectures + 1, sizeof(*x->idx));
	for (size_t ci = 0; ci < c->n_components; ci++) {
		for (size_t ai = 0; ai < c->n_architectures; ai++) {
			char *base = jc_sprintf("%s/binary-%s/Packages", c->components[ci], c->architectures[ai]);
			char *gz = jc_sprintf("%s.gz", base);
			const jc_repo_release_file *f = jc_repo_release_lookup(x->rel, gz);
			struct srcidx *si = &x->idx[x->n_idx];
			bool is_gz = f != NULL;
			if (!f)
				f = jc_repo_release_lookup(x->rel, base);
			if (!f) {
				char *xz = jc_sprintf("%s.xz", base);
				bool only_xz = jc_repo_release_lookup(x->rel, xz) != NULL;
				int rc = jc_err_http(err, JC_ENOTFOUND, jc_repo_remote_location(x->remote), 0, NULL,
						     "source %s: its Release lists no %s or %s%s", x->name, gz, base,
						     only_xz ? " (only .xz, which jcicd does not read)" : "");
				free(xz);
				free(base);
				free(gz);
				return rc;
			}
			si->out = out_index(p, c->components[ci], c->architectures[ai]);
			si->path = jc_strdup(f->path);
			jc_strlcpy(si->sha256, f->sha256, sizeof(si->sha256));
			si->size = f->size;
			si->gz = is_gz;
			x->n_idx++;
			free(base);
			free(gz);
		}
	}
	return 0;
}

/* True when every source index equals what snapshot `prev` was made from. */
static int same_as_prev(struct poll *p, long prev, bool *same, jc_error *err)
{
	sqlite3_stmt *st;
	size_t total = 0, matched = 0;
	int rc;
	*same = false;
	if (!prev)
		return 0;
	rc = jc_store_prepare(p->s->store, &st, "SELECT source, path, sha256 FROM snapshot_source_indices"
			      " WHERE number = ?", err);
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(st, 1, prev);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *path = (const char *)sqlite3_column_text(st, 1);
		const char *sha = (const char *)sqlite3_column_text(st, 2);
		total++;
		for (size_t i = 0; i < p->n_srcs; i++) {
			if (strcmp(p->srcs[i].name, name) != 0)
				continue;
			for (size_t k = 0; k < p->srcs[i].n_idx; k++)
				if (strcmp(p->srcs[i].idx[k].path, path) == 0 && strcmp(p->srcs[i].idx[k].sha256, sha) == 0)
					matched++;
		}
	}
	sqlite3_finalize(st);
	size_t now = 0;
	for (size_t i = 0; i < p->n_srcs; i++)
		now += p->srcs[i].n_idx;
	*same = total == now && matched == now;
	return 0;
}

static int fetch_indices(struct poll *p, jc_error *err)
{
	for (size_t i = 0; i < p->n_srcs; i++) {
		struct src *x = &p->srcs[i];
		bool by_hash = jc_repo_release_field(x->rel, "Acquire-By-Hash") &&
			       strcmp(jc_repo_release_field(x->rel, "Acquire-By-Hash"), "yes") == 0;
		jc_repo_download *d = jc_calloc(x->n_idx + 1, sizeof(*d));
		jc_strv owned = JC_STRV_INIT;
		size_t n = 0;
		int rc = 0;
		for (size_t k = 0; k < x->n_idx; k++) {
			struct srcidx *si = &x->idx[k];
			bool dup = false;
			if (jc_pool_has(p->s->pool, si->sha256))
				continue;
			for (size_t j = 0; j < n; j++)
				dup = dup || strcmp(d[j].sha256, si->sha256) == 0;
			if (dup)
				continue;
			if (by_hash) {
				/* by hash, the index cannot change under us between
				 * the Release and the index request */
				char *dir = jc_strdup(si->path), *slash = strrchr(dir, '/');
				if (slash)
					*slash = '\0';
				jc_strv_push_owned(&owned, jc_sprintf("dists/%s/%s/by-hash/SHA256/%s", x->cfg->suite, dir,
								      si->sha256));
				free(dir);
			} else {
				jc_strv_push_owned(&owned, jc_sprintf("dists/%s/%s", x->cfg->suite, si->path));
			}
			d[n].relpath = owned.v[owned.n - 1];
			d[n].sha256 = si->sha256;
			d[n].size = si->size;
			jc_strv_push_owned(&owned, jc_pool_temp_name(p->s->pool, "index"));
			d[n].dest = owned.v[owned.n - 1];
			n++;
		}
		if (n) {
			rc = jc_repo_remote_download(x->remote, d, n, err);
			if (rc < 0 && by_hash) {
				/* a server that says by-hash but lacks the file: the
				 * canonical path, still checked against the hash */
				bool retry = false;
				for (size_t k = 0; k < n; k++) {
					if (d[k].rc < 0 && d[k].err.http_status == 404) {
						for (size_t j = 0; j < x->n_idx; j++)
							if (strcmp(x->idx[j].sha256, d[k].sha256) == 0) {
								jc_strv_push_owned(&owned, jc_sprintf("dists/%s/%s", x->cfg->suite,
												      x->idx[j].path));
								d[k].relpath = owned.v[owned.n - 1];
							}
						retry = true;
					}
				}
				if (retry)
					rc = jc_repo_remote_download(x->remote, d, n, err);
			}
			for (size_t k = 0; rc == 0 && k < n; k++)
				rc = jc_pool_adopt(p->s->pool, d[k].dest, d[k].sha256, err);
			p->res->indices_fetched += (long)n;
		}
		free(d);
		jc_strv_free(&owned);
		if (rc < 0) {
			jc_err_prefix(err, "source %s", x->name);
			return rc;
		}
	}
	return 0;
}

/* ---- packages */

static bool name_ok(const char *s)
{
	if (!s || !(islower((unsigned char)*s) || isdigit((unsigned char)*s)))
		return false;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || strchr("+.-", *s)))
			return false;
	return true;
}

static bool version_ok(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || strchr(".+~:-", *s)))
			return false;
	return true;
}

static bool arch_ok(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '-'))
			return false;
	return true;
}

static int bad_para(struct poll *p, const jc_deb822_para *para, jc_error *err, const char *why, const char *what)
{
	return jc_err_at(err, JC_EINTEGRITY, p->cur_name, jc_deb822_line(para), 1, "%s%s%s", why,
			 what ? ": " : "", what ? what : "");
}

static int on_package(const jc_deb822_para *para, jc_error *err, void *payload)
{
	struct poll *p = payload;
	const char *name = jc_deb822_get(para, "Package");
	const char *version = jc_deb822_get(para, "Version");
	const char *arch = jc_deb822_get(para, "Architecture");
	const char *file = jc_deb822_get(para, "Filename");
	const char *sha = jc_deb822_get(para, "SHA256");
	const char *size = jc_deb822_get(para, "Size");
	const char *want = p->outs[p->cur_out].architecture;
	struct pkg *k;
	char *end;
	long long sz;

	if (!name_ok(name))
		return bad_para(p, para, err, "missing or invalid Package name", name);
	if (!version_ok(version))
		return bad_para(p, para, err, "missing or invalid Version of", name);
	if (!arch_ok(arch) || (strcmp(arch, want) != 0 && strcmp(arch, "all") != 0))
		return bad_para(p, para, err, "Architecture does not belong in this index, for", name);
	if (!file || !jc_repo_relpath_ok(file))
		return bad_para(p, para, err, "missing or unsafe Filename of", name);
	if (!sha || !jc_repo_is_sha256(sha))
		return bad_para(p, para, err, "missing SHA256 (MD5 and SHA1 alone are not trusted) of", name);
	sz = size ? strtoll(size, &end, 10) : -1;
	if (!size || *end || sz < 0)
		return bad_para(p, para, err, "missing or invalid Size of", name);

	if (p->n_pkgs == p->cap_pkgs) {
		p->cap_pkgs = p->cap_pkgs ? p->cap_pkgs * 2 : 1024;
		p->pkgs = jc_realloc(p->pkgs, p->cap_pkgs * sizeof(*p->pkgs));
	}
	k = &p->pkgs[p->n_pkgs];
	memset(k, 0, sizeof(*k));
	/* one block per package, of exactly its size: the text, then the
	 * strings the poll keeps (10,000 packages are 10,000 allocations, not
	 * 50,000, and no page is touched twice) */
	size_t need = 1, ln = strlen(name) + 1, lv = strlen(version) + 1, la = strlen(arch) + 1,
	       lf = strlen(file) + 1, n_fields = jc_deb822_field_count(para);
	for (size_t i = 0; i < n_fields; i++)
		need += strlen(jc_deb822_field_name(para, i)) + strlen(jc_deb822_field_value(para, i)) + 3;
	char *block = jc_malloc(need + ln + lv + la + lf), *w = block;
	for (size_t i = 0; i < n_fields; i++) {
		const char *fn = jc_deb822_field_name(para, i), *fv = jc_deb822_field_value(para, i);
		size_t lfn = strlen(fn), lfv = strlen(fv);
		if (lfn == 8 && strcasecmp(fn, "Filename") == 0) {
			k->filename_at = (size_t)(w - block);
			continue;
		}
		memcpy(w, fn, lfn);
		w += lfn;
		*w++ = ':';
		if (*fv && *fv != '\n')
			*w++ = ' ';
		memcpy(w, fv, lfv);
		w += lfv;
		*w++ = '\n';
	}
	*w++ = '\0';
	k->text = block;
	k->name = memcpy(w, name, ln);
	k->version = memcpy(k->name + ln, version, lv);
	k->arch = memcpy(k->version + lv, arch, la);
	k->src_file = memcpy(k->arch + la, file, lf);
	jc_strlcpy(k->sha256, sha, sizeof(k->sha256));
	k->size = sz;
	k->source = p->cur_src;
	k->seq = p->n_pkgs;
	k->out = p->cur_out;
	p->n_pkgs++;
	return 0;
}

static int feed(const char *data, size_t len, jc_error *err, void *payload)
{
	return jc_deb822_parser_feed(payload, data, len, err);
}

static int parse_indices(struct poll *p, jc_error *err)
{
	for (size_t i = 0; i < p->n_srcs; i++) {
		struct src *x = &p->srcs[i];
		for (size_t k = 0; k < x->n_idx; k++) {
			struct srcidx *si = &x->idx[k];
			char *path = jc_pool_path(p->s->pool, si->sha256);
			char *rel = jc_sprintf("dists/%s/%s", x->cfg->suite, si->path);
			char *name = jc_repo_remote_where(x->remote, rel);
			jc_deb822_parser *dp;
			int rc;
			p->cur_src = i;
			p->cur_out = si->out;
			p->cur_name = name;
			rc = jc_deb822_parser_new(&dp, name, on_package, p, err);
			if (rc == 0)
				rc = jc_file_stream(path, si->gz, feed, dp, err);
			if (rc == 0)
				rc = jc_deb822_parser_finish(dp, err);
			jc_deb822_parser_free(dp);
			free(path);
			free(rel);
			free(name);
			if (rc < 0) {
				jc_err_prefix(err, "source %s", x->name);
				return jc_repo_source_error(rc, err);
			}
		}
	}
	return 0;
}

static int cmp_pkg(const void *a, const void *b)
{
	const struct pkg *x = *(const struct pkg *const *)a, *y = *(const struct pkg *const *)b;
	int c = strcmp(x->name, y->name);
	if (c == 0)
		c = strcmp(x->arch, y->arch);
	if (c == 0)
		c = jc_repo_version_compare(x->version, y->version);
	if (c == 0)
		c = x->source < y->source ? -1 : x->source > y->source;
	if (c == 0)
		c = x->seq < y->seq ? -1 : x->seq > y->seq;
	return c;
}

static int cmp_pool_path(const void *a, const void *b)
{
	const struct pkg *x = *(const struct pkg *const *)a, *y = *(const struct pkg *const *)b;
	int c = strcmp(x->pool_path, y->pool_path);
	if (c == 0)
		c = strcmp(x->sha256, y->sha256);
	if (c == 0)
		c = x->seq < y->seq ? -1 : x->seq > y->seq;
	return c;
}

/* pool/<component>/<p>/<name>_<version without epoch>_<arch>.<ext>, where
 * <p> is Debian's pool prefix ("libf" for libfoo, "f" for foo). */
static char *pool_path(const char *comp, const struct pkg *k, const char *subdir)
{
	const char *v = strchr(k->version, ':') ? strchr(k->version, ':') + 1 : k->version;
	const char *base = strrchr(k->src_file, '/') ? strrchr(k->src_file, '/') + 1 : k->src_file;
	const char *dot = strrchr(base, '.');
	char ext[12] = "deb";
	char prefix[5];
	if (dot && strlen(dot + 1) > 0 && strlen(dot + 1) < sizeof(ext)) {
		bool ok = true;
		for (const char *c = dot + 1; *c; c++)
			ok = ok && isalnum((unsigned char)*c);
		if (ok)
			snprintf(ext, sizeof(ext), "%s", dot + 1);
	}
	if (jc_str_starts(k->name, "lib") && strlen(k->name) > 3)
		snprintf(prefix, sizeof(prefix), "%.4s", k->name);
	else
		snprintf(prefix, sizeof(prefix), "%.1s", k->name);
	if (subdir)
		return jc_sprintf("pool/%s/%s/%s/%s_%s_%s.%s", comp, prefix, subdir, k->name, v, k->arch, ext);
	return jc_sprintf("pool/%s/%s/%s_%s_%s.%s", comp, prefix, k->name, v, k->arch, ext);
}

/* Sorts each output index, drops shadowed duplicates, names pool files. */
static int arrange(struct poll *p, jc_error *err)
{
	struct pkg **all;
	size_t n_all = 0;
	(void)err;
	for (size_t i = 0; i < p->n_pkgs; i++) {
		struct outidx *o = &p->outs[p->pkgs[i].out];
		if (o->n == o->cap) {
			o->cap = o->cap ? o->cap * 2 : 256;
			o->pkgs = jc_realloc(o->pkgs, o->cap * sizeof(*o->pkgs));
		}
		o->pkgs[o->n++] = &p->pkgs[i];
	}
	all = jc_calloc(p->n_pkgs + 1, sizeof(*all));
	for (size_t i = 0; i < p->n_outs; i++) {
		struct outidx *o = &p->outs[i];
		size_t kept = 0;
		qsort(o->pkgs, o->n, sizeof(*o->pkgs), cmp_pkg);
		for (size_t k = 0; k < o->n; k++) {
			struct pkg *cur = o->pkgs[k];
			if (kept) {
				struct pkg *last = o->pkgs[kept - 1];
				if (strcmp(last->name, cur->name) == 0 && strcmp(last->arch, cur->arch) == 0 &&
				    strcmp(last->version, cur->version) == 0) {
					if (strcmp(last->sha256, cur->sha256) != 0)
						jc_log(p->s->o.logger, JC_LOG_WARN, "snapshot",
						       "%s %s (%s) comes from two sources with different content; "
						       "keeping the one from source %s", cur->name, cur->version, cur->arch,
						       p->srcs[last->source].name);
					cur->dup = true;
					continue;
				}
			}
			o->pkgs[kept++] = cur;
			cur->pool_path = pool_path(o->component, cur, NULL);
			all[n_all++] = cur;
		}
		o->n = kept;
	}
	/* two different files under one name (equal name, version and
	 * architecture from different sources in different components, or a
	 * version differing only in its epoch): the later ones move to a
	 * subdirectory named by their hash */
	qsort(all, n_all, sizeof(*all), cmp_pool_path);
	for (size_t i = 1; i < n_all; i++) {
		struct pkg *a = all[i - 1], *b = all[i];
		if (strcmp(a->pool_path, b->pool_path) == 0 && strcmp(a->sha256, b->sha256) != 0) {
			char sub[17];
			const char *comp = p->outs[b->out].component;
			snprintf(sub, sizeof(sub), "%.16s", b->sha256);
			free(b->pool_path);
			b->pool_path = pool_path(comp, b, sub);
		}
	}
	/* the same file listed under two names keeps one name everywhere (two
	 * architectures' indices listing one Architecture: all package) */
	free(all);
	return 0;
}

static int cmp_sha(const void *a, const void *b)
{
	return strcmp((*(const struct pkg *const *)a)->sha256, (*(const struct pkg *const *)b)->sha256);
}

static int cmp_sha64(const void *a, const void *b)
{
	return memcmp(*(const char *const *)a, *(const char *const *)b, 64);
}

/* The SHA256 of every package the previous snapshot lists, from its
 * Packages files in the pool (mapped, not parsed: a scan for the field).
 * The newest snapshot is never pruned, so its files are in the pool. */
struct prev_shas {
	const char **v;
	size_t n, cap;
	void **maps;
	size_t *map_len;
	size_t n_maps;
};

static void prev_shas_free(struct prev_shas *ps)
{
	for (size_t i = 0; i < ps->n_maps; i++)
		munmap(ps->maps[i], ps->map_len[i]);
	free(ps->maps);
	free(ps->map_len);
	free(ps->v);
}

static void prev_shas_load(struct poll *p, struct prev_shas *ps)
{
	jc_snap_index *idx = NULL;
	size_t n = 0;
	memset(ps, 0, sizeof(*ps));
	if (!p->res->previous || jc_snap_indices(p->s, p->res->previous, &idx, &n, NULL) < 0)
		return;
	ps->maps = jc_calloc(n + 1, sizeof(*ps->maps));
	ps->map_len = jc_calloc(n + 1, sizeof(*ps->map_len));
	for (size_t i = 0; i < n; i++) {
		char *path = jc_pool_path(p->s->pool, idx[i].packages_sha256);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		struct stat sb;
		void *m = MAP_FAILED;
		free(path);
		if (fd < 0)
			continue;
		if (fstat(fd, &sb) == 0 && sb.st_size > 0)
			m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		close(fd);
		if (m == MAP_FAILED)
			continue;
		ps->maps[ps->n_maps] = m;
		ps->map_len[ps->n_maps++] = (size_t)sb.st_size;
		const char *c = m, *end = c + sb.st_size;
		/* "SHA256: " at the start of a line: a continuation line starts
		 * with a space, so no description can pass for one */
		for (const char *f = c; f && end - f >= 8 + 64 + 1;) {
			if ((f == c || f[-1] == '\n') && memcmp(f, "SHA256: ", 8) == 0 && f[8 + 64] == '\n') {
				bool hex = true;
				for (int k = 8; k < 8 + 64 && hex; k++)
					hex = (f[k] >= '0' && f[k] <= '9') || (f[k] >= 'a' && f[k] <= 'f');
				if (hex) {
					if (ps->n == ps->cap) {
						ps->cap = ps->cap ? ps->cap * 2 : 4096;
						ps->v = jc_realloc(ps->v, ps->cap * sizeof(*ps->v));
					}
					ps->v[ps->n++] = f + 8;
				}
			}
			f = memchr(f, '\n', (size_t)(end - f));
			f = f ? f + 1 : NULL;
		}
	}
	jc_snap_indices_free(idx, n);
	qsort(ps->v, ps->n, sizeof(*ps->v), cmp_sha64);
}

/* What the pool has already, which both the downloads and the linking
 * ahead go by: what the previous snapshot lists is there; the rest, one
 * lookup each. */
static void scan_pool(struct poll *p)
{
	struct prev_shas ps;
	prev_shas_load(p, &ps);
	for (size_t o = 0; o < p->n_outs; o++)
		for (size_t k = 0; k < p->outs[o].n; k++) {
			struct pkg *pk = p->outs[o].pkgs[k];
			const char *key = pk->sha256;
			pk->in_pool = (ps.n && bsearch(&key, ps.v, ps.n, sizeof(*ps.v), cmp_sha64)) ||
				      jc_pool_has(p->s->pool, pk->sha256);
		}
	prev_shas_free(&ps);
}

static int fetch_debs(struct poll *p, jc_error *err)
{
	for (size_t si = 0; si < p->n_srcs; si++) {
		struct src *x = &p->srcs[si];
		struct pkg **want = NULL;
		jc_repo_download *d = NULL;
		jc_strv owned = JC_STRV_INIT;
		size_t n_want = 0, n = 0;
		int rc = 0;
		for (size_t o = 0; o < p->n_outs; o++) {
			for (size_t k = 0; k < p->outs[o].n; k++) {
				struct pkg *pk = p->outs[o].pkgs[k];
				if (pk->source != si)
					continue;
				if (pk->in_pool) {
					p->res->debs_reused++;
					continue;
				}
				want = jc_realloc(want, (n_want + 1) * sizeof(*want));
				want[n_want++] = pk;
			}
		}
		/* one download per file, however many indices list it */
		qsort(want, n_want, sizeof(*want), cmp_sha);
		d = jc_calloc(n_want + 1, sizeof(*d));
		for (size_t k = 0; k < n_want; k++) {
			if (k && strcmp(want[k - 1]->sha256, want[k]->sha256) == 0)
				continue;
			d[n].relpath = want[k]->src_file;
			d[n].sha256 = want[k]->sha256;
			d[n].size = want[k]->size;
			jc_strv_push_owned(&owned, jc_pool_temp_name(p->s->pool, want[k]->name));
			d[n].dest = owned.v[owned.n - 1];
			n++;
		}
		if (n) {
			jc_log(p->s->o.logger, JC_LOG_INFO, "snapshot", "source %s: fetching %zu package%s", x->name, n,
			       n == 1 ? "" : "s");
			rc = jc_repo_remote_download(x->remote, d, n, err);
			/* keep what verified even when something failed: the next
			 * poll need not fetch it again */
			for (size_t k = 0; k < n; k++) {
				if (d[k].rc == 0) {
					int arc = jc_pool_adopt(p->s->pool, d[k].dest, d[k].sha256, rc < 0 ? NULL : err);
					if (arc < 0 && rc == 0)
						rc = arc;
				}
			}
			if (rc == 0)
				p->res->debs_fetched += (long)n;
		}
		free(want);
		free(d);
		jc_strv_free(&owned);
		if (rc < 0) {
			jc_err_prefix(err, "source %s", x->name);
			return rc;
		}
	}
	return 0;
}

/* Builds each index's Packages text, its gzip and both hashes: CPU work
 * that needs only the sorted list, so it runs in a second thread while the
 * packages download. */
struct builder {
	struct poll *p;
	pthread_t thread;
	bool started;
	int rc;
	jc_error err;
};

static int store_index(struct poll *p, struct outidx *o, jc_error *err)
{
	int rc = jc_pool_put_hashed(p->s->pool, o->text.data ? o->text.data : "", o->text.len, o->sha, err);
	if (rc == 0)
		rc = jc_pool_put_hashed(p->s->pool, o->gz.data, o->gz.len, o->gz_sha, err);
	jc_buf_free(&o->text);
	jc_buf_free(&o->gz);
	return rc;
}

static void *build_texts(void *arg)
{
	struct builder *b = arg;
	struct poll *p = b->p;
	for (size_t i = 0; i < p->n_outs && b->rc == 0; i++) {
		struct outidx *o = &p->outs[i];
		size_t need = 1;
		for (size_t k = 0; k < o->n; k++)
			need += strlen(o->pkgs[k]->text) + strlen(o->pkgs[k]->pool_path) + 12;
		jc_buf_grow(&o->text, need);
		for (size_t k = 0; k < o->n; k++) {
			struct pkg *pk = o->pkgs[k];
			jc_buf_add(&o->text, pk->text, pk->filename_at);
			jc_buf_puts(&o->text, "Filename: ");
			jc_buf_puts(&o->text, pk->pool_path);
			jc_buf_putc(&o->text, '\n');
			jc_buf_puts(&o->text, pk->text + pk->filename_at);
			jc_buf_putc(&o->text, '\n');
		}
		o->count = (long)o->n;
		o->size = (long long)o->text.len;
		jc_repo_sha256_buf(o->sha, o->text.data ? o->text.data : "", o->text.len);
		b->rc = jc_gzip_compress(&o->gz, o->text.data ? o->text.data : "", o->text.len, p->s->o.gzip_level,
					 &b->err);
		if (b->rc == 0) {
			o->gz_size = (long long)o->gz.len;
			jc_repo_sha256_buf(o->gz_sha, o->gz.data, o->gz.len);
			/* into the pool too: nothing refers to it until recorded */
			b->rc = store_index(p, o, &b->err);
		}
	}
	return NULL;
}

static void builder_start(struct builder *b, struct poll *p)
{
	memset(b, 0, sizeof(*b));
	b->p = p;
	if (pthread_create(&b->thread, NULL, build_texts, b) == 0)
		b->started = true;
}

/* Waits for the builder (or does its work here when no thread could be
 * started). */
static int builder_finish(struct builder *b, jc_error *err)
{
	if (b->started)
		pthread_join(b->thread, NULL);
	else
		build_texts(b);
	if (b->rc < 0) {
		jc_err_copy(err, &b->err);
		return b->rc;
	}
	return 0;
}

/* Links what the pool has into the snapshot's tree-to-be while the rest
 * downloads (jc_snap_prelink). */
struct prelinker {
	jc_snapshots *s;
	char *dir;
	jc_snap_file *files;
	size_t n;
	pthread_t thread;
	bool started;
	int rc;
	jc_error err;
};

static void *prelink(void *arg)
{
	struct prelinker *l = arg;
	l->rc = jc_snap_prelink(l->s, l->dir, l->files, l->n, &l->err);
	return NULL;
}

static void prelinker_start(struct prelinker *l, struct poll *p)
{
	memset(l, 0, sizeof(*l));
	l->s = p->s;
	l->files = jc_calloc(p->n_pkgs + 1, sizeof(*l->files));
	for (size_t i = 0; i < p->n_outs; i++)
		for (size_t k = 0; k < p->outs[i].n; k++) {
			l->files[l->n].path = p->outs[i].pkgs[k]->pool_path;
			l->files[l->n].in_pool = p->outs[i].pkgs[k]->in_pool;
			l->files[l->n++].sha256 = p->outs[i].pkgs[k]->sha256;
		}
	l->dir = jc_snap_prelink_dir(p->s);
	if (pthread_create(&l->thread, NULL, prelink, l) == 0)
		l->started = true;
}

/* A tree that could not be begun is no failure: publishing builds it
 * whole, and reports what is wrong if it is more than a hiccup. */
static const char *prelinker_finish(struct prelinker *l)
{
	if (!l->started)
		return NULL;
	pthread_join(l->thread, NULL);
	l->started = false;
	if (l->rc == 0)
		return l->dir;
	jc_log(l->s->o.logger, JC_LOG_DEBUG, "snapshot", "linking ahead failed (%s); linking after recording",
	       l->err.message);
	for (size_t i = 0; i < l->n; i++)
		l->files[i].placed = false;
	return NULL;
}

static void prelinker_free(struct prelinker *l)
{
	if (l->started)
		pthread_join(l->thread, NULL);
	if (l->dir)
		jc_rm_rf(l->dir, NULL);   /* gone already when publishing took it */
	free(l->dir);
	free(l->files);
}

/* ---- recording */

static int step(jc_snapshots *s, sqlite3_stmt *st, const char *what, jc_error *err)
{
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : jc_store_error(s->store, err, what);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

static int save_source_states(struct poll *p, jc_error *err)
{
	sqlite3_stmt *st;
	int64_t now = jc_snap_now();
	int rc = jc_store_prepare(p->s->store, &st,
				  "INSERT INTO snapshot_source_state(source, fingerprint, release_file, etag, last_modified,"
				  " release_sha256, signed_by, checked_at, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
				  " ON CONFLICT(source) DO UPDATE SET fingerprint = excluded.fingerprint,"
				  " release_file = excluded.release_file, etag = excluded.etag,"
				  " last_modified = excluded.last_modified, release_sha256 = excluded.release_sha256,"
				  " signed_by = excluded.signed_by, checked_at = excluded.checked_at,"
				  " changed_at = coalesce(excluded.changed_at, snapshot_source_state.changed_at)", err);
	for (size_t i = 0; rc == 0 && i < p->n_srcs; i++) {
		struct src *x = &p->srcs[i];
		jc_sql_bind_text(st, 1, x->name);
		jc_sql_bind_text(st, 2, x->fingerprint);
		jc_sql_bind_text(st, 3, x->release_file);
		jc_sql_bind_text(st, 4, x->etag);
		jc_sql_bind_text(st, 5, x->lm);
		jc_sql_bind_text(st, 6, x->release_sha);
		jc_sql_bind_text(st, 7, x->signed_by ? x->signed_by : x->unchanged ? x->prev_signed_by : NULL);
		sqlite3_bind_int64(st, 8, now);
		if (x->unchanged)
			sqlite3_bind_null(st, 9);
		else
			sqlite3_bind_int64(st, 9, now);
		rc = step(p->s, st, "saving a source's state", err);
	}
	if (st)
		sqlite3_finalize(st);
	return rc;
}

static char *joined(const jc_strv *v)
{
	jc_buf b = JC_BUF_INIT;
	for (size_t i = 0; i < v->n; i++)
		jc_buf_printf(&b, "%s%s", i ? " " : "", v->v[i]);
	if (!b.data)
		jc_buf_grow(&b, 1);
	return jc_buf_detach(&b);
}

static int record(struct poll *p, long *number, jc_error *err)
{
	jc_snapshots *s = p->s;
	sqlite3_stmt *st = NULL;
	long n = 0, n_packages = 0;
	long long size = 0;
	int64_t now = jc_snap_now();
	char *comps = joined(&p->components), *archs = joined(&p->architectures);
	int rc;

	for (size_t i = 0; i < p->n_outs; i++)
		for (size_t k = 0; k < p->outs[i].n; k++) {
			n_packages++;
			size += p->outs[i].pkgs[k]->size;
		}
	rc = jc_store_begin(s->store, true, err);
	if (rc < 0)
		goto out;
	rc = jc_store_exec(s->store, "UPDATE snapshot_counter SET last_number = last_number + 1 WHERE id = 1",
			   err);
	if (rc == 0)
		rc = jc_store_prepare(s->store, &st, "SELECT last_number FROM snapshot_counter WHERE id = 1", err);
	if (rc == 0) {
		if (sqlite3_step(st) == SQLITE_ROW)
			n = (long)sqlite3_column_int64(st, 0);
		else
			rc = jc_store_error(s->store, err, "numbering a snapshot");
		sqlite3_finalize(st);
	}
	if (rc == 0)
		rc = jc_store_prepare(s->store, &st, "INSERT INTO snapshots(number, created_at, state, suite, origin,"
				      " label, components, architectures, n_packages, size)"
				      " VALUES (?, ?, 'recorded', ?, ?, ?, ?, ?, ?, ?)", err);
	if (rc == 0) {
		sqlite3_bind_int64(st, 1, n);
		sqlite3_bind_int64(st, 2, now);
		jc_sql_bind_text(st, 3, s->o.suite);
		jc_sql_bind_text(st, 4, s->o.origin);
		jc_sql_bind_text(st, 5, s->o.label);
		jc_sql_bind_text(st, 6, comps);
		jc_sql_bind_text(st, 7, archs);
		sqlite3_bind_int64(st, 8, n_packages);
		sqlite3_bind_int64(st, 9, size);
		rc = step(s, st, "recording a snapshot", err);
		sqlite3_finalize(st);
	}
	if (rc == 0)
		rc = jc_store_prepare(s->store, &st, "INSERT INTO snapshot_indices(number, component, architecture,"
				      " packages_sha256, packages_size, gz_sha256, gz_size, n_packages)"
				      " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", err);
	for (size_t i = 0; rc == 0 && i < p->n_outs; i++) {
		struct outidx *o = &p->outs[i];
		sqlite3_bind_int64(st, 1, n);
		jc_sql_bind_text(st, 2, o->component);
		jc_sql_bind_text(st, 3, o->architecture);
		jc_sql_bind_text(st, 4, o->sha);
		sqlite3_bind_int64(st, 5, o->size);
		jc_sql_bind_text(st, 6, o->gz_sha);
		sqlite3_bind_int64(st, 7, o->gz_size);
		sqlite3_bind_int64(st, 8, o->count);
		rc = step(s, st, "recording an index", err);
	}
	if (st) {
		sqlite3_finalize(st);
		st = NULL;
	}
	if (rc == 0)
		rc = jc_store_prepare(s->store, &st, "INSERT INTO snapshot_sources(number, source, location, suite,"
				      " release_file, release_sha256, release_date, signed_by, position)"
				      " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", err);
	for (size_t i = 0; rc == 0 && i < p->n_srcs; i++) {
		struct src *x = &p->srcs[i];
		sqlite3_bind_int64(st, 1, n);
		jc_sql_bind_text(st, 2, x->name);
		jc_sql_bind_text(st, 3, jc_repo_remote_location(x->remote));
		jc_sql_bind_text(st, 4, x->cfg->suite);
		jc_sql_bind_text(st, 5, x->release_file);
		jc_sql_bind_text(st, 6, x->release_sha);
		jc_sql_bind_text(st, 7, jc_repo_release_field(x->rel, "Date"));
		jc_sql_bind_text(st, 8, x->signed_by);
		sqlite3_bind_int64(st, 9, (sqlite3_int64)i);
		rc = step(s, st, "recording a source", err);
	}
	if (st) {
		sqlite3_finalize(st);
		st = NULL;
	}
	if (rc == 0)
		rc = jc_store_prepare(s->store, &st, "INSERT OR IGNORE INTO snapshot_source_indices(number, source,"
				      " path, sha256, size) VALUES (?, ?, ?, ?, ?)", err);
	for (size_t i = 0; rc == 0 && i < p->n_srcs; i++) {
		for (size_t k = 0; rc == 0 && k < p->srcs[i].n_idx; k++) {
			struct srcidx *si = &p->srcs[i].idx[k];
			sqlite3_bind_int64(st, 1, n);
			jc_sql_bind_text(st, 2, p->srcs[i].name);
			jc_sql_bind_text(st, 3, si->path);
			jc_sql_bind_text(st, 4, si->sha256);
			sqlite3_bind_int64(st, 5, si->size);
			rc = step(s, st, "recording a source index", err);
		}
	}
	if (st)
		sqlite3_finalize(st);
	if (rc == 0)
		rc = save_source_states(p, err);
	if (rc < 0) {
		jc_store_rollback(s->store);
		goto out;
	}
	rc = jc_store_commit(s->store, err);
	if (rc == 0) {
		*number = n;
		p->res->n_packages = n_packages;
	}
out:
	free(comps);
	free(archs);
	return rc;
}

static int save_states_only(struct poll *p, jc_error *err)
{
	int rc = jc_store_begin(p->s->store, true, err);
	if (rc < 0)
		return rc;
	rc = save_source_states(p, err);
	if (rc < 0) {
		jc_store_rollback(p->s->store);
		return rc;
	}
	return jc_store_commit(p->s->store, err);
}

static int64_t cpu_ms(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

/* --verbose shows where a poll spends its time (wall and CPU) */
static void phase(jc_snapshots *s, const char *what, int64_t *t)
{
	static int64_t cpu_before;
	int64_t now = jc_now_ms(), cpu = cpu_ms();
	jc_log(s->o.logger, JC_LOG_DEBUG, "snapshot", "%s: %lld ms (cpu %lld ms)", what, (long long)(now - *t),
	       (long long)(cpu - cpu_before));
	*t = now;
	cpu_before = cpu;
}

static int run(struct poll *p, struct prelinker *pre, unsigned flags, jc_error *err)
{
	jc_snapshots *s = p->s;
	jc_http *http = NULL;
	bool publish = !(flags & JC_SNAPSHOT_POLL_NO_PUBLISH);
	const char *tree = NULL;
	bool all_unchanged = true, same = false;
	long number = 0;
	struct builder builder;
	int64_t t;
	int rc;

	rc = jc_snap_newest(s, &p->res->previous, err);
	if (rc < 0)
		return rc;
	p->srcs = jc_calloc(s->o.n_sources, sizeof(*p->srcs));
	p->n_srcs = s->o.n_sources;
	for (size_t i = 0; i < p->n_srcs; i++) {
		struct src *x = &p->srcs[i];
		x->cfg = &s->sources[i];
		x->name = s->source_names[i];
		if (x->cfg->url && (rc = jc_snap_http(s, &http, err)) < 0)
			return rc;
		rc = jc_repo_remote_open(&x->remote, x->cfg->url, x->cfg->path, x->cfg->url ? http : NULL,
					 s->o.logger, err);
		if (rc < 0)
			return rc;
		fingerprint(x);
		if ((rc = load_prev(p, x, err)) < 0)
			return rc;
		if ((rc = check_release(p, x, err)) < 0)
			return rc;
		all_unchanged = all_unchanged && x->unchanged;
	}
	if (all_unchanged && p->res->previous) {
		jc_log(s->o.logger, JC_LOG_INFO, "snapshot", "no source changed");
		return save_states_only(p, err);
	}
	p->res->changed = true;
	for (size_t i = 0; i < p->n_srcs; i++) {
		struct src *x = &p->srcs[i];
		if (x->unchanged && (rc = reload_release(p, x, err)) < 0) {
			jc_err_prefix(err, "source %s", x->name);
			return rc;
		}
		if ((rc = choose_indices(p, x, err)) < 0)
			return rc;
	}
	if ((rc = same_as_prev(p, p->res->previous, &same, err)) < 0)
		return rc;
	if (same) {
		jc_log(s->o.logger, JC_LOG_INFO, "snapshot", "a Release changed, but no index did: no new snapshot");
		return save_states_only(p, err);
	}
	t = jc_now_ms();
	phase(s, "checking sources", &t);
	if ((rc = fetch_indices(p, err)) < 0)
		return rc;
	phase(s, "fetching indices", &t);
	if ((rc = parse_indices(p, err)) < 0)
		return rc;
	phase(s, "parsing indices", &t);
	if ((rc = arrange(p, err)) < 0)
		return rc;
	phase(s, "sorting", &t);
	builder_start(&builder, p);
	scan_pool(p);
	if (publish)
		prelinker_start(pre, p);
	if ((rc = fetch_debs(p, err)) < 0) {
		builder_finish(&builder, NULL);
		return rc;
	}
	phase(s, "fetching packages (indices built and stored, the pool linked meanwhile)", &t);
	if ((rc = builder_finish(&builder, err)) < 0)
		return rc;
	tree = publish ? prelinker_finish(pre) : NULL;
	phase(s, "waiting for the indices and links", &t);
	/* everything the new snapshot refers to must be on disk before the
	 * database says it exists */
	if (!s->o.no_sync && (rc = jc_pool_sync(s->pool, err)) < 0)
		return rc;
	phase(s, "flushing the pool", &t);
	jc_snap_crash_point("poll-fetched");
	if ((rc = record(p, &number, err)) < 0)
		return rc;
	phase(s, "recording", &t);
	jc_snap_crash_point("poll-recorded");
	p->res->number = number;
	jc_log(s->o.logger, JC_LOG_INFO, "snapshot", "recorded snapshot %ld: %ld packages (%ld fetched, %ld "
	       "already in the pool)", number, p->res->n_packages, p->res->debs_fetched, p->res->debs_reused);
	if (publish) {
		/* what to link is in memory: publishing need not read it back */
		s->hint_number = number;
		s->hint = pre->files;
		s->n_hint = pre->n;
		s->hint_tree = tree;
		rc = jc_snap_publish_recorded(s, number, err);
		s->hint_number = 0;
		s->hint = NULL;
		s->n_hint = 0;
		s->hint_tree = NULL;
		if (rc == 0)
			p->res->published = true;
	}
	return rc;
}

int jc_snapshot_poll(jc_snapshot_poll_result *out, jc_snapshots *s, unsigned flags, jc_error *err)
{
	struct poll p;
	struct prelinker pre;
	int64_t started = jc_now_ms();
	int rc;

	memset(out, 0, sizeof(*out));
	if (s->o.n_sources == 0)
		return jc_err(err, JC_EINVALID, "no snapshot sources: add snapshots.sources to jcicd.yaml "
			      "(or pass --source)");
	if (!(flags & JC_SNAPSHOT_POLL_NO_PUBLISH) && (rc = jc_snap_need_root(s, err)) < 0)
		return rc;
	if ((rc = jc_snap_lock(s, err)) < 0)
		return rc;
	memset(&p, 0, sizeof(p));
	memset(&pre, 0, sizeof(pre));
	p.s = s;
	p.res = out;
	rc = run(&p, &pre, flags, err);
	prelinker_free(&pre);
	for (size_t i = 0; i < p.n_srcs; i++) {
		long req = 0;
		long long bytes = 0;
		if (!p.srcs[i].remote)
			continue;
		jc_repo_remote_stats(p.srcs[i].remote, &req, &bytes);
		out->requests += req;
		out->bytes_fetched += bytes;
	}
	poll_clear(&p);
	jc_snap_unlock(s);
	out->elapsed_ms = jc_now_ms() - started;
	return rc;
}
