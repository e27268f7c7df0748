/* cloud-openstack-fip.c - floating IPs through Neutron: one per server that
 * asks for it, after it is ACTIVE; released before the server is deleted.
 * Every floating IP jcicd makes says so (tags "jcicd", "jcicd-server-<id>"
 * and its description), so a release never touches another's address. */
#include "cloud-openstack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIP_TAG_SERVER_PREFIX "jcicd-server-"

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;
	if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

static json_object *jarr(json_object *o, const char *key)
{
	json_object *v;
	if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_array))
		return v;
	return NULL;
}

static bool has_tag(json_object *o, const char *tag)
{
	json_object *tags = jarr(o, "tags");
	for (size_t i = 0; tags && i < json_object_array_length(tags); i++)
		if (jc_str_eq(json_object_get_string(json_object_array_get_idx(tags, i)), tag))
			return true;
	return false;
}

/* The external network floating IPs come from: jcicd.floating_network, or
 * the only external network there is. */
static int external_network(os_cloud *oc, const char **out, jc_error *err)
{
	json_object *doc = NULL, *nets;
	char *path, *esc;
	const char *want = oc->cfg->floating_network;
	size_t n;
	int rc;

	if (oc->ext_net_id) {
		*out = oc->ext_net_id;
		return 0;
	}
	if (want) {
		esc = jc_http_escape(want);
		path = os_is_uuid(want) ? jc_sprintf("/networks?id=%s&fields=id&fields=name", esc)
					: jc_sprintf("/networks?name=%s&fields=id&fields=name", esc);
		free(esc);
	} else {
		path = jc_strdup("/networks?router:external=true&fields=id&fields=name");
	}
	rc = os_call_json(oc, OS_NETWORK, "GET", path, NULL, JC_HTTP_BY_METHOD, &doc, NULL, err);
	free(path);
	if (rc < 0)
		return rc;
	nets = jarr(doc, "networks");
	n = nets ? json_object_array_length(nets) : 0;
	if (n == 1) {
		oc->ext_net_id = jc_strdup(jstr(json_object_array_get_idx(nets, 0), "id"));
	} else if (want) {
		rc = jc_err(err, n ? JC_EAMBIGUOUS : JC_EINVALID, "cloud %s: jcicd.floating_network \"%s\" %s",
			    oc->cfg->name, want, n ? "matches several networks: give its id" : "not found");
	} else if (n == 0) {
		rc = jc_err(err, JC_EINVALID, "cloud %s: no external network to take floating IPs from", oc->cfg->name);
	} else {
		jc_buf b = JC_BUF_INIT;
		for (size_t i = 0; i < n; i++)
			jc_buf_printf(&b, "%s%s", i ? ", " : "", jstr(json_object_array_get_idx(nets, i), "name"));
		rc = jc_err(err, JC_EINVALID, "cloud %s: several external networks (%s): set jcicd.floating_network "
			    "in clouds.yaml", oc->cfg->name, jc_buf_cstr(&b));
		jc_buf_free(&b);
	}
	json_object_put(doc);
	if (rc == 0)
		*out = oc->ext_net_id;
	return rc;
}

/* The floating IP already on the port, if any (a re-run, or a create whose
 * answer was lost). */
static int fip_on_port(os_cloud *oc, const char *port, char **addr, jc_error *err)
{
	json_object *doc = NULL, *a;
	char *esc = jc_http_escape(port), *path = jc_sprintf("/floatingips?port_id=%s", esc);
	int rc = os_call_json(oc, OS_NETWORK, "GET", path, NULL, JC_HTTP_BY_METHOD, &doc, NULL, err);
	*addr = NULL;
	free(path);
	free(esc);
	if (rc == 0 && (a = jarr(doc, "floatingips")) != NULL && json_object_array_length(a))
		*addr = jc_strdup(jstr(json_object_array_get_idx(a, 0), "floating_ip_address"));
	if (doc)
		json_object_put(doc);
	return rc;
}

