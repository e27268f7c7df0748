/* build-config.c - the `build` section of jcicd.yaml and sources.yaml. */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build-internal.h"
#include "jcicd/config.h"
#include "jcicd/yaml.h"

struct jc_build_config {
	jc_build_options opts;
	jc_strv strings;              /* owned strings the options point into */
	jc_build_entry *entries;
	const char ***lists;          /* owned string arrays */
	size_t n_lists;
	jc_yaml_doc *sources_doc;     /* a separate sources.yaml, while parsing */
};

static const char *const top_keys[] = {
	"sources", "repository", "max_parallel", "timeout", "git_timeout", "install_build_deps",
	"maintainer", "interval", "jitter",
};
static const char *const repo_keys[] = {
	"path", "suite", "component", "architectures", "origin", "label", "signing",
};
static const char *const signing_keys[] = { "key", "gnupghome", "passphrase_file" };
static const char *const file_keys[] = { "sources" };
static const char *const entry_keys[] = {
	"name", "git", "branch", "packaging", "apt", "source", "binary", "pin", "architectures",
	"profiles", "build_depends", "timeout", "version",
};
static const char *const packaging_keys[] = { "git", "branch" };
static const char *const apt_keys[] = { "url", "path", "suite", "codename", "component", "keyring" };

/* Relative paths mean the directory of the file they are written in. */
typedef struct place {
	const jc_config *cfg;         /* jcicd.yaml ... */
	char *dir;                    /* ... or this directory (sources.yaml) */
} place;

static const char *own(jc_build_config *c, char *s)
{
	jc_strv_push_owned(&c->strings, s);
	return s;
}

static const char *resolve(jc_build_config *c, const place *pl, const char *path)
{
	if (path[0] == '/' || !pl->dir)
		return own(c, pl->dir ? jc_strdup(path) : jc_config_resolve_path(pl->cfg, path));
	return own(c, jc_path_join(pl->dir, path));
}

static int get_str(jc_build_config *c, const jc_yaml_node *map, const char *key, const char *what,
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

static int get_path(jc_build_config *c, const place *pl, const jc_yaml_node *map, const char *key,
		    const char *what, const char **out, jc_error *err)
{
	const char *s = NULL;
	int rc = get_str(c, map, key, what, &s, err);
	if (rc == 0 && s)
		*out = resolve(c, pl, s);
	return rc;
}

/* A list of words: a sequence, or one scalar of words separated by spaces
 * or commas ("amd64 arm64"). */
static int get_words(jc_build_config *c, const jc_yaml_node *map, const char *key, const char *what,
		     const char *const **out, size_t *n, jc_error *err)
{
	const jc_yaml_node *v = jc_yaml_get(map, key);
	jc_strv words = JC_STRV_INIT;
	const char **arr;
	int rc;
	*out = NULL;
	*n = 0;
	if ((rc = jc_yaml_words(map, key, what, &words, err)) < 0 || words.n == 0)
		return rc;
	for (size_t i = 0; i < words.n; i++)
		for (const char *p = words.v[i]; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
			      *p == '_' || *p == '+')) {
				rc = jc_yaml_error_at(err, v, JC_EINVALID, "%s: \"%s\" is not a word of lower-case "
							  "letters, digits and -._+", what, words.v[i]);
				jc_strv_free(&words);
				return rc;
			}
	arr = jc_calloc(words.n + 1, sizeof(*arr));
	for (size_t i = 0; i < words.n; i++)
		arr[i] = own(c, jc_strdup(words.v[i]));
	c->lists = jc_realloc(c->lists, (c->n_lists + 1) * sizeof(*c->lists));
	c->lists[c->n_lists++] = arr;
	*out = arr;
	*n = words.n;
	jc_strv_free(&words);
	return 0;
}

