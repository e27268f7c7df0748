/* repo-deb822.c - a push parser for deb822 paragraphs (Packages, Release,
 * control files): fed in chunks of any size, it holds one paragraph at a
 * time, so a Packages file of any length parses in bounded memory. */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jcicd/repo.h"

struct jc_deb822_para {
	int line;            /* first line of the paragraph */
	size_t n;            /* fields */
	size_t cap;
	size_t *offs;        /* name and value offsets into store, 2 per field */
	int *lines;          /* the line each field starts on */
	jc_buf store;        /* "Name\0value\0..." */
	const char **ptrs;   /* resolved offsets while the callback runs */
	size_t ptrs_cap;
};

struct jc_deb822_parser {
	char *name;
	jc_deb822_fn fn;
	void *payload;
	jc_buf partial;      /* a line split across feeds */
	int lineno;          /* lines completed so far */
	jc_deb822_para para;
	bool in_para;
	bool field_open;     /* the last line started or continued a field */
	int failed;          /* sticky error code */
};

const char *jc_deb822_get(const jc_deb822_para *p, const char *field)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcasecmp(p->ptrs[2 * i], field) == 0)
			return p->ptrs[2 * i + 1];
	return NULL;
}

size_t jc_deb822_field_count(const jc_deb822_para *p) { return p->n; }
const char *jc_deb822_field_name(const jc_deb822_para *p, size_t i) { return i < p->n ? p->ptrs[2 * i] : NULL; }
const char *jc_deb822_field_value(const jc_deb822_para *p, size_t i) { return i < p->n ? p->ptrs[2 * i + 1] : NULL; }
int jc_deb822_line(const jc_deb822_para *p) { return p->line; }
int jc_deb822_field_line(const jc_deb822_para *p, size_t i) { return i < p->n ? p->lines[i] : 0; }

int jc_deb822_parser_new(jc_deb822_parser **out, const char *name, jc_deb822_fn fn, void *payload,
			 jc_error *err)
{
	jc_deb822_parser *p;
	(void)err;
	p = jc_calloc(1, sizeof(*p));
	p->name = jc_strdup(name ? name : "(deb822)");
	p->fn = fn;
	p->payload = payload;
	*out = p;
	return 0;
}

void jc_deb822_parser_free(jc_deb822_parser *p)
{
	if (!p)
		return;
	free(p->name);
	jc_buf_free(&p->partial);
	free(p->para.offs);
	free(p->para.lines);
	free(p->para.ptrs);
	jc_buf_free(&p->para.store);
	free(p);
}

static int fail(jc_deb822_parser *p, jc_error *err, int col, const char *msg)
{
	p->failed = jc_err_at(err, JC_EPARSE, p->name, p->lineno, col, "%s", msg);
	return p->failed;
}

static int emit(jc_deb822_parser *p, jc_error *err)
{
	jc_deb822_para *para = &p->para;
	int rc = 0;
	if (!p->in_para)
		return 0;
	if (para->ptrs_cap < 2 * para->n) {
		para->ptrs_cap = 2 * para->n + 16;
		para->ptrs = jc_realloc(para->ptrs, para->ptrs_cap * sizeof(*para->ptrs));
	}
	for (size_t i = 0; i < 2 * para->n; i++)
		para->ptrs[i] = para->store.data + para->offs[i];
	if (p->fn)
		rc = p->fn(para, err, p->payload);
	para->n = 0;
	jc_buf_clear(&para->store);
	p->in_para = false;
	p->field_open = false;
	if (rc < 0)
		p->failed = rc;
	return rc < 0 ? rc : 0;
}

static void trim_end(jc_buf *b)
{
	while (b->len && (b->data[b->len - 1] == ' ' || b->data[b->len - 1] == '\t'))
		b->data[--b->len] = '\0';
}

