/* repo-release.c - Release files: parsing (fields and the SHA256 list),
 * writing (deterministic, for golden files and reproducible hashes), and
 * the OpenPGP cleartext framework of InRelease. */
#include "common.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "jcicd/repo.h"

struct jc_repo_release {
	jc_strv names;
	jc_strv values;
	jc_repo_release_file *files;
	size_t n_files;
	const jc_repo_release_file **by_path;   /* files sorted by path */
	int paragraphs;
};

void jc_repo_release_free(jc_repo_release *r)
{
	if (!r)
		return;
	jc_strv_free(&r->names);
	jc_strv_free(&r->values);
	for (size_t i = 0; i < r->n_files; i++) {
		free((char *)r->files[i].path);
		free((char *)r->files[i].sha256);
	}
	free(r->files);
	free(r->by_path);
	free(r);
}

const char *jc_repo_release_field(const jc_repo_release *r, const char *field)
{
	for (size_t i = 0; i < r->names.n; i++)
		if (strcasecmp(r->names.v[i], field) == 0)
			return r->values.v[i];
	return NULL;
}

size_t jc_repo_release_file_count(const jc_repo_release *r) { return r->n_files; }

const jc_repo_release_file *jc_repo_release_file_at(const jc_repo_release *r, size_t i)
{
	return i < r->n_files ? &r->files[i] : NULL;
}

static int cmp_by_path(const void *a, const void *b)
{
	return strcmp((*(const jc_repo_release_file *const *)a)->path,
		      (*(const jc_repo_release_file *const *)b)->path);
}

