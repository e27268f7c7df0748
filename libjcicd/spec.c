/* spec.c - resource specs and mappings: parse, map, override, name. */
#include "common.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jcicd/spec.h"
#include "jcicd/yaml.h"

#define MAX_INSTANCES 10000

static const char *const role_keys[] = {
	"number", "flavor", "image", "networks", "boot_volume", "config_drive",
	"assign_floating_ip", "security_groups", "key_name", "availability_zone",
	"metadata", "userdata",
};

/* Fields a mappings file may map: every role key but number, metadata and
 * userdata (which are not cloud-specific values). */
static const char *const mappable_keys[] = {
	"flavor", "image", "networks", "boot_volume", "config_drive",
	"assign_floating_ip", "security_groups", "key_name", "availability_zone",
};

struct jc_mappings {
	jc_yaml_doc *doc;
	char *path;
};

struct role_storage {
	jc_role pub;
	jc_strv strings;        /* owns every string the role points at */
	const char **networks;
	const char **security_groups;
	const char **metadata_keys;
	const char **metadata_values;
};

struct jc_spec {
	char *path;
	struct role_storage *roles;
	size_t n_roles;
};

/* ---- mappings */

int jc_mappings_load(jc_mappings **out, const char *path, jc_error *err)
{
	jc_yaml_doc *doc;
	const jc_yaml_node *root;
	int rc;

	*out = NULL;
	rc = jc_yaml_load_file(&doc, path, err);
	if (rc < 0)
		return rc;
	root = jc_yaml_root(doc);
	if (jc_yaml_type_of(root) != JC_YAML_NULL) {
		rc = jc_yaml_expect(root, JC_YAML_MAPPING, "a mappings file", err);
		if (rc == 0)
			rc = jc_yaml_check_keys(root, mappable_keys, JC_ARRAY_LEN(mappable_keys),
						"the mappings file", err);
		for (size_t i = 0; rc == 0 && i < jc_yaml_size(root); i++) {
			const jc_yaml_node *v = jc_yaml_value(root, i);
			char what[128];
			if (jc_yaml_type_of(v) == JC_YAML_NULL)
				continue;
			snprintf(what, sizeof(what), "the mappings of %s", jc_yaml_scalar(jc_yaml_key(root, i)));
			rc = jc_yaml_expect(v, JC_YAML_MAPPING, what, err);
		}
		if (rc < 0) {
			jc_yaml_free(doc);
			return rc;
		}
	}
	*out = jc_calloc(1, sizeof(**out));
	(*out)->doc = doc;
	(*out)->path = jc_strdup(path);
	return 0;
}

void jc_mappings_free(jc_mappings *m)
{
	if (!m)
		return;
	jc_yaml_free(m->doc);
	free(m->path);
	free(m);
}

static const jc_yaml_node *mapping_table(const jc_mappings *m, const char *field)
{
	if (!m)
		return NULL;
	return jc_yaml_get(jc_yaml_root(m->doc), field);
}

/* Does a mapping key stand for value?  Booleans match booleans (so
 * {true: false} catches "true", "yes" and "on"), everything else by text. */
static bool key_matches(const jc_yaml_node *key, const jc_yaml_node *value)
{
	bool kb, vb;
	if (jc_yaml_is_bool(value, &vb))
		return jc_yaml_is_bool(key, &kb) && kb == vb;
	if (jc_yaml_type_of(value) != JC_YAML_SCALAR || jc_yaml_type_of(key) != JC_YAML_SCALAR)
		return false;
	if (jc_yaml_is_bool(key, NULL))
		return false;
	return strcmp(jc_yaml_scalar(key), jc_yaml_scalar(value)) == 0;
}

static const jc_yaml_node *table_lookup(const jc_yaml_node *table, const jc_yaml_node *value)
{
	for (size_t i = 0; i < jc_yaml_size(table); i++)
		if (key_matches(jc_yaml_key(table, i), value))
			return jc_yaml_value(table, i);
	return NULL;
}

/*
 * Maps one value through the field's table, following chains.  Returns the
 * node to use (value itself when unmapped) through *out.
 */
