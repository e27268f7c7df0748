/* util.c - memory, buffers, string lists and small string helpers. */
#include "common.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(size_t size)
{
	/* Nothing sensible is left to do: the library has no memory to report
	 * the failure with.  Input never leads here; only exhaustion does. */
	fprintf(stderr, "jcicd: out of memory allocating %zu bytes\n", size);
	abort();
}

void *jc_malloc(size_t size)
{
	void *p = malloc(size ? size : 1);
	if (!p)
		out_of_memory(size);
	return p;
}

void *jc_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		out_of_memory(n * size);
	return p;
}

void *jc_realloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);
	if (!p)
		out_of_memory(size);
	return p;
}

char *jc_strdup(const char *s)
{
	return s ? jc_strndup(s, strlen(s)) : NULL;
}

char *jc_strndup(const char *s, size_t n)
{
	char *p;
	if (!s)
		return NULL;
	p = jc_malloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *jc_vsprintf(const char *fmt, va_list ap)
{
	jc_buf b = JC_BUF_INIT;
	jc_buf_vprintf(&b, fmt, ap);
	return jc_buf_detach(&b);
}

char *jc_sprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	s = jc_vsprintf(fmt, ap);
	va_end(ap);
	return s;
}

/* ---- jc_buf */

void jc_buf_grow(jc_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	b->data = jc_realloc(b->data, cap);
	b->cap = cap;
}

void jc_buf_add(jc_buf *b, const void *data, size_t len)
{
	jc_buf_grow(b, len);
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void jc_buf_puts(jc_buf *b, const char *s)
{
	jc_buf_add(b, s, strlen(s));
}

void jc_buf_putc(jc_buf *b, char c)
{
	jc_buf_add(b, &c, 1);
}

void jc_buf_vprintf(jc_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	jc_buf_grow(b, 64);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	if ((size_t)n >= b->cap - b->len) {
		jc_buf_grow(b, (size_t)n);
		va_copy(ap2, ap);
		vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap2);
		va_end(ap2);
	}
	b->len += (size_t)n;
}

void jc_buf_printf(jc_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	jc_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void jc_buf_clear(jc_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

char *jc_buf_detach(jc_buf *b)
{
	char *p = b->data ? b->data : jc_strdup("");
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void jc_buf_free(jc_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

const char *jc_buf_cstr(const jc_buf *b)
{
	return b->data ? b->data : "";
}

/* ---- jc_strv */

void jc_strv_push_owned(jc_strv *sv, char *s)
{
	if (sv->n + 1 >= sv->cap) {
		sv->cap = sv->cap ? sv->cap * 2 : 8;
		sv->v = jc_realloc(sv->v, sv->cap * sizeof(char *));
	}
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
}

void jc_strv_push(jc_strv *sv, const char *s)
{
	jc_strv_push_owned(sv, jc_strdup(s));
}

bool jc_strv_contains(const jc_strv *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return true;
	return false;
}

void jc_strv_free(jc_strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void jc_strv_sort(jc_strv *sv)
{
	if (sv->n > 1)
		qsort(sv->v, sv->n, sizeof(char *), cmp_str);
}

/* ---- strings */

bool jc_str_starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool jc_str_ends(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);
	return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

bool jc_str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

size_t jc_strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);
	if (size) {
		size_t n = len < size - 1 ? len : size - 1;
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

int jc_str_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int *row = jc_malloc((lb + 1) * sizeof(int));
	for (size_t j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		int diag = row[0];
		row[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			int up = row[j];
			int cost = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]) ? 0 : 1;
			int best = diag + cost;
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	int d = row[lb];
	free(row);
	return d;
}

const char *jc_str_suggest(const char *word, const char *const *candidates, size_t n)
{
	const char *best = NULL;
	int best_d = INT_MAX;
	size_t wl = strlen(word);
	/* A typo is at most a third of the word away (and at least 1 edit). */
	int limit = (int)(wl / 3) + 1;
	if (limit > 3)
		limit = 3;
	for (size_t i = 0; i < n; i++) {
		int d = jc_str_distance(word, candidates[i]);
		if (d < best_d) {
			best_d = d;
			best = candidates[i];
		}
	}
	if (best && best_d <= limit)
		return best;
	/* "flavour" vs "flavor", "network" vs "networks": a prefix is a hint too */
	for (size_t i = 0; i < n; i++) {
		size_t cl = strlen(candidates[i]);
		if (cl >= 4 && wl >= 4 &&
		    (strncmp(word, candidates[i], cl < wl ? cl : wl) == 0))
			return candidates[i];
	}
	return NULL;
}

bool jc_is_ip_address(const char *s)
{
	unsigned char ip[sizeof(struct in6_addr)];
	return s && (inet_pton(AF_INET, s, ip) == 1 || inet_pton(AF_INET6, s, ip) == 1);
}

bool jc_parse_long(const char *s, long *out)
{
	char *end;
	long v;
	if (!s || !*s)
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s)
		return false;
	*out = v;
	return true;
}

bool jc_parse_duration_ms(const char *s, long long *out_ms)
{
	char *end;
	double v;
	long long mult = 1000;
	if (!s || !*s)
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return false;
	if (*end) {
		if (strcmp(end, "ms") == 0)
			mult = 1;
		else if (strcmp(end, "s") == 0)
			mult = 1000;
		else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
			mult = 60 * 1000;
		else if (strcmp(end, "h") == 0)
			mult = 3600 * 1000;
		else if (strcmp(end, "d") == 0)
			mult = 86400LL * 1000;
		else
			return false;
	}
	if (v * (double)mult > 9.0e15)
		return false;
	*out_ms = (long long)(v * (double)mult);
	return true;
}