const jc_repo_release_file *jc_repo_release_lookup(const jc_repo_release *r, const char *path)
{
	size_t lo = 0, hi = r->n_files;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(r->by_path[mid]->path, path);
		if (c == 0)
			return r->by_path[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

struct parse_ctx {
	jc_repo_release *r;
	const char *name;
};

/* " <sha256> <size> <path>" lines of the SHA256 field */
static int parse_sums(struct parse_ctx *c, const char *value, int line, jc_error *err)
{
	jc_repo_release *r = c->r;
	size_t cap = 0;
	const char *p = value;
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char buf[4200], hash[200], path[4096];
		long long size;
		int consumed = 0;
		if (len >= sizeof(buf))
			return jc_err_at(err, JC_EPARSE, c->name, line, 1, "SHA256 entry is too long");
		memcpy(buf, p, len);
		buf[len] = '\0';
		/* the first line of the field is usually empty */
		bool blank = true;
		for (size_t i = 0; i < len; i++)
			blank = blank && isspace((unsigned char)buf[i]);
		if (!blank) {
			if (sscanf(buf, " %199s %lld %4095s %n", hash, &size, path, &consumed) != 3 ||
			    buf[consumed] != '\0')
				return jc_err_at(err, JC_EPARSE, c->name, line, 1,
						 "SHA256 entry is not \"<hash> <size> <path>\": \"%.100s\"", buf);
			for (char *h = hash; *h; h++)
				*h = (char)tolower((unsigned char)*h);
			if (!jc_repo_is_sha256(hash))
				return jc_err_at(err, JC_EPARSE, c->name, line, 2,
						 "\"%.100s\" is not a SHA256 hash", hash);
			if (size < 0)
				return jc_err_at(err, JC_EPARSE, c->name, line, 1, "negative size in SHA256 entry");
			if (r->n_files == cap) {
				cap = cap ? cap * 2 : 32;
				r->files = jc_realloc(r->files, cap * sizeof(*r->files));
			}
			r->files[r->n_files].path = jc_strdup(path);
			r->files[r->n_files].sha256 = jc_strdup(hash);
			r->files[r->n_files].size = size;
			r->n_files++;
		}
		line++;
		p += len;
		if (*p == '\n')
			p++;
	}
	return 0;
}

static int on_para(const jc_deb822_para *para, jc_error *err, void *payload)
{
	struct parse_ctx *c = payload;
	if (++c->r->paragraphs > 1)
		return jc_err_at(err, JC_EPARSE, c->name, jc_deb822_line(para), 1,
				 "a Release file has exactly one paragraph; a second one starts here");
	for (size_t i = 0; i < jc_deb822_field_count(para); i++) {
		const char *n = jc_deb822_field_name(para, i);
		const char *v = jc_deb822_field_value(para, i);
		jc_strv_push(&c->r->names, n);
		jc_strv_push(&c->r->values, v);
		if (strcasecmp(n, "SHA256") == 0) {
			int rc = parse_sums(c, v, jc_deb822_field_line(para, i), err);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

int jc_repo_release_parse(jc_repo_release **out, const char *text, size_t len, const char *name,
			  jc_error *err)
{
	struct parse_ctx c;
	int rc;
	*out = NULL;
	c.r = jc_calloc(1, sizeof(*c.r));
	c.name = name ? name : "Release";
	rc = jc_deb822_parse(text, len, c.name, on_para, &c, err);
	if (rc == 0 && c.r->paragraphs == 0)
		rc = jc_err_at(err, JC_EPARSE, c.name, 1, 1, "empty Release file");
	if (rc == 0 && !jc_repo_release_field(c.r, "SHA256"))
		rc = jc_err_at(err, JC_EPARSE, c.name, 1, 1,
			       "the Release file has no SHA256 list (MD5 and SHA1 alone are not trusted)");
	if (rc < 0) {
		jc_repo_release_free(c.r);
		return rc;
	}
	c.r->by_path = jc_malloc((c.r->n_files + 1) * sizeof(*c.r->by_path));
	for (size_t i = 0; i < c.r->n_files; i++)
		c.r->by_path[i] = &c.r->files[i];
	qsort(c.r->by_path, c.r->n_files, sizeof(*c.r->by_path), cmp_by_path);
	for (size_t i = 1; i < c.r->n_files; i++) {
		const jc_repo_release_file *a = c.r->by_path[i - 1];
		const jc_repo_release_file *b = c.r->by_path[i];
		if (strcmp(a->path, b->path) == 0 && (strcmp(a->sha256, b->sha256) != 0 || a->size != b->size)) {
			rc = jc_err(err, JC_EPARSE, "%s: the SHA256 list names %s twice, with different hashes",
				    c.name, a->path);
			jc_repo_release_free(c.r);
			return rc;
		}
	}
	*out = c.r;
	return 0;
}

/* ---- writing */

/* RFC 2822 date in UTC, with English names whatever the locale. */
static void rfc2822(long long epoch, char *buf, size_t size)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t)epoch;
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(buf, size, "%s, %02d %s %04d %02d:%02d:%02d UTC", days[tm.tm_wday], tm.tm_mday,
		 months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static bool field_value_ok(const char *s)
{
	for (; *s; s++)
		if (*s == '\n' || *s == '\r')
			return false;
	return true;
}

static int cmp_files(const void *a, const void *b)
{
	return strcmp(((const jc_repo_release_file *)a)->path, ((const jc_repo_release_file *)b)->path);
}

int jc_repo_release_write(char **out, size_t *out_len, const jc_repo_release_info *info, jc_error *err)
{
	jc_buf b = JC_BUF_INIT;
	char date[64];
	jc_repo_release_file *files;
	const char *const single[] = { info->origin, info->label, info->suite, info->codename,
				       info->description };

	*out = NULL;
	if (out_len)
		*out_len = 0;
	if (info->version != JC_REPO_RELEASE_INFO_VERSION)
		return jc_err(err, JC_EINVALID, "jc_repo_release_info version %u is not supported", info->version);
	if (!info->suite || !*info->suite)
		return jc_err(err, JC_EINVALID, "a Release file needs a suite");
	for (size_t i = 0; i < JC_ARRAY_LEN(single); i++)
		if (single[i] && !field_value_ok(single[i]))
			return jc_err(err, JC_EINVALID, "Release field value \"%s\" has a line break", single[i]);
	for (size_t i = 0; i < info->n_files; i++)
		if (!jc_repo_is_sha256(info->files[i].sha256) || !info->files[i].path ||
		    strpbrk(info->files[i].path, " \t\n\r") || info->files[i].size < 0)
			return jc_err(err, JC_EINVALID, "Release entry %zu (%s) is not a valid path, size and SHA256",
				      i, info->files[i].path ? info->files[i].path : "(null)");

	if (info->origin)
		jc_buf_printf(&b, "Origin: %s\n", info->origin);
	if (info->label)
		jc_buf_printf(&b, "Label: %s\n", info->label);
	jc_buf_printf(&b, "Suite: %s\n", info->suite);
	jc_buf_printf(&b, "Codename: %s\n", info->codename ? info->codename : info->suite);
	rfc2822(info->date, date, sizeof(date));
	jc_buf_printf(&b, "Date: %s\n", date);
	jc_buf_puts(&b, "Architectures:");
	for (size_t i = 0; i < info->n_architectures; i++)
		jc_buf_printf(&b, " %s", info->architectures[i]);
	jc_buf_puts(&b, "\nComponents:");
	for (size_t i = 0; i < info->n_components; i++)
		jc_buf_printf(&b, " %s", info->components[i]);
	jc_buf_putc(&b, '\n');
	if (info->description)
		jc_buf_printf(&b, "Description: %s\n", info->description);
	if (info->acquire_by_hash)
		jc_buf_puts(&b, "Acquire-By-Hash: yes\n");
	jc_buf_puts(&b, "SHA256:\n");
	files = jc_malloc((info->n_files + 1) * sizeof(*files));
	if (info->n_files)
		memcpy(files, info->files, info->n_files * sizeof(*files));
	qsort(files, info->n_files, sizeof(*files), cmp_files);
	for (size_t i = 0; i < info->n_files; i++)
		jc_buf_printf(&b, " %s %16lld %s\n", files[i].sha256, files[i].size, files[i].path);
	free(files);
	if (out_len)
		*out_len = b.len;
	if (!b.data)
		jc_buf_grow(&b, 1);
	*out = jc_buf_detach(&b);
	return 0;
}

/* ---- the OpenPGP cleartext signature framework (RFC 4880, 7) */

static const char *next_line(const char *p, const char *end, size_t *len)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
	*len = l;
	if (l && p[l - 1] == '\r')
		(*len)--;
	return nl ? nl + 1 : end;
}

static bool line_is(const char *p, size_t len, const char *s)
{
	size_t n = strlen(s);
	/* trailing whitespace after an armour line is tolerated */
	if (len < n || memcmp(p, s, n) != 0)
		return false;
	for (size_t i = n; i < len; i++)
		if (p[i] != ' ' && p[i] != '\t')
			return false;
	return true;
}

int jc_repo_clearsign_strip(char **out, size_t *out_len, const char *text, size_t len, const char *name,
			    jc_error *err)
{
	const char *p = text, *end = text + len;
	jc_buf b = JC_BUF_INIT;
	size_t l;
	int lineno = 1;
	const char *lp;

	*out = NULL;
	if (out_len)
		*out_len = 0;
	lp = p;
	p = next_line(p, end, &l);
	if (!line_is(lp, l, "-----BEGIN PGP SIGNED MESSAGE-----"))
		return jc_err_at(err, JC_EPARSE, name, 1, 1, "not a clearsigned message (no BEGIN PGP SIGNED MESSAGE)");
	/* armour headers ("Hash: SHA512") up to an empty line */
	for (;;) {
		if (p >= end)
			return jc_err_at(err, JC_EPARSE, name, lineno, 1, "clearsigned message ends in its header");
		lp = p;
		p = next_line(p, end, &l);
		lineno++;
		if (l == 0)
			break;
		if (!memchr(lp, ':', l))
			return jc_err_at(err, JC_EPARSE, name, lineno, 1, "malformed armour header");
	}
	for (;;) {
		if (p >= end) {
			jc_buf_free(&b);
			return jc_err_at(err, JC_EPARSE, name, lineno, 1, "clearsigned message has no signature");
		}
		lp = p;
		p = next_line(p, end, &l);
		lineno++;
		if (line_is(lp, l, "-----BEGIN PGP SIGNATURE-----"))
			break;
		if (l >= 5 && memcmp(lp, "-----", 5) == 0) {
			jc_buf_free(&b);
			return jc_err_at(err, JC_EPARSE, name, lineno, 1, "unexpected armour line in a clearsigned message");
		}
		if (l >= 2 && lp[0] == '-' && lp[1] == ' ') {
			lp += 2;
			l -= 2;
		}
		jc_buf_add(&b, lp, l);
		jc_buf_putc(&b, '\n');
	}
	/* the signature, then nothing but blank lines: text after the
	 * signature must never be mistaken for signed content */
	for (;;) {
		if (p >= end) {
			jc_buf_free(&b);
			return jc_err_at(err, JC_EPARSE, name, lineno, 1, "clearsigned message has an unterminated signature");
		}
		lp = p;
		p = next_line(p, end, &l);
		lineno++;
		if (line_is(lp, l, "-----END PGP SIGNATURE-----"))
			break;
	}
	while (p < end) {
		lp = p;
		p = next_line(p, end, &l);
		lineno++;
		for (size_t i = 0; i < l; i++)
			if (!isspace((unsigned char)lp[i])) {
				jc_buf_free(&b);
				return jc_err_at(err, JC_EPARSE, name, lineno, 1, "text after the signature of a clearsigned message");
			}
	}
	if (out_len)
		*out_len = b.len;
	if (!b.data)
		jc_buf_grow(&b, 1);
	*out = jc_buf_detach(&b);
	return 0;
}