/* One complete line, without its newline. */
static int line(jc_deb822_parser *p, const char *s, size_t len, jc_error *err)
{
	jc_deb822_para *para = &p->para;
	size_t i;

	p->lineno++;
	if (len && s[len - 1] == '\r')
		len--;
	for (i = 0; i < len && (s[i] == ' ' || s[i] == '\t'); i++)
		;
	if (i == len)                          /* blank: ends a paragraph */
		return emit(p, err);
	if (s[0] == '#')                       /* comment */
		return 0;
	if (s[0] == ' ' || s[0] == '\t') {     /* continuation */
		if (!p->field_open)
			return fail(p, err, 1, "a continuation line (starting with a space) outside a field");
		para->store.len--;             /* reopen the value: drop its NUL */
		jc_buf_putc(&para->store, '\n');
		jc_buf_add(&para->store, s, len);
		trim_end(&para->store);
		jc_buf_putc(&para->store, '\0');
		return 0;
	}
	const char *colon = memchr(s, ':', len);
	if (!colon || colon == s)
		return fail(p, err, 1, "expected \"Field: value\"");
	for (const char *q = s; q < colon; q++) {
		if ((unsigned char)*q <= 32 || (unsigned char)*q >= 127) {
			char msg[128];
			snprintf(msg, sizeof(msg), "invalid character in field name \"%.*s\"",
				 (int)(colon - s > 80 ? 80 : colon - s), s);
			return fail(p, err, (int)(q - s) + 1, msg);
		}
	}
	/* duplicate names make a paragraph ambiguous */
	for (size_t f = 0; f < para->n; f++) {
		const char *have = para->store.data + para->offs[2 * f];
		if ((have[0] | 0x20) != (s[0] | 0x20))
			continue;   /* cheap first: every line of every paragraph comes here */
		if (strlen(have) == (size_t)(colon - s) && strncasecmp(have, s, (size_t)(colon - s)) == 0) {
			char msg[160];
			snprintf(msg, sizeof(msg), "field \"%.80s\" appears twice in one paragraph", have);
			return fail(p, err, 1, msg);
		}
	}
	if (!p->in_para) {
		p->in_para = true;
		para->line = p->lineno;
	}
	if (para->cap < 2 * (para->n + 1)) {
		para->cap = 2 * (para->n + 1) + 32;
		para->offs = jc_realloc(para->offs, para->cap * sizeof(*para->offs));
		para->lines = jc_realloc(para->lines, para->cap * sizeof(*para->lines));
	}
	para->lines[para->n] = p->lineno;
	para->offs[2 * para->n] = para->store.len;
	jc_buf_add(&para->store, s, (size_t)(colon - s));
	jc_buf_putc(&para->store, '\0');
	para->offs[2 * para->n + 1] = para->store.len;
	const char *v = colon + 1;
	while (v < s + len && (*v == ' ' || *v == '\t'))
		v++;
	jc_buf_add(&para->store, v, (size_t)(s + len - v));
	trim_end(&para->store);
	jc_buf_putc(&para->store, '\0');
	para->n++;
	p->field_open = true;
	return 0;
}

int jc_deb822_parser_feed(jc_deb822_parser *p, const char *data, size_t len, jc_error *err)
{
	const char *end = data + len;
	if (p->failed)
		return p->failed;
	while (data < end) {
		const char *nl = memchr(data, '\n', (size_t)(end - data));
		int rc;
		if (!nl) {
			jc_buf_add(&p->partial, data, (size_t)(end - data));
			return 0;
		}
		if (p->partial.len) {
			jc_buf_add(&p->partial, data, (size_t)(nl - data));
			rc = line(p, p->partial.data, p->partial.len, err);
			jc_buf_clear(&p->partial);
		} else {
			rc = line(p, data, (size_t)(nl - data), err);
		}
		if (rc < 0)
			return rc;
		data = nl + 1;
	}
	return 0;
}

int jc_deb822_parser_finish(jc_deb822_parser *p, jc_error *err)
{
	int rc;
	if (p->failed)
		return p->failed;
	if (p->partial.len) {
		rc = line(p, p->partial.data, p->partial.len, err);
		jc_buf_clear(&p->partial);
		if (rc < 0)
			return rc;
	}
	return emit(p, err);
}

int jc_deb822_parse(const char *text, size_t len, const char *name, jc_deb822_fn fn, void *payload,
		    jc_error *err)
{
	jc_deb822_parser *p;
	int rc = jc_deb822_parser_new(&p, name, fn, payload, err);
	if (rc < 0)
		return rc;
	rc = jc_deb822_parser_feed(p, text, len, err);
	if (rc == 0)
		rc = jc_deb822_parser_finish(p, err);
	jc_deb822_parser_free(p);
	return rc;
}