static int map_value(const jc_mappings *m, const char *field, const jc_yaml_node *value,
		     const jc_role *role, const jc_yaml_node **out, jc_error *err)
{
	const jc_yaml_node *table = mapping_table(m, field);
	const jc_yaml_node *cur = value;
	const jc_yaml_node *seen[32];
	size_t n_seen = 0;

	*out = value;
	if (!table)
		return 0;
	for (;;) {
		const jc_yaml_node *next = table_lookup(table, cur);
		if (!next)
			break;
		/* "x: x" maps a value to itself: the end of the chain */
		if (jc_yaml_type_of(next) == JC_YAML_SCALAR && jc_yaml_type_of(cur) == JC_YAML_SCALAR &&
		    strcmp(jc_yaml_scalar(next), jc_yaml_scalar(cur)) == 0) {
			cur = next;
			break;
		}
		bool cycle = jc_yaml_type_of(next) == JC_YAML_SCALAR &&
			     strcmp(jc_yaml_scalar(next), jc_yaml_scalar(value)) == 0;
		for (size_t i = 0; i < n_seen && !cycle; i++)
			cycle = jc_yaml_type_of(next) == JC_YAML_SCALAR &&
				strcmp(jc_yaml_scalar(seen[i]), jc_yaml_scalar(next)) == 0;
		if (cycle) {
			jc_buf chain = JC_BUF_INIT;
			jc_buf_printf(&chain, "%s", jc_yaml_scalar(value));
			for (size_t j = 0; j < n_seen; j++)
				jc_buf_printf(&chain, " -> %s", jc_yaml_scalar(seen[j]));
			jc_buf_printf(&chain, " -> %s", jc_yaml_scalar(next));
			int rc = jc_yaml_error_at(err, next, JC_EINVALID, "mapping cycle in %s: %s (role %s)",
						  field, jc_buf_cstr(&chain), role->name);
			jc_buf_free(&chain);
			return rc;
		}
		if (n_seen == JC_ARRAY_LEN(seen))
			return jc_yaml_error_at(err, next, JC_EINVALID,
						"mapping chain for %s is longer than %zu steps", field,
						JC_ARRAY_LEN(seen));
		seen[n_seen++] = next;
		cur = next;
		if (jc_yaml_type_of(cur) != JC_YAML_SCALAR)
			break;
	}
	*out = cur;
	return 0;
}

/* Error for a value of the wrong type: at the mapping when it came from one. */
static int wrong_type(const jc_yaml_node *orig, const jc_yaml_node *mapped, const char *field,
		      const jc_role *role, const char *expected, jc_error *err)
{
	char found[160];
	if (jc_yaml_type_of(mapped) == JC_YAML_SCALAR)
		snprintf(found, sizeof(found), "\"%.120s\"", jc_yaml_scalar(mapped));
	else
		snprintf(found, sizeof(found), "%s", jc_yaml_type_of(mapped) == JC_YAML_NULL ? "null" :
			 jc_yaml_type_name(jc_yaml_type_of(mapped)));
	if (mapped != orig)
		return jc_yaml_error_at(err, mapped, JC_EINVALID,
					"%s of role %s maps to %s, but must be %s (the role is at %s:%d:%d)",
					field, role->name, found, expected, jc_yaml_file(orig),
					jc_yaml_line(orig), jc_yaml_column(orig));
	return jc_yaml_error_at(err, orig, JC_EINVALID, "%s of role %s must be %s, found %s", field,
				role->name, expected, found);
}

/* ---- roles */

static const char *keep(struct role_storage *rs, const char *s)
{
	jc_strv_push(&rs->strings, s);
	return rs->strings.v[rs->strings.n - 1];
}

static int role_name_check(const jc_yaml_node *key, jc_error *err)
{
	const char *name = jc_yaml_scalar(key);
	if (jc_yaml_type_of(key) != JC_YAML_SCALAR || !*name)
		return jc_yaml_error_at(err, key, JC_EINVALID, "a role name must be a string");
	for (const char *p = name; *p; p++)
		if (*p < 'a' || *p > 'z')
			return jc_yaml_error_at(err, key, JC_EINVALID,
						"role name \"%s\" must be lower-case letters a-z only: "
						"roles are read back from hostnames like cp1-tag",
						name);
	if (strlen(name) > 32)
		return jc_yaml_error_at(err, key, JC_EINVALID, "role name \"%s\" is longer than 32 characters",
					name);
	return 0;
}