int os_fip_add(os_cloud *oc, const jc_server *s, jc_error *err)
{
	json_object *doc = NULL, *ports, *body, *fip, *tags;
	const char *ext = NULL, *port = NULL;
	char *path, *esc, *addr = NULL, *text, tag[96];
	jc_http_response resp;
	int rc;

	if ((rc = external_network(oc, &ext, err)) < 0)
		return rc;
	esc = jc_http_escape(s->id);
	path = jc_sprintf("/ports?device_id=%s&fields=id&fields=fixed_ips", esc);
	free(esc);
	rc = os_call_json(oc, OS_NETWORK, "GET", path, NULL, JC_HTTP_BY_METHOD, &doc, NULL, err);
	free(path);
	if (rc < 0)
		return rc;
	ports = jarr(doc, "ports");
	for (size_t i = 0; ports && i < json_object_array_length(ports) && !port; i++) {
		json_object *p = json_object_array_get_idx(ports, i), *ips = jarr(p, "fixed_ips");
		/* an IPv4 port: floating IPs are IPv4 */
		for (size_t j = 0; ips && j < json_object_array_length(ips) && !port; j++)
			if (jstr(json_object_array_get_idx(ips, j), "ip_address") &&
			    !strchr(jstr(json_object_array_get_idx(ips, j), "ip_address"), ':'))
				port = jstr(p, "id");
	}
	if (!port) {
		json_object_put(doc);
		return jc_err(err, JC_EINVALID, "cloud %s: %s has no IPv4 port to give a floating IP to (a server "
			      "with networks: none cannot have one)", oc->cfg->name, s->name);
	}
	port = jc_strdup(port);
	json_object_put(doc);
	if ((rc = fip_on_port(oc, port, &addr, err)) < 0 || addr)
		goto out;

	body = json_object_new_object();
	fip = json_object_new_object();
	json_object_object_add(body, "floatingip", fip);
	json_object_object_add(fip, "floating_network_id", json_object_new_string(ext));
	json_object_object_add(fip, "port_id", json_object_new_string(port));
	text = jc_sprintf("jcicd: stack %s, server %s (%s)", s->tag ? s->tag : "?", s->name, s->id);
	json_object_object_add(fip, "description", json_object_new_string(text));
	free(text);
	text = jc_strdup(json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(body);
	doc = NULL;
	rc = os_call_json(oc, OS_NETWORK, "POST", "/floatingips", text, JC_HTTP_NOT_IDEMPOTENT, &doc, &resp, err);
	free(text);
	if (rc < 0 && (resp.maybe_sent || resp.status >= 500)) {
		/* it may exist: the port says */
		jc_error lerr;
		if (fip_on_port(oc, port, &addr, &lerr) == 0 && addr)
			rc = 0;
	} else if (rc == 0 && json_object_object_get_ex(doc, "floatingip", &fip)) {
		addr = jc_strdup(jstr(fip, "floating_ip_address"));
		/* tags come after the create (Neutron before 2023.2 refuses them in
		 * the POST); the description already marks it as jcicd's */
		tags = json_object_new_array();
		json_object_array_add(tags, json_object_new_string(OS_TAG_OWNER));
		snprintf(tag, sizeof(tag), "%s%s", FIP_TAG_SERVER_PREFIX, s->id);
		json_object_array_add(tags, json_object_new_string(tag));
		if (s->tag) {
			snprintf(tag, sizeof(tag), "%s%s", OS_TAG_STACK_PREFIX, s->tag);
			json_object_array_add(tags, json_object_new_string(tag));
		}
		body = json_object_new_object();
		json_object_object_add(body, "tags", tags);
		text = jc_strdup(json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN));
		json_object_put(body);
		path = jc_sprintf("/floatingips/%s/tags", jstr(fip, "id"));
		jc_error terr;
		if (os_call_json(oc, OS_NETWORK, "PUT", path, text, JC_HTTP_BY_METHOD, NULL, NULL, &terr) < 0)
			jc_log(oc->log, JC_LOG_WARN, "openstack", "%s: tagging floating IP %s: %s", s->name,
			       addr ? addr : "?", terr.message);
		free(path);
		free(text);
	}
	if (rc < 0 && err && err->code == JC_EHTTP && err->http_status >= 400 && err->http_status < 500 &&
	    err->http_status != 404 && err->http_status != 409 && err->http_status != 429)
		/* refused for good (400: bad request): asking again changes nothing */
		err->code = JC_EINVALID;
	jc_http_response_clear(&resp);
	if (doc)
		json_object_put(doc);
	if (rc < 0) {
		jc_err_prefix(err, "cloud %s", oc->cfg->name);
		rc = err ? err->code : rc;
	}
out:
	if (rc == 0)
		jc_log(oc->log, JC_LOG_INFO, "openstack", "%s: floating IP %s", s->name, addr ? addr : "?");
	free(addr);
	free((char *)port);
	return rc;
}