static int get_duration(const jc_yaml_node *map, const char *key, const char *what, long long min_ms,
			long long *out, jc_error *err)
{
	const jc_yaml_node *v = jc_yaml_get(map, key);
	const char *s;
	int rc;
	if (!v || jc_yaml_type_of(v) == JC_YAML_NULL)
		return 0;
	if ((rc = jc_yaml_get_string(v, what, &s, err)) < 0)
		return rc;
	if (!jc_parse_duration_ms(s, out) || *out < min_ms)
		return jc_yaml_error_at(err, v, JC_EINVALID, "%s must be a duration of at least %llds (like 90s, "
					"30m, 2h), not \"%s\"", what, min_ms / 1000, s);
	return 0;
}

/* The name an entry gets when it has none: the last path segment of its
 * repository, without ".git", or the package name. */
static char *default_name(const jc_build_entry *e)
{
	const char *from = e->package;
	if (e->kind == JC_BUILD_GIT) {
		char *copy = jc_strdup(e->git), *base, *name;
		size_t len = strlen(copy);
		while (len > 1 && copy[len - 1] == '/')
			copy[--len] = '\0';
		if (jc_str_ends(copy, ".git"))
			copy[len - 4] = '\0';
		base = strrchr(copy, '/');
		if (!base)
			base = strrchr(copy, ':');
		name = jc_strdup(base ? base + 1 : copy);
		free(copy);
		for (char *p = name; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		return name;
	}
	return jc_strdup(from);
}

static int load_git(jc_build_config *c, const place *pl, const jc_yaml_node *node, jc_build_entry *e,
		    const char *what, jc_error *err)
{
	const jc_yaml_node *pk = jc_yaml_get(node, "packaging");
	const char *loc = NULL;
	char w[96];
	int rc;

	e->kind = JC_BUILD_GIT;
	rc = get_str(c, node, "git", "git of a build source", &loc, err);
	if (rc == 0)
		rc = get_str(c, node, "branch", "branch of a build source", &e->branch, err);
	if (rc < 0)
		return rc;
	e->git = jc_bld_git_is_url(loc) ? loc : resolve(c, pl, loc);
	if (pk && jc_yaml_type_of(pk) != JC_YAML_NULL) {
		snprintf(w, sizeof(w), "%s.packaging", what);
		rc = jc_yaml_expect(pk, JC_YAML_MAPPING, w, err);
		if (rc == 0)
			rc = jc_yaml_check_keys(pk, packaging_keys, JC_ARRAY_LEN(packaging_keys), w, err);
		loc = NULL;
		if (rc == 0)
			rc = get_str(c, pk, "git", "git of a packaging repository", &loc, err);
		if (rc == 0)
			rc = get_str(c, pk, "branch", "branch of a packaging repository", &e->packaging_branch, err);
		if (rc < 0)
			return rc;
		if (!loc)
			return jc_yaml_error_at(err, pk, JC_EINVALID, "%s needs git (the repository holding debian/)", w);
		e->packaging_git = jc_bld_git_is_url(loc) ? loc : resolve(c, pl, loc);
	}
	if (jc_yaml_get(node, "source") || jc_yaml_get(node, "binary") || jc_yaml_get(node, "pin")) {
		const jc_yaml_node *bad = jc_yaml_get(node, "source") ? jc_yaml_get(node, "source") :
					  jc_yaml_get(node, "binary") ? jc_yaml_get(node, "binary") : jc_yaml_get(node, "pin");
		return jc_yaml_error_at(err, bad, JC_EINVALID, "%s: source, binary and pin go with apt, not git", what);
	}
	return 0;
}

static int load_apt(jc_build_config *c, const place *pl, const jc_yaml_node *node, jc_build_entry *e,
		    const char *what, jc_error *err)
{
	const jc_yaml_node *apt = jc_yaml_get(node, "apt");
	const char *src = NULL, *bin = NULL, *codename = NULL;
	char w[96];
	int rc;

	snprintf(w, sizeof(w), "%s.apt", what);
	rc = jc_yaml_expect(apt, JC_YAML_MAPPING, w, err);
	if (rc == 0)
		rc = jc_yaml_check_keys(apt, apt_keys, JC_ARRAY_LEN(apt_keys), w, err);
	if (rc == 0)
		rc = get_str(c, apt, "url", "url of an APT repository", &e->apt_url, err);
	if (rc == 0)
		rc = get_path(c, pl, apt, "path", "path of an APT repository", &e->apt_path, err);
	if (rc == 0)
		rc = get_str(c, apt, "suite", "suite of an APT repository", &e->apt_suite, err);
	if (rc == 0)
		rc = get_str(c, apt, "codename", "codename of an APT repository", &codename, err);
	if (rc == 0)
		rc = get_str(c, apt, "component", "component of an APT repository", &e->apt_component, err);
	if (rc == 0)
		rc = get_path(c, pl, apt, "keyring", "keyring of an APT repository", &e->apt_keyring, err);
	if (rc == 0)
		rc = get_str(c, node, "source", "source of a build source", &src, err);
	if (rc == 0)
		rc = get_str(c, node, "binary", "binary of a build source", &bin, err);
	if (rc == 0)
		rc = get_str(c, node, "pin", "pin of a build source", &e->pin, err);
	if (rc < 0)
		return rc;
	if ((!e->apt_url) == (!e->apt_path))
		return jc_yaml_error_at(err, apt, JC_EINVALID, "%s needs exactly one of url (http:// or https://) "
					"and path (a local directory)", w);
	if (e->apt_url && !jc_str_starts(e->apt_url, "http://") && !jc_str_starts(e->apt_url, "https://"))
		return jc_yaml_error_at(err, jc_yaml_get(apt, "url"), JC_EINVALID,
					"url of an APT repository must start with http:// or https://");
	if (e->apt_suite && codename)
		return jc_yaml_error_at(err, jc_yaml_get(apt, "codename"), JC_EINVALID,
					"%s has both suite and codename: give one (the directory below dists/)", w);
	if (!e->apt_suite)
		e->apt_suite = codename;
	if (!e->apt_suite)
		return jc_yaml_error_at(err, apt, JC_EINVALID, "%s needs a suite (the directory below dists/)", w);
	if ((!src) == (!bin))
		return jc_yaml_error_at(err, node, JC_EINVALID, "%s needs exactly one of source (a source package "
					"to rebuild) and binary (a binary package to carry over)", what);
	e->kind = src ? JC_BUILD_APT_SOURCE : JC_BUILD_APT_BINARY;
	e->package = src ? src : bin;
	for (const char *k = "branch"; k; k = strcmp(k, "branch") == 0 ? "packaging" : NULL)
		if (jc_yaml_get(node, k))
			return jc_yaml_error_at(err, jc_yaml_get(node, k), JC_EINVALID, "%s: %s goes with git, not apt",
						what, k);
	return 0;
}

static int load_entry(jc_build_config *c, const place *pl, const jc_yaml_node *node, size_t i, jc_error *err)
{
	jc_build_entry *e = &c->entries[i];
	char what[64];
	int rc;

	snprintf(what, sizeof(what), "build.sources[%zu]", i);
	rc = jc_yaml_expect(node, JC_YAML_MAPPING, what, err);
	if (rc == 0)
		rc = jc_yaml_check_keys(node, entry_keys, JC_ARRAY_LEN(entry_keys), what, err);
	if (rc < 0)
		return rc;
	e->file = own(c, jc_strdup(jc_yaml_file(node)));
	e->line = jc_yaml_line(node);
	if (!jc_yaml_get(node, "git") == !jc_yaml_get(node, "apt"))
		return jc_yaml_error_at(err, node, JC_EINVALID, "%s needs exactly one of git (a repository with a "
					"Debian source tree) and apt (a package of an APT repository)", what);
	rc = jc_yaml_get(node, "git") ? load_git(c, pl, node, e, what, err) : load_apt(c, pl, node, e, what, err);
	if (rc == 0)
		rc = get_str(c, node, "name", "name of a build source", &e->name, err);
	if (rc == 0)
		rc = get_words(c, node, "architectures", "architectures of a build source", &e->architectures,
			       &e->n_architectures, err);
	if (rc == 0)
		rc = get_words(c, node, "profiles", "profiles of a build source", &e->profiles, &e->n_profiles, err);
	if (rc == 0)
		rc = get_str(c, node, "build_depends", "build_depends of a build source", &e->build_depends, err);
	if (rc == 0)
		rc = get_duration(node, "timeout", "timeout of a build source", 1000, &e->timeout_ms, err);
	if (rc == 0)
		rc = get_str(c, node, "version", "version of a build source", &e->version_format, err);
	if (rc < 0)
		return rc;
	if (e->version_format) {
		jc_error ferr;
		if (jc_bld_version_format_check(e->version_format, &ferr) < 0)
			return jc_yaml_error_at(err, jc_yaml_get(node, "version"), JC_EINVALID, "%s", ferr.message);
	}
	if (e->kind == JC_BUILD_APT_BINARY && (e->profiles || e->build_depends || e->version_format)) {
		const char *k = e->profiles ? "profiles" : e->build_depends ? "build_depends" : "version";
		return jc_yaml_error_at(err, jc_yaml_get(node, k), JC_EINVALID, "%s: %s has no meaning for a binary "
					"package carried over as it is", what, k);
	}
	if (!e->name)
		e->name = own(c, default_name(e));
	if (!jc_bld_name_ok(e->name))
		return jc_yaml_error_at(err, jc_yaml_get(node, "name") ? jc_yaml_get(node, "name") : node,
					JC_EINVALID, "%s: \"%s\" is not a usable entry name (lower-case letters, digits "
					"and .+_-, starting with a letter or digit; give one with name:)", what, e->name);
	return 0;
}

static int load_sources(jc_build_config *c, const place *pl, const jc_yaml_node *list, jc_error *err)
{
	jc_build_options *o = &c->opts;
	int rc;

	if ((rc = jc_yaml_expect(list, JC_YAML_SEQUENCE, "build.sources", err)) < 0)
		return rc;
	free(c->entries);
	c->entries = jc_calloc(jc_yaml_size(list) + 1, sizeof(*c->entries));
	o->entries = c->entries;
	o->n_entries = 0;
	for (size_t i = 0; i < jc_yaml_size(list); i++) {
		if ((rc = load_entry(c, pl, jc_yaml_item(list, i), i, err)) < 0)
			return rc;
		o->n_entries = i + 1;
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->entries[j].name, c->entries[i].name) == 0)
				return jc_yaml_error_at(err, jc_yaml_item(list, i), JC_EINVALID,
							"a second build source named %s (the first is at line %d; give "
							"each a distinct name:)", c->entries[i].name, c->entries[j].line);
	}
	return 0;
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *d = !slash ? jc_strdup(".") : slash == path ? jc_strdup("/") : jc_strndup(path, (size_t)(slash - path));
	char *abs = realpath(d, NULL);
	if (abs) {
		free(d);
		return abs;
	}
	return d;
}

