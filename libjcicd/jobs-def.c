/* jobs-def.c - job definition files: includes, defaults, templates,
 * projects that instantiate them (lists expand, like Jenkins Job Builder)
 * and concrete jobs, loaded into a job set with file:line:col errors.  A
 * job's own fields are read by jobs-job.c, variables by jobs-vars.c. */
#include "common.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "jcicd/config.h"
#include "jcicd/yaml.h"
#include "jobs-internal.h"

#define MAX_INCLUDE_DEPTH 8
#define MAX_JOBS_PER_TEMPLATE 100000

static const char *const file_keys[] = {
	"set", "jenkins", "include", "defaults", "templates", "jobs", "projects",
};
static const char *const jenkins_keys[] = { "url", "user", "token-file" };

/* ---- the loader */

struct tmpl {
	const char *key;
	const jc_yaml_node *key_node;
	const jc_yaml_node *body;
};

enum unit_kind { UNIT_JOB, UNIT_PROJECT };

struct unit {
	enum unit_kind kind;
	const jc_yaml_node *key;    /* the job or project name */
	const jc_yaml_node *body;
};

struct loader {
	jc_jobs *set;
	jc_yaml_doc **docs;
	size_t n_docs;
	jc_strv files;                 /* include stack, for cycles */
	const jc_yaml_node *defaults;
	const jc_yaml_node *set_node, *jenkins_node;
	struct tmpl *tmpls;
	size_t n_tmpls, cap_tmpls;
	struct unit *units;
	size_t n_units, cap_units;
	/* job names, open addressing, for duplicates and downstream checks */
	size_t *slots;                 /* index + 1 into set->jobs; 0 empty */
	size_t n_slots;
	const jc_logger *logger;
	jc_error *err;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static void slots_grow(struct loader *L)
{
	size_t n = L->n_slots ? L->n_slots * 2 : 256;
	size_t *s = jc_calloc(n, sizeof(*s));
	for (size_t i = 0; i < L->set->n; i++) {
		size_t h = (size_t)(hash_str(L->set->jobs[i].name) & (n - 1));
		while (s[h])
			h = (h + 1) & (n - 1);
		s[h] = i + 1;
	}
	free(L->slots);
	L->slots = s;
	L->n_slots = n;
}

static const jc_job *find_job(const struct loader *L, const char *name)
{
	if (!L->n_slots)
		return NULL;
	size_t h = (size_t)(hash_str(name) & (L->n_slots - 1));
	while (L->slots[h]) {
		const jc_job *j = &L->set->jobs[L->slots[h] - 1];
		if (strcmp(j->name, name) == 0)
			return j;
		h = (h + 1) & (L->n_slots - 1);
	}
	return NULL;
}

/* Takes the job into the set (rendering its XML), or fails on a duplicate. */
static int add_job(struct loader *L, jc_job *job, const jc_yaml_node *where)
{
	const jc_job *dup = find_job(L, job->name);
	int rc;
	if (dup) {
		if (jc_str_eq(dup->file, jc_yaml_file(where)) && dup->line == jc_yaml_line(where) &&
		    dup->column == jc_yaml_column(where))
			rc = jc_yaml_error_at(L->err, where, JC_EINVALID,
					      "job \"%s\" is made twice here: two combinations of the variables "
					      "give the same name", job->name);
		else
			rc = jc_yaml_error_at(L->err, where, JC_EINVALID,
					      "job \"%s\" is defined twice (first at %s:%d:%d)", job->name, dup->file,
					      dup->line, dup->column);
		jc_job_clear(job);
		return rc;
	}
	job->file = jc_strdup(jc_yaml_file(where));
	job->line = jc_yaml_line(where);
	job->column = jc_yaml_column(where);
	if ((rc = jc_job_render(job, L->set->set_name, L->err)) < 0) {
		jc_job_clear(job);
		return rc;
	}
	if (L->set->n == L->set->cap) {
		L->set->cap = L->set->cap ? L->set->cap * 2 : 64;
		L->set->jobs = jc_realloc(L->set->jobs, L->set->cap * sizeof(*L->set->jobs));
	}
	L->set->jobs[L->set->n++] = *job;
	memset(job, 0, sizeof(*job));
	if (L->set->n * 2 > L->n_slots)
		slots_grow(L);
	else {
		size_t h = (size_t)(hash_str(L->set->jobs[L->set->n - 1].name) & (L->n_slots - 1));
		while (L->slots[h])
			h = (h + 1) & (L->n_slots - 1);
		L->slots[h] = L->set->n;
	}
	return 0;
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return jc_strdup(".");
	return slash == path ? jc_strdup("/") : jc_strndup(path, (size_t)(slash - path));
}

static char *resolve(const char *path, const char *relative_to_file)
{
	char *dir, *p;
	if (path[0] == '/' || !strchr(relative_to_file, '/'))
		return jc_strdup(path);
	dir = dir_of(relative_to_file);
	p = jc_path_join(dir, path);
	free(dir);
	return p;
}

static int load_file(struct loader *L, const char *path, const jc_yaml_node *from);

static int collect_mapping(struct loader *L, const jc_yaml_node *map, const char *what, bool is_templates)
{
	int rc = jc_yaml_expect(map, JC_YAML_MAPPING, what, L->err);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < jc_yaml_size(map); i++) {
		const jc_yaml_node *k = jc_yaml_key(map, i), *v = jc_yaml_value(map, i);
		if (jc_yaml_type_of(k) != JC_YAML_SCALAR)
			return jc_yaml_error_at(L->err, k, JC_EINVALID, "names in %s must be strings", what);
		if (jc_yaml_type_of(v) != JC_YAML_MAPPING && jc_yaml_type_of(v) != JC_YAML_NULL)
			return jc_yaml_error_at(L->err, v, JC_EINVALID, "%s \"%s\" must be a mapping, not %s",
						is_templates ? "template" : "job", jc_yaml_scalar(k),
						jc_yaml_type_name(jc_yaml_type_of(v)));
		if (is_templates) {
			for (size_t t = 0; t < L->n_tmpls; t++)
				if (strcmp(L->tmpls[t].key, jc_yaml_scalar(k)) == 0)
					return jc_yaml_error_at(L->err, k, JC_EINVALID,
								"template \"%s\" is defined twice (first at %s:%d:%d)",
								jc_yaml_scalar(k), jc_yaml_file(L->tmpls[t].key_node),
								jc_yaml_line(L->tmpls[t].key_node),
								jc_yaml_column(L->tmpls[t].key_node));
			if (L->n_tmpls == L->cap_tmpls) {
				L->cap_tmpls = L->cap_tmpls ? L->cap_tmpls * 2 : 16;
				L->tmpls = jc_realloc(L->tmpls, L->cap_tmpls * sizeof(*L->tmpls));
			}
			L->tmpls[L->n_tmpls].key = jc_yaml_scalar(k);
			L->tmpls[L->n_tmpls].key_node = k;
			L->tmpls[L->n_tmpls].body = v;
			L->n_tmpls++;
		} else {
			if (L->n_units == L->cap_units) {
				L->cap_units = L->cap_units ? L->cap_units * 2 : 16;
				L->units = jc_realloc(L->units, L->cap_units * sizeof(*L->units));
			}
			L->units[L->n_units].kind = strcmp(what, "projects") == 0 ? UNIT_PROJECT : UNIT_JOB;
			L->units[L->n_units].key = k;
			L->units[L->n_units].body = v;
			L->n_units++;
		}
	}
	return 0;
}

