/* pipeline-def.c - the pipeline definition: parse and check it. */
#include "common.h"

#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <unistd.h>

#include "jcicd/pipeline.h"
#include "jcicd/yaml.h"

struct stage_storage {
	jc_stage_def pub;
	jc_test_def *tests;
	jc_measure_def *measures;
};

struct jc_pipeline {
	jc_yaml_doc *doc;           /* when loaded from its own file */
	jc_strv strings;            /* owns every string the definitions point at */
	struct stage_storage *stages;
	size_t n_stages;
	char *dir;
	char *snapshots_url;
};

static const char *const top_keys[] = { "stages", "snapshots_url" };
static const char *const stage_keys[] = {
	"name", "kind", "cloud", "spec", "mappings", "userdata", "override", "key_name", "stack",
	"waves", "max_failures", "requires_approval", "keep_on_failure", "promote", "timeouts",
	"tests", "measurements",
};
static const char *const timeout_keys[] = { "apply", "converge", "tests", "teardown" };
static const char *const test_keys[] = { "name", "run", "timeout" };
static const char *const measure_keys[] = { "name", "run", "unit", "threshold", "better", "timeout" };
static const char *const kinds[] = { "acceptance", "nonfunctional", "upgrade", "rollout" };

const char *jc_stage_kind_name(jc_stage_kind k)
{
	return (size_t)k < JC_ARRAY_LEN(kinds) ? kinds[k] : "?";
}

const char *jc_verdict_name(jc_verdict v)
{
	switch (v) {
	case JC_VERDICT_RUNNING: return "running";
	case JC_VERDICT_PASSED: return "passed";
	case JC_VERDICT_FAILED: return "failed";
	case JC_VERDICT_ERROR: return "error";
	case JC_VERDICT_SKIPPED: return "skipped";
	}
	return "?";
}

static const char *keep(jc_pipeline *p, const char *s)
{
	if (!s)
		return NULL;
	jc_strv_push(&p->strings, s);
	return p->strings.v[p->strings.n - 1];
}

static const char *keep_owned(jc_pipeline *p, char *s)
{
	if (!s)
		return NULL;
	jc_strv_push_owned(&p->strings, s);
	return s;
}

static char *resolve(const jc_pipeline *p, const char *path)
{
	if (path[0] == '/')
		return jc_strdup(path);
	return jc_path_join(p->dir, path);
}

static int get_str(const jc_yaml_node *map, const char *key, const char *what, const char **out,
		   jc_error *err)
{
	const jc_yaml_node *n = jc_yaml_get(map, key);
	char w[160];
	*out = NULL;
	if (!n || jc_yaml_type_of(n) == JC_YAML_NULL)
		return 0;
	snprintf(w, sizeof(w), "%s of %s", key, what);
	return jc_yaml_get_string(n, w, out, err);
}

static int get_duration(const jc_yaml_node *n, const char *what, long long *out, jc_error *err)
{
	long long ms;
	if (!n || jc_yaml_type_of(n) == JC_YAML_NULL)
		return 0;
	if (jc_yaml_type_of(n) != JC_YAML_SCALAR || !jc_parse_duration_ms(jc_yaml_scalar(n), &ms) || ms <= 0)
		return jc_yaml_error_at(err, n, JC_EINVALID,
					"%s must be a duration such as 90s, 15m or 2h, found \"%s\"", what,
					jc_yaml_scalar(n));
	*out = ms;
	return 0;
}

/* A path the stage needs: made absolute and checked to exist. */
static int get_path(jc_pipeline *p, const jc_yaml_node *map, const char *key, const char *what,
		    const char **out, jc_error *err)
{
	const char *s;
	int rc = get_str(map, key, what, &s, err);
	*out = NULL;
	if (rc < 0 || !s)
		return rc;
	char *full = resolve(p, s);
	if (!jc_path_exists(full)) {
		rc = jc_yaml_error_at(err, jc_yaml_get(map, key), JC_EINVALID, "%s of %s: %s does not exist",
				      key, what, full);
		free(full);
		return rc;
	}
	*out = keep_owned(p, full);
	return 0;
}