static int scalar_field(const jc_mappings *m, struct role_storage *rs, const jc_yaml_node *role_map,
			const char *field, bool required, const char **out, jc_error *err)
{
	const jc_yaml_node *v = jc_yaml_get(role_map, field);
	const jc_yaml_node *mv;
	int rc;

	*out = NULL;
	if (!v) {
		if (required)
			return jc_yaml_error_at(err, role_map, JC_EINVALID, "role %s has no %s", rs->pub.name,
						field);
		return 0;
	}
	if (jc_yaml_type_of(v) == JC_YAML_NULL && !required)
		return 0;
	if (jc_yaml_type_of(v) != JC_YAML_SCALAR)
		return wrong_type(v, v, field, &rs->pub, "a string", err);
	rc = map_value(m, field, v, &rs->pub, &mv, err);
	if (rc < 0)
		return rc;
	if (jc_yaml_type_of(mv) != JC_YAML_SCALAR || !*jc_yaml_scalar(mv))
		return wrong_type(v, mv, field, &rs->pub, "a string", err);
	*out = keep(rs, jc_yaml_scalar(mv));
	return 0;
}

static int bool_field(const jc_mappings *m, struct role_storage *rs, const jc_yaml_node *role_map,
		      const char *field, bool *out, jc_error *err)
{
	const jc_yaml_node *v = jc_yaml_get(role_map, field);
	const jc_yaml_node *mv;
	int rc;

	*out = false;
	if (!v || jc_yaml_type_of(v) == JC_YAML_NULL)
		return 0;
	if (jc_yaml_type_of(v) != JC_YAML_SCALAR)
		return wrong_type(v, v, field, &rs->pub, "true or false", err);
	rc = map_value(m, field, v, &rs->pub, &mv, err);
	if (rc < 0)
		return rc;
	if (jc_yaml_type_of(mv) == JC_YAML_NULL)
		return 0;
	if (!jc_yaml_is_bool(mv, out))
		return wrong_type(v, mv, field, &rs->pub, "true or false", err);
	return 0;
}

/* networks and security_groups: a scalar, a list, or null; each scalar
 * mapped (to a scalar, a list or null). */
static int list_field(const jc_mappings *m, struct role_storage *rs, const jc_yaml_node *role_map,
		      const char *field, const char ***out_v, size_t *out_n, bool *out_null,
		      jc_error *err)
{
	const jc_yaml_node *v = jc_yaml_get(role_map, field);
	jc_strv items = JC_STRV_INIT;
	const jc_yaml_node *single[1];
	const jc_yaml_node *const *elems;
	size_t n_elems;
	int rc = 0;
	bool any_null = false;

	*out_v = NULL;
	*out_n = 0;
	if (out_null)
		*out_null = false;
	if (!v)
		return 0;
	if (jc_yaml_type_of(v) == JC_YAML_NULL) {
		if (out_null)
			*out_null = true;
		return 0;
	}
	if (jc_yaml_type_of(v) == JC_YAML_MAPPING)
		return wrong_type(v, v, field, &rs->pub, "a name or a list of names", err);
	if (jc_yaml_type_of(v) == JC_YAML_SCALAR) {
		single[0] = v;
		elems = single;
		n_elems = 1;
	} else {
		n_elems = jc_yaml_size(v);
		elems = NULL;
	}
	for (size_t i = 0; i < n_elems && rc == 0; i++) {
		const jc_yaml_node *e = elems ? elems[i] : jc_yaml_item(v, i);
		const jc_yaml_node *mv;
		if (jc_yaml_type_of(e) != JC_YAML_SCALAR) {
			rc = wrong_type(e, e, field, &rs->pub, "a name", err);
			break;
		}
		rc = map_value(m, field, e, &rs->pub, &mv, err);
		if (rc < 0)
			break;
		switch (jc_yaml_type_of(mv)) {
		case JC_YAML_NULL:
			any_null = true;
			break;
		case JC_YAML_SCALAR:
			jc_strv_push(&items, jc_yaml_scalar(mv));
			break;
		case JC_YAML_SEQUENCE:
			for (size_t j = 0; j < jc_yaml_size(mv); j++) {
				const jc_yaml_node *x = jc_yaml_item(mv, j);
				if (jc_yaml_type_of(x) != JC_YAML_SCALAR) {
					rc = wrong_type(e, x, field, &rs->pub, "a name", err);
					break;
				}
				jc_strv_push(&items, jc_yaml_scalar(x));
			}
			break;
		case JC_YAML_MAPPING:
			rc = wrong_type(e, mv, field, &rs->pub, "a name or a list of names", err);
			break;
		}
	}
	if (rc == 0) {
		if (items.n) {
			const char **arr = jc_calloc(items.n, sizeof(char *));
			for (size_t i = 0; i < items.n; i++)
				arr[i] = keep(rs, items.v[i]);
			*out_v = arr;
			*out_n = items.n;
		} else if (any_null && out_null) {
			*out_null = true;
		}
	}
	jc_strv_free(&items);
	return rc;
}