static int read_jenkins(struct loader *L, const jc_yaml_node *n)
{
	const jc_yaml_node *x;
	const char *s;
	int rc;
	if ((rc = jc_yaml_expect(n, JC_YAML_MAPPING, "jenkins", L->err)) < 0 ||
	    (rc = jc_yaml_check_keys(n, jenkins_keys, JC_ARRAY_LEN(jenkins_keys), "jenkins", L->err)) < 0)
		return rc;
	if ((x = jc_yaml_get(n, "url")) != NULL) {
		if ((rc = jc_yaml_get_string(x, "jenkins.url", &s, L->err)) < 0)
			return rc;
		if (!jc_str_starts(s, "http://") && !jc_str_starts(s, "https://"))
			return jc_yaml_error_at(L->err, x, JC_EINVALID, "jenkins.url must start with http:// or https://");
		L->set->url = jc_strdup(s);
	}
	if ((x = jc_yaml_get(n, "user")) != NULL) {
		if ((rc = jc_yaml_get_string(x, "jenkins.user", &s, L->err)) < 0)
			return rc;
		L->set->user = jc_strdup(s);
	}
	if ((x = jc_yaml_get(n, "token-file")) != NULL) {
		if ((rc = jc_yaml_get_string(x, "jenkins.token-file", &s, L->err)) < 0)
			return rc;
		L->set->token_file = resolve(s, jc_yaml_file(x));
	}
	return 0;
}

