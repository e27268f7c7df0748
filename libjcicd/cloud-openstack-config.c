/* cloud-openstack-config.c - which cloud, with which credentials: clouds.yaml
 * and secure.yaml where openstacksdk looks for them, or the OS_* variables.
 * Nothing here talks to a server. */
#include "cloud-openstack.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jcicd/yaml.h"

#define FIELD(f) offsetof(os_config, f)
#define STR_AT(cfg, off) ((char **)((char *)(cfg) + (off)))

/* keys of a cloud's auth: mapping and the field each fills */
static const struct {
	const char *key;
	size_t off;
} auth_keys[] = {
	{ "auth_url", FIELD(auth_url) },
	{ "username", FIELD(username) },
	{ "user_id", FIELD(user_id) },
	{ "password", FIELD(password) },
	{ "user_domain_name", FIELD(user_domain_name) },
	{ "user_domain_id", FIELD(user_domain_id) },
	{ "project_name", FIELD(project_name) },
	{ "tenant_name", FIELD(project_name) },
	{ "project_id", FIELD(project_id) },
	{ "tenant_id", FIELD(project_id) },
	{ "project_domain_name", FIELD(project_domain_name) },
	{ "project_domain_id", FIELD(project_domain_id) },
	{ "application_credential_id", FIELD(appcred_id) },
	{ "application_credential_name", FIELD(appcred_name) },
	{ "application_credential_secret", FIELD(appcred_secret) },
};

/* keys at the cloud's top level */
static const struct {
	const char *key;
	size_t off;
} top_keys[] = {
	{ "region_name", FIELD(region_name) },
	{ "interface", FIELD(interface) },
	{ "endpoint_type", FIELD(interface) },
	{ "cacert", FIELD(cacert) },
	{ "cert", FIELD(cert) },
	{ "key", FIELD(key) },
	{ "compute_endpoint_override", FIELD(compute_endpoint) },
	{ "network_endpoint_override", FIELD(network_endpoint) },
	{ "image_endpoint_override", FIELD(image_endpoint) },
};

/* the OS_* variables */
static const struct {
	const char *var;
	size_t off;
} env_keys[] = {
	{ "OS_AUTH_URL", FIELD(auth_url) },
	{ "OS_USERNAME", FIELD(username) },
	{ "OS_USER_ID", FIELD(user_id) },
	{ "OS_PASSWORD", FIELD(password) },
	{ "OS_USER_DOMAIN_NAME", FIELD(user_domain_name) },
	{ "OS_USER_DOMAIN_ID", FIELD(user_domain_id) },
	{ "OS_PROJECT_NAME", FIELD(project_name) },
	{ "OS_TENANT_NAME", FIELD(project_name) },
	{ "OS_PROJECT_ID", FIELD(project_id) },
	{ "OS_TENANT_ID", FIELD(project_id) },
	{ "OS_PROJECT_DOMAIN_NAME", FIELD(project_domain_name) },
	{ "OS_PROJECT_DOMAIN_ID", FIELD(project_domain_id) },
	{ "OS_APPLICATION_CREDENTIAL_ID", FIELD(appcred_id) },
	{ "OS_APPLICATION_CREDENTIAL_NAME", FIELD(appcred_name) },
	{ "OS_APPLICATION_CREDENTIAL_SECRET", FIELD(appcred_secret) },
	{ "OS_REGION_NAME", FIELD(region_name) },
	{ "OS_INTERFACE", FIELD(interface) },
	{ "OS_ENDPOINT_TYPE", FIELD(interface) },
	{ "OS_CACERT", FIELD(cacert) },
	{ "OS_CERT", FIELD(cert) },
	{ "OS_KEY", FIELD(key) },
};

static const char *const jcicd_keys[] = {
	"default_networks", "floating_network", "page_limit", "concurrency",
};

void os_config_free(os_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < JC_ARRAY_LEN(auth_keys); i++) {
		free(*STR_AT(c, auth_keys[i].off));
		*STR_AT(c, auth_keys[i].off) = NULL;
	}
	for (size_t i = 0; i < JC_ARRAY_LEN(top_keys); i++) {
		free(*STR_AT(c, top_keys[i].off));
		*STR_AT(c, top_keys[i].off) = NULL;
	}
	free(c->name);
	free(c->source);
	free(c->floating_network);
	jc_strv_free(&c->default_network_names);
	free(c);
}

