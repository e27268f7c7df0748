/* config.c - finding and checking jcicd.yaml. */
#include "common.h"

#include <stdlib.h>
#include <string.h>

#include "jcicd/config.h"

static const char *const sections[] = {
	"state", "build", "snapshots", "kv", "clouds", "pipeline", "jobs", "agent",
};

struct jc_config {
	jc_yaml_doc *doc;
	char *file;
	char *dir;
	char *state_dir;
};

/* The file's directory, absolute: paths in the file must not change
 * meaning with the working directory of whoever reads them later (a node's
 * agent, a test). */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *d = !slash ? jc_strdup(".") : slash == path ? jc_strdup("/") :
		  jc_strndup(path, (size_t)(slash - path));
	char *abs = realpath(d, NULL);
	if (abs) {
		free(d);
		return abs;
	}
	return d;
}

int jc_config_load(jc_config **out, const char *path, jc_error *err)
{
	jc_config *c;
	const jc_yaml_node *root, *state;
	const char *env;
	int rc;

	*out = NULL;
	c = jc_calloc(1, sizeof(*c));
	if (!path) {
		env = getenv("JCICD_CONFIG");
		if (env && *env)
			path = env;
		else if (jc_path_exists("jcicd.yaml"))
			path = "jcicd.yaml";
	}
	if (!path) {
		*out = c;
		return 0;
	}
	rc = jc_yaml_load_file(&c->doc, path, err);
	if (rc < 0) {
		jc_config_free(c);
		return rc;
	}
	c->file = jc_strdup(path);
	c->dir = dir_of(path);
	root = jc_yaml_root(c->doc);
	if (jc_yaml_type_of(root) != JC_YAML_NULL) {
		rc = jc_yaml_expect(root, JC_YAML_MAPPING, "jcicd.yaml", err);
		if (rc == 0)
			rc = jc_yaml_check_keys(root, sections, JC_ARRAY_LEN(sections), "jcicd.yaml", err);
	}
	state = jc_yaml_get(root, "state");
	if (rc == 0 && state && jc_yaml_type_of(state) != JC_YAML_NULL) {
		static const char *const state_keys[] = { "dir" };
		const jc_yaml_node *d;
		const char *s;
		rc = jc_yaml_expect(state, JC_YAML_MAPPING, "state", err);
		if (rc == 0)
			rc = jc_yaml_check_keys(state, state_keys, JC_ARRAY_LEN(state_keys), "state", err);
		d = jc_yaml_get(state, "dir");
		if (rc == 0 && d && (rc = jc_yaml_get_string(d, "state.dir", &s, err)) == 0)
			c->state_dir = jc_config_resolve_path(c, s);
	}
	if (rc < 0) {
		jc_config_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void jc_config_free(jc_config *c)
{
	if (!c)
		return;
	jc_yaml_free(c->doc);
	free(c->file);
	free(c->dir);
	free(c->state_dir);
	free(c);
}

const char *jc_config_file(const jc_config *c) { return c ? c->file : NULL; }

const jc_yaml_node *jc_config_section(const jc_config *c, const char *name)
{
	const jc_yaml_node *n;
	if (!c || !c->doc)
		return NULL;
	n = jc_yaml_get(jc_yaml_root(c->doc), name);
	return n && jc_yaml_type_of(n) != JC_YAML_NULL ? n : NULL;
}

char *jc_config_resolve_path(const jc_config *c, const char *path)
{
	if (!path)
		return NULL;
	if (path[0] == '/' || !c || !c->dir)
		return jc_strdup(path);
	return jc_path_join(c->dir, path);
}

const char *jc_config_state_dir(const jc_config *c) { return c ? c->state_dir : NULL; }

int jc_config_parse_duration(const char *text, const char *what, long long *out_ms, jc_error *err)
{
	if (!jc_parse_duration_ms(text, out_ms))
		return jc_err(err, JC_EINVALID, "%s takes a duration such as 90s, 15m or 2h (a bare number is "
			      "seconds), not \"%s\"", what ? what : "a duration", text ? text : "");
	return 0;
}
