/* orchestrate-config.c - the kv and agent sections of jcicd.yaml. */
#include "common.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jcicd/agent.h"
#include "jcicd/config.h"
#include "jcicd/orchestrate.h"

static int get_str(char **out, const jc_yaml_node *map, const char *key, const char *what, jc_error *err)
{
	const jc_yaml_node *n = jc_yaml_get(map, key);
	const char *s;
	int rc;
	if (!n || jc_yaml_type_of(n) == JC_YAML_NULL)
		return 0;
	if ((rc = jc_yaml_get_string(n, what, &s, err)) < 0)
		return rc;
	free(*out);
	*out = jc_strdup(s);
	return 0;
}

/* an IP address, checked where the file says it */
static int get_address(char **out, const jc_yaml_node *map, const char *key, const char *what, jc_error *err)
{
	int rc = get_str(out, map, key, what, err);
	if (rc == 0 && *out && !jc_is_ip_address(*out))
		return jc_yaml_error_at(err, jc_yaml_get(map, key), JC_EINVALID,
					"%s: '%s' is not an IPv4 or IPv6 address", what, *out);
	return rc;
}

static int get_duration(long long *out, const jc_yaml_node *map, const char *key, const char *what,
			jc_error *err)
{
	const jc_yaml_node *n = jc_yaml_get(map, key);
	const char *s;
	int rc;
	if (!n || jc_yaml_type_of(n) == JC_YAML_NULL)
		return 0;
	if ((rc = jc_yaml_get_string(n, what, &s, err)) < 0)
		return rc;
	if (!jc_parse_duration_ms(s, out) || *out < 0)
		return jc_yaml_error_at(err, n, JC_EINVALID, "%s: '%s' is not a duration (30, 30s, 10m, 1h)", what, s);
	return 0;
}

static int get_long(long *out, const jc_yaml_node *map, const char *key, const char *what, long min, long max,
		    jc_error *err)
{
	const jc_yaml_node *n = jc_yaml_get(map, key);
	if (!n || jc_yaml_type_of(n) == JC_YAML_NULL)
		return 0;
	return jc_yaml_get_int(n, what, min, max, out, err);
}

static int get_bool(bool *out, const jc_yaml_node *map, const char *key, const char *what, jc_error *err)
{
	const jc_yaml_node *n = jc_yaml_get(map, key);
	if (!n || jc_yaml_type_of(n) == JC_YAML_NULL)
		return 0;
	return jc_yaml_get_bool(n, what, out, err);
}