bool os_version_parse(const char *s, int *out)
{
	long major, minor;
	char *dot, *copy;
	bool ok;
	if (!s || !*s)
		return false;
	copy = jc_strdup(s);
	dot = strchr(copy, '.');
	if (dot)
		*dot = '\0';
	ok = jc_parse_long(copy, &major) && major >= 0 && major < 100;
	minor = 0;
	if (ok && dot)
		ok = jc_parse_long(dot + 1, &minor) && minor >= 0 && minor < 1000;
	free(copy);
	if (ok)
		*out = (int)(major * 1000 + minor);
	return ok;
}

/* ---- finding the files */

static void search_dirs(jc_strv *dirs)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	jc_strv_push(dirs, ".");
	if (xdg && *xdg)
		jc_strv_push_owned(dirs, jc_path_join(xdg, "openstack"));
	else if (home && *home)
		jc_strv_push_owned(dirs, jc_sprintf("%s/.config/openstack", home));
	jc_strv_push(dirs, "/etc/openstack");
}

/* The first existing DIR/BASE.{yaml,yml,json} over dirs, or NULL. */
static char *find_in(const jc_strv *dirs, const char *base, jc_buf *looked)
{
	static const char *const exts[] = { "yaml", "yml", "json" };
	for (size_t i = 0; i < dirs->n; i++) {
		for (size_t j = 0; j < JC_ARRAY_LEN(exts); j++) {
			char *p = jc_sprintf("%s/%s.%s", dirs->v[i], base, exts[j]);
			if (jc_path_exists(p))
				return p;
			free(p);
		}
		if (looked)
			jc_buf_printf(looked, "%s%s/%s.yaml", looked->len ? ", " : "", dirs->v[i], base);
	}
	return NULL;
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? jc_strndup(path, (size_t)(slash - path)) : jc_strdup(".");
}

/* ---- reading one cloud */

static int set_str(os_config *c, size_t off, const jc_yaml_node *node, const char *what, jc_error *err)
{
	const char *s;
	int rc;
	if (!node || jc_yaml_type_of(node) == JC_YAML_NULL)
		return 0;
	if ((rc = jc_yaml_get_string(node, what, &s, err)) < 0)
		return rc;
	free(*STR_AT(c, off));
	*STR_AT(c, off) = jc_strdup(s);
	return 0;
}

/* Reads the keys of one cloud mapping (of clouds.yaml, then of secure.yaml
 * over it). */
