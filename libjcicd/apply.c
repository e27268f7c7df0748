/* apply.c - plan and reconcile a stack: create what is missing, replace
 * what is in ERROR within a budget, wait with a deadline. */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jcicd/apply.h"

#define DEFAULT_RETRY 3
#define DEFAULT_TIMEOUT_MS (30LL * 60 * 1000)
/* A server Nova accepted may take a moment to show in lists; after this many
 * polls without it we take it as lost and create it again. */
#define MISSING_POLLS_LIMIT 5

enum want_state {
	W_CREATE,          /* to be created in the next round */
	W_WAIT,            /* created (or found); waiting for ACTIVE */
	W_UNCERTAIN,       /* the create may or may not have happened */
	W_DELETING,        /* deleting an ERROR server before creating it again */
	W_ACTIVE,          /* done */
	W_FAILED           /* out of budget, or refused */
};

struct want {
	jc_instance *inst;
	jc_server_create req;
	char *userdata;
	size_t userdata_len;
	enum want_state state;
	jc_plan_action action;
	char *server_id;
	int attempts;
	int missing_polls;
	char *fault;
	jc_server_status status;
	bool floating_done;
};

const char *jc_plan_action_name(jc_plan_action a)
{
	switch (a) {
	case JC_PLAN_CREATE: return "create";
	case JC_PLAN_KEEP: return "keep";
	case JC_PLAN_REPLACE: return "replace";
	case JC_PLAN_EXTRA: return "extra";
	}
	return "?";
}

void jc_plan_free(jc_plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		jc_plan_entry *e = &p->entries[i];
		free(e->name);
		free(e->hostname);
		free(e->role);
		free(e->flavor);
		free(e->image);
		free(e->server_id);
		free(e->fault);
	}
	free(p->entries);
	free(p);
}

static jc_plan_entry *plan_add(jc_plan *p)
{
	p->entries = jc_realloc(p->entries, (p->n + 1) * sizeof(*p->entries));
	memset(&p->entries[p->n], 0, sizeof(p->entries[0]));
	return &p->entries[p->n++];
}

static int check_options(const jc_apply_options *opts, jc_error *err)
{
	if (!opts)
		return jc_err(err, JC_EINVALID, "apply needs options with at least a tag");
	if (opts->version != JC_APPLY_OPTIONS_VERSION)
		return jc_err(err, JC_EINVALID, "jc_apply_options version %u is not supported", opts->version);
	return jc_tag_check(opts->tag, err);
}

/* Servers of the stack the spec does not name: kept, but shown. */
static void plan_extras(jc_plan *p, const jc_server_list *existing, const jc_instance *inst, size_t n)
{
	for (size_t i = 0; i < existing->n; i++) {
		const jc_server *s = &existing->servers[i];
		bool wanted = false;
		for (size_t j = 0; j < n && !wanted; j++)
			wanted = strcmp(inst[j].name, s->name) == 0;
		if (wanted)
			continue;
		jc_plan_entry *e = plan_add(p);
		e->name = jc_strdup(s->name);
		jc_name_parse(s->name, &e->role, NULL, NULL);
		e->action = JC_PLAN_EXTRA;
		e->flavor = jc_strdup(s->flavor);
		e->image = jc_strdup(s->image);
		e->server_id = jc_strdup(s->id);
		e->status = s->status;
	}
}

