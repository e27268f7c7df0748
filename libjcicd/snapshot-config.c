/* snapshot-config.c - the `snapshots` section of jcicd.yaml. */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jcicd/config.h"
#include "jcicd/snapshot.h"
#include "jcicd/yaml.h"

struct jc_snapshot_config {
	jc_snapshot_options opts;
	jc_strv strings;              /* owned strings the options point into */
	jc_snapshot_source *sources;
	const char ***lists;          /* owned string arrays */
	size_t n_lists;
};

static const char *const top_keys[] = {
	"sources", "publish_root", "base_url", "suite", "origin", "label", "pointers", "interval",
	"jitter", "gzip_level", "sync", "signing", "ca_file", "insecure", "max_parallel",
};
static const char *const source_keys[] = {
	"name", "url", "path", "suite", "codename", "components", "architectures", "keyring",
};
static const char *const signing_keys[] = { "key", "gnupghome", "passphrase_file" };

static const char *own(jc_snapshot_config *c, char *s)
{
	jc_strv_push_owned(&c->strings, s);
	return s;
}

static int get_str(jc_snapshot_config *c, const jc_yaml_node *map, const char *key, const char *what,
		   const char **out, jc_error *err)
{
	const jc_yaml_node *v = jc_yaml_get(map, key);
	const char *s;
	int rc;
	if (!v || jc_yaml_type_of(v) == JC_YAML_NULL)
		return 0;
	rc = jc_yaml_get_string(v, what, &s, err);
	if (rc < 0)
		return rc;
	if (!*s)
		return jc_yaml_error_at(err, v, JC_EINVALID, "%s must not be empty", what);
	*out = own(c, jc_strdup(s));
	return 0;
}

static int get_path(jc_snapshot_config *c, const jc_config *cfg, const jc_yaml_node *map, const char *key,
		    const char *what, const char **out, jc_error *err)
{
	const char *s = NULL;
	int rc = get_str(c, map, key, what, &s, err);
	if (rc == 0 && s)
		*out = own(c, jc_config_resolve_path(cfg, s));
	return rc;
}

/* A list of words: a sequence, or one scalar of words separated by spaces
 * or commas ("main contrib"). */
static int get_words(jc_snapshot_config *c, const jc_yaml_node *map, const char *key, const char *what,
		     const char *const **out, size_t *n, jc_error *err)
{
	jc_strv words = JC_STRV_INIT;
	const char **arr;
	int rc;
	*out = NULL;
	*n = 0;
	if ((rc = jc_yaml_words(map, key, what, &words, err)) < 0 || words.n == 0)
		return rc;
	arr = jc_calloc(words.n, sizeof(*arr));
	for (size_t i = 0; i < words.n; i++)
		arr[i] = own(c, jc_strdup(words.v[i]));
	c->lists = jc_realloc(c->lists, (c->n_lists + 1) * sizeof(*c->lists));
	c->lists[c->n_lists++] = arr;
	*out = arr;
	*n = words.n;
	jc_strv_free(&words);
	return 0;
}

static int load_source(jc_snapshot_config *c, const jc_config *cfg, const jc_yaml_node *node, size_t i,
		       jc_error *err)
{
	jc_snapshot_source *src = &c->sources[i];
	char what[64];
	const char *codename = NULL;
	int rc;

	snprintf(what, sizeof(what), "snapshots.sources[%zu]", i);
	rc = jc_yaml_expect(node, JC_YAML_MAPPING, what, err);
	if (rc == 0)
		rc = jc_yaml_check_keys(node, source_keys, JC_ARRAY_LEN(source_keys), what, err);
	if (rc == 0)
		rc = get_str(c, node, "name", "name of a source", &src->name, err);
	if (rc == 0)
		rc = get_str(c, node, "url", "url of a source", &src->url, err);
	if (rc == 0)
		rc = get_path(c, cfg, node, "path", "path of a source", &src->path, err);
	if (rc == 0)
		rc = get_str(c, node, "suite", "suite of a source", &src->suite, err);
	if (rc == 0)
		rc = get_str(c, node, "codename", "codename of a source", &codename, err);
	if (rc == 0)
		rc = get_words(c, node, "components", "components of a source", &src->components,
			       &src->n_components, err);
	if (rc == 0)
		rc = get_words(c, node, "architectures", "architectures of a source", &src->architectures,
			       &src->n_architectures, err);
	if (rc == 0)
		rc = get_path(c, cfg, node, "keyring", "keyring of a source", &src->keyring, err);
	if (rc < 0)
		return rc;
	if ((!src->url) == (!src->path))
		return jc_yaml_error_at(err, node, JC_EINVALID, "%s needs exactly one of url (http:// or https://) "
					"and path (a local directory)", what);
	if (src->url && !jc_str_starts(src->url, "http://") && !jc_str_starts(src->url, "https://"))
		return jc_yaml_error_at(err, jc_yaml_get(node, "url"), JC_EINVALID,
					"url of a source must start with http:// or https://");
	if (src->suite && codename)
		return jc_yaml_error_at(err, jc_yaml_get(node, "codename"), JC_EINVALID,
					"%s has both suite and codename: give one (the directory below dists/)", what);
	if (!src->suite)
		src->suite = codename;
	if (!src->suite)
		return jc_yaml_error_at(err, node, JC_EINVALID, "%s needs a suite (or codename): the directory "
					"below dists/", what);
	if (!src->components)
		return jc_yaml_error_at(err, node, JC_EINVALID, "%s needs components (e.g. [main])", what);
	if (!src->architectures)
		return jc_yaml_error_at(err, node, JC_EINVALID, "%s needs architectures (e.g. [amd64])", what);
	return 0;
}