static int load_rollout(jc_orch_settings *s, const jc_yaml_node *r, jc_error *err)
{
	static const char *const keys[] = { "waves", "max_failures", "wave_timeout", "role_dependencies" };
	const jc_yaml_node *deps, *w;
	int rc;

	if ((rc = jc_yaml_expect(r, JC_YAML_MAPPING, "kv.rollout", err)) < 0 ||
	    (rc = jc_yaml_check_keys(r, keys, JC_ARRAY_LEN(keys), "kv.rollout", err)) < 0)
		return rc;
	w = jc_yaml_get(r, "waves");
	if (w && jc_yaml_type_of(w) == JC_YAML_SEQUENCE) {
		jc_buf b = JC_BUF_INIT;
		for (size_t i = 0; i < jc_yaml_size(w); i++) {
			const char *v;
			if ((rc = jc_yaml_get_string(jc_yaml_item(w, i), "kv.rollout.waves", &v, err)) < 0) {
				jc_buf_free(&b);
				return rc;
			}
			jc_buf_printf(&b, "%s%s", i ? "," : "", v);
		}
		free(s->waves);
		s->waves = jc_buf_detach(&b);
	} else if ((rc = get_str(&s->waves, r, "waves", "kv.rollout.waves", err)) < 0) {
		return rc;
	}
	if ((rc = get_long(&s->max_failures, r, "max_failures", "kv.rollout.max_failures", 0, 1000000, err)) < 0 ||
	    (rc = get_duration(&s->wave_timeout_ms, r, "wave_timeout", "kv.rollout.wave_timeout", err)) < 0)
		return rc;
	deps = jc_yaml_get(r, "role_dependencies");
	if (!deps || jc_yaml_type_of(deps) == JC_YAML_NULL)
		return 0;
	if ((rc = jc_yaml_expect(deps, JC_YAML_MAPPING, "kv.rollout.role_dependencies", err)) < 0)
		return rc;
	s->n_roles = jc_yaml_size(deps);
	s->roles = jc_calloc(s->n_roles + 1, sizeof(char *));
	s->deps = jc_calloc(s->n_roles + 1, sizeof(char *));
	for (size_t i = 0; i < s->n_roles; i++) {
		const jc_yaml_node *k = jc_yaml_key(deps, i), *v = jc_yaml_value(deps, i);
		jc_buf b = JC_BUF_INIT;
		const char *str;
		if ((rc = jc_yaml_get_string(k, "a role", &str, err)) < 0)
			return rc;
		s->roles[i] = jc_strdup(str);
		/* the original allowed one role or a list */
		if (jc_yaml_type_of(v) == JC_YAML_SEQUENCE) {
			for (size_t j = 0; j < jc_yaml_size(v); j++) {
				if ((rc = jc_yaml_get_string(jc_yaml_item(v, j), "a role", &str, err)) < 0) {
					jc_buf_free(&b);
					return rc;
				}
				jc_buf_printf(&b, "%s%s", j ? "," : "", str);
			}
		} else if (jc_yaml_type_of(v) != JC_YAML_NULL) {
			if ((rc = jc_yaml_get_string(v, "a role", &str, err)) < 0)
				return rc;
			jc_buf_puts(&b, str);
		}
		s->deps[i] = jc_buf_detach(&b);
		if (!s->deps[i])
			s->deps[i] = jc_strdup("");
	}
	return 0;
}

int jc_orch_settings_load(jc_orch_settings *s, const jc_config *config, const char *state_dir, jc_error *err)
{
	static const char *const keys[] = { "url", "prefix", "username", "password_file", "ca_file", "cert_file",
					    "key_file", "insecure", "source_address", "timeout", "report_rate", "rollout" };
	const jc_yaml_node *kv = jc_config_section(config, "kv"), *r;
	const char *env;
	int rc = 0;

	memset(s, 0, sizeof(*s));
	s->waves = jc_strdup("1,10%,50%,100%");
	s->state_dir = jc_state_dir_resolve(state_dir);
	if (kv) {
		char *pwfile = NULL;
		if ((rc = jc_yaml_expect(kv, JC_YAML_MAPPING, "kv", err)) < 0 ||
		    (rc = jc_yaml_check_keys(kv, keys, JC_ARRAY_LEN(keys), "kv", err)) < 0 ||
		    (rc = get_str(&s->kv_url, kv, "url", "kv.url", err)) < 0 ||
		    (rc = get_str(&s->prefix, kv, "prefix", "kv.prefix", err)) < 0 ||
		    (rc = get_str(&s->username, kv, "username", "kv.username", err)) < 0 ||
		    (rc = get_str(&pwfile, kv, "password_file", "kv.password_file", err)) < 0 ||
		    (rc = get_str(&s->ca_file, kv, "ca_file", "kv.ca_file", err)) < 0 ||
		    (rc = get_str(&s->client_cert, kv, "cert_file", "kv.cert_file", err)) < 0 ||
		    (rc = get_str(&s->client_key, kv, "key_file", "kv.key_file", err)) < 0 ||
		    (rc = get_bool(&s->insecure, kv, "insecure", "kv.insecure", err)) < 0 ||
		    (rc = get_address(&s->source_address, kv, "source_address", "kv.source_address", err)) < 0 ||
		    (rc = get_duration(&s->timeout_ms, kv, "timeout", "kv.timeout", err)) < 0 ||
		    (rc = get_long(&s->report_rate, kv, "report_rate", "kv.report_rate", 1, 1000000, err)) < 0) {
			free(pwfile);
			jc_orch_settings_clear(s);
			return rc;
		}
		if (pwfile) {
			char *path = jc_config_resolve_path(config, pwfile), *text = NULL;
			size_t len;
			rc = jc_file_read(path, &text, &len, err);
			if (rc == 0) {
				while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
					text[--len] = '\0';
				s->password = text;
				jc_secret_register(text);
			} else {
				jc_err_prefix(err, "kv.password_file");
			}
			free(path);
			free(pwfile);
			if (rc < 0) {
				jc_orch_settings_clear(s);
				return rc;
			}
		}
		r = jc_yaml_get(kv, "rollout");
		if (r && jc_yaml_type_of(r) != JC_YAML_NULL && (rc = load_rollout(s, r, err)) < 0) {
			jc_orch_settings_clear(s);
			return rc;
		}
	}
	env = getenv("JCICD_KV");
	if (env && *env) {
		free(s->kv_url);
		s->kv_url = jc_strdup(env);
	}
	env = getenv("JCICD_KV_PASSWORD");
	if (env && *env && !s->password) {
		s->password = jc_strdup(env);
		jc_secret_register(env);
	}
	if (!s->kv_url)
		s->kv_url = jc_sprintf("sqlite://%s/kv.db", s->state_dir);
	return 0;
}