int jc_apply_plan(jc_plan **out, jc_cloud *cloud, const jc_spec *spec, const jc_apply_options *opts,
		  jc_error *err)
{
	jc_instance *inst;
	size_t n;
	jc_server_list *existing;
	jc_plan *p;
	int rc;

	*out = NULL;
	if ((rc = check_options(opts, err)) < 0)
		return rc;
	if ((rc = jc_spec_instances(spec, opts->tag, &inst, &n, err)) < 0)
		return rc;
	rc = jc_cloud_list(cloud, opts->tag, &existing, err);
	if (rc < 0) {
		jc_instances_free(inst, n);
		return rc;
	}
	p = jc_calloc(1, sizeof(*p));
	for (size_t i = 0; i < n; i++) {
		const jc_server *s = jc_server_list_find(existing, inst[i].name);
		jc_plan_entry *e = plan_add(p);
		e->name = jc_strdup(inst[i].name);
		e->hostname = jc_strdup(inst[i].hostname);
		e->role = jc_strdup(inst[i].role->name);
		e->flavor = jc_strdup(inst[i].role->flavor);
		e->image = jc_strdup(inst[i].role->image);
		if (!s) {
			e->action = JC_PLAN_CREATE;
			e->status = JC_SERVER_BUILD;
		} else {
			e->action = s->status == JC_SERVER_ERROR ? JC_PLAN_REPLACE : JC_PLAN_KEEP;
			e->server_id = jc_strdup(s->id);
			e->status = s->status;
			e->fault = jc_strdup(s->fault);
		}
	}
	plan_extras(p, existing, inst, n);
	jc_server_list_free(existing);
	jc_instances_free(inst, n);
	*out = p;
	return 0;
}

/* ---- userdata: read each file once, render per server, check sizes */

struct ud_cache {
	jc_strv paths;
	char **texts;
	size_t *lens;
};

static int ud_get(struct ud_cache *c, const char *path, const char **text, size_t *len, jc_error *err)
{
	for (size_t i = 0; i < c->paths.n; i++) {
		if (strcmp(c->paths.v[i], path) == 0) {
			*text = c->texts[i];
			*len = c->lens[i];
			return 0;
		}
	}
	char *t;
	size_t l;
	int rc = jc_file_read(path, &t, &l, err);
	if (rc < 0) {
		if (err) {
			err->code = JC_EINVALID;
			jc_strlcpy(err->file, path, sizeof(err->file));
		}
		return JC_EINVALID;
	}
	jc_strv_push(&c->paths, path);
	c->texts = jc_realloc(c->texts, c->paths.n * sizeof(char *));
	c->lens = jc_realloc(c->lens, c->paths.n * sizeof(size_t));
	c->texts[c->paths.n - 1] = t;
	c->lens[c->paths.n - 1] = l;
	*text = t;
	*len = l;
	return 0;
}

static void ud_free(struct ud_cache *c)
{
	for (size_t i = 0; i < c->paths.n; i++)
		free(c->texts[i]);
	free(c->texts);
	free(c->lens);
	jc_strv_free(&c->paths);
}

static void want_fill_request(struct want *w, const jc_apply_options *opts)
{
	const jc_role *r = w->inst->role;
	jc_server_create *q = &w->req;
	q->name = w->inst->name;
	q->hostname = w->inst->hostname;
	q->tag = opts->tag;
	q->role = r->name;
	q->flavor = r->flavor;
	q->image = r->image;
	q->networks_mode = r->networks_mode;
	q->networks = r->networks;
	q->n_networks = r->n_networks;
	q->security_groups = r->security_groups;
	q->n_security_groups = r->n_security_groups;
	q->boot_volume_gb = r->boot_volume_gb;
	q->config_drive = r->config_drive;
	q->key_name = r->key_name ? r->key_name : opts->key_name;
	q->availability_zone = r->availability_zone;
	q->metadata_keys = r->metadata_keys;
	q->metadata_values = r->metadata_values;
	q->n_metadata = r->n_metadata;
	q->userdata = w->userdata;
	q->userdata_len = w->userdata_len;
}

static int prepare_wants(struct want *wants, jc_instance *inst, size_t n, const jc_apply_options *opts,
			 jc_error *err)
{
	struct ud_cache cache = { JC_STRV_INIT, NULL, NULL };
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct want *w = &wants[i];
		const char *path = inst[i].role->userdata ? inst[i].role->userdata : opts->userdata_path;
		const char *text = "";
		size_t len = 0;
		jc_userdata_vars vars = { inst[i].hostname, inst[i].role->name, opts->tag, opts->version_label };
		w->inst = &inst[i];
		if (path && (rc = ud_get(&cache, path, &text, &len, err)) < 0)
			break;
		rc = jc_userdata_render(&w->userdata, &w->userdata_len, path, text, len,
					jc_userdata_is_template(path), &vars, err);
		if (rc == 0 && path)
			rc = jc_userdata_check_size(path, w->userdata_len, err);
		want_fill_request(w, opts);
	}
	ud_free(&cache);
	return rc;
}

