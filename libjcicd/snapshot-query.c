/* snapshot-query.c - what there is: list, show, the packages of a snapshot,
 * the difference between two, pointers.  Reading needs no lock: SQLite's
 * WAL gives every query a consistent view, and pool files never change. */
#include "common.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot-internal.h"

int jc_snap_newest(jc_snapshots *s, long *number, jc_error *err)
{
	sqlite3_stmt *st;
	int rc = jc_store_prepare(s->store, &st, "SELECT coalesce(max(number), 0) FROM snapshots"
				  " WHERE state IN ('recorded', 'published')", err);
	if (rc < 0)
		return rc;
	*number = sqlite3_step(st) == SQLITE_ROW ? (long)sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return 0;
}

int jc_snap_state(jc_snapshots *s, long number, char **state, jc_error *err)
{
	sqlite3_stmt *st;
	int rc = jc_store_prepare(s->store, &st, "SELECT state FROM snapshots WHERE number = ?", err);
	*state = NULL;
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(st, 1, number);
	if (sqlite3_step(st) == SQLITE_ROW)
		*state = jc_sql_column_dup(st, 0);
	else
		rc = jc_err(err, JC_ENOTFOUND, "there is no snapshot %ld", number);
	sqlite3_finalize(st);
	return rc;
}

void jc_snapshot_info_free(jc_snapshot_info *info, size_t n)
{
	if (!info)
		return;
	for (size_t i = 0; i < n; i++) {
		jc_snapshot_info *x = &info[i];
		free(x->state);
		free(x->suite);
		for (size_t k = 0; k < x->n_pointers; k++)
			free(x->pointers[k]);
		free(x->pointers);
		for (size_t k = 0; k < x->n_sources; k++) {
			free(x->sources[k].name);
			free(x->sources[k].location);
			free(x->sources[k].suite);
			free(x->sources[k].release_file);
			free(x->sources[k].release_sha256);
			free(x->sources[k].release_date);
			free(x->sources[k].signed_by);
		}
		free(x->sources);
		for (size_t k = 0; k < x->n_indices; k++) {
			free(x->indices[k].component);
			free(x->indices[k].architecture);
			free(x->indices[k].packages_sha256);
		}
		free(x->indices);
	}
	free(info);
}

static void fill_row(sqlite3_stmt *st, jc_snapshot_info *x)
{
	memset(x, 0, sizeof(*x));
	x->number = (long)sqlite3_column_int64(st, 0);
	x->created_at = sqlite3_column_int64(st, 1);
	x->published_at = sqlite3_column_int64(st, 2);
	x->state = jc_sql_column_dup(st, 3);
	x->suite = jc_sql_column_dup(st, 4);
	x->n_packages = (long)sqlite3_column_int64(st, 5);
	x->size = sqlite3_column_int64(st, 6);
}

static int attach_pointers(jc_snapshots *s, jc_snapshot_info *info, size_t n, jc_error *err)
{
	sqlite3_stmt *st;
	int rc = jc_store_prepare(s->store, &st, "SELECT name, number FROM snapshot_pointers ORDER BY name", err);
	if (rc < 0)
		return rc;
	while (sqlite3_step(st) == SQLITE_ROW) {
		long num = (long)sqlite3_column_int64(st, 1);
		for (size_t i = 0; i < n; i++) {
			if (info[i].number != num)
				continue;
			info[i].pointers = jc_realloc(info[i].pointers, (info[i].n_pointers + 1) * sizeof(char *));
			info[i].pointers[info[i].n_pointers++] = jc_sql_column_dup(st, 0);
		}
	}
	sqlite3_finalize(st);
	return 0;
}

#define ROW_COLUMNS "number, created_at, coalesce(published_at, 0), state, suite, n_packages, size"