/* Is floating IP f jcicd's, for server id? */
static bool ours_for(json_object *f, const char *id)
{
	char tag[96];
	const char *desc = jstr(f, "description");
	json_object *pd;
	bool ours = has_tag(f, OS_TAG_OWNER) || (desc && jc_str_starts(desc, "jcicd:"));
	if (!ours)
		return false;
	snprintf(tag, sizeof(tag), "%s%s", FIP_TAG_SERVER_PREFIX, id);
	if (has_tag(f, tag) || (desc && strstr(desc, id)))
		return true;
	return json_object_object_get_ex(f, "port_details", &pd) && jc_str_eq(jstr(pd, "device_id"), id);
}

int os_fip_release(os_cloud *oc, const char *const *ids, size_t n, jc_error *err)
{
	json_object *doc = NULL, *fips;
	os_call *calls = NULL;
	size_t k = 0;
	char *esc, *path;
	int rc;

	if (!n)
		return 0;
	if (!oc->urls[OS_NETWORK])
		return 0; /* no Neutron, no floating IPs */
	/* the project's floating IPs, one request for the batch; only jcicd's
	 * (by tag or description) for these servers are released */
	esc = jc_http_escape(oc->project_id ? oc->project_id : "");
	path = jc_sprintf("/floatingips?project_id=%s&fields=id&fields=floating_ip_address&fields=description"
			  "&fields=tags&fields=port_details", esc);
	rc = os_call_json(oc, OS_NETWORK, "GET", path, NULL, JC_HTTP_BY_METHOD, &doc, NULL, err);
	free(path);
	free(esc);
	if (rc < 0) {
		jc_err_prefix(err, "cloud %s: listing floating IPs", oc->cfg->name);
		return rc;
	}
	fips = jarr(doc, "floatingips");
	for (size_t i = 0; fips && i < json_object_array_length(fips); i++) {
		json_object *f = json_object_array_get_idx(fips, i);
		for (size_t j = 0; j < n; j++) {
			if (!jstr(f, "id") || !ours_for(f, ids[j]))
				continue;
			calls = jc_realloc(calls, (k + 1) * sizeof(*calls));
			memset(&calls[k], 0, sizeof(calls[k]));
			calls[k].service = OS_NETWORK;
			calls[k].method = "DELETE";
			calls[k].path = jc_sprintf("/floatingips/%s", jstr(f, "id"));
			jc_log(oc->log, JC_LOG_INFO, "openstack", "releasing floating IP %s of server %s",
			       jstr(f, "floating_ip_address") ? jstr(f, "floating_ip_address") : "?", ids[j]);
			k++;
			break;
		}
	}
	json_object_put(doc);
	if (!k)
		return 0;
	os_call_many(oc, calls, k, NULL);
	for (size_t i = 0; i < k; i++) {
		jc_error e;
		if (calls[i].rc == 0 && calls[i].resp.status == 404)
			continue;
		if (os_call_check(oc, &calls[i], NULL, &e) < 0 && rc == 0) {
			rc = e.code;
			jc_err_copy(err, &e);
		}
	}
	os_calls_free(calls, k);
	return rc;
}