static int parse_tests(jc_pipeline *p, struct stage_storage *ss, const jc_yaml_node *list, jc_error *err)
{
	int rc;
	if (!list || jc_yaml_type_of(list) == JC_YAML_NULL)
		return 0;
	if ((rc = jc_yaml_expect(list, JC_YAML_SEQUENCE, "tests", err)) < 0)
		return rc;
	ss->tests = jc_calloc(jc_yaml_size(list) + 1, sizeof(*ss->tests));
	for (size_t i = 0; i < jc_yaml_size(list); i++) {
		const jc_yaml_node *t = jc_yaml_item(list, i);
		jc_test_def *d = &ss->tests[i];
		char what[160];
		snprintf(what, sizeof(what), "test %zu of stage %s", i + 1, ss->pub.name);
		if ((rc = jc_yaml_expect(t, JC_YAML_MAPPING, what, err)) < 0 ||
		    (rc = jc_yaml_check_keys(t, test_keys, JC_ARRAY_LEN(test_keys), what, err)) < 0 ||
		    (rc = get_str(t, "name", what, &d->name, err)) < 0 ||
		    (rc = get_str(t, "run", what, &d->run, err)) < 0)
			return rc;
		if (!d->run)
			return jc_yaml_error_at(err, t, JC_EINVALID, "%s has no run (the command)", what);
		if (!d->name)
			d->name = d->run;
		d->name = keep(p, d->name);
		d->run = keep(p, d->run);
		d->timeout_ms = 30LL * 60 * 1000;
		if ((rc = get_duration(jc_yaml_get(t, "timeout"), "timeout", &d->timeout_ms, err)) < 0)
			return rc;
		ss->pub.n_tests++;
	}
	ss->pub.tests = ss->tests;
	return 0;
}

static int parse_measurements(jc_pipeline *p, struct stage_storage *ss, const jc_yaml_node *list,
			      jc_error *err)
{
	int rc;
	if (!list || jc_yaml_type_of(list) == JC_YAML_NULL)
		return 0;
	if ((rc = jc_yaml_expect(list, JC_YAML_SEQUENCE, "measurements", err)) < 0)
		return rc;
	ss->measures = jc_calloc(jc_yaml_size(list) + 1, sizeof(*ss->measures));
	for (size_t i = 0; i < jc_yaml_size(list); i++) {
		const jc_yaml_node *t = jc_yaml_item(list, i);
		jc_measure_def *d = &ss->measures[i];
		const jc_yaml_node *thr, *better;
		char what[160];
		snprintf(what, sizeof(what), "measurement %zu of stage %s", i + 1, ss->pub.name);
		if ((rc = jc_yaml_expect(t, JC_YAML_MAPPING, what, err)) < 0 ||
		    (rc = jc_yaml_check_keys(t, measure_keys, JC_ARRAY_LEN(measure_keys), what, err)) < 0 ||
		    (rc = get_str(t, "name", what, &d->name, err)) < 0 ||
		    (rc = get_str(t, "run", what, &d->run, err)) < 0 ||
		    (rc = get_str(t, "unit", what, &d->unit, err)) < 0)
			return rc;
		if (!d->name || !d->run)
			return jc_yaml_error_at(err, t, JC_EINVALID, "%s needs a name and a run (the command)", what);
		d->name = keep(p, d->name);
		d->run = keep(p, d->run);
		d->unit = keep(p, d->unit);
		d->threshold_pct = 10.0;
		d->lower_is_better = true;
		d->timeout_ms = 30LL * 60 * 1000;
		thr = jc_yaml_get(t, "threshold");
		if (thr && jc_yaml_type_of(thr) != JC_YAML_NULL) {
			char *end;
			const char *s = jc_yaml_scalar(thr);
			double v = strtod(s, &end);
			if (jc_yaml_type_of(thr) != JC_YAML_SCALAR || end == s || (*end && strcmp(end, "%") != 0) ||
			    v < 0 || v > 1000)
				return jc_yaml_error_at(err, thr, JC_EINVALID,
							"threshold must be a percentage such as 10%% (0 to 1000), found \"%s\"", s);
			d->threshold_pct = v;
		}
		better = jc_yaml_get(t, "better");
		if (better && jc_yaml_type_of(better) != JC_YAML_NULL) {
			const char *b = jc_yaml_scalar(better);
			if (strcmp(b, "lower") == 0)
				d->lower_is_better = true;
			else if (strcmp(b, "higher") == 0)
				d->lower_is_better = false;
			else
				return jc_yaml_error_at(err, better, JC_EINVALID,
							"better must be \"lower\" or \"higher\", found \"%s\"", b);
		}
		if ((rc = get_duration(jc_yaml_get(t, "timeout"), "timeout", &d->timeout_ms, err)) < 0)
			return rc;
		ss->pub.n_measurements++;
	}
	ss->pub.measurements = ss->measures;
	return 0;
}