int jc_snapshot_list(jc_snapshot_info **out, size_t *n, jc_snapshots *s, bool include_pruned, jc_error *err)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc = jc_store_prepare(s->store, &st, include_pruned ?
				  "SELECT " ROW_COLUMNS " FROM snapshots ORDER BY number DESC" :
				  "SELECT " ROW_COLUMNS " FROM snapshots WHERE state <> 'pruned' ORDER BY number DESC",
				  err);
	*out = NULL;
	*n = 0;
	if (rc < 0)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*out = jc_realloc(*out, cap * sizeof(**out));
		}
		fill_row(st, &(*out)[(*n)++]);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		rc = jc_store_error(s->store, err, "listing snapshots");
	} else {
		rc = attach_pointers(s, *out, *n, err);
	}
	if (rc < 0) {
		jc_snapshot_info_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

int jc_snapshot_show(jc_snapshot_info **out, jc_snapshots *s, long number, jc_error *err)
{
	sqlite3_stmt *st;
	jc_snapshot_info *x;
	jc_snap_index *idx = NULL;
	size_t n_idx = 0;
	int rc;

	*out = NULL;
	rc = jc_store_prepare(s->store, &st, "SELECT " ROW_COLUMNS " FROM snapshots WHERE number = ?", err);
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(st, 1, number);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return jc_err(err, JC_ENOTFOUND, "there is no snapshot %ld", number);
	}
	x = jc_calloc(1, sizeof(*x));
	fill_row(st, x);
	sqlite3_finalize(st);
	rc = attach_pointers(s, x, 1, err);
	if (rc == 0)
		rc = jc_store_prepare(s->store, &st, "SELECT source, location, suite, release_file, release_sha256,"
				      " release_date, signed_by FROM snapshot_sources WHERE number = ? ORDER BY position",
				      err);
	if (rc == 0) {
		sqlite3_bind_int64(st, 1, number);
		while (sqlite3_step(st) == SQLITE_ROW) {
			jc_snapshot_source_info *si;
			x->sources = jc_realloc(x->sources, (x->n_sources + 1) * sizeof(*x->sources));
			si = &x->sources[x->n_sources++];
			si->name = jc_sql_column_dup(st, 0);
			si->location = jc_sql_column_dup(st, 1);
			si->suite = jc_sql_column_dup(st, 2);
			si->release_file = jc_sql_column_dup(st, 3);
			si->release_sha256 = jc_sql_column_dup(st, 4);
			si->release_date = jc_sql_column_dup(st, 5);
			si->signed_by = jc_sql_column_dup(st, 6);
		}
		sqlite3_finalize(st);
	}
	if (rc == 0)
		rc = jc_snap_indices(s, number, &idx, &n_idx, err);
	if (rc == 0) {
		x->indices = jc_calloc(n_idx + 1, sizeof(*x->indices));
		for (size_t i = 0; i < n_idx; i++) {
			x->indices[i].component = jc_strdup(idx[i].component);
			x->indices[i].architecture = jc_strdup(idx[i].architecture);
			x->indices[i].packages_sha256 = jc_strdup(idx[i].packages_sha256);
			x->indices[i].packages_size = idx[i].packages_size;
			x->indices[i].n_packages = idx[i].n_packages;
		}
		x->n_indices = n_idx;
	}
	jc_snap_indices_free(idx, n_idx);
	if (rc < 0) {
		jc_snapshot_info_free(x, 1);
		return rc;
	}
	*out = x;
	return 0;
}

int jc_snapshot_resolve(long *number, jc_snapshots *s, const char *ref, jc_error *err)
{
	sqlite3_stmt *st;
	long n;
	int rc;
	*number = 0;
	if (!ref || !*ref)
		return jc_err(err, JC_EINVALID, "a snapshot is named by its number or a pointer");
	if (isdigit((unsigned char)ref[0])) {
		char *state = NULL;
		if (!jc_parse_long(ref, &n) || n <= 0)
			return jc_err(err, JC_EINVALID, "\"%s\" is not a snapshot number", ref);
		rc = jc_snap_state(s, n, &state, err);
		if (rc == 0 && strcmp(state, "pruned") == 0)
			rc = jc_err(err, JC_ENOTFOUND, "snapshot %ld was pruned", n);
		free(state);
		if (rc == 0)
			*number = n;
		return rc;
	}
	if (!jc_snapshot_pointer_name_ok(ref))
		return jc_err(err, JC_EINVALID, "\"%s\" is neither a snapshot number nor a pointer name", ref);
	rc = jc_store_prepare(s->store, &st, "SELECT number FROM snapshot_pointers WHERE name = ?", err);
	if (rc < 0)
		return rc;
	jc_sql_bind_text(st, 1, ref);
	if (sqlite3_step(st) == SQLITE_ROW)
		*number = (long)sqlite3_column_int64(st, 0);
	else
		rc = jc_err(err, JC_ENOTFOUND, "no pointer named %s", ref);
	sqlite3_finalize(st);
	return rc;
}