static void want_set_fault(struct want *w, const char *fault)
{
	free(w->fault);
	w->fault = jc_strdup(fault);
}

/* Ranks duplicates of one name: which one to keep. */
static int status_rank(jc_server_status s)
{
	switch (s) {
	case JC_SERVER_ACTIVE: return 4;
	case JC_SERVER_BUILD: return 3;
	case JC_SERVER_OTHER: return 2;
	case JC_SERVER_ERROR: return 1;
	case JC_SERVER_DELETING: return 0;
	}
	return 0;
}

static bool tracked(const struct want *wants, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (wants[i].server_id && strcmp(wants[i].server_id, id) == 0)
			return true;
	return false;
}

/*
 * Two servers with one name come from a race between two applies, a create
 * retried by hand, or a create that timed out while it waited in the
 * cloud's queue and landed later.  Keep the best (the one apply follows,
 * among equals) and delete the others, so the stack converges to exactly
 * one server per name.
 */
static int delete_duplicates(jc_cloud *cloud, jc_server_list *l, const struct want *wants, size_t n,
			     const jc_logger *log, jc_error *err)
{
	jc_strv doomed = JC_STRV_INIT;
	int rc = 0;
	for (size_t i = 0; i < l->n; i++) {
		const jc_server *a = &l->servers[i];
		if (a->status == JC_SERVER_DELETING)
			continue;
		for (size_t j = i + 1; j < l->n; j++) {
			const jc_server *b = &l->servers[j];
			if (b->status == JC_SERVER_DELETING || strcmp(a->name, b->name) != 0)
				continue;
			const jc_server *lose = status_rank(b->status) > status_rank(a->status)   ? a
						: status_rank(b->status) < status_rank(a->status) ? b
						: tracked(wants, n, a->id)			  ? b
						: tracked(wants, n, b->id)			  ? a
											  : b;
			if (!jc_strv_contains(&doomed, lose->id)) {
				jc_log(log, JC_LOG_NOTICE, "apply", "%s exists twice (%s, %s); deleting %s", a->name,
				       a->id, b->id, lose->id);
				jc_strv_push(&doomed, lose->id);
			}
		}
	}
	if (doomed.n)
		rc = jc_cloud_delete(cloud, (const char *const *)doomed.v, doomed.n, err);
	for (size_t i = 0; rc == 0 && i < l->n; i++)
		if (jc_strv_contains(&doomed, l->servers[i].id))
			l->servers[i].status = JC_SERVER_DELETING;
	jc_strv_free(&doomed);
	return rc;
}

/* The server of a want in a list: by id when it has one, else by name
 * (ignoring servers on their way out). */
static const jc_server *find_server(const jc_server_list *l, const struct want *w)
{
	const jc_server *by_name = NULL;
	for (size_t i = 0; i < l->n; i++) {
		const jc_server *s = &l->servers[i];
		if (w->server_id && strcmp(s->id, w->server_id) == 0)
			return s;
		if (!by_name && s->status != JC_SERVER_DELETING && strcmp(s->name, w->inst->name) == 0)
			by_name = s;
	}
	return w->server_id && w->state == W_DELETING ? NULL : by_name;
}

static bool server_listed(const jc_server_list *l, const char *id)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->servers[i].id, id) == 0)
			return true;
	return false;
}