static int load_sources_file(jc_build_config *c, const char *path, jc_error *err)
{
	const jc_yaml_node *root, *list;
	place pl = { NULL, NULL };
	int rc;

	jc_yaml_free(c->sources_doc);
	c->sources_doc = NULL;
	if ((rc = jc_yaml_load_file(&c->sources_doc, path, err)) < 0)
		return rc;
	root = jc_yaml_root(c->sources_doc);
	rc = jc_yaml_expect(root, JC_YAML_MAPPING, "a sources file", err);
	if (rc == 0)
		rc = jc_yaml_check_keys(root, file_keys, JC_ARRAY_LEN(file_keys), "a sources file", err);
	if (rc < 0)
		return rc;
	list = jc_yaml_get(root, "sources");
	if (!list || jc_yaml_type_of(list) == JC_YAML_NULL)
		return jc_yaml_error_at(err, root, JC_EINVALID, "a sources file needs a sources: list");
	pl.dir = dir_of(path);
	rc = load_sources(c, &pl, list, err);
	free(pl.dir);
	return rc;
}

static int load_repository(jc_build_config *c, const place *pl, const jc_yaml_node *v, jc_error *err)
{
	jc_build_options *o = &c->opts;
	const jc_yaml_node *sg;
	int rc;

	rc = jc_yaml_expect(v, JC_YAML_MAPPING, "build.repository", err);
	if (rc == 0)
		rc = jc_yaml_check_keys(v, repo_keys, JC_ARRAY_LEN(repo_keys), "build.repository", err);
	if (rc == 0)
		rc = get_path(c, pl, v, "path", "build.repository.path", &o->repo_dir, err);
	if (rc == 0)
		rc = get_str(c, v, "suite", "build.repository.suite", &o->suite, err);
	if (rc == 0)
		rc = get_str(c, v, "component", "build.repository.component", &o->component, err);
	if (rc == 0)
		rc = get_words(c, v, "architectures", "build.repository.architectures", &o->architectures,
			       &o->n_architectures, err);
	if (rc == 0)
		rc = get_str(c, v, "origin", "build.repository.origin", &o->origin, err);
	if (rc == 0)
		rc = get_str(c, v, "label", "build.repository.label", &o->label, err);
	if (rc < 0)
		return rc;
	if (!o->repo_dir)
		return jc_yaml_error_at(err, v, JC_EINVALID, "build.repository needs a path (the directory that "
					"gets dists/ and pool/)");
	if ((sg = jc_yaml_get(v, "signing")) != NULL && jc_yaml_type_of(sg) != JC_YAML_NULL) {
		rc = jc_yaml_expect(sg, JC_YAML_MAPPING, "build.repository.signing", err);
		if (rc == 0)
			rc = jc_yaml_check_keys(sg, signing_keys, JC_ARRAY_LEN(signing_keys), "build.repository.signing", err);
		if (rc == 0)
			rc = get_str(c, sg, "key", "build.repository.signing.key", &o->sign_key, err);
		if (rc == 0)
			rc = get_path(c, pl, sg, "gnupghome", "build.repository.signing.gnupghome", &o->gnupghome, err);
		if (rc == 0)
			rc = get_path(c, pl, sg, "passphrase_file", "build.repository.signing.passphrase_file",
				      &o->passphrase_file, err);
		if (rc < 0)
			return rc;
		if (!o->sign_key)
			return jc_yaml_error_at(err, sg, JC_EINVALID, "build.repository.signing needs a key (a fingerprint)");
	}
	return 0;
}