int jc_snapshot_pointers(jc_snapshot_pointer **out, size_t *n, jc_snapshots *s, jc_error *err)
{
	sqlite3_stmt *st;
	int rc = jc_store_prepare(s->store, &st, "SELECT name, number, updated_at, who, why FROM snapshot_pointers"
				  " ORDER BY name", err);
	*out = NULL;
	*n = 0;
	if (rc < 0)
		return rc;
	while (sqlite3_step(st) == SQLITE_ROW) {
		jc_snapshot_pointer *p;
		*out = jc_realloc(*out, (*n + 1) * sizeof(**out));
		p = &(*out)[(*n)++];
		p->name = jc_sql_column_dup(st, 0);
		p->number = (long)sqlite3_column_int64(st, 1);
		p->updated_at = sqlite3_column_int64(st, 2);
		p->who = jc_sql_column_dup(st, 3);
		p->why = jc_sql_column_dup(st, 4);
	}
	sqlite3_finalize(st);
	return 0;
}

void jc_snapshot_pointers_free(jc_snapshot_pointer *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(p[i].name);
		free(p[i].who);
		free(p[i].why);
	}
	free(p);
}

int jc_snapshot_promote(long *previous, jc_snapshots *s, long number, const char *pointer, const char *who,
			const char *why, jc_error *err)
{
	char *state = NULL;
	int rc;
	if (previous)
		*previous = 0;
	if (!jc_snapshot_pointer_name_ok(pointer))
		return jc_err(err, JC_EINVALID, "\"%s\" is not a pointer name (lower-case letters, digits, - and _, "
			      "starting with a letter; not \"snapshots\")", pointer ? pointer : "");
	if ((rc = jc_snap_need_root(s, err)) < 0 || (rc = jc_snap_lock(s, err)) < 0)
		return rc;
	rc = jc_snap_state(s, number, &state, err);
	if (rc == 0 && strcmp(state, "published") != 0)
		rc = jc_err(err, strcmp(state, "recorded") == 0 ? JC_EFAILED : JC_ENOTFOUND,
			    "snapshot %ld is %s, not published: only a published snapshot can be promoted", number, state);
	free(state);
	if (rc == 0)
		rc = jc_snap_set_pointer(s, pointer, number, who, why, previous, err);
	jc_snap_unlock(s);
	return rc;
}

/* ---- packages and diff */

struct pkgs_ctx {
	jc_snapshot_package_fn fn;
	void *payload;
	const char *component;
	int stop;
};

static int on_para(const jc_deb822_para *para, jc_error *err, void *payload)
{
	struct pkgs_ctx *c = payload;
	jc_snapshot_package pkg;
	const char *size = jc_deb822_get(para, "Size");
	(void)err;
	pkg.name = jc_deb822_get(para, "Package");
	pkg.version = jc_deb822_get(para, "Version");
	pkg.architecture = jc_deb822_get(para, "Architecture");
	pkg.component = c->component;
	pkg.filename = jc_deb822_get(para, "Filename");
	pkg.sha256 = jc_deb822_get(para, "SHA256");
	pkg.size = size ? strtoll(size, NULL, 10) : 0;
	c->stop = c->fn(&pkg, c->payload);
	return c->stop ? JC_ECANCELLED : 0;
}

int jc_snapshot_packages(jc_snapshots *s, long number, jc_snapshot_package_fn fn, void *payload, jc_error *err)
{
	jc_snap_index *idx;
	size_t n;
	struct pkgs_ctx c;
	char *state = NULL;
	int rc = jc_snap_state(s, number, &state, err);
	if (rc == 0 && strcmp(state, "pruned") == 0)
		rc = jc_err(err, JC_ENOTFOUND, "snapshot %ld was pruned", number);
	free(state);
	if (rc < 0)
		return rc;
	rc = jc_snap_indices(s, number, &idx, &n, err);
	if (rc < 0)
		return rc;
	memset(&c, 0, sizeof(c));
	c.fn = fn;
	c.payload = payload;
	for (size_t i = 0; i < n && rc == 0; i++) {
		c.component = idx[i].component;
		rc = jc_snap_read_packages(s, idx[i].packages_sha256, on_para, &c, NULL);
		if (rc == JC_ECANCELLED && c.stop)
			rc = c.stop;
		else if (rc < 0)
			rc = jc_err(err, rc, "snapshot %ld: cannot read its %s/%s index from the pool", number,
				    idx[i].component, idx[i].architecture);
	}
	jc_snap_indices_free(idx, n);
	return rc;
}

struct entry {
	char *name, *arch, *version;
};

struct entries {
	struct entry *v;
	size_t n, cap;
};