static int read_cloud(os_config *c, const jc_yaml_node *cloud, jc_error *err)
{
	const jc_yaml_node *auth, *n;
	int rc;
	char what[96];

	if (!cloud)
		return 0;
	if ((rc = jc_yaml_expect(cloud, JC_YAML_MAPPING, "a cloud", err)) < 0)
		return rc;
	if ((n = jc_yaml_get(cloud, "profile")) != NULL)
		return jc_yaml_error_at(err, n, JC_EINVALID,
					"cloud profiles (clouds-public.yaml) are not supported: write the "
					"cloud's auth_url and region_name into clouds.yaml");
	if ((n = jc_yaml_get(cloud, "auth_type")) != NULL) {
		const char *t;
		if ((rc = jc_yaml_get_string(n, "auth_type", &t, err)) < 0)
			return rc;
		if (strcmp(t, "password") == 0 || strcmp(t, "v3password") == 0)
			c->auth_type = OS_AUTH_PASSWORD;
		else if (strcmp(t, "v3applicationcredential") == 0 || strcmp(t, "applicationcredential") == 0)
			c->auth_type = OS_AUTH_APPCRED;
		else
			return jc_yaml_error_at(err, n, JC_EINVALID,
						"auth_type \"%s\" is not supported (password, "
						"v3applicationcredential)", t);
	}
	if ((n = jc_yaml_get(cloud, "identity_api_version")) != NULL) {
		const char *v;
		if ((rc = jc_yaml_get_string(n, "identity_api_version", &v, err)) < 0)
			return rc;
		if (strcmp(v, "3") != 0 && strcmp(v, "3.0") != 0)
			return jc_yaml_error_at(err, n, JC_EINVALID,
						"identity_api_version %s is not supported: only Keystone v3", v);
	}
	auth = jc_yaml_get(cloud, "auth");
	if (auth && jc_yaml_type_of(auth) != JC_YAML_NULL) {
		if ((rc = jc_yaml_expect(auth, JC_YAML_MAPPING, "auth", err)) < 0)
			return rc;
		for (size_t i = 0; i < JC_ARRAY_LEN(auth_keys); i++) {
			snprintf(what, sizeof(what), "auth.%s", auth_keys[i].key);
			if ((rc = set_str(c, auth_keys[i].off, jc_yaml_get(auth, auth_keys[i].key), what, err)) < 0)
				return rc;
		}
		/* openstacksdk's domain shorthands fill both sides */
		static const char *const dom[] = { "domain_name", "default_domain", "domain_id" };
		for (size_t i = 0; i < JC_ARRAY_LEN(dom); i++) {
			const jc_yaml_node *d = jc_yaml_get(auth, dom[i]);
			bool is_id = strcmp(dom[i], "domain_id") == 0 || strcmp(dom[i], "default_domain") == 0;
			if (!d)
				continue;
			if (!c->user_domain_name && !c->user_domain_id &&
			    (rc = set_str(c, is_id ? FIELD(user_domain_id) : FIELD(user_domain_name), d, dom[i], err)) < 0)
				return rc;
			if (!c->project_domain_name && !c->project_domain_id &&
			    (rc = set_str(c, is_id ? FIELD(project_domain_id) : FIELD(project_domain_name), d, dom[i],
					  err)) < 0)
				return rc;
		}
	}
	for (size_t i = 0; i < JC_ARRAY_LEN(top_keys); i++)
		if ((rc = set_str(c, top_keys[i].off, jc_yaml_get(cloud, top_keys[i].key), top_keys[i].key, err)) < 0)
			return rc;
	if (!c->region_name && (n = jc_yaml_get(cloud, "regions")) != NULL &&
	    jc_yaml_type_of(n) == JC_YAML_SEQUENCE && jc_yaml_size(n) > 0) {
		/* the first region, as openstacksdk does; region_name picks another */
		const jc_yaml_node *r = jc_yaml_item(n, 0);
		if (jc_yaml_type_of(r) == JC_YAML_MAPPING)
			r = jc_yaml_get(r, "name");
		if ((rc = set_str(c, FIELD(region_name), r, "regions[0]", err)) < 0)
			return rc;
	}
	if ((n = jc_yaml_get(cloud, "verify")) != NULL && (rc = jc_yaml_get_bool(n, "verify", &c->verify, err)) < 0)
		return rc;
	if ((n = jc_yaml_get(cloud, "insecure")) != NULL) {
		bool insecure;
		if ((rc = jc_yaml_get_bool(n, "insecure", &insecure, err)) < 0)
			return rc;
		c->verify = !insecure;
	}
	if ((n = jc_yaml_get(cloud, "api_timeout")) != NULL) {
		long secs;
		if ((rc = jc_yaml_get_int(n, "api_timeout (seconds)", 1, 86400, &secs, err)) < 0)
			return rc;
		c->api_timeout_ms = secs * 1000LL;
	}
	if ((n = jc_yaml_get(cloud, "compute_api_version")) != NULL) {
		const char *v;
		if ((rc = jc_yaml_get_string(n, "compute_api_version", &v, err)) < 0)
			return rc;
		if (!os_version_parse(v, &c->compute_api_cap) || c->compute_api_cap < OS_MV_MIN)
			return jc_yaml_error_at(err, n, JC_EINVALID,
						"compute_api_version \"%s\" is not a Nova microversion (2.1 or later)", v);
	}
	return 0;
}