static int load(jc_build_config *c, const jc_config *cfg, const jc_yaml_node *sec, jc_error *err)
{
	jc_build_options *o = &c->opts;
	place pl = { cfg, NULL };
	const jc_yaml_node *v;
	int rc;

	rc = jc_yaml_expect(sec, JC_YAML_MAPPING, "build", err);
	if (rc == 0)
		rc = jc_yaml_check_keys(sec, top_keys, JC_ARRAY_LEN(top_keys), "build", err);
	if (rc == 0 && (v = jc_yaml_get(sec, "repository")) != NULL && jc_yaml_type_of(v) != JC_YAML_NULL)
		rc = load_repository(c, &pl, v, err);
	if (rc == 0)
		rc = get_str(c, sec, "maintainer", "build.maintainer", &o->maintainer, err);
	if (rc == 0)
		rc = get_duration(sec, "timeout", "build.timeout", 1000, &o->timeout_ms, err);
	if (rc == 0)
		rc = get_duration(sec, "git_timeout", "build.git_timeout", 1000, &o->git_timeout_ms, err);
	if (rc == 0)
		rc = get_duration(sec, "interval", "build.interval", 1000, &o->interval_ms, err);
	if (rc < 0)
		return rc;
	if ((v = jc_yaml_get(sec, "max_parallel")) != NULL) {
		long n;
		if ((rc = jc_yaml_get_int(v, "build.max_parallel", 1, 64, &n, err)) < 0)
			return rc;
		o->max_parallel = (int)n;
	}
	if ((v = jc_yaml_get(sec, "install_build_deps")) != NULL &&
	    (rc = jc_yaml_get_bool(v, "build.install_build_deps", &o->install_build_deps, err)) < 0)
		return rc;
	if ((v = jc_yaml_get(sec, "jitter")) != NULL) {
		const char *s;
		long pct;
		char buf[32];
		if ((rc = jc_yaml_get_string(v, "build.jitter", &s, err)) < 0)
			return rc;
		snprintf(buf, sizeof(buf), "%s", s);
		if (*buf && buf[strlen(buf) - 1] == '%')
			buf[strlen(buf) - 1] = '\0';
		if (!jc_parse_long(buf, &pct) || pct < 0 || pct > 50)
			return jc_yaml_error_at(err, v, JC_EINVALID, "build.jitter must be a percentage from 0 to 50, "
						"not \"%s\"", s);
		o->jitter_percent = pct == 0 ? -1 : (int)pct;
	}
	if ((v = jc_yaml_get(sec, "sources")) != NULL && jc_yaml_type_of(v) != JC_YAML_NULL) {
		if (jc_yaml_type_of(v) == JC_YAML_SCALAR) {
			/* the list lives in its own file */
			const char *path = resolve(c, &pl, jc_yaml_scalar(v));
			if (!jc_path_exists(path))
				return jc_yaml_error_at(err, v, JC_EINVALID, "build.sources: no sources file %s", path);
			return load_sources_file(c, path, err);
		}
		return load_sources(c, &pl, v, err);
	}
	return 0;
}