static int boot_volume_field(const jc_mappings *m, struct role_storage *rs,
			     const jc_yaml_node *role_map, jc_error *err)
{
	const jc_yaml_node *v = jc_yaml_get(role_map, "boot_volume");
	const jc_yaml_node *mv;
	long gb;
	bool b;
	int rc;

	rs->pub.boot_volume_gb = 0;
	if (!v || jc_yaml_type_of(v) == JC_YAML_NULL)
		return 0;
	if (jc_yaml_type_of(v) != JC_YAML_SCALAR)
		return wrong_type(v, v, "boot_volume", &rs->pub, "a size in GB", err);
	rc = map_value(m, "boot_volume", v, &rs->pub, &mv, err);
	if (rc < 0)
		return rc;
	if (jc_yaml_type_of(mv) == JC_YAML_NULL || (jc_yaml_is_bool(mv, &b) && !b))
		return 0;
	if (!jc_yaml_is_int(mv, &gb)) {
		if (mv == v)
			return jc_yaml_error_at(err, v, JC_EINVALID,
						"boot_volume of role %s must be a size in GB, found \"%s\" "
						"(is a mappings file missing?)",
						rs->pub.name, jc_yaml_scalar(v));
		return wrong_type(v, mv, "boot_volume", &rs->pub, "a size in GB", err);
	}
	if (gb < 0 || gb > 65536)
		return jc_yaml_error_at(err, mv, JC_EINVALID,
					"boot_volume of role %s must be between 0 and 65536 GB, found %ld",
					rs->pub.name, gb);
	rs->pub.boot_volume_gb = gb;
	return 0;
}

static int metadata_field(struct role_storage *rs, const jc_yaml_node *role_map, jc_error *err)
{
	const jc_yaml_node *v = jc_yaml_get(role_map, "metadata");
	size_t n;
	if (!v || jc_yaml_type_of(v) == JC_YAML_NULL)
		return 0;
	if (jc_yaml_type_of(v) != JC_YAML_MAPPING)
		return wrong_type(v, v, "metadata", &rs->pub, "a mapping of strings", err);
	n = jc_yaml_size(v);
	if (n > 128)
		return jc_yaml_error_at(err, v, JC_EINVALID, "metadata of role %s has %zu items; "
					"Nova allows at most 128", rs->pub.name, n);
	rs->metadata_keys = jc_calloc(n, sizeof(char *));
	rs->metadata_values = jc_calloc(n, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		const jc_yaml_node *k = jc_yaml_key(v, i), *val = jc_yaml_value(v, i);
		if (jc_yaml_type_of(k) != JC_YAML_SCALAR || jc_yaml_type_of(val) != JC_YAML_SCALAR)
			return jc_yaml_error_at(err, jc_yaml_type_of(k) != JC_YAML_SCALAR ? k : val, JC_EINVALID,
						"metadata of role %s must map strings to strings", rs->pub.name);
		if (strlen(jc_yaml_scalar(k)) > 255 || strlen(jc_yaml_scalar(val)) > 255)
			return jc_yaml_error_at(err, k, JC_EINVALID,
						"metadata keys and values are limited to 255 characters");
		rs->metadata_keys[i] = keep(rs, jc_yaml_scalar(k));
		rs->metadata_values[i] = keep(rs, jc_yaml_scalar(val));
	}
	rs->pub.metadata_keys = rs->metadata_keys;
	rs->pub.metadata_values = rs->metadata_values;
	rs->pub.n_metadata = n;
	return 0;
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return jc_strdup(".");
	if (slash == path)
		return jc_strdup("/");
	return jc_strndup(path, (size_t)(slash - path));
}