static int collect(const jc_snapshot_package *pkg, void *payload)
{
	struct entries *e = payload;
	if (!pkg->name || !pkg->version || !pkg->architecture)
		return 0;
	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 1024;
		e->v = jc_realloc(e->v, e->cap * sizeof(*e->v));
	}
	e->v[e->n].name = jc_strdup(pkg->name);
	e->v[e->n].arch = jc_strdup(pkg->architecture);
	e->v[e->n].version = jc_strdup(pkg->version);
	e->n++;
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	if (c == 0)
		c = strcmp(x->arch, y->arch);
	if (c == 0)
		c = jc_repo_version_compare(x->version, y->version);
	if (c == 0)
		c = strcmp(x->version, y->version);
	return c;
}

static void entries_free(struct entries *e)
{
	for (size_t i = 0; i < e->n; i++) {
		free(e->v[i].name);
		free(e->v[i].arch);
		free(e->v[i].version);
	}
	free(e->v);
}

/* Sorted and without repeats: "all" packages appear in every architecture's
 * index but are one package. */
static void entries_sort(struct entries *e)
{
	size_t k = 0;
	qsort(e->v, e->n, sizeof(*e->v), cmp_entry);
	for (size_t i = 0; i < e->n; i++) {
		if (k && cmp_entry(&e->v[k - 1], &e->v[i]) == 0) {
			free(e->v[i].name);
			free(e->v[i].arch);
			free(e->v[i].version);
			continue;
		}
		e->v[k++] = e->v[i];
	}
	e->n = k;
}

static size_t group_end(const struct entries *e, size_t i)
{
	size_t j = i + 1;
	while (j < e->n && strcmp(e->v[j].name, e->v[i].name) == 0 && strcmp(e->v[j].arch, e->v[i].arch) == 0)
		j++;
	return j;
}

static char *versions(const struct entries *e, size_t from, size_t to)
{
	jc_buf b = JC_BUF_INIT;
	for (size_t i = from; i < to; i++)
		jc_buf_printf(&b, "%s%s", i > from ? " " : "", e->v[i].version);
	return jc_buf_detach(&b);
}

int jc_snapshot_diff(jc_snapshot_diff_summary *out, jc_snapshots *s, long a, long b, jc_snapshot_change_fn fn,
		     void *payload, jc_error *err)
{
	struct entries ea = { NULL, 0, 0 }, eb = { NULL, 0, 0 };
	size_t i = 0, j = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = jc_snapshot_packages(s, a, collect, &ea, err);
	if (rc == 0)
		rc = jc_snapshot_packages(s, b, collect, &eb, err);
	if (rc < 0)
		goto out;
	entries_sort(&ea);
	entries_sort(&eb);
	while ((i < ea.n || j < eb.n) && rc == 0) {
		jc_snapshot_change ch;
		size_t ie = i < ea.n ? group_end(&ea, i) : i, je = j < eb.n ? group_end(&eb, j) : j;
		int c;
		char *fa = NULL, *fb = NULL;
		if (i >= ea.n)
			c = 1;
		else if (j >= eb.n)
			c = -1;
		else {
			c = strcmp(ea.v[i].name, eb.v[j].name);
			if (c == 0)
				c = strcmp(ea.v[i].arch, eb.v[j].arch);
		}
		memset(&ch, 0, sizeof(ch));
		if (c < 0) {
			ch.kind = JC_SNAPSHOT_REMOVED;
			ch.name = ea.v[i].name;
			ch.architecture = ea.v[i].arch;
			ch.from = ea.v[ie - 1].version;
			ch.from_all = fa = versions(&ea, i, ie);
			out->removed++;
			i = ie;
		} else if (c > 0) {
			ch.kind = JC_SNAPSHOT_ADDED;
			ch.name = eb.v[j].name;
			ch.architecture = eb.v[j].arch;
			ch.to = eb.v[je - 1].version;
			ch.to_all = fb = versions(&eb, j, je);
			out->added++;
			j = je;
		} else {
			fa = versions(&ea, i, ie);
			fb = versions(&eb, j, je);
			if (strcmp(fa, fb) == 0) {
				out->unchanged++;
			} else {
				ch.kind = JC_SNAPSHOT_CHANGED;
				ch.name = ea.v[i].name;
				ch.architecture = ea.v[i].arch;
				ch.from = ea.v[ie - 1].version;
				ch.to = eb.v[je - 1].version;
				ch.from_all = fa;
				ch.to_all = fb;
				out->changed++;
			}
			i = ie;
			j = je;
		}
		if (ch.kind && fn && fn(&ch, payload) != 0)
			rc = JC_ECANCELLED;
		free(fa);
		free(fb);
	}
out:
	entries_free(&ea);
	entries_free(&eb);
	return rc;
}