/* The jcicd: block: what only jcicd reads in clouds.yaml. */
static int read_jcicd(os_config *c, const jc_yaml_node *j, jc_error *err)
{
	const jc_yaml_node *n;
	int rc;
	long v;

	if (!j || jc_yaml_type_of(j) == JC_YAML_NULL)
		return 0;
	if ((rc = jc_yaml_expect(j, JC_YAML_MAPPING, "jcicd", err)) < 0 ||
	    (rc = jc_yaml_check_keys(j, jcicd_keys, JC_ARRAY_LEN(jcicd_keys), "jcicd", err)) < 0)
		return rc;
	if ((n = jc_yaml_get(j, "default_networks")) != NULL) {
		jc_strv_free(&c->default_network_names);
		if (jc_yaml_type_of(n) == JC_YAML_NULL) {
			c->default_networks = OS_DEFNET_NONE;
		} else if (jc_yaml_type_of(n) == JC_YAML_SCALAR) {
			const char *s = jc_yaml_scalar(n);
			if (strcmp(s, "auto") == 0) {
				c->default_networks = OS_DEFNET_AUTO;
			} else if (strcmp(s, "none") == 0) {
				c->default_networks = OS_DEFNET_NONE;
			} else {
				c->default_networks = OS_DEFNET_LIST;
				jc_strv_push(&c->default_network_names, s);
			}
		} else if (jc_yaml_type_of(n) == JC_YAML_SEQUENCE && jc_yaml_size(n) > 0) {
			c->default_networks = OS_DEFNET_LIST;
			for (size_t i = 0; i < jc_yaml_size(n); i++) {
				const char *s;
				if ((rc = jc_yaml_get_string(jc_yaml_item(n, i), "a network", &s, err)) < 0)
					return rc;
				jc_strv_push(&c->default_network_names, s);
			}
		} else {
			return jc_yaml_error_at(err, n, JC_EINVALID,
						"jcicd.default_networks is auto, none, a network or a list of networks");
		}
	}
	if ((n = jc_yaml_get(j, "floating_network")) != NULL) {
		const char *s;
		if ((rc = jc_yaml_get_string(n, "jcicd.floating_network", &s, err)) < 0)
			return rc;
		free(c->floating_network);
		c->floating_network = jc_strdup(s);
	}
	if ((n = jc_yaml_get(j, "page_limit")) != NULL) {
		if ((rc = jc_yaml_get_int(n, "jcicd.page_limit", 1, 1000, &v, err)) < 0)
			return rc;
		c->page_limit = v;
	}
	if ((n = jc_yaml_get(j, "concurrency")) != NULL) {
		if ((rc = jc_yaml_get_int(n, "jcicd.concurrency", 1, 64, &v, err)) < 0)
			return rc;
		c->concurrency = (int)v;
	}
	return 0;
}

/* The "clouds" mapping of a loaded file. */
static int clouds_of(const jc_yaml_doc *doc, const char *path, const jc_yaml_node **out, jc_error *err)
{
	const jc_yaml_node *root = jc_yaml_root(doc), *clouds;
	*out = NULL;
	if (jc_yaml_type_of(root) == JC_YAML_NULL)
		return 0;
	if (jc_yaml_type_of(root) != JC_YAML_MAPPING)
		return jc_yaml_error_at(err, root, JC_EINVALID, "%s: expected a mapping with a \"clouds\" key", path);
	clouds = jc_yaml_get(root, "clouds");
	if (!clouds || jc_yaml_type_of(clouds) == JC_YAML_NULL)
		return 0;
	if (jc_yaml_type_of(clouds) != JC_YAML_MAPPING)
		return jc_yaml_error_at(err, clouds, JC_EINVALID, "\"clouds\" must be a mapping of cloud names");
	*out = clouds;
	return 0;
}

static int no_such_cloud(const char *name, const jc_yaml_node *clouds, const char *path, jc_error *err)
{
	jc_strv names = JC_STRV_INIT;
	jc_buf list = JC_BUF_INIT;
	const char *hint;
	int rc;
	for (size_t i = 0; clouds && i < jc_yaml_size(clouds); i++) {
		const char *k = jc_yaml_scalar(jc_yaml_key(clouds, i));
		jc_strv_push(&names, k);
		jc_buf_printf(&list, "%s%s", i ? ", " : "", k);
	}
	hint = jc_str_suggest(name, (const char *const *)names.v, names.n);
	if (hint)
		rc = jc_err(err, JC_EINVALID, "%s: no cloud \"%s\"; did you mean \"%s\"?", path, name, hint);
	else
		rc = jc_err(err, JC_EINVALID, "%s: no cloud \"%s\" (it has: %s)", path, name,
			    names.n ? jc_buf_cstr(&list) : "none");
	jc_strv_free(&names);
	jc_buf_free(&list);
	return rc;
}