static int userdata_field(struct role_storage *rs, const jc_yaml_node *role_map, const char *spec_path,
			  jc_error *err)
{
	const jc_yaml_node *v = jc_yaml_get(role_map, "userdata");
	const char *p;
	char *full;
	int rc;
	if (!v || jc_yaml_type_of(v) == JC_YAML_NULL)
		return 0;
	rc = jc_yaml_get_string(v, "userdata (a file path)", &p, err);
	if (rc < 0)
		return rc;
	if (p[0] == '/') {
		full = jc_strdup(p);
	} else {
		char *dir = dir_of(spec_path);
		full = jc_path_join(dir, p);
		free(dir);
	}
	if (!jc_path_exists(full)) {
		rc = jc_yaml_error_at(err, v, JC_EINVALID, "userdata file %s of role %s does not exist", full,
				      rs->pub.name);
		free(full);
		return rc;
	}
	rs->pub.userdata = keep(rs, full);
	free(full);
	return 0;
}

static int parse_role(const jc_mappings *m, struct role_storage *rs, const jc_yaml_node *key,
		      const jc_yaml_node *val, const char *spec_path, jc_error *err)
{
	char what[96];
	const jc_yaml_node *num;
	bool null_nets = false;
	int rc;

	rc = role_name_check(key, err);
	if (rc < 0)
		return rc;
	rs->pub.name = keep(rs, jc_yaml_scalar(key));
	rs->pub.file = keep(rs, jc_yaml_file(key));
	rs->pub.line = jc_yaml_line(key);
	rs->pub.column = jc_yaml_column(key);
	snprintf(what, sizeof(what), "role %s", rs->pub.name);
	if (jc_yaml_type_of(val) != JC_YAML_MAPPING)
		return jc_yaml_error_at(err, jc_yaml_type_of(val) == JC_YAML_NULL ? key : val, JC_EINVALID,
					"role %s must be a mapping with at least number, flavor and image",
					rs->pub.name);
	rc = jc_yaml_check_keys(val, role_keys, JC_ARRAY_LEN(role_keys), what, err);
	if (rc < 0)
		return rc;
	num = jc_yaml_get(val, "number");
	if (!num)
		return jc_yaml_error_at(err, key, JC_EINVALID, "role %s has no number (how many servers)",
					rs->pub.name);
	snprintf(what, sizeof(what), "number of role %s", rs->pub.name);
	rc = jc_yaml_get_int(num, what, 0, MAX_INSTANCES, &rs->pub.spec_number, err);
	if (rc < 0)
		return rc;
	rs->pub.number = rs->pub.spec_number;
	if ((rc = scalar_field(m, rs, val, "flavor", true, &rs->pub.flavor, err)) < 0 ||
	    (rc = scalar_field(m, rs, val, "image", true, &rs->pub.image, err)) < 0 ||
	    (rc = scalar_field(m, rs, val, "key_name", false, &rs->pub.key_name, err)) < 0 ||
	    (rc = scalar_field(m, rs, val, "availability_zone", false, &rs->pub.availability_zone, err)) < 0)
		return rc;
	rc = list_field(m, rs, val, "networks", &rs->networks, &rs->pub.n_networks, &null_nets, err);
	if (rc < 0)
		return rc;
	rs->pub.networks = rs->networks;
	rs->pub.networks_mode = rs->pub.n_networks ? JC_NETWORKS_LIST :
				null_nets ? JC_NETWORKS_NONE : JC_NETWORKS_DEFAULT;
	rc = list_field(m, rs, val, "security_groups", &rs->security_groups, &rs->pub.n_security_groups,
			NULL, err);
	if (rc < 0)
		return rc;
	rs->pub.security_groups = rs->security_groups;
	if ((rc = boot_volume_field(m, rs, val, err)) < 0 ||
	    (rc = bool_field(m, rs, val, "config_drive", &rs->pub.config_drive, err)) < 0 ||
	    (rc = bool_field(m, rs, val, "assign_floating_ip", &rs->pub.assign_floating_ip, err)) < 0 ||
	    (rc = metadata_field(rs, val, err)) < 0 ||
	    (rc = userdata_field(rs, val, spec_path, err)) < 0)
		return rc;
	return 0;
}

static void role_storage_free(struct role_storage *rs)
{
	jc_strv_free(&rs->strings);
	free(rs->networks);
	free(rs->security_groups);
	free(rs->metadata_keys);
	free(rs->metadata_values);
}

