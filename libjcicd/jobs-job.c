/* jobs-job.c - one job's fields, from a definition (with a template's
 * variables, and the defaults under it) into the job model, every value
 * checked where it is written. */
#include "common.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jcicd/yaml.h"
#include "jobs-internal.h"

/* what a job (and defaults) may say */
const char *const jc_job_keys[] = {
	"description", "node", "disabled", "concurrent", "block-downstream", "block-upstream",
	"keep-builds", "timer", "parameters", "shell", "junit", "timeout", "timeout-action",
	"timestamps", "downstream", "on-abort",
};
/* a template adds its job name pattern and default variable values */
const char *const jc_template_keys[] = {
	"name", "vars", "description", "node", "disabled", "concurrent", "block-downstream",
	"block-upstream", "keep-builds", "timer", "parameters", "shell", "junit", "timeout",
	"timeout-action", "timestamps", "downstream", "on-abort",
};
static const char *const param_keys[] = { "description", "default", "type", "trim" };
static const char *const junit_keys[] = { "results", "allow-empty", "keep-long-stdio" };
static const char *const downstream_keys[] = {
	"job", "when", "current-parameters", "parameters", "property-file", "fail-on-missing",
	"trigger-without-parameters",
};
const size_t jc_job_n_keys = JC_ARRAY_LEN(jc_job_keys);
const size_t jc_template_n_keys = JC_ARRAY_LEN(jc_template_keys);

/* ---- typed values (after substitution) */