static void want_error(struct want *w, jc_cloud *cloud, const jc_server *s, int retry,
		       const jc_logger *log)
{
	want_set_fault(w, s->fault ? s->fault : "the server went to ERROR (no fault given)");
	w->status = JC_SERVER_ERROR;
	if (w->attempts > retry) {
		jc_log(log, JC_LOG_WARN, "apply", "%s: ERROR after %d attempt%s, out of retries: %s",
		       w->inst->name, w->attempts, w->attempts == 1 ? "" : "s", w->fault);
		w->state = W_FAILED;
		return;
	}
	jc_log(log, JC_LOG_NOTICE, "apply", "%s: ERROR (%s); deleting it to create it again (retry %d of %d)",
	       w->inst->name, w->fault, w->attempts, retry);
	jc_error derr;
	const char *id = s->id;
	free(w->server_id);
	w->server_id = jc_strdup(id);
	if (jc_cloud_delete(cloud, &id, 1, &derr) < 0) {
		jc_log(log, JC_LOG_WARN, "apply", "%s: delete failed: %s (will try again)", w->inst->name,
		       derr.message);
		return;
	}
	w->state = W_DELETING;
}

static int create_round(jc_cloud *cloud, struct want *wants, size_t n, int retry, const jc_logger *log)
{
	size_t k = 0;
	size_t *idx = jc_calloc(n, sizeof(size_t));
	for (size_t i = 0; i < n; i++)
		if (wants[i].state == W_CREATE)
			idx[k++] = i;
	if (!k) {
		free(idx);
		return 0;
	}
	jc_server_create *reqs = jc_calloc(k, sizeof(*reqs));
	jc_create_result *res = jc_calloc(k, sizeof(*res));
	jc_error err;
	for (size_t j = 0; j < k; j++)
		reqs[j] = wants[idx[j]].req;
	jc_log(log, JC_LOG_INFO, "apply", "creating %zu server%s", k, k == 1 ? "" : "s");
	jc_cloud_create(cloud, reqs, k, res, &err);
	for (size_t j = 0; j < k; j++) {
		struct want *w = &wants[idx[j]];
		w->attempts++;
		w->missing_polls = 0;
		free(w->server_id);
		w->server_id = res[j].id ? jc_strdup(res[j].id) : NULL;
		if (res[j].id) {
			w->state = W_WAIT;
			w->status = JC_SERVER_BUILD;
			continue;
		}
		switch (res[j].error.code) {
		case JC_EEXISTS:
		case JC_EUNREACHABLE:
		case JC_ETIMEOUT:
			/* it may exist now: the next list tells */
			w->state = W_UNCERTAIN;
			want_set_fault(w, res[j].error.message);
			jc_log(log, JC_LOG_NOTICE, "apply", "%s: create uncertain (%s); checking", w->inst->name,
			       res[j].error.message);
			break;
		default: {
			char msg[JC_ERROR_MESSAGE_MAX + 64];
			jc_error_format(&res[j].error, msg, sizeof(msg));
			want_set_fault(w, msg);
			w->status = JC_SERVER_ERROR;
			if (res[j].error.code == JC_EHTTP && res[j].error.http_status >= 500 && w->attempts <= retry) {
				w->state = W_CREATE;
				jc_log(log, JC_LOG_NOTICE, "apply", "%s: create failed (%s); will retry", w->inst->name,
				       msg);
			} else {
				w->state = W_FAILED;
				jc_log(log, JC_LOG_WARN, "apply", "%s: create refused: %s", w->inst->name, msg);
			}
		}
		}
	}
	jc_create_results_clear(res, k);
	free(res);
	free(reqs);
	free(idx);
	return 0;
}

/* Brings each want up to date with a fresh list of the stack. */
static void observe(jc_cloud *cloud, struct want *wants, size_t n, const jc_server_list *l, int retry,
		    const jc_logger *log)
{
	for (size_t i = 0; i < n; i++) {
		struct want *w = &wants[i];
		const jc_server *s;
		switch (w->state) {
		case W_DELETING:
			if (!w->server_id || !server_listed(l, w->server_id)) {
				free(w->server_id);
				w->server_id = NULL;
				w->state = W_CREATE;
			}
			break;
		case W_UNCERTAIN:
		case W_WAIT:
			s = find_server(l, w);
			if (!s) {
				if (w->state == W_UNCERTAIN || ++w->missing_polls >= MISSING_POLLS_LIMIT) {
					if (w->attempts > retry) {
						w->state = W_FAILED;
						want_set_fault(w, "the server never appeared after its create");
					} else {
						w->state = W_CREATE;
					}
				}
				break;
			}
			w->missing_polls = 0;
			if (!w->server_id || strcmp(w->server_id, s->id) != 0) {
				free(w->server_id);
				w->server_id = jc_strdup(s->id);
			}
			w->state = W_WAIT;
			w->status = s->status;
			if (s->status == JC_SERVER_ACTIVE) {
				w->state = W_ACTIVE;
				free(w->fault);
				w->fault = NULL;
				jc_log(log, JC_LOG_INFO, "apply", "%s: ACTIVE", w->inst->name);
			} else if (s->status == JC_SERVER_ERROR) {
				want_error(w, cloud, s, retry, log);
			}
			break;
		default:
			break;
		}
	}
}