void jc_spec_free(jc_spec *spec)
{
	if (!spec)
		return;
	for (size_t i = 0; i < spec->n_roles; i++)
		role_storage_free(&spec->roles[i]);
	free(spec->roles);
	free(spec->path);
	free(spec);
}

int jc_spec_load(jc_spec **out, const char *path, const jc_spec_options *opts, jc_error *err)
{
	static const char *const top_keys[] = { "resources" };
	jc_yaml_doc *doc;
	const jc_yaml_node *root, *res;
	const jc_mappings *m = opts ? opts->mappings : NULL;
	jc_spec *spec;
	int rc;

	*out = NULL;
	if (opts && opts->version != JC_SPEC_OPTIONS_VERSION)
		return jc_err(err, JC_EINVALID, "jc_spec_options version %u is not supported", opts->version);
	rc = jc_yaml_load_file(&doc, path, err);
	if (rc < 0)
		return rc;
	root = jc_yaml_root(doc);
	if (jc_yaml_type_of(root) != JC_YAML_MAPPING) {
		rc = jc_err_at(err, JC_EINVALID, path, jc_yaml_line(root) ? jc_yaml_line(root) : 1,
				      jc_yaml_column(root) ? jc_yaml_column(root) : 1,
				      "a resource spec must be a mapping with a \"resources\" key, found %s",
				      jc_yaml_type_of(root) == JC_YAML_NULL ? "an empty document" :
				      jc_yaml_type_name(jc_yaml_type_of(root)));
		jc_yaml_free(doc);
		return rc;
	}
	rc = jc_yaml_check_keys(root, top_keys, JC_ARRAY_LEN(top_keys), "the resource spec", err);
	res = jc_yaml_get(root, "resources");
	if (rc == 0 && !res)
		rc = jc_yaml_error_at(err, root, JC_EINVALID, "the resource spec has no \"resources\" key");
	if (rc == 0 && jc_yaml_type_of(res) != JC_YAML_MAPPING)
		rc = jc_yaml_error_at(err, res, JC_EINVALID,
				      "resources must be a mapping of role names to servers, found %s",
				      jc_yaml_type_of(res) == JC_YAML_NULL ? "nothing" :
				      jc_yaml_type_name(jc_yaml_type_of(res)));
	if (rc == 0 && jc_yaml_size(res) == 0)
		rc = jc_yaml_error_at(err, res, JC_EINVALID, "resources has no roles");
	if (rc < 0) {
		jc_yaml_free(doc);
		return rc;
	}
	spec = jc_calloc(1, sizeof(*spec));
	spec->path = jc_strdup(path);
	spec->roles = jc_calloc(jc_yaml_size(res), sizeof(*spec->roles));
	for (size_t i = 0; i < jc_yaml_size(res); i++) {
		rc = parse_role(m, &spec->roles[i], jc_yaml_key(res, i), jc_yaml_value(res, i), path, err);
		spec->n_roles++;
		if (rc < 0)
			break;
	}
	jc_yaml_free(doc);
	if (rc == 0 && opts && opts->overrides)
		rc = jc_spec_override(spec, opts->overrides, err);
	if (rc < 0) {
		jc_spec_free(spec);
		return rc;
	}
	*out = spec;
	return 0;
}

const char *jc_spec_path(const jc_spec *spec) { return spec->path; }
size_t jc_spec_role_count(const jc_spec *spec) { return spec->n_roles; }

const jc_role *jc_spec_role(const jc_spec *spec, size_t i)
{
	return i < spec->n_roles ? &spec->roles[i].pub : NULL;
}

const jc_role *jc_spec_role_find(const jc_spec *spec, const char *name)
{
	for (size_t i = 0; i < spec->n_roles; i++)
		if (strcmp(spec->roles[i].pub.name, name) == 0)
			return &spec->roles[i].pub;
	return NULL;
}