int jc_build_config_load(jc_build_config **out, const jc_config *cfg, jc_error *err)
{
	jc_build_config *c = jc_calloc(1, sizeof(*c));
	jc_build_options init = JC_BUILD_OPTIONS_INIT;
	const jc_yaml_node *sec = jc_config_section(cfg, "build");
	int rc = 0;

	*out = NULL;
	c->opts = init;
	if (sec && jc_yaml_type_of(sec) != JC_YAML_NULL)
		rc = load(c, cfg, sec, err);
	jc_yaml_free(c->sources_doc);
	c->sources_doc = NULL;
	if (rc < 0) {
		jc_build_config_free(c);
		return rc;
	}
	c->opts.state_dir = jc_config_state_dir(cfg);
	*out = c;
	return 0;
}

int jc_build_config_load_sources(jc_build_config *c, const char *path, jc_error *err)
{
	/* a bad file leaves the configured list as it was */
	jc_build_entry *old = c->entries;
	size_t n_old = c->opts.n_entries;
	int rc;
	c->entries = NULL;
	rc = load_sources_file(c, path, err);
	jc_yaml_free(c->sources_doc);
	c->sources_doc = NULL;
	if (rc < 0) {
		free(c->entries);
		c->entries = old;
		c->opts.entries = old;
		c->opts.n_entries = n_old;
	} else {
		free(old);
	}
	return rc;
}

void jc_build_config_free(jc_build_config *c)
{
	if (!c)
		return;
	jc_strv_free(&c->strings);
	for (size_t i = 0; i < c->n_lists; i++)
		free(c->lists[i]);
	free(c->lists);
	free(c->entries);
	jc_yaml_free(c->sources_doc);
	free(c);
}

const jc_build_options *jc_build_config_options(const jc_build_config *c)
{
	return &c->opts;
}