static void assign_floating_ips(jc_cloud *cloud, struct want *wants, size_t n, const jc_server_list *l,
				const jc_logger *log)
{
	for (size_t i = 0; i < n; i++) {
		struct want *w = &wants[i];
		const jc_server *s;
		jc_error err;
		if (w->state != W_ACTIVE || w->floating_done || !w->inst->role->assign_floating_ip)
			continue;
		s = find_server(l, w);
		if (!s)
			continue;
		if (s->n_floating) {
			w->floating_done = true;
			continue;
		}
		if (jc_cloud_add_floating_ip(cloud, s, &err) < 0) {
			char msg[JC_ERROR_MESSAGE_MAX + 64];
			jc_error_format(&err, msg, sizeof(msg));
			jc_log(log, JC_LOG_WARN, "apply", "%s: floating IP: %s", w->inst->name, msg);
			want_set_fault(w, msg);
			if (err.code == JC_EUNSUPPORTED || err.code == JC_EINVALID || err.code == JC_EAUTH)
				w->state = W_FAILED;
			continue;
		}
		jc_log(log, JC_LOG_INFO, "apply", "%s: floating IP assigned", w->inst->name);
		w->floating_done = true;
	}
}

static bool settled(const struct want *wants, size_t n, size_t *n_active)
{
	bool all = true;
	*n_active = 0;
	for (size_t i = 0; i < n; i++) {
		bool fip_pending = wants[i].state == W_ACTIVE && wants[i].inst->role->assign_floating_ip &&
				   !wants[i].floating_done;
		if (wants[i].state == W_ACTIVE && !fip_pending)
			(*n_active)++;
		else if (wants[i].state != W_FAILED)
			all = false;
	}
	return all;
}

/* A server of a wanted name that apply does not follow (a duplicate on
 * its way out): the stack is not settled until it is gone. */
static bool duplicates_left(const jc_server_list *l, const struct want *wants, size_t n)
{
	for (size_t i = 0; l && i < l->n; i++)
		for (size_t j = 0; j < n; j++)
			if (wants[j].server_id && strcmp(l->servers[i].name, wants[j].inst->name) == 0 &&
			    strcmp(l->servers[i].id, wants[j].server_id) != 0)
				return true;
	return false;
}

static void build_report(jc_plan *p, const struct want *wants, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct want *w = &wants[i];
		jc_plan_entry *e = plan_add(p);
		e->name = jc_strdup(w->inst->name);
		e->hostname = jc_strdup(w->inst->hostname);
		e->role = jc_strdup(w->inst->role->name);
		e->action = w->action;
		e->flavor = jc_strdup(w->req.flavor);
		e->image = jc_strdup(w->req.image);
		e->server_id = jc_strdup(w->server_id);
		e->status = w->state == W_ACTIVE ? JC_SERVER_ACTIVE : w->status;
		e->attempts = w->attempts;
		e->fault = jc_strdup(w->fault);
	}
}