int jc_spec_override(jc_spec *spec, const char *overrides, jc_error *err)
{
	long *numbers;
	char *copy, *save = NULL;
	int rc = 0;

	if (!overrides || !*overrides)
		return 0;
	numbers = jc_calloc(spec->n_roles, sizeof(long));
	for (size_t i = 0; i < spec->n_roles; i++)
		numbers[i] = spec->roles[i].pub.number;
	copy = jc_strdup(overrides);
	/* "cp=5,ct=2", the original's "cp=5:ct=2", and mixes of both */
	for (char *tok = strtok_r(copy, ",: ", &save); tok && rc == 0; tok = strtok_r(NULL, ",: ", &save)) {
		char *eq = strchr(tok, '=');
		long n;
		const char *names[256];
		size_t k = 0;
		bool found = false;
		if (!eq) {
			rc = jc_err(err, JC_EINVALID, "override \"%s\" must look like role=number", tok);
			break;
		}
		*eq = '\0';
		if (!jc_parse_long(eq + 1, &n) || n < 0 || n > MAX_INSTANCES) {
			rc = jc_err(err, JC_EINVALID,
				    "override %s=%s: the number must be a whole number from 0 to %d", tok, eq + 1,
				    MAX_INSTANCES);
			break;
		}
		for (size_t i = 0; i < spec->n_roles; i++) {
			if (k < JC_ARRAY_LEN(names))
				names[k++] = spec->roles[i].pub.name;
			if (strcmp(spec->roles[i].pub.name, tok) == 0) {
				numbers[i] = n;
				found = true;
			}
		}
		if (!found) {
			const char *hint = jc_str_suggest(tok, names, k);
			if (hint)
				rc = jc_err(err, JC_EINVALID, "override %s=%ld: %s has no role \"%s\"; did you mean \"%s\"?",
					    tok, n, spec->path, tok, hint);
			else
				rc = jc_err(err, JC_EINVALID, "override %s=%ld: %s has no role \"%s\"", tok, n,
					    spec->path, tok);
		}
	}
	free(copy);
	if (rc == 0)
		for (size_t i = 0; i < spec->n_roles; i++)
			spec->roles[i].pub.number = numbers[i];
	free(numbers);
	return rc;
}

/* ---- names */

int jc_tag_check(const char *tag, jc_error *err)
{
	size_t len;
	if (!tag || !*tag)
		return jc_err(err, JC_EINVALID, "a stack tag is required (--tag)");
	len = strlen(tag);
	if (len > 40)
		return jc_err(err, JC_EINVALID, "tag \"%s\" is %zu characters long; at most 40 are allowed",
			      tag, len);
	for (size_t i = 0; i < len; i++) {
		char c = tag[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && i > 0);
		if (!ok)
			return jc_err(err, JC_EINVALID,
				      "tag \"%s\": character %zu ('%c') is not allowed; a tag is lower-case "
				      "letters, digits and '-', and does not start with '-'",
				      tag, i + 1, c);
	}
	if (tag[len - 1] == '-')
		return jc_err(err, JC_EINVALID, "tag \"%s\" must not end with '-' (hostnames cannot)", tag);
	return 0;
}

void jc_instances_free(jc_instance *v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].hostname);
	}
	free(v);
}

int jc_spec_instances(const jc_spec *spec, const char *tag, jc_instance **out, size_t *n_out,
		      jc_error *err)
{
	size_t total = 0, k = 0;
	jc_instance *v;
	int rc;

	*out = NULL;
	*n_out = 0;
	if (tag) {
		rc = jc_tag_check(tag, err);
		if (rc < 0)
			return rc;
	}
	for (size_t i = 0; i < spec->n_roles; i++)
		total += (size_t)spec->roles[i].pub.number;
	v = jc_calloc(total ? total : 1, sizeof(*v));
	for (size_t i = 0; i < spec->n_roles; i++) {
		const jc_role *r = &spec->roles[i].pub;
		for (long j = 1; j <= r->number; j++, k++) {
			v[k].role = r;
			v[k].index = j;
			if (tag) {
				v[k].name = jc_sprintf("%s%ld_%s", r->name, j, tag);
				v[k].hostname = jc_sprintf("%s%ld-%s", r->name, j, tag);
			} else {
				v[k].name = jc_sprintf("%s%ld", r->name, j);
				v[k].hostname = jc_strdup(v[k].name);
			}
			if (strlen(v[k].hostname) > JC_HOSTNAME_MAX) {
				rc = jc_err_at(err, JC_EINVALID, r->file, r->line, r->column,
					       "hostname %s is %zu characters long; hostnames are limited to %d "
					       "(shorten the tag or the role name)",
					       v[k].hostname, strlen(v[k].hostname), JC_HOSTNAME_MAX);
				jc_instances_free(v, k + 1);
				return rc;
			}
		}
	}
	*out = v;
	*n_out = total;
	return 0;
}