static int load_named(os_config *c, const char *name, const char *config_file, jc_error *err)
{
	jc_strv dirs = JC_STRV_INIT;
	jc_buf looked = JC_BUF_INIT;
	char *path = NULL, *secure_path = NULL;
	jc_yaml_doc *doc = NULL, *sdoc = NULL;
	const jc_yaml_node *clouds, *cloud, *sclouds = NULL, *scloud = NULL;
	const char *env;
	int rc = 0;

	search_dirs(&dirs);
	env = getenv("OS_CLIENT_CONFIG_FILE");
	if (config_file)
		path = jc_strdup(config_file);
	else if (env && *env && jc_path_exists(env))
		path = jc_strdup(env);
	else
		path = find_in(&dirs, "clouds", &looked);
	if (!path) {
		rc = jc_err(err, JC_EINVALID, "cloud \"%s\": no clouds.yaml found (looked for %s%s); give "
			    "--clouds-yaml FILE, set OS_CLIENT_CONFIG_FILE, or use --cloud local", name,
			    jc_buf_cstr(&looked), env && *env ? " and $OS_CLIENT_CONFIG_FILE" : "");
		goto out;
	}
	if ((rc = jc_yaml_load_file(&doc, path, err)) < 0 || (rc = clouds_of(doc, path, &clouds, err)) < 0)
		goto out;
	cloud = clouds ? jc_yaml_get(clouds, name) : NULL;
	if (!cloud) {
		rc = no_such_cloud(name, clouds, path, err);
		goto out;
	}
	/* secure.yaml: $OS_CLIENT_SECURE_FILE, beside clouds.yaml, the usual places */
	env = getenv("OS_CLIENT_SECURE_FILE");
	if (env && *env && jc_path_exists(env)) {
		secure_path = jc_strdup(env);
	} else {
		jc_strv here = JC_STRV_INIT;
		jc_strv_push_owned(&here, dir_of(path));
		secure_path = find_in(&here, "secure", NULL);
		jc_strv_free(&here);
		if (!secure_path)
			secure_path = find_in(&dirs, "secure", NULL);
	}
	if (secure_path) {
		if ((rc = jc_yaml_load_file(&sdoc, secure_path, err)) < 0 ||
		    (rc = clouds_of(sdoc, secure_path, &sclouds, err)) < 0)
			goto out;
		scloud = sclouds ? jc_yaml_get(sclouds, name) : NULL;
	}
	c->source = jc_strdup(path);
	if ((rc = read_cloud(c, cloud, err)) < 0 || (rc = read_cloud(c, scloud, err)) < 0 ||
	    (rc = read_jcicd(c, jc_yaml_get(cloud, "jcicd"), err)) < 0 ||
	    (rc = read_jcicd(c, scloud ? jc_yaml_get(scloud, "jcicd") : NULL, err)) < 0)
		goto out;
	/* a secret handed in by the environment (a CI credentials binding) */
	env = getenv("OS_PASSWORD");
	if (!c->password && env && *env)
		c->password = jc_strdup(env);
	env = getenv("OS_APPLICATION_CREDENTIAL_SECRET");
	if (!c->appcred_secret && env && *env)
		c->appcred_secret = jc_strdup(env);
out:
	jc_yaml_free(doc);
	jc_yaml_free(sdoc);
	free(path);
	free(secure_path);
	jc_strv_free(&dirs);
	jc_buf_free(&looked);
	return rc;
}

static int load_env(os_config *c, jc_error *err)
{
	const char *v;
	for (size_t i = 0; i < JC_ARRAY_LEN(env_keys); i++) {
		v = getenv(env_keys[i].var);
		if (v && *v && !*STR_AT(c, env_keys[i].off))
			*STR_AT(c, env_keys[i].off) = jc_strdup(v);
	}
	if (!c->auth_url)
		return jc_err(err, JC_EINVALID, "no cloud given: use --cloud NAME (a cloud of clouds.yaml), "
			      "set OS_CLOUD, or set the OS_* variables (OS_AUTH_URL is not set)");
	c->source = jc_strdup("the OS_* variables");
	v = getenv("OS_AUTH_TYPE");
	if (v && *v) {
		if (strstr(v, "applicationcredential"))
			c->auth_type = OS_AUTH_APPCRED;
		else if (strcmp(v, "password") != 0 && strcmp(v, "v3password") != 0)
			return jc_err(err, JC_EINVALID, "OS_AUTH_TYPE=%s is not supported (password, "
				      "v3applicationcredential)", v);
	} else if (c->appcred_id || c->appcred_name) {
		c->auth_type = OS_AUTH_APPCRED;
	}
	v = getenv("OS_IDENTITY_API_VERSION");
	if (v && *v && strcmp(v, "3") != 0 && strcmp(v, "3.0") != 0)
		return jc_err(err, JC_EINVALID, "OS_IDENTITY_API_VERSION=%s is not supported: only Keystone v3", v);
	v = getenv("OS_INSECURE");
	if (v && (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0))
		c->verify = false;
	v = getenv("OS_COMPUTE_API_VERSION");
	if (v && *v && (!os_version_parse(v, &c->compute_api_cap) || c->compute_api_cap < OS_MV_MIN))
		return jc_err(err, JC_EINVALID, "OS_COMPUTE_API_VERSION=%s is not a Nova microversion", v);
	return 0;
}