static int failure_error(const struct want *wants, size_t n, bool timed_out, const jc_apply_options *opts,
			 long long timeout_ms, jc_error *err)
{
	jc_buf b = JC_BUF_INIT;
	size_t bad = 0;
	int rc;
	for (size_t i = 0; i < n; i++) {
		const struct want *w = &wants[i];
		if (w->state == W_ACTIVE && (w->floating_done || !w->inst->role->assign_floating_ip))
			continue;
		bad++;
		if (bad <= 8)
			jc_buf_printf(&b, "%s%s %s%s%s", bad > 1 ? "; " : "", w->inst->name,
				      w->state == W_FAILED ? "failed" : jc_server_status_name(w->status),
				      w->fault ? ": " : "", w->fault ? w->fault : "");
	}
	if (bad > 8)
		jc_buf_printf(&b, "; and %zu more", bad - 8);
	if (timed_out)
		rc = jc_err(err, JC_ETIMEOUT, "stack %s not ready after %lld s: %s", opts->tag,
			    timeout_ms / 1000, jc_buf_cstr(&b));
	else
		rc = jc_err(err, JC_EFAILED, "stack %s: %zu server%s failed: %s", opts->tag, bad,
			    bad == 1 ? "" : "s", jc_buf_cstr(&b));
	jc_buf_free(&b);
	return rc;
}

int jc_apply_run(jc_plan **out, jc_cloud *cloud, const jc_spec *spec, const jc_apply_options *opts,
		 jc_error *err)
{
	jc_instance *inst = NULL;
	size_t n = 0, n_active = 0;
	struct want *wants = NULL;
	jc_server_list *l = NULL;
	const jc_logger *log;
	int retry, rc;
	long long timeout_ms, poll_ms, poll_max_ms;
	int64_t deadline;
	bool timed_out = false;

	if (out)
		*out = NULL;
	if ((rc = check_options(opts, err)) < 0)
		return rc;
	log = opts->logger;
	retry = opts->retry < 0 ? DEFAULT_RETRY : opts->retry;
	timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
	deadline = jc_now_ms() + timeout_ms;
	if ((rc = jc_spec_instances(spec, opts->tag, &inst, &n, err)) < 0)
		return rc;
	wants = jc_calloc(n ? n : 1, sizeof(*wants));
	for (size_t i = 0; i < n; i++)
		wants[i].inst = &inst[i];
	/* all local checks first: bad input makes no cloud call */
	rc = prepare_wants(wants, inst, n, opts, err);
	if (rc == 0)
		rc = jc_cloud_list(cloud, opts->tag, &l, err);
	if (rc == 0) {
		/* the cloud checks (and resolves) what is about to be created, before
		 * anything is: a stack that exists costs nothing more than its list */
		jc_server_create *reqs = jc_calloc(n ? n : 1, sizeof(*reqs));
		size_t k = 0;
		for (size_t i = 0; i < n; i++) {
			const jc_server *s = find_server(l, &wants[i]);
			if (!s || s->status == JC_SERVER_ERROR)
				reqs[k++] = wants[i].req;
		}
		if (k)
			rc = jc_cloud_prepare(cloud, reqs, k, err);
		free(reqs);
	}
	if (rc == 0)
		rc = delete_duplicates(cloud, l, wants, n, log, err);
	if (rc < 0)
		goto out;

	for (size_t i = 0; i < n; i++) {
		struct want *w = &wants[i];
		const jc_server *s = find_server(l, w);
		if (!s) {
			w->state = W_CREATE;
			w->action = JC_PLAN_CREATE;
			continue;
		}
		w->action = s->status == JC_SERVER_ERROR ? JC_PLAN_REPLACE : JC_PLAN_KEEP;
		w->server_id = jc_strdup(s->id);
		w->state = W_WAIT;
	}
	observe(cloud, wants, n, l, retry, log);
	jc_cloud_poll_interval(cloud, &poll_ms, &poll_max_ms);

	for (;;) {
		create_round(cloud, wants, n, retry, log);
		if (l)
			assign_floating_ips(cloud, wants, n, l, log);
		bool done = settled(wants, n, &n_active) && !duplicates_left(l, wants, n);
		jc_progress(log, "apply", "servers ready", (long)n_active, (long)n);
		if (done)
			break;
		if (jc_now_ms() >= deadline) {
			timed_out = true;
			break;
		}
		int64_t left = deadline - jc_now_ms();
		jc_sleep_ms(poll_ms < left ? poll_ms : left);
		poll_ms = poll_ms * 3 / 2 > poll_max_ms ? poll_max_ms : poll_ms * 3 / 2;
		jc_server_list_free(l);
		l = NULL;
		jc_error lerr;
		if (jc_cloud_list(cloud, opts->tag, &l, &lerr) < 0) {
			/* a failed poll is not fatal: the deadline bounds us */
			jc_log(log, JC_LOG_WARN, "apply", "listing the stack failed: %s", lerr.message);
			if (lerr.code == JC_EAUTH) {
				jc_err_copy(err, &lerr);
				rc = lerr.code;
				goto out;
			}
			continue;
		}
		if (delete_duplicates(cloud, l, wants, n, log, &lerr) < 0)
			jc_log(log, JC_LOG_WARN, "apply", "deleting a duplicate failed: %s (will try again)", lerr.message);
		observe(cloud, wants, n, l, retry, log);
	}
	rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		if (wants[i].state != W_ACTIVE || (wants[i].inst->role->assign_floating_ip && !wants[i].floating_done))
			rc = failure_error(wants, n, timed_out, opts, timeout_ms, err);

out:
	if (out) {
		jc_plan *p = jc_calloc(1, sizeof(*p));
		build_report(p, wants, n);
		if (l)
			plan_extras(p, l, inst, n);
		*out = p;
	}
	for (size_t i = 0; i < n; i++) {
		free(wants[i].userdata);
		free(wants[i].server_id);
		free(wants[i].fault);
	}
	free(wants);
	jc_server_list_free(l);
	jc_instances_free(inst, n);
	return rc;
}

