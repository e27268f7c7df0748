/* build-version.c - versions of built packages, changelog entries, names. */
#include "common.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "build-internal.h"

int jc_bld_changelog_head(const char *text, char **source, char **version, char **distribution,
			  const char *name, jc_error *err)
{
	const char *p = text, *s0, *v0, *v1, *d0, *d1;

	*source = *version = *distribution = NULL;
	/* blank lines may come first; the first other line is the entry's */
	while (*p == '\n' || *p == ' ' || *p == '\t')
		p++;
	s0 = p;
	while (*p && !isspace((unsigned char)*p) && *p != '(')
		p++;
	if (p == s0)
		return jc_err_at(err, JC_EPARSE, name, 1, 1, "no source package name on the first line of the changelog");
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '(')
		return jc_err_at(err, JC_EPARSE, name, 1, (int)(p - s0) + 1,
				 "expected \"(version)\" after the source name on the first line of the changelog");
	v0 = ++p;
	while (*p && *p != ')' && *p != '\n')
		p++;
	if (*p != ')' || p == v0)
		return jc_err_at(err, JC_EPARSE, name, 1, (int)(v0 - s0) + 1, "unterminated or empty version in "
				 "the first line of the changelog");
	v1 = p++;
	while (*p == ' ' || *p == '\t')
		p++;
	d0 = p;
	while (*p && *p != ';' && *p != '\n')
		p++;
	d1 = p;
	while (d1 > d0 && isspace((unsigned char)d1[-1]))
		d1--;
	*source = jc_strndup(s0, (size_t)(strcspn(s0, " \t(")));
	*version = jc_strndup(v0, (size_t)(v1 - v0));
	*distribution = d1 > d0 ? jc_strndup(d0, (size_t)(d1 - d0)) : jc_strdup("UNRELEASED");
	/* several distributions: the first is enough for an entry of ours */
	(*distribution)[strcspn(*distribution, " \t")] = '\0';
	if (!jc_bld_version_valid(*version)) {
		int rc = jc_err_at(err, JC_EPARSE, name, 1, (int)(v0 - s0) + 1, "\"%s\" is not a Debian version",
				   *version);
		free(*source);
		free(*version);
		free(*distribution);
		*source = *version = *distribution = NULL;
		return rc;
	}
	return 0;
}

static bool all_of(const char *s, size_t n, const char *extra)
{
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr(extra, s[i]))
			return false;
	return true;
}

bool jc_bld_version_valid(const char *v)
{
	const char *colon, *up, *dash;
	size_t up_len;
	if (!v || !*v || strlen(v) > 200)
		return false;
	colon = strchr(v, ':');
	up = v;
	if (colon) {
		if (colon == v)
			return false;
		for (const char *p = v; p < colon; p++)
			if (!isdigit((unsigned char)*p))
				return false;
		up = colon + 1;
	}
	dash = strrchr(up, '-');
	up_len = dash ? (size_t)(dash - up) : strlen(up);
	if (up_len == 0 || !isdigit((unsigned char)up[0]))
		return false;
	if (!all_of(up, up_len, ".+~-"))
		return false;
	if (dash && (!dash[1] || !all_of(dash + 1, strlen(dash + 1), "+.~")))
		return false;
	return true;
}

static const char *const placeholders[] = {
	"version", "upstream", "revision", "date", "time", "build", "commit", "short",
};