static int parse_kind(const jc_yaml_node *st, const char *name, jc_stage_kind *out, jc_error *err)
{
	const jc_yaml_node *k = jc_yaml_get(st, "kind");
	const char *word = k && jc_yaml_type_of(k) == JC_YAML_SCALAR ? jc_yaml_scalar(k) : NULL;
	if (!k) {
		/* the stage names of the original pipeline imply their kind */
		if (strcmp(name, "acceptance") == 0 || strcmp(name, "nonfunctional") == 0 ||
		    strcmp(name, "upgrade") == 0)
			word = name;
		else if (strcmp(name, "staging") == 0 || strcmp(name, "production") == 0)
			word = "rollout";
		else
			return jc_yaml_error_at(err, st, JC_EINVALID,
						"stage %s needs a kind (acceptance, nonfunctional, upgrade or rollout)",
						name);
	}
	for (size_t i = 0; word && i < JC_ARRAY_LEN(kinds); i++) {
		if (strcmp(word, kinds[i]) == 0) {
			*out = (jc_stage_kind)i;
			return 0;
		}
	}
	const char *hint = word ? jc_str_suggest(word, kinds, JC_ARRAY_LEN(kinds)) : NULL;
	return jc_yaml_error_at(err, k, JC_EINVALID,
				"kind of stage %s must be acceptance, nonfunctional, upgrade or rollout%s%s%s",
				name, hint ? "; did you mean \"" : "", hint ? hint : "", hint ? "\"?" : "");
}

