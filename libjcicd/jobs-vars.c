/* jobs-vars.c - template variables: {name} replaced by its value (which may
 * use other variables), "{{" and "}}" for braces, "${...}" left to the
 * shell; an undefined variable is an error at its place, with a guess. */
#include "common.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "jcicd/yaml.h"
#include "jobs-internal.h"

void jc_jobs_vars_set(jc_jobs_vars *vs, const char *name, const jc_yaml_node *value, const char *text)
{
	for (size_t i = 0; i < vs->n; i++) {
		if (strcmp(vs->v[i].name, name) == 0)
			return;   /* the first setter (highest precedence) wins */
	}
	if (vs->n == vs->cap) {
		vs->cap = vs->cap ? vs->cap * 2 : 16;
		vs->v = jc_realloc(vs->v, vs->cap * sizeof(*vs->v));
	}
	vs->v[vs->n].name = name;
	vs->v[vs->n].value = value;
	vs->v[vs->n].text = text;
	vs->n++;
}

static const jc_jobs_var *vars_get(const jc_jobs_vars *vs, const char *name, size_t len)
{
	for (size_t i = 0; i < vs->n; i++)
		if (strlen(vs->v[i].name) == len && strncmp(vs->v[i].name, name, len) == 0)
			return &vs->v[i];
	return NULL;
}

bool jc_jobs_is_ident(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-';
}

static int undefined_var(const jc_jobs_vars *vs, const jc_yaml_node *where, const char *what,
			 const char *name_start, size_t len, jc_error *err)
{
	char *name = jc_strndup(name_start, len);
	const char **names = jc_calloc(vs->n + 1, sizeof(*names));
	jc_buf known = JC_BUF_INIT;
	const char *hint;
	int rc;
	for (size_t i = 0; i < vs->n; i++) {
		names[i] = vs->v[i].name;
		jc_buf_printf(&known, "%s%s", i ? ", " : "", vs->v[i].name);
	}
	hint = jc_str_suggest(name, names, vs->n);
	if (hint)
		rc = jc_yaml_error_at(err, where, JC_EINVALID, "%s uses {%s}, which is not defined; did you mean {%s}?",
				      what, name, hint);
	else
		rc = jc_yaml_error_at(err, where, JC_EINVALID,
				      "%s uses {%s}, which is not defined (defined: %s; write {{ and }} for "
				      "literal braces)", what, name, jc_buf_cstr(&known));
	free(name);
	free(names);
	jc_buf_free(&known);
	return rc;
}

/*
 * text with {variables} replaced; errors point at `where`.  "{{" and "}}"
 * stand for braces; "${...}" is left to the shell.
 */
int jc_jobs_subst_text(const jc_jobs_vars *vs, const char *s, const jc_yaml_node *where, const char *what,
		      char **out, jc_error *err, int depth)
{
	jc_buf b = JC_BUF_INIT;

	*out = NULL;
	if (depth > 8)
		return jc_yaml_error_at(err, where, JC_EINVALID,
					"%s: variables refer to each other in a loop", what);
	for (const char *p = s; *p; p++) {
		if (p[0] == '{' && p[1] == '{') {
			jc_buf_putc(&b, '{');
			p++;
		} else if (p[0] == '}' && p[1] == '}') {
			jc_buf_putc(&b, '}');
			p++;
		} else if (p[0] == '$' && p[1] == '{') {
			const char *close = strchr(p + 2, '}');
			size_t len = close ? (size_t)(close - p) + 1 : strlen(p);
			jc_buf_add(&b, p, len);
			p += len - 1;
		} else if (p[0] == '{' && jc_jobs_is_ident(p[1])) {
			const char *q = p + 1;
			while (jc_jobs_is_ident(*q))
				q++;
			if (*q != '}') {
				jc_buf_putc(&b, '{');
				continue;
			}
			const jc_jobs_var *v = vars_get(vs, p + 1, (size_t)(q - p - 1));
			if (!v) {
				int rc = undefined_var(vs, where, what, p + 1, (size_t)(q - p - 1), err);
				jc_buf_free(&b);
				return rc;
			}
			/* a value may use other variables: next: '{app}-test' */
			char *inner;
			int rc = jc_jobs_subst_text(vs, v->text, where, what, &inner, err, depth + 1);
			if (rc < 0) {
				jc_buf_free(&b);
				return rc;
			}
			jc_buf_puts(&b, inner);
			free(inner);
			p = q;
		} else {
			jc_buf_putc(&b, *p);
		}
	}
	*out = jc_buf_detach(&b);
	if (!*out)
		*out = jc_strdup("");
	return 0;
}

/* The text of a scalar, with {variables} replaced when there are vars
 * (templates); concrete jobs take their text as it is. */
int jc_jobs_subst(const jc_jobs_vars *vs, const jc_yaml_node *node, const char *what, char **out,
		 jc_error *err)
{
	*out = NULL;
	if (jc_yaml_type_of(node) != JC_YAML_SCALAR && jc_yaml_type_of(node) != JC_YAML_NULL)
		return jc_yaml_error_at(err, node, JC_EINVALID, "%s must be a string, not %s", what,
					jc_yaml_type_name(jc_yaml_type_of(node)));
	if (!vs) {
		*out = jc_strdup(jc_yaml_scalar(node));
		return 0;
	}
	return jc_jobs_subst_text(vs, jc_yaml_scalar(node), node, what, out, err, 0);
}