/* ---- delete, status, ssh config */

int jc_stack_delete(jc_cloud *cloud, const char *tag, const jc_delete_options *opts, size_t *n_deleted,
		    jc_error *err)
{
	jc_server_list *l = NULL;
	const jc_logger *log = opts ? opts->logger : NULL;
	long long timeout_ms = opts && opts->timeout_ms > 0 ? opts->timeout_ms : 10LL * 60 * 1000;
	int64_t deadline = jc_now_ms() + timeout_ms;
	long long poll_ms, poll_max_ms;
	size_t total;
	int rc;

	if (n_deleted)
		*n_deleted = 0;
	if (opts && opts->version != JC_DELETE_OPTIONS_VERSION)
		return jc_err(err, JC_EINVALID, "jc_delete_options version %u is not supported", opts->version);
	if ((rc = jc_tag_check(tag, err)) < 0)
		return rc;
	if ((rc = jc_cloud_list(cloud, tag, &l, err)) < 0)
		return rc;
	total = l->n;
	if (n_deleted)
		*n_deleted = total;
	jc_cloud_poll_interval(cloud, &poll_ms, &poll_max_ms);
	for (bool first = true; l->n; first = false) {
		const char **ids = jc_calloc(l->n, sizeof(char *));
		size_t k = 0;
		/* deleting again what is already on its way out is harmless, and
		 * finishes a deletion an earlier, interrupted run started */
		for (size_t i = 0; i < l->n; i++)
			if (first || l->servers[i].status != JC_SERVER_DELETING)
				ids[k++] = l->servers[i].id;
		if (k)
			jc_log(log, JC_LOG_INFO, "delete", "deleting %zu server%s of stack %s", k, k == 1 ? "" : "s", tag);
		rc = jc_cloud_delete(cloud, ids, k, err);
		free(ids);
		if (rc < 0)
			break;
		jc_progress(log, "delete", "servers deleted", (long)(total - l->n), (long)total);
		jc_server_list_free(l);
		l = NULL;
		if ((rc = jc_cloud_list(cloud, tag, &l, err)) < 0)
			break;
		if (!l->n)
			break;
		if (jc_now_ms() >= deadline) {
			rc = jc_err(err, JC_ETIMEOUT, "stack %s: %zu server%s still not gone after %lld s (first: %s, %s)",
				    tag, l->n, l->n == 1 ? "" : "s", timeout_ms / 1000, l->servers[0].name,
				    l->servers[0].status_text ? l->servers[0].status_text : "?");
			break;
		}
		int64_t left = deadline - jc_now_ms();
		jc_sleep_ms(poll_ms < left ? poll_ms : left);
		poll_ms = poll_ms * 3 / 2 > poll_max_ms ? poll_max_ms : poll_ms * 3 / 2;
	}
	if (rc == 0)
		jc_progress(log, "delete", "servers deleted", (long)total, (long)total);
	jc_server_list_free(l);
	return rc;
}