static int each_placeholder(const char *format, jc_buf *out, const jc_bld_version_vars *vars, jc_error *err)
{
	bool has_build = false;
	for (const char *p = format; *p;) {
		const char *close;
		char key[32];
		if (*p != '{') {
			if (*p == '}')
				return jc_err(err, JC_EINVALID, "version format \"%s\": a } without its {", format);
			if (out)
				jc_buf_putc(out, *p);
			p++;
			continue;
		}
		close = strchr(p, '}');
		if (!close || (size_t)(close - p - 1) >= sizeof(key))
			return jc_err(err, JC_EINVALID, "version format \"%s\": an unterminated {", format);
		memcpy(key, p + 1, (size_t)(close - p - 1));
		key[close - p - 1] = '\0';
		size_t k;
		for (k = 0; k < JC_ARRAY_LEN(placeholders); k++)
			if (strcmp(key, placeholders[k]) == 0)
				break;
		if (k == JC_ARRAY_LEN(placeholders)) {
			const char *s = jc_str_suggest(key, placeholders, JC_ARRAY_LEN(placeholders));
			return jc_err(err, JC_EINVALID, "version format \"%s\": unknown placeholder {%s}%s%s%s (known: "
				      "{version} {upstream} {revision} {date} {time} {build} {commit} {short})", format, key,
				      s ? "; did you mean {" : "", s ? s : "", s ? "}?" : "");
		}
		has_build = has_build || strcmp(key, "build") == 0;
		if (out) {
			const char *v = vars->version, *colon = strchr(v, ':'), *up = colon ? colon + 1 : v;
			const char *dash = strrchr(up, '-');
			char tbuf[32];
			struct tm tm;
			time_t t = (time_t)vars->when;
			gmtime_r(&t, &tm);
			if (strcmp(key, "version") == 0) {
				jc_buf_puts(out, v);
			} else if (strcmp(key, "upstream") == 0) {
				jc_buf_add(out, up, dash ? (size_t)(dash - up) : strlen(up));
			} else if (strcmp(key, "revision") == 0) {
				jc_buf_puts(out, dash ? dash + 1 : "");
			} else if (strcmp(key, "date") == 0) {
				snprintf(tbuf, sizeof(tbuf), "%04d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
				jc_buf_puts(out, tbuf);
			} else if (strcmp(key, "time") == 0) {
				snprintf(tbuf, sizeof(tbuf), "%02d%02d%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
				jc_buf_puts(out, tbuf);
			} else if (strcmp(key, "build") == 0) {
				jc_buf_printf(out, "%ld", vars->build);
			} else if (strcmp(key, "commit") == 0) {
				jc_buf_puts(out, vars->commit ? vars->commit : "");
			} else {
				jc_buf_add(out, vars->commit ? vars->commit : "",
					   vars->commit ? (strlen(vars->commit) < 7 ? strlen(vars->commit) : 7) : 0);
			}
		}
		p = close + 1;
	}
	if (!has_build)
		return jc_err(err, JC_EINVALID, "version format \"%s\" has no {build}: every build needs a version "
			      "of its own", format);
	return 0;
}

int jc_bld_version_format_check(const char *format, jc_error *err)
{
	return each_placeholder(format, NULL, NULL, err);
}

int jc_bld_version_make(char **out, const char *format, const jc_bld_version_vars *vars, jc_error *err)
{
	jc_buf b = JC_BUF_INIT;
	int rc;
	*out = NULL;
	rc = each_placeholder(format, &b, vars, err);
	if (rc < 0) {
		jc_buf_free(&b);
		return rc;
	}
	if (!jc_bld_version_valid(jc_buf_cstr(&b))) {
		rc = jc_err(err, JC_EINVALID, "version format \"%s\" makes \"%s\", which is not a Debian version "
			    "([epoch:]upstream[-revision], upstream starting with a digit)", format, jc_buf_cstr(&b));
		jc_buf_free(&b);
		return rc;
	}
	*out = jc_buf_detach(&b);
	return 0;
}

char *jc_bld_changelog_entry(const char *source, const char *version, const char *distribution,
			     const char *maintainer, const char *text, int64_t when)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
					      "Oct", "Nov", "Dec" };
	time_t t = (time_t)when;
	struct tm tm;
	gmtime_r(&t, &tm);
	/* RFC 5322 by hand: strftime's names follow the locale */
	return jc_sprintf("%s (%s) %s; urgency=medium\n\n  * %s\n\n -- %s  %s, %02d %s %04d %02d:%02d:%02d +0000\n\n",
			  source, version, distribution, text, maintainer, days[tm.tm_wday], tm.tm_mday,
			  months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

char *jc_bld_pool_prefix(const char *source)
{
	if (jc_str_starts(source, "lib") && strlen(source) > 3)
		return jc_strndup(source, 4);
	return jc_strndup(source, 1);
}

bool jc_bld_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > 100 || !(islower((unsigned char)name[0]) || isdigit((unsigned char)name[0])))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)name[i]) && !isdigit((unsigned char)name[i]) && !strchr(".+_-", name[i]))
			return false;
	return true;
}

bool jc_bld_git_is_url(const char *loc)
{
	const char *colon, *slash;
	if (strstr(loc, "://"))
		return true;
	/* scp-like "host:path" or "user@host:path": a colon before any slash */
	colon = strchr(loc, ':');
	slash = strchr(loc, '/');
	return colon && colon != loc && (!slash || colon < slash);
}