void jc_orch_settings_clear(jc_orch_settings *s)
{
	free(s->state_dir);
	free(s->kv_url);
	free(s->prefix);
	free(s->username);
	free(s->password);
	free(s->ca_file);
	free(s->client_cert);
	free(s->client_key);
	free(s->source_address);
	free(s->waves);
	for (size_t i = 0; i < s->n_roles; i++) {
		free(s->roles[i]);
		free(s->deps[i]);
	}
	free(s->roles);
	free(s->deps);
	memset(s, 0, sizeof(*s));
}

int jc_orch_settings_open_kv(jc_kv **out, const jc_orch_settings *s, const jc_logger *logger, jc_error *err)
{
	jc_kv_options o = JC_KV_OPTIONS_INIT;
	o.username = s->username;
	o.password = s->password;
	o.ca_file = s->ca_file;
	o.client_cert = s->client_cert;
	o.client_key = s->client_key;
	o.insecure = s->insecure;
	o.timeout_ms = s->timeout_ms;
	o.short_connections = s->short_connections;
	o.source_address = s->source_address;
	o.logger = logger;
	return jc_kv_open(out, s->kv_url, &o, err);
}

/* ---- agent */

struct agent_holder {
	jc_strv strings;
};

static const char *hold(struct agent_holder *h, char *s)
{
	if (!s)
		return NULL;
	jc_strv_push_owned(&h->strings, s);
	return s;
}

