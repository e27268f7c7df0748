/* cloud-openstack-compute.c - Nova: the microversion, the create body, one
 * paginated tag-filtered list per poll, parallel creates that never make a
 * duplicate, deletes. */
#include "cloud-openstack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* uncertain creates are looked up and, when absent, sent again this often */
#define CREATE_ROUNDS 3
/* A create may wait in a busy Nova's queue longer than a list takes: it
 * gets this long (unless api_timeout says more), because one that times
 * out may still land later. */
#define CREATE_TIMEOUT_MS (180LL * 1000)
/* a list never follows more pages than this (a loop guard, not a limit
 * anyone should meet: 1000 pages of 100 servers) */
#define MAX_PAGES 1000

/* ---- pure helpers */

int os_microversion_choose(int *out, int server_min, int server_max, int cap, jc_error *err)
{
	int v;
	if (server_max == 0) {
		/* no microversions at all: the 2.1 API as it was */
		*out = OS_MV_MIN;
		return 0;
	}
	v = server_max < OS_MV_MAX ? server_max : OS_MV_MAX;
	if (cap && cap < v)
		v = cap;
	if (server_min && v < server_min)
		return jc_err(err, JC_EUNSUPPORTED,
			      "Nova speaks microversions %d.%d to %d.%d; jcicd speaks 2.1 to 2.%d%s: no overlap",
			      server_min / 1000, server_min % 1000, server_max / 1000, server_max % 1000,
			      OS_MV_MAX % 1000, cap ? " (capped by compute_api_version)" : "");
	if (v < OS_MV_MIN)
		return jc_err(err, JC_EUNSUPPORTED, "Nova's newest microversion %d.%d is older than 2.1",
			      server_max / 1000, server_max % 1000);
	*out = v;
	return 0;
}

int os_networks_choose(os_nets *out, bool *use_default, jc_networks_mode mode, const os_config *cfg, int mv,
		       jc_error *err)
{
	*use_default = false;
	switch (mode) {
	case JC_NETWORKS_LIST:
		*out = OS_NETS_LIST;
		return 0;
	case JC_NETWORKS_NONE:
		if (mv < OS_MV_NETWORKS_KEYWORD)
			return jc_err(err, JC_EUNSUPPORTED,
				      "a server without networks needs Nova 2.37 or later (this cloud speaks %d.%d)",
				      mv / 1000, mv % 1000);
		*out = OS_NETS_NONE;
		return 0;
	case JC_NETWORKS_DEFAULT:
		break;
	}
	switch (cfg ? cfg->default_networks : OS_DEFNET_AUTO) {
	case OS_DEFNET_LIST:
		*out = OS_NETS_LIST;
		*use_default = true;
		return 0;
	case OS_DEFNET_NONE:
		if (mv < OS_MV_NETWORKS_KEYWORD)
			return jc_err(err, JC_EUNSUPPORTED,
				      "jcicd.default_networks: none needs Nova 2.37 or later (this cloud speaks %d.%d)",
				      mv / 1000, mv % 1000);
		*out = OS_NETS_NONE;
		return 0;
	case OS_DEFNET_AUTO:
		break;
	}
	/* before 2.37 leaving the key out is how one asks for Nova's choice */
	*out = mv >= OS_MV_NETWORKS_KEYWORD ? OS_NETS_AUTO : OS_NETS_OMIT;
	return 0;
}