static int load(jc_snapshot_config *c, const jc_config *cfg, const jc_yaml_node *sec, jc_error *err)
{
	jc_snapshot_options *o = &c->opts;
	const jc_yaml_node *v;
	int rc;

	rc = jc_yaml_expect(sec, JC_YAML_MAPPING, "snapshots", err);
	if (rc == 0)
		rc = jc_yaml_check_keys(sec, top_keys, JC_ARRAY_LEN(top_keys), "snapshots", err);
	if (rc == 0)
		rc = get_path(c, cfg, sec, "publish_root", "snapshots.publish_root", &o->publish_root, err);
	if (rc == 0)
		rc = get_str(c, sec, "base_url", "snapshots.base_url", &o->base_url, err);
	if (rc == 0)
		rc = get_str(c, sec, "suite", "snapshots.suite", &o->suite, err);
	if (rc == 0)
		rc = get_str(c, sec, "origin", "snapshots.origin", &o->origin, err);
	if (rc == 0)
		rc = get_str(c, sec, "label", "snapshots.label", &o->label, err);
	if (rc == 0)
		rc = get_path(c, cfg, sec, "ca_file", "snapshots.ca_file", &o->ca_file, err);
	if (rc < 0)
		return rc;
	if ((v = jc_yaml_get(sec, "pointers")) != NULL) {
		if (jc_yaml_type_of(v) == JC_YAML_SEQUENCE && jc_yaml_size(v) == 0) {
			static const char *const none[] = { NULL };
			o->pointers = none;   /* [] : move no pointer automatically */
			o->n_pointers = 0;
		} else {
			rc = get_words(c, sec, "pointers", "snapshots.pointers", &o->pointers, &o->n_pointers, err);
			for (size_t i = 0; rc == 0 && i < o->n_pointers; i++)
				if (!jc_snapshot_pointer_name_ok(o->pointers[i]))
					rc = jc_yaml_error_at(err, v, JC_EINVALID,
							      "\"%s\" is not a pointer name (lower-case letters, digits, - and _, "
							      "starting with a letter; not \"snapshots\")", o->pointers[i]);
			if (rc < 0)
				return rc;
		}
	}
	if ((v = jc_yaml_get(sec, "interval")) != NULL) {
		const char *s;
		if ((rc = jc_yaml_get_string(v, "snapshots.interval", &s, err)) < 0)
			return rc;
		if (!jc_parse_duration_ms(s, &o->interval_ms) || o->interval_ms < 1000)
			return jc_yaml_error_at(err, v, JC_EINVALID, "snapshots.interval must be a duration of at least "
						"1s (like 90s, 15m, 1h), not \"%s\"", s);
	}
	if ((v = jc_yaml_get(sec, "jitter")) != NULL) {
		const char *s;
		long pct;
		char buf[32];
		if ((rc = jc_yaml_get_string(v, "snapshots.jitter", &s, err)) < 0)
			return rc;
		snprintf(buf, sizeof(buf), "%s", s);
		if (*buf && buf[strlen(buf) - 1] == '%')
			buf[strlen(buf) - 1] = '\0';
		if (!jc_parse_long(buf, &pct) || pct < 0 || pct > 50)
			return jc_yaml_error_at(err, v, JC_EINVALID, "snapshots.jitter must be a percentage from 0 to 50, "
						"not \"%s\"", s);
		o->jitter_percent = pct == 0 ? -1 : (int)pct;
	}
	if ((v = jc_yaml_get(sec, "gzip_level")) != NULL) {
		long n;
		if ((rc = jc_yaml_get_int(v, "snapshots.gzip_level", 1, 9, &n, err)) < 0)
			return rc;
		o->gzip_level = (int)n;
	}
	if ((v = jc_yaml_get(sec, "max_parallel")) != NULL) {
		long n;
		if ((rc = jc_yaml_get_int(v, "snapshots.max_parallel", 1, 64, &n, err)) < 0)
			return rc;
		o->max_parallel = (int)n;
	}
	if ((v = jc_yaml_get(sec, "sync")) != NULL) {
		bool b;
		if ((rc = jc_yaml_get_bool(v, "snapshots.sync", &b, err)) < 0)
			return rc;
		o->no_sync = !b;
	}
	if ((v = jc_yaml_get(sec, "insecure")) != NULL) {
		if ((rc = jc_yaml_get_bool(v, "snapshots.insecure", &o->insecure, err)) < 0)
			return rc;
	}
	if ((v = jc_yaml_get(sec, "signing")) != NULL && jc_yaml_type_of(v) != JC_YAML_NULL) {
		rc = jc_yaml_expect(v, JC_YAML_MAPPING, "snapshots.signing", err);
		if (rc == 0)
			rc = jc_yaml_check_keys(v, signing_keys, JC_ARRAY_LEN(signing_keys), "snapshots.signing", err);
		if (rc == 0)
			rc = get_str(c, v, "key", "snapshots.signing.key", &o->sign_key, err);
		if (rc == 0)
			rc = get_path(c, cfg, v, "gnupghome", "snapshots.signing.gnupghome", &o->gnupghome, err);
		if (rc == 0)
			rc = get_path(c, cfg, v, "passphrase_file", "snapshots.signing.passphrase_file",
				      &o->passphrase_file, err);
		if (rc < 0)
			return rc;
		if (!o->sign_key)
			return jc_yaml_error_at(err, v, JC_EINVALID, "snapshots.signing needs a key (a fingerprint)");
	}
	if ((v = jc_yaml_get(sec, "sources")) != NULL && jc_yaml_type_of(v) != JC_YAML_NULL) {
		if ((rc = jc_yaml_expect(v, JC_YAML_SEQUENCE, "snapshots.sources", err)) < 0)
			return rc;
		c->sources = jc_calloc(jc_yaml_size(v) + 1, sizeof(*c->sources));
		o->sources = c->sources;
		for (size_t i = 0; i < jc_yaml_size(v); i++) {
			rc = load_source(c, cfg, jc_yaml_item(v, i), i, err);
			if (rc < 0)
				return rc;
			o->n_sources = i + 1;
			for (size_t j = 0; j < i; j++) {
				const char *a = c->sources[j].name ? c->sources[j].name :
						c->sources[j].url ? c->sources[j].url : c->sources[j].path;
				const char *b = c->sources[i].name ? c->sources[i].name :
						c->sources[i].url ? c->sources[i].url : c->sources[i].path;
				if (strcmp(a, b) == 0)
					return jc_yaml_error_at(err, jc_yaml_item(v, i), JC_EINVALID,
								"a second source named %s (give each a distinct name)", a);
			}
		}
	}
	return 0;
}

int jc_snapshot_config_load(jc_snapshot_config **out, const jc_config *cfg, jc_error *err)
{
	jc_snapshot_config *c = jc_calloc(1, sizeof(*c));
	jc_snapshot_options init = JC_SNAPSHOT_OPTIONS_INIT;
	const jc_yaml_node *sec = jc_config_section(cfg, "snapshots");
	int rc = 0;

	*out = NULL;
	c->opts = init;
	if (sec)
		rc = load(c, cfg, sec, err);
	if (rc < 0) {
		jc_snapshot_config_free(c);
		return rc;
	}
	c->opts.state_dir = jc_config_state_dir(cfg);
	*out = c;
	return 0;
}

void jc_snapshot_config_free(jc_snapshot_config *c)
{
	if (!c)
		return;
	jc_strv_free(&c->strings);
	for (size_t i = 0; i < c->n_lists; i++)
		free(c->lists[i]);
	free(c->lists);
	free(c->sources);
	free(c);
}

const jc_snapshot_options *jc_snapshot_config_options(const jc_snapshot_config *c)
{
	return &c->opts;
}