/* What a cloud needs before it can ask Keystone for anything. */
static int check_complete(const os_config *c, jc_error *err)
{
	const char *where = c->source;
	if (!c->auth_url)
		return jc_err(err, JC_EINVALID, "cloud %s (%s): auth_url is missing", c->name, where);
	if (c->auth_type == OS_AUTH_APPCRED) {
		if (!c->appcred_id && !c->appcred_name)
			return jc_err(err, JC_EINVALID, "cloud %s (%s): application_credential_id (or _name) is missing",
				      c->name, where);
		if (c->appcred_name && !c->appcred_id && !c->user_id && !c->username)
			return jc_err(err, JC_EINVALID, "cloud %s (%s): an application credential named by name needs "
				      "its user (username or user_id)", c->name, where);
		if (!c->appcred_secret)
			return jc_err(err, JC_EINVALID, "cloud %s (%s): application_credential_secret is missing (in "
				      "clouds.yaml, secure.yaml or OS_APPLICATION_CREDENTIAL_SECRET)", c->name, where);
		return 0;
	}
	if (!c->username && !c->user_id)
		return jc_err(err, JC_EINVALID, "cloud %s (%s): username (or user_id) is missing", c->name, where);
	if (!c->password)
		return jc_err(err, JC_EINVALID, "cloud %s (%s): password is missing (in clouds.yaml, secure.yaml "
			      "or OS_PASSWORD)", c->name, where);
	if (!c->project_name && !c->project_id)
		return jc_err(err, JC_EINVALID, "cloud %s (%s): project_name (or project_id) is missing: servers "
			      "live in a project", c->name, where);
	return 0;
}

int os_config_load(os_config **out, const char *name, const char *config_file, jc_error *err)
{
	os_config *c = jc_calloc(1, sizeof(*c));
	const char *env_cloud = getenv("OS_CLOUD");
	int rc;

	*out = NULL;
	c->verify = true;
	c->page_limit = 100;
	if (!name || strcmp(name, "env") == 0) {
		if (env_cloud && *env_cloud) {
			c->name = jc_strdup(env_cloud);
			rc = load_named(c, env_cloud, config_file, err);
		} else {
			c->name = jc_strdup("env");
			rc = load_env(c, err);
		}
	} else {
		c->name = jc_strdup(name);
		rc = load_named(c, name, config_file, err);
	}
	if (rc == 0)
		rc = check_complete(c, err);
	if (rc == 0 && c->interface && strcmp(c->interface, "public") != 0 && strcmp(c->interface, "internal") != 0 &&
	    strcmp(c->interface, "admin") != 0) {
		/* "publicURL" is the Keystone v2 spelling */
		if (jc_str_ends(c->interface, "URL"))
			c->interface[strlen(c->interface) - 3] = '\0';
		if (strcmp(c->interface, "public") != 0 && strcmp(c->interface, "internal") != 0 &&
		    strcmp(c->interface, "admin") != 0)
			rc = jc_err(err, JC_EINVALID, "cloud %s: interface \"%s\" is none of public, internal, admin",
				    c->name, c->interface);
	}
	if (rc < 0) {
		os_config_free(c);
		return rc;
	}
	if (!c->interface)
		c->interface = jc_strdup("public");
	jc_secret_register(c->password);
	jc_secret_register(c->appcred_secret);
	*out = c;
	return 0;
}