static long role_rank(const jc_spec *sort_spec, const char *name, long *index)
{
	char *role = NULL;
	long rank = 1000000;
	*index = 0;
	if (!jc_name_parse(name, &role, index, NULL))
		return rank;
	if (sort_spec) {
		for (size_t i = 0; i < jc_spec_role_count(sort_spec); i++)
			if (strcmp(jc_spec_role(sort_spec, i)->name, role) == 0)
				rank = (long)i;
	}
	free(role);
	return rank;
}

static int cmp_servers(const void *pa, const void *pb, void *payload)
{
	const jc_server *a = pa, *b = pb;
	long ia, ib;
	long ra = role_rank(payload, a->name, &ia), rb = role_rank(payload, b->name, &ib);
	char *rolea = NULL, *roleb = NULL;
	int c;
	if (ra != rb)
		return ra < rb ? -1 : 1;
	jc_name_parse(a->name, &rolea, NULL, NULL);
	jc_name_parse(b->name, &roleb, NULL, NULL);
	c = strcmp(rolea ? rolea : a->name, roleb ? roleb : b->name);
	free(rolea);
	free(roleb);
	if (c)
		return c;
	if (ia != ib)
		return ia < ib ? -1 : 1;
	return strcmp(a->name, b->name);
}

int jc_stack_status(jc_server_list **out, jc_cloud *cloud, const char *tag, const jc_spec *spec,
		    jc_error *err)
{
	int rc;
	*out = NULL;
	if ((rc = jc_tag_check(tag, err)) < 0)
		return rc;
	if ((rc = jc_cloud_list(cloud, tag, out, err)) < 0)
		return rc;
	if ((*out)->n > 1)
		qsort_r((*out)->servers, (*out)->n, sizeof(jc_server), cmp_servers, (void *)spec);
	return 0;
}

int jc_stack_ssh_config(char **out, const jc_server_list *servers, const char *user, jc_error *err)
{
	jc_buf b = JC_BUF_INIT;
	const jc_server *bastion = NULL;
	(void)err;

	for (size_t i = 0; i < servers->n && !bastion; i++)
		if (servers->servers[i].n_floating && servers->servers[i].status == JC_SERVER_ACTIVE)
			bastion = &servers->servers[i];
	jc_buf_puts(&b, "StrictHostKeyChecking no\nUserKnownHostsFile /dev/null\nLogLevel ERROR\n");
	for (size_t i = 0; i < servers->n; i++) {
		const jc_server *s = &servers->servers[i];
		const char *addr = s->n_floating ? s->floating_addresses[0] :
				   s->n_fixed ? s->fixed_addresses[0] : NULL;
		jc_buf_putc(&b, '\n');
		if (!addr) {
			jc_buf_printf(&b, "# %s has no address yet (status %s)\n", s->name,
				      s->status_text ? s->status_text : jc_server_status_name(s->status));
			continue;
		}
		jc_buf_printf(&b, "Host %s\n    HostName %s\n", s->name, addr);
		if (user)
			jc_buf_printf(&b, "    User %s\n", user);
		if (bastion && s != bastion && !s->n_floating)
			jc_buf_printf(&b, "    ProxyCommand ssh -o LogLevel=ERROR -o StrictHostKeyChecking=no "
					  "-o UserKnownHostsFile=/dev/null %%r@%s nc %%h %%p\n",
				      bastion->floating_addresses[0]);
	}
	*out = jc_buf_detach(&b);
	return 0;
}