bool jc_name_parse(const char *name, char **role, long *index, char **tag)
{
	const char *p = name, *digits, *end;
	long idx = 0;

	while (*p >= 'a' && *p <= 'z')
		p++;
	if (p == name || !isdigit((unsigned char)*p))
		return false;
	digits = p;
	while (isdigit((unsigned char)*p)) {
		if (idx > 100000000)
			return false;
		idx = idx * 10 + (*p - '0');
		p++;
	}
	end = p;
	if (*p && *p != '_' && *p != '-')
		return false;
	if (*p && !p[1])
		return false;
	if (role)
		*role = jc_strndup(name, (size_t)(digits - name));
	if (index)
		*index = idx;
	if (tag)
		*tag = *end ? jc_strdup(end + 1) : NULL;
	return true;
}

/* ---- userdata */

bool jc_userdata_is_template(const char *path)
{
	return path && (jc_str_ends(path, ".tmpl") || jc_str_ends(path, ".template"));
}

int jc_userdata_check_size(const char *path, size_t len, jc_error *err)
{
	size_t b64 = 4 * ((len + 2) / 3);
	if (b64 > JC_USERDATA_MAX_BASE64)
		return jc_err_at(err, JC_EINVALID, path, 0, 0,
				 "userdata is %zu bytes (%zu once base64-encoded); Nova accepts at most %d "
				 "base64 bytes, about %d bytes of userdata",
				 len, b64, JC_USERDATA_MAX_BASE64, JC_USERDATA_MAX_BASE64 / 4 * 3);
	return 0;
}

int jc_userdata_render(char **out, size_t *out_len, const char *path, const char *text, size_t len,
		       bool is_template, const jc_userdata_vars *vars, jc_error *err)
{
	jc_buf b = JC_BUF_INIT;
	int line = 1, col = 1;

	*out = NULL;
	*out_len = 0;
	if (!is_template) {
		jc_buf_add(&b, text, len);
		*out_len = b.len;
		*out = jc_buf_detach(&b);
		return 0;
	}
	for (size_t i = 0; i < len;) {
		char c = text[i];
		if (c == '$' && i + 2 < len && text[i + 1] == '$' && text[i + 2] == '{') {
			jc_buf_puts(&b, "${");
			i += 3;
			col += 3;
			continue;
		}
		if (c == '$' && i + 1 < len && text[i + 1] == '{') {
			const char *start = text + i + 2;
			const char *close = memchr(start, '}', len - (i + 2));
			const char *val = NULL;
			size_t nl;
			if (!close) {
				jc_buf_free(&b);
				return jc_err_at(err, JC_EINVALID, path, line, col,
						 "unterminated ${ in userdata template");
			}
			nl = (size_t)(close - start);
			if (nl == 8 && memcmp(start, "hostname", 8) == 0)
				val = vars ? vars->hostname : NULL;
			else if (nl == 4 && memcmp(start, "role", 4) == 0)
				val = vars ? vars->role : NULL;
			else if (nl == 3 && memcmp(start, "tag", 3) == 0)
				val = vars ? vars->tag : NULL;
			else if (nl == 7 && memcmp(start, "version", 7) == 0) {
				val = vars ? vars->version : NULL;
				if (!val) {
					jc_buf_free(&b);
					return jc_err_at(err, JC_EINVALID, path, line, col,
							 "userdata template uses ${version} but no version was "
							 "given (--version)");
				}
			} else {
				int rc = jc_err_at(err, JC_EINVALID, path, line, col,
						   "unknown variable ${%.*s} in userdata template (known: "
						   "${hostname}, ${role}, ${tag}, ${version}; write $${ for a "
						   "literal ${)", (int)(nl > 64 ? 64 : nl), start);
				jc_buf_free(&b);
				return rc;
			}
			jc_buf_puts(&b, val ? val : "");
			col += (int)nl + 3;
			i += nl + 3;
			continue;
		}
		jc_buf_putc(&b, c);
		if (c == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
		i++;
	}
	*out_len = b.len;
	*out = jc_buf_detach(&b);
	return 0;
}