int jc_agent_settings_load(jc_agent_settings *out, const jc_config *config, jc_error *err)
{
	static const char *const keys[] = { "hostname", "role", "tag", "dir", "version_file", "lease_ttl", "jitter",
					    "apt", "update_command", "upgrade_command", "converge_command",
					    "converge_failure_codes", "validation_dir", "step_timeout", "retries",
					    "retry_backoff", "validate_interval" };
	static const char *const apt_keys[] = { "base_url", "suite", "components", "keyring", "sources_file" };
	const jc_yaml_node *a = jc_config_section(config, "agent"), *apt;
	struct agent_holder *h = jc_calloc(1, sizeof(*h));
	jc_agent_options defaults = JC_AGENT_OPTIONS_INIT;
	char *v[16] = { 0 };
	long ttl = 0, retries = -1;
	long long jitter = -1;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->options = defaults;
	out->holder = h;
	out->options.jitter_ms = 5000;
	out->options.validate_interval_ms = 5 * 60 * 1000;
	if (!a)
		return 0;
	if ((rc = jc_yaml_expect(a, JC_YAML_MAPPING, "agent", err)) < 0 ||
	    (rc = jc_yaml_check_keys(a, keys, JC_ARRAY_LEN(keys), "agent", err)) < 0)
		goto fail;
	if ((rc = get_str(&v[0], a, "hostname", "agent.hostname", err)) < 0 ||
	    (rc = get_str(&v[1], a, "role", "agent.role", err)) < 0 ||
	    (rc = get_str(&v[2], a, "tag", "agent.tag", err)) < 0 ||
	    (rc = get_str(&v[3], a, "dir", "agent.dir", err)) < 0 ||
	    (rc = get_str(&v[4], a, "version_file", "agent.version_file", err)) < 0 ||
	    (rc = get_str(&v[5], a, "update_command", "agent.update_command", err)) < 0 ||
	    (rc = get_str(&v[6], a, "upgrade_command", "agent.upgrade_command", err)) < 0 ||
	    (rc = get_str(&v[7], a, "converge_command", "agent.converge_command", err)) < 0 ||
	    (rc = get_str(&v[8], a, "converge_failure_codes", "agent.converge_failure_codes", err)) < 0 ||
	    (rc = get_str(&v[9], a, "validation_dir", "agent.validation_dir", err)) < 0 ||
	    (rc = get_long(&ttl, a, "lease_ttl", "agent.lease_ttl", 2, 86400, err)) < 0 ||
	    (rc = get_long(&retries, a, "retries", "agent.retries", 0, 100, err)) < 0 ||
	    (rc = get_duration(&jitter, a, "jitter", "agent.jitter", err)) < 0 ||
	    (rc = get_duration(&out->options.step_timeout_ms, a, "step_timeout", "agent.step_timeout", err)) < 0 ||
	    (rc = get_duration(&out->options.retry_backoff_ms, a, "retry_backoff", "agent.retry_backoff", err)) < 0 ||
	    (rc = get_duration(&out->options.validate_interval_ms, a, "validate_interval", "agent.validate_interval",
			       err)) < 0)
		goto fail;
	apt = jc_yaml_get(a, "apt");
	if (apt && jc_yaml_type_of(apt) != JC_YAML_NULL) {
		if ((rc = jc_yaml_expect(apt, JC_YAML_MAPPING, "agent.apt", err)) < 0 ||
		    (rc = jc_yaml_check_keys(apt, apt_keys, JC_ARRAY_LEN(apt_keys), "agent.apt", err)) < 0 ||
		    (rc = get_str(&v[10], apt, "base_url", "agent.apt.base_url", err)) < 0 ||
		    (rc = get_str(&v[11], apt, "suite", "agent.apt.suite", err)) < 0 ||
		    (rc = get_str(&v[12], apt, "components", "agent.apt.components", err)) < 0 ||
		    (rc = get_str(&v[13], apt, "keyring", "agent.apt.keyring", err)) < 0 ||
		    (rc = get_str(&v[14], apt, "sources_file", "agent.apt.sources_file", err)) < 0)
			goto fail;
	}
	if (v[3]) {
		char *p = jc_config_resolve_path(config, v[3]);
		free(v[3]);
		v[3] = p;
	}
	if (v[9] && *v[9]) {
		char *p = jc_config_resolve_path(config, v[9]);
		free(v[9]);
		v[9] = p;
	}
	out->options.hostname = hold(h, v[0]);
	out->options.role = hold(h, v[1]);
	out->options.tag = hold(h, v[2]);
	out->options.dir = hold(h, v[3]);
	out->options.version_file = hold(h, v[4]);
	out->options.update_command = hold(h, v[5]);
	out->options.upgrade_command = hold(h, v[6]);
	out->options.converge_command = hold(h, v[7]);
	out->options.converge_failure_codes = hold(h, v[8]);
	out->options.validation_dir = hold(h, v[9]);
	out->options.apt_base_url = hold(h, v[10]);
	out->options.apt_suite = hold(h, v[11]);
	out->options.apt_components = hold(h, v[12]);
	out->options.apt_keyring = hold(h, v[13]);
	out->options.apt_sources_file = hold(h, v[14]);
	if (ttl)
		out->options.lease_ttl_s = ttl;
	if (retries >= 0)
		out->options.max_retries = (int)retries;
	if (jitter >= 0)
		out->options.jitter_ms = jitter;
	return 0;
fail:
	for (size_t i = 0; i < JC_ARRAY_LEN(v); i++)
		free(v[i]);
	jc_agent_settings_clear(out);
	return rc;
}

void jc_agent_settings_clear(jc_agent_settings *s)
{
	struct agent_holder *h = s->holder;
	if (h) {
		jc_strv_free(&h->strings);
		free(h);
	}
	memset(s, 0, sizeof(*s));
}