static int parse_stage(jc_pipeline *p, struct stage_storage *ss, const jc_yaml_node *st, jc_error *err)
{
	jc_stage_def *d = &ss->pub;
	const char *name;
	char what[96];
	const jc_yaml_node *n, *timeouts;
	int rc;

	if ((rc = jc_yaml_expect(st, JC_YAML_MAPPING, "a stage", err)) < 0 ||
	    (rc = jc_yaml_check_keys(st, stage_keys, JC_ARRAY_LEN(stage_keys), "a stage", err)) < 0)
		return rc;
	n = jc_yaml_get(st, "name");
	if (!n)
		return jc_yaml_error_at(err, st, JC_EINVALID, "a stage needs a name");
	if ((rc = jc_yaml_get_string(n, "the name of a stage", &name, err)) < 0)
		return rc;
	for (const char *c = name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-'))
			return jc_yaml_error_at(err, n, JC_EINVALID,
						"stage name \"%s\": use lower-case letters, digits and '-'", name);
	d->name = keep(p, name);
	d->file = keep(p, jc_yaml_file(st));
	d->line = jc_yaml_line(st);
	snprintf(what, sizeof(what), "stage %s", name);
	if ((rc = parse_kind(st, name, &d->kind, err)) < 0)
		return rc;
	if ((rc = get_str(st, "cloud", what, &d->cloud, err)) < 0 ||
	    (rc = get_path(p, st, "spec", what, &d->spec, err)) < 0 ||
	    (rc = get_path(p, st, "mappings", what, &d->mappings, err)) < 0 ||
	    (rc = get_path(p, st, "userdata", what, &d->userdata, err)) < 0 ||
	    (rc = get_str(st, "override", what, &d->overrides, err)) < 0 ||
	    (rc = get_str(st, "key_name", what, &d->key_name, err)) < 0 ||
	    (rc = get_str(st, "stack", what, &d->stack, err)) < 0 ||
	    (rc = get_str(st, "waves", what, &d->waves, err)) < 0 ||
	    (rc = get_str(st, "promote", what, &d->promote, err)) < 0)
		return rc;
	d->cloud = keep(p, d->cloud);
	d->overrides = keep(p, d->overrides);
	d->key_name = keep(p, d->key_name);
	d->stack = keep(p, d->stack);
	d->waves = keep(p, d->waves ? d->waves : "1,50%,100%");
	d->promote = keep(p, d->promote);
	if (!d->spec)
		return jc_yaml_error_at(err, st, JC_EINVALID, "%s needs a spec (the resource spec of its stack)", what);
	if (d->kind == JC_STAGE_ROLLOUT && !d->stack)
		return jc_yaml_error_at(err, st, JC_EINVALID,
					"%s is a rollout: it needs the stack (tag) of its long-lived servers", what);
	if (d->kind != JC_STAGE_ROLLOUT && d->stack)
		return jc_yaml_error_at(err, jc_yaml_get(st, "stack"), JC_EINVALID,
					"%s builds a fresh stack for every run: stack applies to rollout stages only", what);
	n = jc_yaml_get(st, "max_failures");
	if (n && (rc = jc_yaml_get_int(n, "max_failures", 0, 1000000, &d->max_failures, err)) < 0)
		return rc;
	n = jc_yaml_get(st, "requires_approval");
	if (n && (rc = jc_yaml_get_bool(n, "requires_approval", &d->requires_approval, err)) < 0)
		return rc;
	n = jc_yaml_get(st, "keep_on_failure");
	if (n && (rc = jc_yaml_get_bool(n, "keep_on_failure", &d->keep_on_failure, err)) < 0)
		return rc;
	d->apply_timeout_ms = 30LL * 60 * 1000;
	d->converge_timeout_ms = 30LL * 60 * 1000;
	d->tests_timeout_ms = 60LL * 60 * 1000;
	d->teardown_timeout_ms = 10LL * 60 * 1000;
	timeouts = jc_yaml_get(st, "timeouts");
	if (timeouts && jc_yaml_type_of(timeouts) != JC_YAML_NULL) {
		if ((rc = jc_yaml_expect(timeouts, JC_YAML_MAPPING, "timeouts", err)) < 0 ||
		    (rc = jc_yaml_check_keys(timeouts, timeout_keys, JC_ARRAY_LEN(timeout_keys), "timeouts", err)) < 0 ||
		    (rc = get_duration(jc_yaml_get(timeouts, "apply"), "timeouts.apply", &d->apply_timeout_ms, err)) < 0 ||
		    (rc = get_duration(jc_yaml_get(timeouts, "converge"), "timeouts.converge", &d->converge_timeout_ms, err)) < 0 ||
		    (rc = get_duration(jc_yaml_get(timeouts, "tests"), "timeouts.tests", &d->tests_timeout_ms, err)) < 0 ||
		    (rc = get_duration(jc_yaml_get(timeouts, "teardown"), "timeouts.teardown", &d->teardown_timeout_ms, err)) < 0)
			return rc;
	}
	if ((rc = parse_tests(p, ss, jc_yaml_get(st, "tests"), err)) < 0 ||
	    (rc = parse_measurements(p, ss, jc_yaml_get(st, "measurements"), err)) < 0)
		return rc;
	if (d->kind == JC_STAGE_NONFUNCTIONAL && !d->n_measurements)
		return jc_yaml_error_at(err, st, JC_EINVALID, "%s is nonfunctional but measures nothing (measurements)",
					what);
	return 0;
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *d;
	if (!slash)
		d = jc_strdup(".");
	else
		d = slash == path ? jc_strdup("/") : jc_strndup(path, (size_t)(slash - path));
	char *abs = realpath(d, NULL);
	if (abs) {
		free(d);
		return abs;
	}
	return d;
}

static int parse(jc_pipeline *p, const jc_yaml_node *root, jc_error *err)
{
	const jc_yaml_node *stages;
	const char *url;
	int rc;

	if ((rc = jc_yaml_expect(root, JC_YAML_MAPPING, "the pipeline", err)) < 0 ||
	    (rc = jc_yaml_check_keys(root, top_keys, JC_ARRAY_LEN(top_keys), "the pipeline", err)) < 0 ||
	    (rc = get_str(root, "snapshots_url", "the pipeline", &url, err)) < 0)
		return rc;
	p->snapshots_url = jc_strdup(url);
	stages = jc_yaml_get(root, "stages");
	if (!stages || jc_yaml_type_of(stages) != JC_YAML_SEQUENCE || !jc_yaml_size(stages))
		return jc_yaml_error_at(err, stages ? stages : root, JC_EINVALID,
					"the pipeline needs stages: a list of stages, in order");
	p->stages = jc_calloc(jc_yaml_size(stages), sizeof(*p->stages));
	for (size_t i = 0; i < jc_yaml_size(stages); i++) {
		rc = parse_stage(p, &p->stages[i], jc_yaml_item(stages, i), err);
		p->n_stages++;
		if (rc < 0)
			return rc;
		for (size_t j = 0; j < i; j++)
			if (strcmp(p->stages[j].pub.name, p->stages[i].pub.name) == 0)
				return jc_yaml_error_at(err, jc_yaml_item(stages, i), JC_EINVALID,
							"two stages are named %s (the first at line %d)",
							p->stages[i].pub.name, p->stages[j].pub.line);
	}
	return 0;
}

int jc_pipeline_load(jc_pipeline **out, const jc_config *config, const char *path, jc_error *err)
{
	jc_pipeline *p;
	const jc_yaml_node *root;
	int rc;

	*out = NULL;
	p = jc_calloc(1, sizeof(*p));
	if (path) {
		if ((rc = jc_yaml_load_file(&p->doc, path, err)) < 0) {
			jc_pipeline_free(p);
			return rc;
		}
		root = jc_yaml_root(p->doc);
		/* a file may hold the section itself or a whole jcicd.yaml-like
		 * mapping with a pipeline key */
		if (jc_yaml_get(root, "pipeline"))
			root = jc_yaml_get(root, "pipeline");
		p->dir = dir_of(path);
	} else {
		root = jc_config_section(config, "pipeline");
		if (!root) {
			jc_pipeline_free(p);
			return jc_err(err, JC_EINVALID, "no pipeline is defined: add a pipeline section to %s, or "
				      "give --pipeline FILE",
				      jc_config_file(config) ? jc_config_file(config) : "jcicd.yaml");
		}
		p->dir = dir_of(jc_config_file(config));
	}
	rc = parse(p, root, err);
	if (rc < 0) {
		jc_pipeline_free(p);
		return rc;
	}
	/* every definition is copied: the YAML tree is no longer needed */
	jc_yaml_free(p->doc);
	p->doc = NULL;
	*out = p;
	return 0;
}

void jc_pipeline_free(jc_pipeline *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_stages; i++) {
		free(p->stages[i].tests);
		free(p->stages[i].measures);
	}
	free(p->stages);
	jc_strv_free(&p->strings);
	jc_yaml_free(p->doc);
	free(p->dir);
	free(p->snapshots_url);
	free(p);
}