static int check_set_name(const jc_yaml_node *where, const char *s, jc_error *err)
{
	if (!*s || strstr(s, "--"))
		goto bad;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
			goto bad;
	return 0;
bad:
	return jc_yaml_error_at(err, where, JC_EINVALID,
				"set must be letters, digits, '.', '_' and single '-', not \"%s\"", s);
}

/* Pass 1: a definition (a file, or the jobs section of jcicd.yaml). */
static int collect(struct loader *L, const jc_yaml_node *root)
{
	const jc_yaml_node *n;
	int rc;

	if (jc_yaml_type_of(root) == JC_YAML_NULL)
		return 0;
	if (jc_yaml_type_of(root) == JC_YAML_SEQUENCE)
		return jc_yaml_error_at(L->err, root, JC_EINVALID,
					"a job definition is a mapping (set, defaults, templates, jobs, projects, "
					"...); a list of job, job-template and project items is Jenkins Job "
					"Builder's format");
	if ((rc = jc_yaml_expect(root, JC_YAML_MAPPING, "a job definition", L->err)) < 0 ||
	    (rc = jc_yaml_check_keys(root, file_keys, JC_ARRAY_LEN(file_keys), "a job definition", L->err)) < 0)
		return rc;
	for (size_t i = 0; i < jc_yaml_size(root); i++) {
		const char *key = jc_yaml_scalar(jc_yaml_key(root, i));
		n = jc_yaml_value(root, i);
		if (jc_yaml_type_of(n) == JC_YAML_NULL)
			continue;
		if (strcmp(key, "set") == 0 || strcmp(key, "jenkins") == 0) {
			const jc_yaml_node **first = strcmp(key, "set") == 0 ? &L->set_node : &L->jenkins_node;
			/* once, in whichever file: jcicd.yaml may include a whole definition */
			if (*first)
				return jc_yaml_error_at(L->err, n, JC_EINVALID, "%s is given twice (first at %s:%d:%d)",
							key, jc_yaml_file(*first), jc_yaml_line(*first),
							jc_yaml_column(*first));
			*first = n;
			if (strcmp(key, "jenkins") == 0)
				rc = read_jenkins(L, n);
			else {
				const char *s;
				if ((rc = jc_yaml_get_string(n, "set", &s, L->err)) == 0 &&
				    (rc = check_set_name(n, s, L->err)) == 0) {
					free(L->set->set_name);
					L->set->set_name = jc_strdup(s);
				}
			}
		} else if (strcmp(key, "include") == 0) {
			if (jc_yaml_type_of(n) == JC_YAML_SEQUENCE) {
				for (size_t j = 0; j < jc_yaml_size(n) && rc == 0; j++) {
					const char *p;
					if ((rc = jc_yaml_get_string(jc_yaml_item(n, j), "include", &p, L->err)) == 0) {
						char *full = resolve(p, jc_yaml_file(n));
						rc = load_file(L, full, jc_yaml_item(n, j));
						free(full);
					}
				}
			} else {
				const char *p;
				if ((rc = jc_yaml_get_string(n, "include", &p, L->err)) == 0) {
					char *full = resolve(p, jc_yaml_file(n));
					rc = load_file(L, full, n);
					free(full);
				}
			}
		} else if (strcmp(key, "defaults") == 0) {
			if (L->defaults)
				return jc_yaml_error_at(L->err, n, JC_EINVALID, "defaults are given twice (first at %s:%d:%d)",
							jc_yaml_file(L->defaults), jc_yaml_line(L->defaults),
							jc_yaml_column(L->defaults));
			if ((rc = jc_yaml_expect(n, JC_YAML_MAPPING, "defaults", L->err)) == 0)
				rc = jc_yaml_check_keys(n, jc_job_keys, jc_job_n_keys, "defaults", L->err);
			L->defaults = n;
		} else if (strcmp(key, "templates") == 0) {
			rc = collect_mapping(L, n, "templates", true);
		} else if (strcmp(key, "jobs") == 0) {
			rc = collect_mapping(L, n, "jobs", false);
		} else if (strcmp(key, "projects") == 0) {
			rc = collect_mapping(L, n, "projects", false);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int load_file(struct loader *L, const char *path, const jc_yaml_node *from)
{
	jc_yaml_doc *doc;
	int rc;
	if (L->files.n >= MAX_INCLUDE_DEPTH)
		return jc_yaml_error_at(L->err, from, JC_EINVALID, "includes nest deeper than %d files",
					MAX_INCLUDE_DEPTH);
	if (jc_strv_contains(&L->files, path))
		return jc_yaml_error_at(L->err, from, JC_EINVALID, "%s includes itself", path);
	if ((rc = jc_yaml_load_file(&doc, path, L->err)) < 0) {
		if (from && L->err && L->err->line == 0) {
			/* the file itself is missing or unreadable: say where it was named */
			char msg[JC_ERROR_MESSAGE_MAX];
			jc_strlcpy(msg, L->err->message, sizeof(msg));
			return jc_yaml_error_at(L->err, from, rc, "cannot include %s: %s", path, msg);
		}
		if (from)
			jc_err_prefix(L->err, "(included from %s:%d:%d)", jc_yaml_file(from), jc_yaml_line(from),
				      jc_yaml_column(from));
		return rc;
	}
	L->docs = jc_realloc(L->docs, (L->n_docs + 1) * sizeof(*L->docs));
	L->docs[L->n_docs++] = doc;
	jc_strv_push(&L->files, path);
	rc = collect(L, jc_yaml_root(doc));
	free(L->files.v[--L->files.n]);
	return rc;
}

/* Pass 2: concrete jobs. */
static int make_job(struct loader *L, const struct unit *u)
{
	jc_job job;
	int rc;

	memset(&job, 0, sizeof(job));
	if (jc_yaml_type_of(u->body) == JC_YAML_MAPPING &&
	    (rc = jc_yaml_check_keys(u->body, jc_job_keys, jc_job_n_keys, "a job", L->err)) < 0)
		return rc;
	job.name = jc_strdup(jc_yaml_scalar(u->key));
	if ((rc = jc_job_check_name(u->key, job.name, L->err)) < 0 ||
	    (rc = jc_job_parse(&job, NULL, u->body, L->defaults, L->err)) < 0) {
		jc_job_clear(&job);
		return rc;
	}
	return add_job(L, &job, u->key);
}

static const struct tmpl *find_template(const struct loader *L, const char *key)
{
	for (size_t i = 0; i < L->n_tmpls; i++)
		if (strcmp(L->tmpls[i].key, key) == 0)
			return &L->tmpls[i];
	return NULL;
}

static int template_missing(struct loader *L, const jc_yaml_node *where, const char *key)
{
	const char **names = jc_calloc(L->n_tmpls + 1, sizeof(*names));
	for (size_t i = 0; i < L->n_tmpls; i++)
		names[i] = L->tmpls[i].key;
	const char *hint = jc_str_suggest(key, names, L->n_tmpls);
	int rc = hint ? jc_yaml_error_at(L->err, where, JC_EINVALID,
					 "no template \"%s\"; did you mean \"%s\"?", key, hint)
		      : jc_yaml_error_at(L->err, where, JC_EINVALID, "no template \"%s\" is defined", key);
	free(names);
	return rc;
}

/* Adds name=value variables of a mapping (project keys, per-job values,
 * template vars) below the ones already set. */
static int add_vars(struct loader *L, jc_jobs_vars *vs, const jc_yaml_node *map, const char *skip)
{
	for (size_t i = 0; i < jc_yaml_size(map); i++) {
		const jc_yaml_node *k = jc_yaml_key(map, i), *v = jc_yaml_value(map, i);
		if (jc_yaml_type_of(k) != JC_YAML_SCALAR)
			return jc_yaml_error_at(L->err, k, JC_EINVALID, "variable names must be strings");
		if (skip && strcmp(jc_yaml_scalar(k), skip) == 0)
			continue;
		for (const char *p = jc_yaml_scalar(k); *p; p++)
			if (!jc_jobs_is_ident(*p))
				return jc_yaml_error_at(L->err, k, JC_EINVALID,
							"variable name \"%s\" must be letters, digits, _ and -",
							jc_yaml_scalar(k));
		if (jc_yaml_type_of(v) == JC_YAML_MAPPING)
			return jc_yaml_error_at(L->err, v, JC_EINVALID,
						"variable %s must be a value or a list of values, not a mapping",
						jc_yaml_scalar(k));
		if (jc_yaml_type_of(v) == JC_YAML_SEQUENCE) {
			if (jc_yaml_size(v) == 0)
				return jc_yaml_error_at(L->err, v, JC_EINVALID,
							"variable %s is an empty list (it would make no jobs)",
							jc_yaml_scalar(k));
			for (size_t j = 0; j < jc_yaml_size(v); j++)
				if (jc_yaml_type_of(jc_yaml_item(v, j)) != JC_YAML_SCALAR)
					return jc_yaml_error_at(L->err, jc_yaml_item(v, j), JC_EINVALID,
								"values of variable %s must be plain values",
								jc_yaml_scalar(k));
		}
		jc_jobs_vars_set(vs, jc_yaml_scalar(k), v,
			 jc_yaml_type_of(v) == JC_YAML_SEQUENCE ? NULL : jc_yaml_scalar(v));
	}
	return 0;
}

/* One job of a template with every variable chosen. */
static int instantiate(struct loader *L, const struct tmpl *t, const jc_jobs_vars *vs,
		       const jc_yaml_node *where, const char *project)
{
	const jc_yaml_node *name_node = jc_yaml_get(t->body, "name");
	jc_job job;
	int rc;

	memset(&job, 0, sizeof(job));
	/* without a name, the template's key is its job name pattern */
	if (name_node)
		rc = jc_jobs_subst(vs, name_node, "name", &job.name, L->err);
	else
		rc = jc_jobs_subst_text(vs, t->key, t->key_node, "the template name", &job.name, L->err, 0);
	if (rc == 0)
		rc = jc_job_check_name(name_node ? name_node : where, job.name, L->err);
	if (rc == 0)
		rc = jc_job_parse(&job, vs, t->body, L->defaults, L->err);
	if (rc < 0) {
		if (job.name)
			jc_err_prefix(L->err, "job %s (template %s, project %s)", job.name, t->key, project);
		else
			jc_err_prefix(L->err, "template %s, project %s", t->key, project);
		jc_job_clear(&job);
		return rc;
	}
	return add_job(L, &job, where);
}

/* Every combination of the list-valued variables, first list outermost. */
static int expand(struct loader *L, const struct tmpl *t, jc_jobs_vars *vs, size_t axis,
		  const jc_yaml_node *where, const char *project, size_t *made)
{
	while (axis < vs->n && jc_yaml_type_of(vs->v[axis].value) != JC_YAML_SEQUENCE)
		axis++;
	if (axis == vs->n) {
		if (++*made > MAX_JOBS_PER_TEMPLATE)
			return jc_yaml_error_at(L->err, where, JC_EINVALID,
						"template %s expands to more than %d jobs", t->key,
						MAX_JOBS_PER_TEMPLATE);
		return instantiate(L, t, vs, where, project);
	}
	const jc_yaml_node *list = vs->v[axis].value;
	for (size_t i = 0; i < jc_yaml_size(list); i++) {
		vs->v[axis].text = jc_yaml_scalar(jc_yaml_item(list, i));
		int rc = expand(L, t, vs, axis + 1, where, project, made);
		if (rc < 0)
			return rc;
	}
	vs->v[axis].text = NULL;
	return 0;
}

static int make_project(struct loader *L, const struct unit *u)
{
	static const char *const needs = "a project needs jobs: a list of templates to instantiate";
	const jc_yaml_node *list;
	const char *project = jc_yaml_scalar(u->key);
	int rc;

	if (jc_yaml_type_of(u->body) != JC_YAML_MAPPING)
		return jc_yaml_error_at(L->err, u->key, JC_EINVALID, "%s", needs);
	list = jc_yaml_get(u->body, "jobs");
	if (!list)
		return jc_yaml_error_at(L->err, u->key, JC_EINVALID, "%s", needs);
	if ((rc = jc_yaml_expect(list, JC_YAML_SEQUENCE, "jobs of a project (a list of templates)", L->err)) < 0)
		return rc;
	for (size_t i = 0; i < jc_yaml_size(list); i++) {
		const jc_yaml_node *item = jc_yaml_item(list, i), *tk = item, *own = NULL;
		const struct tmpl *t;
		jc_jobs_vars vs = { NULL, 0, 0 };
		size_t made = 0;

		if (jc_yaml_type_of(item) == JC_YAML_MAPPING) {
			if (jc_yaml_size(item) != 1)
				return jc_yaml_error_at(L->err, item, JC_EINVALID,
							"a project's job is a template name, or one template name "
							"with its variables: {TEMPLATE: {var: value}}");
			tk = jc_yaml_key(item, 0);
			own = jc_yaml_value(item, 0);
			if (jc_yaml_type_of(own) != JC_YAML_MAPPING && jc_yaml_type_of(own) != JC_YAML_NULL)
				return jc_yaml_error_at(L->err, own, JC_EINVALID,
							"the variables of %s must be a mapping", jc_yaml_scalar(tk));
		} else if (jc_yaml_type_of(item) != JC_YAML_SCALAR) {
			return jc_yaml_error_at(L->err, item, JC_EINVALID, "a project's job must name a template");
		}
		t = find_template(L, jc_yaml_scalar(tk));
		if (!t)
			return template_missing(L, tk, jc_yaml_scalar(tk));
		/* precedence: the job's own values, the project's, the template's vars, {name} */
		rc = 0;
		if (own && jc_yaml_type_of(own) == JC_YAML_MAPPING)
			rc = add_vars(L, &vs, own, NULL);
		if (rc == 0)
			rc = add_vars(L, &vs, u->body, "jobs");
		if (rc == 0 && jc_yaml_type_of(t->body) == JC_YAML_MAPPING) {
			const jc_yaml_node *tv = jc_yaml_get(t->body, "vars");
			if ((rc = jc_yaml_check_keys(t->body, jc_template_keys, jc_template_n_keys,
						     "a template", L->err)) == 0 && tv) {
				rc = jc_yaml_expect(tv, JC_YAML_MAPPING, "vars of a template", L->err);
				if (rc == 0)
					rc = add_vars(L, &vs, tv, NULL);
			}
		}
		if (rc == 0) {
			jc_jobs_vars_set(&vs, "name", u->key, project);
			rc = expand(L, t, &vs, 0, tk, project, &made);
		}
		free(vs.v);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static void warn_downstream(struct loader *L)
{
	if (!L->logger)
		return;
	for (size_t i = 0; i < L->set->n; i++) {
		const jc_job *j = &L->set->jobs[i];
		for (size_t d = 0; d < j->n_downstream; d++)
			for (size_t k = 0; k < j->downstream[d].jobs.n; k++)
				if (!find_job(L, j->downstream[d].jobs.v[k]))
					jc_log(L->logger, JC_LOG_WARN, "jobs",
					       "%s:%d:%d: job %s triggers %s, which this job set does not define",
					       j->file, j->line, j->column, j->name, j->downstream[d].jobs.v[k]);
	}
}

static void loader_free(struct loader *L)
{
	for (size_t i = 0; i < L->n_docs; i++)
		jc_yaml_free(L->docs[i]);
	free(L->docs);
	jc_strv_free(&L->files);
	free(L->tmpls);
	free(L->units);
	free(L->slots);
}

static int load(jc_jobs **out, const char *path, const jc_yaml_node *section,
		const jc_jobs_load_options *opts, jc_error *err)
{
	struct loader L;
	int rc;

	*out = NULL;
	if (opts && opts->version != JC_JOBS_LOAD_OPTIONS_VERSION)
		return jc_err(err, JC_EINVALID, "jc_jobs_load_options version %u is not supported", opts->version);
	jc_jobs_xml_init();
	memset(&L, 0, sizeof(L));
	L.set = jc_calloc(1, sizeof(*L.set));
	L.set->set_name = jc_strdup("jcicd");
	L.logger = opts ? opts->logger : NULL;
	L.err = err;
	rc = section ? collect(&L, section) : load_file(&L, path, NULL);
	for (size_t i = 0; rc == 0 && i < L.n_units; i++)
		rc = L.units[i].kind == UNIT_JOB ? make_job(&L, &L.units[i]) : make_project(&L, &L.units[i]);
	if (rc == 0)
		warn_downstream(&L);
	loader_free(&L);
	if (rc < 0) {
		jc_jobs_free(L.set);
		return rc;
	}
	*out = L.set;
	return 0;
}

int jc_jobs_load_file(jc_jobs **out, const char *path, const jc_jobs_load_options *opts, jc_error *err)
{
	return load(out, path, NULL, opts, err);
}

int jc_jobs_load_config(jc_jobs **out, const jc_config *config, const jc_jobs_load_options *opts,
			jc_error *err)
{
	const jc_yaml_node *section = jc_config_section(config, "jobs");
	*out = NULL;
	if (!section)
		return jc_err(err, JC_ENOTFOUND, "%s has no jobs section (or give a job definition file)",
			      jc_config_file(config) ? jc_config_file(config) : "there is no jcicd.yaml, so it");
	return load(out, NULL, section, opts, err);
}

void jc_jobs_free(jc_jobs *jobs)
{
	if (!jobs)
		return;
	for (size_t i = 0; i < jobs->n; i++)
		jc_job_clear(&jobs->jobs[i]);
	free(jobs->jobs);
	free(jobs->set_name);
	free(jobs->url);
	free(jobs->user);
	free(jobs->token_file);
	free(jobs);
}

size_t jc_jobs_count(const jc_jobs *jobs) { return jobs ? jobs->n : 0; }

const char *jc_jobs_name(const jc_jobs *jobs, size_t i)
{
	return jobs && i < jobs->n ? jobs->jobs[i].name : NULL;
}

const char *jc_jobs_xml(const jc_jobs *jobs, size_t i, size_t *len)
{
	if (!jobs || i >= jobs->n)
		return NULL;
	if (len)
		*len = jobs->jobs[i].xml_len;
	return jobs->jobs[i].xml;
}

const char *jc_jobs_set_name(const jc_jobs *jobs) { return jobs ? jobs->set_name : NULL; }

const char *jc_jobs_jenkins_setting(const jc_jobs *jobs, const char *key)
{
	if (!jobs || !key)
		return NULL;
	if (strcmp(key, "url") == 0)
		return jobs->url;
	if (strcmp(key, "user") == 0)
		return jobs->user;
	if (strcmp(key, "token-file") == 0)
		return jobs->token_file;
	return NULL;
}