static bool word_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on" };
	static const char *const no[] = { "false", "no", "off" };
	for (size_t i = 0; i < JC_ARRAY_LEN(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

struct ctx {
	const jc_jobs_vars *vars;        /* NULL for concrete jobs */
	const jc_yaml_node *body;
	const jc_yaml_node *defaults;   /* may be NULL */
	jc_error *err;
};

/* A field of the job, else of the defaults. */
static const jc_yaml_node *field(const struct ctx *c, const char *key)
{
	const jc_yaml_node *n = jc_yaml_get(c->body, key);
	if (!n && c->defaults)
		n = jc_yaml_get(c->defaults, key);
	return n;
}

static int get_str(const struct ctx *c, const char *key, char **out)
{
	const jc_yaml_node *n = field(c, key);
	*out = NULL;
	if (!n)
		return 0;
	return jc_jobs_subst(c->vars, n, key, out, c->err);
}

static int get_bool(const struct ctx *c, const jc_yaml_node *n, const char *key, bool *out)
{
	char *s;
	int rc = jc_jobs_subst(c->vars, n, key, &s, c->err);
	if (rc < 0)
		return rc;
	if (!word_bool(s, out))
		rc = jc_yaml_error_at(c->err, n, JC_EINVALID, "%s must be true or false, not \"%s\"", key, s);
	free(s);
	return rc;
}

static int field_bool(const struct ctx *c, const char *key, bool *out)
{
	const jc_yaml_node *n = field(c, key);
	return n ? get_bool(c, n, key, out) : 0;
}

/* A timeout in whole minutes: "90m", "4h", "1d" (a bare number is
 * ambiguous: Jenkins counts minutes, jcicd durations seconds). */
static int get_minutes(const struct ctx *c, const jc_yaml_node *n, const char *key, long *out)
{
	char *s;
	long long ms;
	long bare;
	int rc = jc_jobs_subst(c->vars, n, key, &s, c->err);
	if (rc < 0)
		return rc;
	if (jc_parse_long(s, &bare))
		rc = jc_yaml_error_at(c->err, n, JC_EINVALID,
				      "%s needs a unit: \"%sm\" for %s minutes (or hours: \"4h\")", key, s, s);
	else if (!jc_parse_duration_ms(s, &ms) || ms <= 0)
		rc = jc_yaml_error_at(c->err, n, JC_EINVALID,
				      "%s must be a duration such as 90m or 4h, not \"%s\"", key, s);
	else if (ms % 60000 != 0)
		rc = jc_yaml_error_at(c->err, n, JC_EINVALID,
				      "%s must be whole minutes (Jenkins counts minutes), not \"%s\"", key, s);
	else if (ms / 60000 > 100L * 24 * 60)
		rc = jc_yaml_error_at(c->err, n, JC_EINVALID, "%s of \"%s\" is more than 100 days", key, s);
	else
		*out = (long)(ms / 60000);
	free(s);
	return rc;
}

/* Jenkins refuses these in item names; '/' separates folders. */
int jc_job_check_name(const jc_yaml_node *where, const char *name, jc_error *err)
{
	const char *seg = name;
	if (!*name)
		return jc_yaml_error_at(err, where, JC_EINVALID, "a job name must not be empty");
	for (const char *p = name;; p++) {
		if (*p == '/' || !*p) {
			size_t len = (size_t)(p - seg);
			if (len == 0 || (len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
				return jc_yaml_error_at(err, where, JC_EINVALID,
							"job name \"%s\" has an empty or dot folder part", name);
			if (seg[0] == ' ' || seg[len - 1] == ' ')
				return jc_yaml_error_at(err, where, JC_EINVALID,
							"job name \"%s\" starts or ends with a space", name);
			if (!*p)
				break;
			seg = p + 1;
			continue;
		}
		if (strchr("\\?*%!@#$^&|<>[]:;\"'", *p) || (unsigned char)*p < 0x20)
			return jc_yaml_error_at(err, where, JC_EINVALID,
						"job name \"%s\" contains '%c', which Jenkins does not allow",
						name, *p);
	}
	return 0;
}

static int check_cron(const jc_yaml_node *where, const char *spec, jc_error *err)
{
	const char *line = spec;
	int lines = 0;
	while (*line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char *l = jc_strndup(line, len);
		char *p = l;
		int fields = 0;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p && *p != '#') {
			lines++;
			if (*p != '@') {
				bool in = false;
				for (; *p; p++) {
					if (*p == ' ' || *p == '\t')
						in = false;
					else if (!in) {
						in = true;
						fields++;
					}
				}
				if (fields != 5) {
					int rc = jc_yaml_error_at(err, where, JC_EINVALID,
								  "timer \"%s\" must have 5 fields (minute hour "
								  "day month weekday) or be @hourly, @daily, ...", l);
					free(l);
					return rc;
				}
			}
		}
		free(l);
		line += len;
		if (*line == '\n')
			line++;
	}
	if (!lines)
		return jc_yaml_error_at(err, where, JC_EINVALID, "timer is empty");
	return 0;
}

/* ---- the parts of a job */

static int parse_params(const struct ctx *c, const jc_yaml_node *n, jc_job *job)
{
	int rc = jc_yaml_expect(n, JC_YAML_MAPPING, "parameters (NAME: description, or NAME: {default: ...})",
				c->err);
	if (rc < 0)
		return rc;
	job->n_params = jc_yaml_size(n);
	job->params = jc_calloc(job->n_params ? job->n_params : 1, sizeof(*job->params));
	for (size_t i = 0; i < job->n_params; i++) {
		const jc_yaml_node *k = jc_yaml_key(n, i), *v = jc_yaml_value(n, i), *x;
		jc_job_param *p = &job->params[i];
		struct ctx pc = *c;
		if ((rc = jc_jobs_subst(c->vars, k, "parameter name", &p->name, c->err)) < 0)
			return rc;
		for (const char *q = p->name; *q; q++)
			if (!jc_jobs_is_ident(*q) || *q == '-')
				return jc_yaml_error_at(c->err, k, JC_EINVALID,
							"parameter name \"%s\" must be letters, digits and _ "
							"(it becomes an environment variable)", p->name);
		if (!*p->name)
			return jc_yaml_error_at(c->err, k, JC_EINVALID, "a parameter name must not be empty");
		for (size_t j = 0; j < i; j++)
			if (strcmp(job->params[j].name, p->name) == 0)
				return jc_yaml_error_at(c->err, k, JC_EINVALID, "parameter %s is defined twice",
							p->name);
		if (jc_yaml_type_of(v) != JC_YAML_MAPPING) {
			if ((rc = jc_jobs_subst(c->vars, v, "a parameter's description", &p->description, c->err)) < 0)
				return rc;
			p->default_value = jc_strdup("");
			continue;
		}
		if ((rc = jc_yaml_check_keys(v, param_keys, JC_ARRAY_LEN(param_keys), "a parameter", c->err)) < 0)
			return rc;
		pc.body = v;
		pc.defaults = NULL;
		if ((x = jc_yaml_get(v, "type")) != NULL) {
			char *t;
			if ((rc = jc_jobs_subst(c->vars, x, "type", &t, c->err)) < 0)
				return rc;
			if (strcmp(t, "bool") == 0 || strcmp(t, "boolean") == 0)
				p->is_bool = true;
			else if (strcmp(t, "string") != 0) {
				rc = jc_yaml_error_at(c->err, x, JC_EINVALID,
						      "parameter type must be string or bool, not \"%s\"", t);
				free(t);
				return rc;
			}
			free(t);
		}
		if ((rc = get_str(&pc, "description", &p->description)) < 0 ||
		    (rc = get_str(&pc, "default", &p->default_value)) < 0 ||
		    (rc = field_bool(&pc, "trim", &p->trim)) < 0)
			return rc;
		if (!p->default_value)
			p->default_value = jc_strdup(p->is_bool ? "false" : "");
		if (p->is_bool) {
			bool b;
			if (!word_bool(p->default_value, &b))
				return jc_yaml_error_at(c->err, jc_yaml_get(v, "default"), JC_EINVALID,
							"the default of bool parameter %s must be true or false",
							p->name);
			free(p->default_value);
			p->default_value = jc_strdup(b ? "true" : "false");
		}
	}
	return 0;
}

static int parse_junit(const struct ctx *c, const jc_yaml_node *n, jc_job *job)
{
	struct ctx jc = *c;
	int rc;
	job->junit_keep_long_stdio = true;
	if (jc_yaml_type_of(n) != JC_YAML_MAPPING)
		rc = jc_jobs_subst(c->vars, n, "junit", &job->junit, c->err);
	else {
		if ((rc = jc_yaml_check_keys(n, junit_keys, JC_ARRAY_LEN(junit_keys), "junit", c->err)) < 0)
			return rc;
		jc.body = n;
		jc.defaults = NULL;
		if ((rc = get_str(&jc, "results", &job->junit)) < 0 ||
		    (rc = field_bool(&jc, "allow-empty", &job->junit_allow_empty)) < 0 ||
		    (rc = field_bool(&jc, "keep-long-stdio", &job->junit_keep_long_stdio)) < 0)
			return rc;
		if (!job->junit)
			return jc_yaml_error_at(c->err, n, JC_EINVALID, "junit needs results: the report files");
	}
	if (rc == 0 && job->junit && !*job->junit)
		return jc_yaml_error_at(c->err, n, JC_EINVALID, "junit results must not be empty");
	return rc;
}

static const char *condition_of(const char *when)
{
	static const char *const words[][2] = {
		{ "success", "SUCCESS" },
		{ "unstable", "UNSTABLE" },
		{ "unstable-or-better", "UNSTABLE_OR_BETTER" },
		{ "unstable-or-worse", "UNSTABLE_OR_WORSE" },
		{ "failed", "FAILED" },
		{ "failed-or-better", "FAILED_OR_BETTER" },
		{ "always", "ALWAYS" },
	};
	char w[32];
	size_t i;
	for (i = 0; when[i] && i < sizeof(w) - 1; i++)
		w[i] = when[i] == '_' ? '-' : (char)tolower((unsigned char)when[i]);
	w[i] = '\0';
	for (i = 0; i < JC_ARRAY_LEN(words); i++)
		if (strcmp(w, words[i][0]) == 0)
			return words[i][1];
	return NULL;
}

static int parse_downstream_one(const struct ctx *c, const jc_yaml_node *n, jc_job_downstream *d)
{
	struct ctx dc = *c;
	const jc_yaml_node *x;
	char *s;
	int rc;

	if ((rc = jc_yaml_expect(n, JC_YAML_MAPPING, "a downstream trigger", c->err)) < 0 ||
	    (rc = jc_yaml_check_keys(n, downstream_keys, JC_ARRAY_LEN(downstream_keys),
				     "a downstream trigger", c->err)) < 0)
		return rc;
	dc.body = n;
	dc.defaults = NULL;
	x = jc_yaml_get(n, "job");
	if (!x)
		return jc_yaml_error_at(c->err, n, JC_EINVALID, "a downstream trigger needs job: the job(s) to start");
	for (size_t i = 0; i < (jc_yaml_type_of(x) == JC_YAML_SEQUENCE ? jc_yaml_size(x) : 1); i++) {
		const jc_yaml_node *item = jc_yaml_type_of(x) == JC_YAML_SEQUENCE ? jc_yaml_item(x, i) : x;
		if ((rc = jc_jobs_subst(c->vars, item, "downstream job", &s, c->err)) < 0)
			return rc;
		/* in a template, a job that comes out empty drops out, so that one
		 * template can also make the last job of a chain (next: "") */
		if (!*s && c->vars) {
			free(s);
			continue;
		}
		jc_strv_push_owned(&d->jobs, s);
		if ((rc = jc_job_check_name(item, s, c->err)) < 0)
			return rc;
	}
	if (d->jobs.n == 0 && !c->vars)
		return jc_yaml_error_at(c->err, x, JC_EINVALID, "downstream job list is empty");
	d->condition = "SUCCESS";
	if ((x = jc_yaml_get(n, "when")) != NULL) {
		if ((rc = jc_jobs_subst(c->vars, x, "when", &s, c->err)) < 0)
			return rc;
		d->condition = condition_of(s);
		if (!d->condition)
			rc = jc_yaml_error_at(c->err, x, JC_EINVALID,
					      "when must be success, unstable, unstable-or-better, "
					      "unstable-or-worse, failed, failed-or-better or always, not \"%s\"", s);
		free(s);
		if (rc < 0)
			return rc;
	}
	if ((x = jc_yaml_get(n, "parameters")) != NULL) {
		jc_buf b = JC_BUF_INIT;
		if ((rc = jc_yaml_expect(x, JC_YAML_MAPPING, "downstream parameters (NAME: value)", c->err)) < 0)
			return rc;
		for (size_t i = 0; i < jc_yaml_size(x); i++) {
			char *k, *v;
			if ((rc = jc_jobs_subst(c->vars, jc_yaml_key(x, i), "parameter name", &k, c->err)) < 0) {
				jc_buf_free(&b);
				return rc;
			}
			if ((rc = jc_jobs_subst(c->vars, jc_yaml_value(x, i), "parameter value", &v, c->err)) < 0) {
				free(k);
				jc_buf_free(&b);
				return rc;
			}
			if (strchr(v, '\n'))
				rc = jc_yaml_error_at(c->err, jc_yaml_value(x, i), JC_EINVALID,
						      "downstream parameter %s must be one line", k);
			jc_buf_printf(&b, "%s=%s\n", k, v);
			free(k);
			free(v);
			if (rc < 0) {
				jc_buf_free(&b);
				return rc;
			}
		}
		d->predefined = jc_buf_detach(&b);
	}
	if ((rc = get_str(&dc, "property-file", &d->property_file)) < 0)
		return rc;
	d->fail_on_missing = true;
	if ((rc = field_bool(&dc, "fail-on-missing", &d->fail_on_missing)) < 0 ||
	    (rc = field_bool(&dc, "current-parameters", &d->current)) < 0 ||
	    (rc = field_bool(&dc, "trigger-without-parameters", &d->without_params)) < 0)
		return rc;
	if (jc_yaml_get(n, "fail-on-missing") && !d->property_file)
		return jc_yaml_error_at(c->err, jc_yaml_get(n, "fail-on-missing"), JC_EINVALID,
					"fail-on-missing only means something with property-file");
	return 0;
}

static int parse_downstream(const struct ctx *c, const jc_yaml_node *n, jc_job *job)
{
	int rc = jc_yaml_expect(n, JC_YAML_SEQUENCE, "downstream (a list of triggers)", c->err);
	if (rc < 0)
		return rc;
	job->n_downstream = jc_yaml_size(n);
	job->downstream = jc_calloc(job->n_downstream ? job->n_downstream : 1, sizeof(*job->downstream));
	for (size_t i = 0; i < job->n_downstream; i++)
		if ((rc = parse_downstream_one(c, jc_yaml_item(n, i), &job->downstream[i])) < 0)
			return rc;
	/* triggers left without a job (see above) are no triggers */
	size_t kept = 0;
	for (size_t i = 0; i < job->n_downstream; i++) {
		if (job->downstream[i].jobs.n)
			job->downstream[kept++] = job->downstream[i];
		else {
			free(job->downstream[i].predefined);
			free(job->downstream[i].property_file);
		}
	}
	job->n_downstream = kept;
	return 0;
}

/* Everything but the name, from the body (and the defaults). */
static int parse_job_body(const struct ctx *c, jc_job *job)
{
	const jc_yaml_node *n;
	char *s = NULL;
	bool b;
	int rc;

	job->disabled = -1;
	job->keep_builds = -1;
	if ((rc = get_str(c, "description", &job->description)) < 0 ||
	    (rc = get_str(c, "node", &job->node)) < 0 ||
	    (rc = field_bool(c, "concurrent", &job->concurrent)) < 0 ||
	    (rc = field_bool(c, "block-downstream", &job->block_downstream)) < 0 ||
	    (rc = field_bool(c, "block-upstream", &job->block_upstream)) < 0 ||
	    (rc = field_bool(c, "timestamps", &job->timestamps)) < 0 ||
	    (rc = get_str(c, "on-abort", &job->on_abort)) < 0)
		return rc;
	if (job->node && !*job->node) {
		free(job->node);
		job->node = NULL;
	}
	if ((n = field(c, "disabled")) != NULL) {
		if ((rc = get_bool(c, n, "disabled", &b)) < 0)
			return rc;
		job->disabled = b;
	}
	if ((n = field(c, "keep-builds")) != NULL) {
		if ((rc = jc_jobs_subst(c->vars, n, "keep-builds", &s, c->err)) < 0)
			return rc;
		if (!jc_parse_long(s, &job->keep_builds) || job->keep_builds < 1 || job->keep_builds > 1000000)
			rc = jc_yaml_error_at(c->err, n, JC_EINVALID,
					      "keep-builds must be a whole number of builds from 1, not \"%s\"", s);
		free(s);
		if (rc < 0)
			return rc;
	}
	if ((n = field(c, "timer")) != NULL) {
		if ((rc = jc_jobs_subst(c->vars, n, "timer", &job->timer, c->err)) < 0 ||
		    (rc = check_cron(n, job->timer, c->err)) < 0)
			return rc;
	}
	if ((n = field(c, "parameters")) != NULL && (rc = parse_params(c, n, job)) < 0)
		return rc;
	if ((n = field(c, "shell")) != NULL) {
		if (jc_yaml_type_of(n) == JC_YAML_SEQUENCE) {
			for (size_t i = 0; i < jc_yaml_size(n); i++) {
				if ((rc = jc_jobs_subst(c->vars, jc_yaml_item(n, i), "shell", &s, c->err)) < 0)
					return rc;
				jc_strv_push_owned(&job->shell, s);
			}
		} else {
			if ((rc = jc_jobs_subst(c->vars, n, "shell", &s, c->err)) < 0)
				return rc;
			jc_strv_push_owned(&job->shell, s);
		}
	}
	if ((n = field(c, "junit")) != NULL && (rc = parse_junit(c, n, job)) < 0)
		return rc;
	if ((n = field(c, "timeout")) != NULL && (rc = get_minutes(c, n, "timeout", &job->timeout_minutes)) < 0)
		return rc;
	if ((n = field(c, "timeout-action")) != NULL) {
		if ((rc = jc_jobs_subst(c->vars, n, "timeout-action", &s, c->err)) < 0)
			return rc;
		if (strcmp(s, "fail") == 0)
			job->timeout_fail = true;
		else if (strcmp(s, "abort") != 0)
			rc = jc_yaml_error_at(c->err, n, JC_EINVALID,
					      "timeout-action must be abort (the build ends ABORTED and on-abort "
					      "runs) or fail, not \"%s\"", s);
		free(s);
		if (rc < 0)
			return rc;
		if (!field(c, "timeout"))
			return jc_yaml_error_at(c->err, n, JC_EINVALID, "timeout-action without a timeout");
	}
	if ((n = field(c, "downstream")) != NULL && (rc = parse_downstream(c, n, job)) < 0)
		return rc;
	return 0;
}

void jc_job_clear(jc_job *job)
{
	free(job->name);
	free(job->description);
	free(job->node);
	free(job->timer);
	for (size_t i = 0; i < job->n_params; i++) {
		free(job->params[i].name);
		free(job->params[i].description);
		free(job->params[i].default_value);
	}
	free(job->params);
	jc_strv_free(&job->shell);
	free(job->junit);
	for (size_t i = 0; i < job->n_downstream; i++) {
		jc_strv_free(&job->downstream[i].jobs);
		free(job->downstream[i].predefined);
		free(job->downstream[i].property_file);
	}
	free(job->downstream);
	free(job->on_abort);
	free(job->file);
	free(job->xml);
	memset(job, 0, sizeof(*job));
}

int jc_job_parse(jc_job *job, const jc_jobs_vars *vars, const jc_yaml_node *body, const jc_yaml_node *defaults,
		 jc_error *err)
{
	struct ctx c = { vars, body, defaults, err };
	return parse_job_body(&c, job);
}