size_t jc_pipeline_stage_count(const jc_pipeline *p) { return p->n_stages; }

const jc_stage_def *jc_pipeline_stage(const jc_pipeline *p, size_t i)
{
	return i < p->n_stages ? &p->stages[i].pub : NULL;
}

const jc_stage_def *jc_pipeline_stage_find(const jc_pipeline *p, const char *name, jc_error *err)
{
	const char *names[64] = { NULL };
	size_t k = 0;
	for (size_t i = 0; i < p->n_stages; i++) {
		if (strcmp(p->stages[i].pub.name, name) == 0)
			return &p->stages[i].pub;
		if (k < JC_ARRAY_LEN(names))
			names[k++] = p->stages[i].pub.name;
	}
	const char *hint = jc_str_suggest(name, names, k);
	jc_buf list = JC_BUF_INIT;
	for (size_t i = 0; i < k; i++)
		jc_buf_printf(&list, "%s%s", i ? ", " : "", names[i]);
	if (hint)
		jc_err(err, JC_EINVALID, "the pipeline has no stage \"%s\"; did you mean \"%s\"?", name, hint);
	else
		jc_err(err, JC_EINVALID, "the pipeline has no stage \"%s\" (its stages: %s)", name, jc_buf_cstr(&list));
	jc_buf_free(&list);
	return NULL;
}

const char *jc_pipeline_dir(const jc_pipeline *p) { return p->dir; }
const char *jc_pipeline_snapshots_url(const jc_pipeline *p) { return p->snapshots_url; }