char *os_base64(const void *data, size_t len)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = data;
	char *out = jc_malloc((len + 2) / 3 * 4 + 1), *o = out;
	size_t i;
	for (i = 0; i + 2 < len; i += 3) {
		*o++ = tab[p[i] >> 2];
		*o++ = tab[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		*o++ = tab[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)];
		*o++ = tab[p[i + 2] & 63];
	}
	if (i < len) {
		*o++ = tab[p[i] >> 2];
		if (i + 1 < len) {
			*o++ = tab[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
			*o++ = tab[(p[i + 1] & 15) << 2];
		} else {
			*o++ = tab[(p[i] & 3) << 4];
			*o++ = '=';
		}
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

bool os_is_uuid(const char *s)
{
	size_t n = 0, hex = 0;
	if (!s)
		return false;
	for (const char *p = s; *p; p++, n++) {
		bool dash_pos = n == 8 || n == 13 || n == 18 || n == 23;
		if (*p == '-') {
			if (!dash_pos && strlen(s) == 36)
				return false;
			continue;
		}
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F')))
			return false;
		hex++;
	}
	return hex == 32 && (n == 32 || n == 36);
}

static json_object *jstrv(const char *const *v, size_t n)
{
	json_object *a = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

int os_server_body(char **out, const jc_server_create *r, const os_create_ids *ids, int mv, jc_error *err)
{
	json_object *root = json_object_new_object(), *s = json_object_new_object(), *meta;
	char tag[128];

	*out = NULL;
	if (!r->name || !r->tag || !ids->flavor || (!ids->image && r->boot_volume_gb <= 0)) {
		json_object_put(root);
		json_object_put(s);
		return jc_err(err, JC_EINVALID, "a server needs a name, a tag, a flavor and an image");
	}
	json_object_object_add(root, "server", s);
	json_object_object_add(s, "name", json_object_new_string(r->name));
	json_object_object_add(s, "flavorRef", json_object_new_string(ids->flavor));
	if (r->boot_volume_gb > 0) {
		/* boot from a new volume made from the image, gone with the server */
		json_object *bdms = json_object_new_array(), *b = json_object_new_object();
		json_object_object_add(b, "boot_index", json_object_new_int(0));
		json_object_object_add(b, "uuid", json_object_new_string(ids->image));
		json_object_object_add(b, "source_type", json_object_new_string("image"));
		json_object_object_add(b, "destination_type", json_object_new_string("volume"));
		json_object_object_add(b, "volume_size", json_object_new_int64(r->boot_volume_gb));
		json_object_object_add(b, "delete_on_termination", json_object_new_boolean(1));
		json_object_array_add(bdms, b);
		json_object_object_add(s, "block_device_mapping_v2", bdms);
		json_object_object_add(s, "imageRef", json_object_new_string(""));
	} else {
		json_object_object_add(s, "imageRef", json_object_new_string(ids->image));
	}
	switch (ids->nets) {
	case OS_NETS_OMIT:
		break;
	case OS_NETS_AUTO:
		json_object_object_add(s, "networks", json_object_new_string("auto"));
		break;
	case OS_NETS_NONE:
		json_object_object_add(s, "networks", json_object_new_string("none"));
		break;
	case OS_NETS_LIST: {
		json_object *nets = json_object_new_array();
		for (size_t i = 0; i < ids->n_networks; i++) {
			json_object *nw = json_object_new_object();
			json_object_object_add(nw, "uuid", json_object_new_string(ids->networks[i]));
			json_object_array_add(nets, nw);
		}
		json_object_object_add(s, "networks", nets);
		break;
	}
	}
	if (ids->n_security_groups) {
		json_object *sgs = json_object_new_array();
		for (size_t i = 0; i < ids->n_security_groups; i++) {
			json_object *g = json_object_new_object();
			/* Nova takes a group's id in "name" too */
			json_object_object_add(g, "name", json_object_new_string(ids->security_groups[i]));
			json_object_array_add(sgs, g);
		}
		json_object_object_add(s, "security_groups", sgs);
	}
	if (r->key_name)
		json_object_object_add(s, "key_name", json_object_new_string(r->key_name));
	if (r->userdata && r->userdata_len) {
		char *b64 = os_base64(r->userdata, r->userdata_len);
		json_object_object_add(s, "user_data", json_object_new_string(b64));
		free(b64);
	}
	if (r->config_drive)
		json_object_object_add(s, "config_drive", json_object_new_boolean(1));
	if (r->availability_zone)
		json_object_object_add(s, "availability_zone", json_object_new_string(r->availability_zone));
	if (r->hostname && mv >= OS_MV_HOSTNAME)
		json_object_object_add(s, "hostname", json_object_new_string(r->hostname));
	/* the stack in metadata on every microversion (set atomically with the
	 * server); the spec's own metadata beside it */
	meta = json_object_new_object();
	for (size_t i = 0; i < r->n_metadata; i++)
		json_object_object_add(meta, r->metadata_keys[i], json_object_new_string(r->metadata_values[i]));
	json_object_object_add(meta, OS_META_STACK, json_object_new_string(r->tag));
	if (r->role)
		json_object_object_add(meta, "jcicd_role", json_object_new_string(r->role));
	json_object_object_add(s, "metadata", meta);
	if (mv >= OS_MV_TAGS_AT_CREATE) {
		const char *tags[2];
		snprintf(tag, sizeof(tag), "%s%s", OS_TAG_STACK_PREFIX, r->tag);
		tags[0] = OS_TAG_OWNER;
		tags[1] = tag;
		json_object_object_add(s, "tags", jstrv(tags, 2));
	}
	*out = jc_strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	return 0;
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;
	if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

jc_server_status os_status_map(const char *status, const char *task_state)
{
	if (task_state && strcmp(task_state, "deleting") == 0)
		return JC_SERVER_DELETING;
	if (!status)
		return JC_SERVER_OTHER;
	if (strcmp(status, "BUILD") == 0 || strcmp(status, "REBUILD") == 0)
		return JC_SERVER_BUILD;
	if (strcmp(status, "ACTIVE") == 0)
		return JC_SERVER_ACTIVE;
	if (strcmp(status, "ERROR") == 0)
		return JC_SERVER_ERROR;
	if (strcmp(status, "DELETED") == 0 || strcmp(status, "SOFT_DELETED") == 0)
		return JC_SERVER_DELETING;
	return JC_SERVER_OTHER;
}

int os_server_parse(jc_server *out, json_object *o, const char *tag, jc_error *err)
{
	json_object *v;
	const char *id = jstr(o, "id"), *name = jstr(o, "name");

	memset(out, 0, sizeof(*out));
	if (!id || !name)
		return jc_err(err, JC_EHTTP, "Nova listed a server without an id or a name");
	out->id = jc_strdup(id);
	out->name = jc_strdup(name);
	out->tag = jc_strdup(tag);
	out->status_text = jc_strdup(jstr(o, "status"));
	out->status = os_status_map(jstr(o, "status"), jstr(o, "OS-EXT-STS:task_state"));
	if (out->status == JC_SERVER_DELETING && out->status_text && strcmp(out->status_text, "DELETED") != 0) {
		free(out->status_text);
		out->status_text = jc_strdup("DELETING");
	}
	if (json_object_object_get_ex(o, "fault", &v) && json_object_is_type(v, json_type_object) &&
	    jstr(v, "message")) {
		json_object *code;
		if (json_object_object_get_ex(v, "code", &code) && json_object_is_type(code, json_type_int))
			out->fault = jc_sprintf("%s (fault code %d)", jstr(v, "message"), json_object_get_int(code));
		else
			out->fault = jc_strdup(jstr(v, "message"));
	}
	if (json_object_object_get_ex(o, "flavor", &v) && json_object_is_type(v, json_type_object))
		out->flavor = jc_strdup(jstr(v, "original_name") ? jstr(v, "original_name") : jstr(v, "id"));
	if (json_object_object_get_ex(o, "image", &v) && json_object_is_type(v, json_type_object))
		out->image = jc_strdup(jstr(v, "id"));
	else
		out->image = jc_strdup("(volume)");
	if (json_object_object_get_ex(o, "addresses", &v) && json_object_is_type(v, json_type_object)) {
		json_object_object_foreach(v, net, addrs) {
			(void)net;
			if (!json_object_is_type(addrs, json_type_array))
				continue;
			for (size_t i = 0; i < json_object_array_length(addrs); i++) {
				json_object *a = json_object_array_get_idx(addrs, i);
				const char *addr = jstr(a, "addr"), *type = jstr(a, "OS-EXT-IPS:type");
				if (addr)
					jc_server_add_address(out, addr, jc_str_eq(type, "floating"));
			}
		}
	}
	out->created = jc_strdup(jstr(o, "created"));
	return 0;
}

/* ---- talking to Nova */

/* The version document of the compute endpoint: .../v2.1/ (the catalog URL
 * may carry a project id after it). */
static char *version_url(const char *base)
{
	const char *p = strstr(base, "/v2.1");
	if (!p)
		p = strstr(base, "/v2");
	if (p) {
		const char *end = p + (strncmp(p, "/v2.1", 5) == 0 ? 5 : 3);
		if (*end == '\0' || *end == '/')
			return jc_sprintf("%.*s/", (int)(end - base), base);
	}
	return jc_sprintf("%s/", base);
}

static bool version_of(json_object *doc, int *min, int *max)
{
	json_object *v = NULL, *vs;
	*min = *max = 0;
	if (!json_object_object_get_ex(doc, "version", &v) && json_object_object_get_ex(doc, "versions", &vs) &&
	    json_object_is_type(vs, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(vs) && !v; i++)
			if (jc_str_eq(jstr(json_object_array_get_idx(vs, i), "id"), "v2.1"))
				v = json_object_array_get_idx(vs, i);
	}
	if (!v || !json_object_is_type(v, json_type_object))
		return false;
	if (jstr(v, "version") && *jstr(v, "version") && !os_version_parse(jstr(v, "version"), max))
		return false;
	if (jstr(v, "min_version") && *jstr(v, "min_version") && !os_version_parse(jstr(v, "min_version"), min))
		return false;
	return true;
}

int os_compute_ready(os_cloud *oc, jc_error *err)
{
	json_object *doc = NULL;
	char *url;
	int rc, min, max;

	if (oc->mv)
		return os_auth_ensure(oc, err);
	if ((rc = os_auth_ensure(oc, err)) < 0)
		return rc;
	url = version_url(oc->urls[OS_COMPUTE]);
	rc = os_call_json(oc, OS_COMPUTE, "GET", url, NULL, JC_HTTP_BY_METHOD, &doc, NULL, err);
	if (rc == 0 && (!doc || !version_of(doc, &min, &max)))
		rc = jc_err_http(err, JC_EHTTP, url, 200, NULL, "no Nova version document at this URL");
	if (rc == 0)
		rc = os_microversion_choose(&oc->mv, min, max, oc->cfg->compute_api_cap, err);
	if (rc == 0) {
		if (max) {
			snprintf(oc->mv_headers[0], sizeof(oc->mv_headers[0]), "OpenStack-API-Version: compute %d.%d",
				 oc->mv / 1000, oc->mv % 1000);
			snprintf(oc->mv_headers[1], sizeof(oc->mv_headers[1]), "X-OpenStack-Nova-API-Version: %d.%d",
				 oc->mv / 1000, oc->mv % 1000);
		}
		jc_log(oc->log, JC_LOG_DEBUG, "openstack", "cloud %s: Nova %d.%d..%d.%d, speaking %d.%d%s",
		       oc->cfg->name, min / 1000, min % 1000, max / 1000, max % 1000, oc->mv / 1000, oc->mv % 1000,
		       oc->mv >= OS_MV_TAGS_AT_CREATE ? " (tags at create)" : " (stack found by name and metadata)");
	} else {
		jc_err_prefix(err, "cloud %s: Nova", oc->cfg->name);
	}
	if (doc)
		json_object_put(doc);
	free(url);
	return rc;
}

static const char *create_reqid(const os_cloud *oc, const char *id)
{
	for (size_t i = 0; i < oc->create_ids.n; i++)
		if (strcmp(oc->create_ids.v[i], id) == 0)
			return oc->create_reqids.v[i];
	return NULL;
}

static const char *known_fault(const os_cloud *oc, const char *id)
{
	for (size_t i = 0; i < oc->fault_ids.n; i++)
		if (strcmp(oc->fault_ids.v[i], id) == 0)
			return oc->faults.v[i];
	return NULL;
}

/* The request id of a server's create, from its instance actions. */
static const char *create_action_reqid(json_object *doc)
{
	json_object *acts, *v;
	if (!doc || !json_object_object_get_ex(doc, "instanceActions", &acts) ||
	    !json_object_is_type(acts, json_type_array))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(acts); i++) {
		v = json_object_array_get_idx(acts, i);
		if (jc_str_eq(jstr(v, "action"), "create"))
			return jstr(v, "request_id");
	}
	return NULL;
}

/*
 * Nova leaves "fault" out of lists: for a server in ERROR, one GET of the
 * server (and of its actions, for the request id of its create when this
 * run did not make it) says why.  Once per server and run; a failure here
 * only costs the detail.
 */
static void add_faults(os_cloud *oc, jc_server_list *l)
{
	os_call *calls = NULL;
	size_t k = 0, *which = NULL;
	for (size_t i = 0; i < l->n; i++) {
		jc_server *s = &l->servers[i];
		char *esc;
		if (s->status != JC_SERVER_ERROR || s->fault || known_fault(oc, s->id))
			continue;
		esc = jc_http_escape(s->id);
		calls = jc_realloc(calls, (k + 2) * sizeof(*calls));
		which = jc_realloc(which, (k + 2) * sizeof(size_t));
		memset(&calls[k], 0, 2 * sizeof(*calls));
		calls[k].service = calls[k + 1].service = OS_COMPUTE;
		calls[k].path = jc_sprintf("/servers/%s", esc);
		calls[k + 1].path = jc_sprintf("/servers/%s/os-instance-actions", esc);
		which[k] = which[k + 1] = i;
		k += 2;
		free(esc);
	}
	if (k)
		os_call_many(oc, calls, k, NULL);
	for (size_t j = 0; j < k; j += 2) {
		jc_server *s = &l->servers[which[j]];
		json_object *doc = NULL, *acts = NULL, *srv;
		jc_server parsed;
		jc_error e;
		const char *rid = create_reqid(oc, s->id);
		char *text;
		if (os_call_check(oc, &calls[j], &doc, &e) < 0 || !doc ||
		    !json_object_object_get_ex(doc, "server", &srv) || os_server_parse(&parsed, srv, s->tag, &e) < 0) {
			if (doc)
				json_object_put(doc);
			continue;
		}
		if (!rid && os_call_check(oc, &calls[j + 1], &acts, &e) == 0)
			rid = create_action_reqid(acts);
		text = jc_sprintf("%s%s%s", parsed.fault ? parsed.fault : "Nova gave no fault",
				  rid ? "; create request " : "", rid ? rid : "");
		jc_strv_push(&oc->fault_ids, s->id);
		jc_strv_push_owned(&oc->faults, text);
		jc_server_clear(&parsed);
		json_object_put(doc);
		if (acts)
			json_object_put(acts);
	}
	for (size_t i = 0; i < l->n; i++) {
		jc_server *s = &l->servers[i];
		if (s->status == JC_SERVER_ERROR && !s->fault && known_fault(oc, s->id))
			s->fault = jc_strdup(known_fault(oc, s->id));
	}
	os_calls_free(calls, k);
	free(which);
}

/* Is this server of stack `tag`?  With tags in the list filter Nova already
 * said so; older clouds list by name and check the metadata. */
static bool of_stack(json_object *server, const char *tag, int mv)
{
	json_object *meta;
	if (mv >= OS_MV_TAG_FILTER)
		return true;
	return json_object_object_get_ex(server, "metadata", &meta) && jc_str_eq(jstr(meta, OS_META_STACK), tag);
}

int os_compute_list(os_cloud *oc, const char *tag, jc_server_list **out, jc_error *err)
{
	jc_server_list *l;
	char *marker = NULL, *esc;
	int rc;

	*out = NULL;
	if ((rc = os_compute_ready(oc, err)) < 0)
		return rc;
	l = jc_calloc(1, sizeof(*l));
	for (int page = 0; page < MAX_PAGES; page++) {
		json_object *doc = NULL, *servers, *links;
		char *path;
		size_t got;
		bool next = false;
		if (oc->mv >= OS_MV_TAG_FILTER) {
			path = jc_sprintf("/servers/detail?tags=%s%s&limit=%ld", OS_TAG_STACK_PREFIX, tag,
					  oc->cfg->page_limit);
		} else {
			/* the name filter is a regular expression */
			char *re = jc_sprintf("_%s$", tag);
			esc = jc_http_escape(re);
			path = jc_sprintf("/servers/detail?name=%s&limit=%ld", esc, oc->cfg->page_limit);
			free(esc);
			free(re);
		}
		if (marker) {
			char *p2 = jc_sprintf("%s&marker=%s", path, marker);
			free(path);
			path = p2;
		}
		rc = os_call_json(oc, OS_COMPUTE, "GET", path, NULL, JC_HTTP_BY_METHOD, &doc, NULL, err);
		free(path);
		if (rc == 0 && (!doc || !json_object_object_get_ex(doc, "servers", &servers) ||
				!json_object_is_type(servers, json_type_array)))
			rc = jc_err(err, JC_EHTTP, "cloud %s: Nova's server list has no \"servers\"", oc->cfg->name);
		if (rc < 0) {
			if (doc)
				json_object_put(doc);
			break;
		}
		got = json_object_array_length(servers);
		for (size_t i = 0; i < got && rc == 0; i++) {
			json_object *so = json_object_array_get_idx(servers, i);
			jc_server s;
			if (!of_stack(so, tag, oc->mv))
				continue;
			if ((rc = os_server_parse(&s, so, tag, err)) < 0)
				break;
			l->servers = jc_realloc(l->servers, (l->n + 1) * sizeof(jc_server));
			l->servers[l->n++] = s;
		}
		/* Nova adds a "next" link when the page is full */
		if (rc == 0 && got && json_object_object_get_ex(doc, "servers_links", &links) &&
		    json_object_is_type(links, json_type_array)) {
			for (size_t i = 0; i < json_object_array_length(links); i++)
				if (jc_str_eq(jstr(json_object_array_get_idx(links, i), "rel"), "next"))
					next = true;
		}
		if (rc == 0 && next) {
			free(marker);
			marker = jc_strdup(jstr(json_object_array_get_idx(servers, got - 1), "id"));
		}
		json_object_put(doc);
		if (rc < 0 || !next || !marker)
			break;
	}
	free(marker);
	if (rc < 0) {
		jc_server_list_free(l);
		return rc;
	}
	add_faults(oc, l);
	*out = l;
	return 0;
}

/* ---- create */

static void remember_create(os_cloud *oc, const char *id, const char *reqid)
{
	jc_strv_push(&oc->create_ids, id);
	jc_strv_push(&oc->create_reqids, reqid && *reqid ? reqid : "?");
}

enum outcome { O_DONE, O_FAILED, O_UNCERTAIN };

/* What one POST /servers came to. */
static enum outcome create_outcome(os_cloud *oc, os_call *c, const jc_server_create *r, jc_create_result *res)
{
	json_object *doc = NULL, *srv;
	int st = c->resp.status;
	jc_error_clear(&res->error);
	if (c->rc < 0) {
		if (c->resp.maybe_sent || c->rc == JC_ETIMEOUT) {
			jc_err_copy(&res->error, &c->err);
			return O_UNCERTAIN;
		}
		jc_err_copy(&res->error, &c->err);
		return O_FAILED;
	}
	if (st == 500 || st == 502 || st == 504) {
		/* the server may have acted before it failed: look before trying again */
		os_call_check(oc, c, NULL, &res->error);
		return O_UNCERTAIN;
	}
	if (st == 429 || st == 503) {
		/* still busy after every retry: it said it did not act */
		os_call_check(oc, c, NULL, &res->error);
		res->error.code = JC_EUNREACHABLE;
		return O_FAILED;
	}
	if (os_call_check(oc, c, &doc, &res->error) < 0) {
		jc_err_prefix(&res->error, "creating %s", r->name);
		return O_FAILED;
	}
	if (!doc || !json_object_object_get_ex(doc, "server", &srv) || !jstr(srv, "id")) {
		if (doc)
			json_object_put(doc);
		/* accepted, but the answer was cut: the server exists */
		jc_err_http(&res->error, JC_EUNREACHABLE, c->url, st, c->resp.request_id, "the answer to the create of "
			    "%s was unreadable", r->name);
		return O_UNCERTAIN;
	}
	res->id = jc_strdup(jstr(srv, "id"));
	remember_create(oc, res->id, c->resp.request_id);
	json_object_put(doc);
	return O_DONE;
}

/* Looks up uncertain creates by name in one list of their stacks. */
static void find_uncertain(os_cloud *oc, const jc_server_create *reqs, jc_create_result *results, size_t *idx,
			   size_t *k)
{
	jc_strv tags = JC_STRV_INIT;
	size_t still = 0;
	for (size_t j = 0; j < *k; j++)
		if (!jc_strv_contains(&tags, reqs[idx[j]].tag))
			jc_strv_push(&tags, reqs[idx[j]].tag);
	for (size_t t = 0; t < tags.n; t++) {
		jc_server_list *l = NULL;
		jc_error lerr;
		if (os_compute_list(oc, tags.v[t], &l, &lerr) < 0) {
			jc_log(oc->log, JC_LOG_WARN, "openstack", "cannot list stack %s to check uncertain creates: %s",
			       tags.v[t], lerr.message);
			continue;
		}
		for (size_t j = 0; j < *k; j++) {
			const jc_server_create *r = &reqs[idx[j]];
			if (strcmp(r->tag, tags.v[t]) != 0)
				continue;
			for (size_t i = 0; i < l->n; i++) {
				if (strcmp(l->servers[i].name, r->name) == 0 && l->servers[i].status != JC_SERVER_DELETING) {
					results[idx[j]].id = jc_strdup(l->servers[i].id);
					jc_error_clear(&results[idx[j]].error);
					jc_log(oc->log, JC_LOG_NOTICE, "openstack",
					       "%s: the create was uncertain, and Nova has it (%s): not creating it again",
					       r->name, l->servers[i].id);
					break;
				}
			}
		}
		jc_server_list_free(l);
	}
	for (size_t j = 0; j < *k; j++)
		if (!results[idx[j]].id)
			idx[still++] = idx[j];
	*k = still;
	jc_strv_free(&tags);
}

int os_compute_create(os_cloud *oc, const jc_server_create *reqs, size_t n, jc_create_result *results,
		      jc_error *err)
{
	char **bodies;
	size_t *pending, k = 0;
	jc_strv scratch = JC_STRV_INIT;
	int rc;

	if ((rc = os_compute_ready(oc, err)) == 0)
		rc = os_resolve_prepare(oc, reqs, n, err);
	if (rc < 0) {
		/* nothing was sent: every request fails the same way */
		for (size_t i = 0; i < n; i++)
			jc_err_copy(&results[i].error, err);
		return rc;
	}
	bodies = jc_calloc(n, sizeof(char *));
	pending = jc_calloc(n, sizeof(size_t));
	for (size_t i = 0; i < n; i++) {
		os_create_ids ids;
		if (os_resolve_ids(oc, &reqs[i], &ids, &scratch, &results[i].error) < 0 ||
		    os_server_body(&bodies[i], &reqs[i], &ids, oc->mv, &results[i].error) < 0)
			continue;
		pending[k++] = i;
	}
	for (int round = 0; round < CREATE_ROUNDS && k; round++) {
		os_call *calls = jc_calloc(k, sizeof(*calls));
		size_t uncertain = 0;
		for (size_t j = 0; j < k; j++) {
			calls[j].service = OS_COMPUTE;
			calls[j].method = "POST";
			calls[j].path = jc_strdup("/servers");
			calls[j].body = jc_strdup(bodies[pending[j]]);
			calls[j].idempotence = JC_HTTP_NOT_IDEMPOTENT;
			calls[j].timeout_ms = oc->cfg->api_timeout_ms > CREATE_TIMEOUT_MS ? oc->cfg->api_timeout_ms
											   : CREATE_TIMEOUT_MS;
		}
		bool timed_out = false;
		os_call_many(oc, calls, k, NULL);
		for (size_t j = 0; j < k; j++) {
			size_t i = pending[j];
			if (create_outcome(oc, &calls[j], &reqs[i], &results[i]) == O_UNCERTAIN) {
				pending[uncertain++] = i;
				timed_out |= calls[j].rc == JC_ETIMEOUT;
			}
		}
		os_calls_free(calls, k);
		k = uncertain;
		if (!k)
			break;
		jc_log(oc->log, JC_LOG_NOTICE, "openstack", "%zu create%s may or may not have happened; looking for "
		       "%s by name before trying again", k, k == 1 ? "" : "s", k == 1 ? "it" : "them");
		/* a moment for a request still in flight to land; a timed-out one
		 * may have waited in the server's queue, so longer */
		jc_sleep_ms(timed_out ? 10000 : 500);
		find_uncertain(oc, reqs, results, pending, &k);
		if (k && round + 1 < CREATE_ROUNDS)
			jc_log(oc->log, JC_LOG_NOTICE, "openstack", "%zu server%s not there: creating again", k,
			       k == 1 ? " is" : "s are");
	}
	for (size_t j = 0; j < k; j++) {
		/* still uncertain after every round: apply looks again at its next poll */
		jc_create_result *res = &results[pending[j]];
		if (!res->error.code)
			jc_err(&res->error, JC_EUNREACHABLE, "the create of %s stayed uncertain", reqs[pending[j]].name);
		else if (res->error.code != JC_ETIMEOUT)
			res->error.code = JC_EUNREACHABLE;
	}
	rc = 0;
	for (size_t i = 0; i < n; i++) {
		free(bodies[i]);
		if (!results[i].id && rc == 0) {
			rc = results[i].error.code ? results[i].error.code : JC_ERROR;
			jc_err_copy(err, &results[i].error);
		}
	}
	free(bodies);
	free(pending);
	jc_strv_free(&scratch);
	return rc;
}

/* ---- delete */

int os_compute_delete(os_cloud *oc, const char *const *ids, size_t n, jc_error *err)
{
	os_call *calls;
	jc_error ferr;
	int rc;

	if ((rc = os_compute_ready(oc, err)) < 0)
		return rc;
	/* floating IPs first: a server's port going away would only detach them */
	if ((rc = os_fip_release(oc, ids, n, &ferr)) < 0) {
		jc_err_copy(err, &ferr);
		return rc;
	}
	calls = jc_calloc(n, sizeof(*calls));
	for (size_t i = 0; i < n; i++) {
		char *esc = jc_http_escape(ids[i]);
		calls[i].service = OS_COMPUTE;
		calls[i].method = "DELETE";
		calls[i].path = jc_sprintf("/servers/%s", esc);
		free(esc);
	}
	os_call_many(oc, calls, n, NULL);
	rc = 0;
	for (size_t i = 0; i < n; i++) {
		jc_error e;
		/* 404: gone already, which is what was asked */
		if (calls[i].rc == 0 && calls[i].resp.status == 404)
			continue;
		if (os_call_check(oc, &calls[i], NULL, &e) < 0 && rc == 0) {
			rc = e.code;
			jc_err_copy(err, &e);
		}
	}
	os_calls_free(calls, n);
	return rc;
}
