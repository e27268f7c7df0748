/* build.c - the build state, and poll/run: ask every source, build what
 * changed (in parallel), publish what succeeded, record everything. */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "build-internal.h"
#include "proc.h"
#include "snapshot-internal.h"

static const char *const schema[] = {
	/* 1: one row per entry: what was seen, attempted and built */
	"CREATE TABLE build_entries ("
	" name TEXT PRIMARY KEY,"
	" kind TEXT, location TEXT,"
	" seen TEXT, seen_at INTEGER,"
	" attempted TEXT,"
	" built TEXT, built_version TEXT,"
	" last_version TEXT, last_result TEXT, last_error TEXT, last_log TEXT,"
	" last_started INTEGER, last_finished INTEGER,"
	" builds INTEGER NOT NULL DEFAULT 0,"
	" etag TEXT, last_modified TEXT);"
	/* every attempt */
	"CREATE TABLE build_runs ("
	" id INTEGER PRIMARY KEY, entry TEXT NOT NULL, build INTEGER NOT NULL, ref TEXT, version TEXT,"
	" result TEXT NOT NULL, error TEXT, log TEXT, started INTEGER, finished INTEGER);"
	/* the packages of the build repository; superseded ones leave the
	 * indices at once and the pool after a grace period */
	"CREATE TABLE build_packages ("
	" filename TEXT PRIMARY KEY, entry TEXT NOT NULL, name TEXT NOT NULL, version TEXT NOT NULL,"
	" architecture TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL, control TEXT NOT NULL,"
	" added_at INTEGER NOT NULL, superseded_at INTEGER);"
	"CREATE INDEX build_packages_entry ON build_packages(entry, superseded_at);",
};

static const char *kind_name(jc_build_kind k)
{
	return k == JC_BUILD_GIT ? "git" : k == JC_BUILD_APT_SOURCE ? "apt-source" : k == JC_BUILD_APT_BINARY ?
	       "apt-binary" : NULL;
}

static const char *result_name(jc_build_result r)
{
	switch (r) {
	case JC_BUILD_OK: return "ok";
	case JC_BUILD_FAILED: return "failed";
	case JC_BUILD_UNREACHABLE: return "unreachable";
	case JC_BUILD_SKIPPED: return "skipped";
	default: return NULL;
	}
}

static const char *location_of(const jc_build_entry *e)
{
	return e->kind == JC_BUILD_GIT ? e->git : e->apt_url ? e->apt_url : e->apt_path;
}

void jc_bld_log(jc_builds *b, jc_log_level level, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	if (!jc_log_enabled(b->o.logger, level))
		return;
	va_start(ap, fmt);
	msg = jc_vsprintf(fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&b->log_lock);
	jc_log(b->o.logger, level, "build", "%s", msg);
	pthread_mutex_unlock(&b->log_lock);
	free(msg);
}

/* ---- open */

static const char *keep(jc_builds *b, const char *s)
{
	if (!s)
		return NULL;
	jc_strv_push(&b->strings, s);
	return b->strings.v[b->strings.n - 1];
}

static const char *const *keep_list(jc_builds *b, const char *const *v, size_t n)
{
	const char **copy;
	if (!v)
		return NULL;
	copy = jc_calloc(n + 1, sizeof(*copy));
	for (size_t i = 0; i < n; i++)
		copy[i] = keep(b, v[i]);
	/* the array itself is owned through `strings` too (freed as a string) */
	jc_strv_push_owned(&b->strings, (char *)copy);
	return copy;
}

static int check_options(const jc_build_options *o, jc_error *err)
{
	if (o->version != JC_BUILD_OPTIONS_VERSION)
		return jc_err(err, JC_EINVALID, "jc_build_options version %u is not supported", o->version);
	for (size_t i = 0; i < o->n_entries; i++) {
		const jc_build_entry *e = &o->entries[i];
		if (!jc_bld_name_ok(e->name))
			return jc_err(err, JC_EINVALID, "build source %zu: \"%s\" is not a usable name", i + 1,
				      e->name ? e->name : "");
		if (!kind_name(e->kind))
			return jc_err(err, JC_EINVALID, "build source %s: unknown kind %d", e->name, (int)e->kind);
		if (e->kind == JC_BUILD_GIT && !e->git)
			return jc_err(err, JC_EINVALID, "build source %s: no git repository", e->name);
		if (e->kind != JC_BUILD_GIT && ((!e->apt_url) == (!e->apt_path) || !e->apt_suite || !e->package))
			return jc_err(err, JC_EINVALID, "build source %s: an APT entry needs a url or a path, a suite "
				      "and a package", e->name);
		if (e->version_format && jc_bld_version_format_check(e->version_format, err) < 0)
			return JC_EINVALID;
		for (size_t j = 0; j < i; j++)
			if (strcmp(o->entries[j].name, e->name) == 0)
				return jc_err(err, JC_EINVALID, "two build sources are named %s", e->name);
	}
	return 0;
}

int jc_build_open(jc_builds **out, const jc_build_options *opts, jc_error *err)
{
	jc_store_options so = JC_STORE_OPTIONS_INIT;
	static const char *const amd64[] = { "amd64" };
	jc_builds *b;
	int rc;

	*out = NULL;
	if (!opts)
		return jc_err(err, JC_EINVALID, "no build options");
	if ((rc = check_options(opts, err)) < 0)
		return rc;
	b = jc_calloc(1, sizeof(*b));
	b->lock_fd = -1;
	pthread_mutex_init(&b->log_lock, NULL);
	b->o = *opts;
	b->o.state_dir = keep(b, opts->state_dir);
	b->o.repo_dir = keep(b, opts->repo_dir);
	b->o.suite = keep(b, opts->suite ? opts->suite : "unstable");
	b->o.component = keep(b, opts->component ? opts->component : "main");
	if (opts->architectures && opts->n_architectures) {
		b->o.architectures = keep_list(b, opts->architectures, opts->n_architectures);
	} else {
		b->o.architectures = keep_list(b, amd64, 1);
		b->o.n_architectures = 1;
	}
	b->o.origin = keep(b, opts->origin ? opts->origin : "jcicd");
	b->o.label = keep(b, opts->label ? opts->label : "jcicd build");
	b->o.sign_key = keep(b, opts->sign_key);
	b->o.gnupghome = keep(b, opts->gnupghome);
	b->o.passphrase_file = keep(b, opts->passphrase_file);
	b->o.maintainer = keep(b, opts->maintainer ? opts->maintainer : "jcicd <jcicd@localhost>");
	if (b->o.max_parallel <= 0)
		b->o.max_parallel = 2;
	if (b->o.timeout_ms <= 0)
		b->o.timeout_ms = 3600 * 1000LL;
	if (b->o.git_timeout_ms <= 0)
		b->o.git_timeout_ms = 120 * 1000LL;
	if (b->o.interval_ms <= 0)
		b->o.interval_ms = 300 * 1000LL;
	b->o.jitter_percent = opts->jitter_percent < 0 ? 0 : opts->jitter_percent == 0 ? 10 : opts->jitter_percent;
	b->entries = jc_calloc(opts->n_entries + 1, sizeof(*b->entries));
	for (size_t i = 0; i < opts->n_entries; i++) {
		const jc_build_entry *e = &opts->entries[i];
		jc_build_entry *c = &b->entries[i];
		*c = *e;
		c->name = keep(b, e->name);
		c->git = keep(b, e->git);
		c->branch = keep(b, e->branch);
		c->packaging_git = keep(b, e->packaging_git);
		c->packaging_branch = keep(b, e->packaging_branch);
		c->apt_url = keep(b, e->apt_url);
		c->apt_path = keep(b, e->apt_path);
		c->apt_suite = keep(b, e->apt_suite);
		c->apt_component = keep(b, e->apt_component ? e->apt_component : "main");
		c->apt_keyring = keep(b, e->apt_keyring);
		c->package = keep(b, e->package);
		c->pin = keep(b, e->pin);
		c->architectures = keep_list(b, e->architectures, e->n_architectures);
		c->profiles = keep_list(b, e->profiles, e->n_profiles);
		c->build_depends = keep(b, e->build_depends);
		c->version_format = keep(b, e->version_format ? e->version_format : e->kind == JC_BUILD_GIT ?
					 JC_BUILD_VERSION_FORMAT_GIT : JC_BUILD_VERSION_FORMAT_APT);
		c->file = keep(b, e->file);
		if (c->timeout_ms <= 0)
			c->timeout_ms = b->o.timeout_ms;
	}
	b->o.entries = b->entries;
	so.logger = opts->logger;
	rc = jc_store_open(&b->store, b->o.state_dir, &so, err);
	if (rc == 0)
		rc = jc_store_migrate(b->store, "build", schema, JC_ARRAY_LEN(schema), err);
	if (rc < 0) {
		jc_build_free(b);
		return rc;
	}
	b->dir = jc_path_join(jc_store_dir(b->store), "build");
	*out = b;
	return 0;
}

void jc_build_free(jc_builds *b)
{
	if (!b)
		return;
	if (b->lock_fd >= 0)
		close(b->lock_fd);
	jc_store_free(b->store);
	jc_strv_free(&b->strings);
	free(b->entries);
	free(b->dir);
	free(b->host_arch);
	pthread_mutex_destroy(&b->log_lock);
	free(b);
}

/* ---- state rows */

void jc_bld_state_clear(jc_bld_state *st)
{
	free(st->seen);
	free(st->attempted);
	free(st->built);
	free(st->built_version);
	free(st->etag);
	free(st->last_modified);
	memset(st, 0, sizeof(*st));
}

int jc_bld_state_get(jc_builds *b, const char *entry, jc_bld_state *st, jc_error *err)
{
	sqlite3_stmt *q;
	int rc;
	memset(st, 0, sizeof(*st));
	rc = jc_store_prepare(b->store, &q, "SELECT seen, attempted, built, built_version, etag, last_modified, builds "
			      "FROM build_entries WHERE name = ?", err);
	if (rc < 0)
		return rc;
	sqlite3_bind_text(q, 1, entry, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(q) == SQLITE_ROW) {
		st->seen = jc_sql_column_dup(q, 0);
		st->attempted = jc_sql_column_dup(q, 1);
		st->built = jc_sql_column_dup(q, 2);
		st->built_version = jc_sql_column_dup(q, 3);
		st->etag = jc_sql_column_dup(q, 4);
		st->last_modified = jc_sql_column_dup(q, 5);
		st->builds = (long)sqlite3_column_int64(q, 6);
	}
	sqlite3_finalize(q);
	return 0;
}

static int exec_bind(jc_builds *b, const char *sql, jc_error *err, int n, const char *const *texts)
{
	sqlite3_stmt *q;
	int rc = jc_store_prepare(b->store, &q, sql, err);
	if (rc < 0)
		return rc;
	for (int i = 0; i < n; i++)
		jc_sql_bind_text(q, i + 1, texts[i]);
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return jc_store_error(b->store, err, "recording a build");
	return 0;
}

static int ensure_row(jc_builds *b, const jc_build_entry *e, jc_error *err)
{
	const char *v[3] = { e->name, kind_name(e->kind), location_of(e) };
	return exec_bind(b, "INSERT INTO build_entries(name, kind, location) VALUES (?, ?, ?) "
			 "ON CONFLICT(name) DO UPDATE SET kind = excluded.kind, location = excluded.location", err, 3, v);
}

static char *num(long long n)
{
	return jc_sprintf("%lld", n);
}

/* ---- the writer lock */

static int lock(jc_builds *b, jc_error *err)
{
	char *path;
	int rc;
	if (b->lock_fd >= 0)
		return 0;
	path = jc_path_join(jc_store_dir(b->store), "build.lock");
	rc = jc_snap_lock_file(&b->lock_fd, path, b->o.lock_timeout_ms, "the build server", err);
	free(path);
	return rc;
}

static void unlock(jc_builds *b)
{
	if (b->lock_fd >= 0) {
		close(b->lock_fd);
		b->lock_fd = -1;
	}
}

/* ---- one job's log and commands */

void jc_bld_logf(jc_bld_job *job, const char *fmt, ...)
{
	va_list ap;
	FILE *f = fopen(job->log_path, "a");
	char ts[32];
	if (!f)
		return;
	fprintf(f, "[jcicd %s] ", jc_iso8601(jc_wall_ms() / 1000, ts, sizeof(ts)));
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fclose(f);
}

/* The last few lines of a command's output, for an error message. */
static void tail_lines(char *dst, size_t size, const char *out, int lines)
{
	size_t len = strlen(out);
	const char *p = out + len;
	while (len && (out[len - 1] == '\n' || out[len - 1] == ' '))
		len--;
	p = out + len;
	for (int n = 0; p > out; p--)
		if (p[-1] == '\n' && ++n == lines)
			break;
	snprintf(dst, size, "%.*s", (int)(out + len - p), p);
	for (char *c = dst; *c; c++)
		if (*c == '\n')
			*c = '|';
}

int jc_bld_run(jc_builds *b, jc_bld_job *job, const char *const *argv, const char *cwd, long long timeout_ms,
	       const char *what, jc_buf *output, jc_error *err)
{
	static const char *const env[] = { "GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=/bin/true", "LC_ALL=C.UTF-8",
					   "DEBIAN_FRONTEND=noninteractive" };
	jc_proc_options po;
	jc_proc_result pr;
	jc_buf local = JC_BUF_INIT, cmd = JC_BUF_INIT;
	jc_buf *out = output ? output : &local;
	long long left = job->deadline - jc_now_ms();
	bool deadline_first = timeout_ms <= 0 || left < timeout_ms;
	int rc;

	(void)b;
	for (size_t i = 0; argv[i]; i++)
		jc_buf_printf(&cmd, "%s%s", i ? " " : "", argv[i]);
	if (left <= 0) {
		rc = jc_err(err, JC_ETIMEOUT, "%s: the build's deadline (%llds) passed", what,
			    job->entry->timeout_ms / 1000);
		jc_buf_free(&cmd);
		return rc;
	}
	jc_bld_logf(job, "$ %s%s%s%s", jc_buf_cstr(&cmd), cwd ? "   (in " : "", cwd ? cwd : "", cwd ? ")" : "");
	memset(&po, 0, sizeof(po));
	po.argv = argv;
	po.cwd = cwd;
	po.env = env;
	po.n_env = JC_ARRAY_LEN(env);
	po.timeout_ms = deadline_first ? left : timeout_ms;
	po.log_path = job->log_path;
	po.output = out;
	po.max_output = 64 * 1024;
	rc = jc_proc_run(&po, &pr, err);
	job->last_exit = rc < 0 ? -1 : pr.exit_code;
	if (rc < 0) {
		jc_err_prefix(err, "%s", what);
	} else if (pr.timed_out) {
		rc = jc_err(err, JC_ETIMEOUT, "%s did not finish within %s (%llds); log %s", what,
			    deadline_first ? "the build's deadline" : "its time limit",
			    (deadline_first ? job->entry->timeout_ms : timeout_ms) / 1000, job->log_path);
	} else if (pr.exit_code != 0) {
		char tail[700];
		tail_lines(tail, sizeof(tail), jc_buf_cstr(out), 4);
		rc = jc_err(err, JC_EFAILED, "%s failed (exit %d): %s", what, pr.exit_code, tail);
	}
	jc_bld_logf(job, "exit %d after %.1f s%s", pr.exit_code, (double)pr.elapsed_ms / 1000.0,
		    pr.timed_out ? " (stopped at the deadline)" : "");
	jc_buf_free(&local);
	jc_buf_free(&cmd);
	return rc;
}

/* ---- poll and run */

static void job_free(jc_bld_job *job)
{
	jc_bld_state_clear(&job->state);
	free(job->ref);
	free(job->commit);
	free(job->log_path);
	free(job->work);
	free(job->version);
	jc_bld_debs_free(job->debs, job->n_debs);
	jc_bld_apt_free(job);
}

static char *new_log_path(jc_builds *b, const jc_build_entry *e, long build)
{
	char *dir = jc_sprintf("%s/logs/%s", b->dir, e->name), *path;
	char ts[32];
	time_t t = (time_t)(jc_wall_ms() / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm);
	jc_mkdir_p(dir, 0755, NULL);
	path = jc_sprintf("%s/%s-%ld.log", dir, ts, build);
	free(dir);
	return path;
}

struct pool_of_jobs {
	jc_builds *b;
	jc_bld_job **jobs;
	size_t n, next;
	pthread_mutex_t lock;
};

static void build_one(jc_builds *b, jc_bld_job *job)
{
	int64_t start = jc_now_ms();
	int rc;
	jc_bld_log(b, JC_LOG_INFO, "%s: building %s (build %ld)", job->entry->name, job->ref, job->build_number);
	jc_error_clear(&job->err);
	if (jc_rm_rf(job->work, &job->err) < 0 || jc_mkdir_p(job->work, 0755, &job->err) < 0)
		rc = job->err.code;
	else if (job->entry->kind == JC_BUILD_GIT)
		rc = jc_bld_git_build(b, job, &job->err);
	else
		rc = jc_bld_apt_build(b, job, &job->err);
	job->elapsed_ms = jc_now_ms() - start;
	if (rc < 0 && job->result == JC_BUILD_SKIPPED) {
		jc_bld_logf(job, "skipped: %s", job->err.message);
		jc_bld_log(b, JC_LOG_INFO, "%s: %s", job->entry->name, job->err.message);
	} else if (rc < 0) {
		job->result = JC_BUILD_FAILED;
		jc_bld_logf(job, "FAILED: %s", job->err.message);
		jc_bld_log(b, JC_LOG_WARN, "%s: build failed: %s (log %s)", job->entry->name, job->err.message,
			   job->log_path);
	} else {
		job->result = JC_BUILD_OK;
		jc_bld_logf(job, "built %s: %zu package%s", job->version, job->n_debs, job->n_debs == 1 ? "" : "s");
		jc_bld_log(b, JC_LOG_INFO, "%s: built %s in %.1f s", job->entry->name, job->version,
			   (double)job->elapsed_ms / 1000.0);
	}
}

static void *worker(void *arg)
{
	struct pool_of_jobs *p = arg;
	for (;;) {
		jc_bld_job *job = NULL;
		pthread_mutex_lock(&p->lock);
		if (p->next < p->n)
			job = p->jobs[p->next++];
		pthread_mutex_unlock(&p->lock);
		if (!job)
			return NULL;
		build_one(p->b, job);
	}
}

/* Builds the jobs, at most max_parallel at once. */
static void build_all(jc_builds *b, jc_bld_job **jobs, size_t n)
{
	struct pool_of_jobs p = { b, jobs, n, 0, PTHREAD_MUTEX_INITIALIZER };
	size_t nt = (size_t)b->o.max_parallel < n ? (size_t)b->o.max_parallel : n;
	pthread_t *threads = jc_calloc(nt + 1, sizeof(*threads));
	size_t started = 0;
	for (size_t i = 0; i < nt; i++)
		if (pthread_create(&threads[started], NULL, worker, &p) == 0)
			started++;
	if (started == 0)
		worker(&p);   /* no thread to be had: one after the other, here */
	for (size_t i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	free(threads);
	pthread_mutex_destroy(&p.lock);
}

static int record_seen(jc_builds *b, jc_bld_job *job, jc_error *err)
{
	char *now = num(jc_wall_ms() / 1000);
	int rc = exec_bind(b, "UPDATE build_entries SET seen = ?, seen_at = ? WHERE name = ?", err, 3,
			   (const char *const[]){ job->ref, now, job->entry->name });
	free(now);
	return rc;
}

static int record_attempt(jc_builds *b, jc_bld_job *job, int64_t started, jc_error *err)
{
	char *t0 = num(started), *t1 = num(jc_wall_ms() / 1000), *bn = num(job->build_number);
	const char *res = result_name(job->result);
	const char *msg = job->result == JC_BUILD_OK ? NULL : job->err.message;
	/* a source that could not be asked (no ref) used no build number and
	 * must not make the next poll rebuild what it built before */
	bool attempted = job->ref && (job->result == JC_BUILD_OK || job->result == JC_BUILD_FAILED ||
				      job->result == JC_BUILD_SKIPPED);
	int rc;

	rc = exec_bind(b, "UPDATE build_entries SET last_result = ?, last_error = ?, last_log = ?, last_version = ?, "
		       "last_started = ?, last_finished = ? WHERE name = ?", err, 7,
		       (const char *const[]){ res, msg, job->log_path, job->version, t0, t1, job->entry->name });
	if (rc == 0 && attempted)
		rc = exec_bind(b, "UPDATE build_entries SET attempted = ?, builds = ? WHERE name = ?", err, 3,
			       (const char *const[]){ job->ref, bn, job->entry->name });
	if (rc == 0 && job->result == JC_BUILD_OK)
		rc = exec_bind(b, "UPDATE build_entries SET built = ?, built_version = ? WHERE name = ?", err, 3,
			       (const char *const[]){ job->ref, job->version, job->entry->name });
	if (rc == 0)
		rc = exec_bind(b, "INSERT INTO build_runs(entry, build, ref, version, result, error, log, started, finished) "
			       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", err, 9,
			       (const char *const[]){ job->entry->name, bn, job->ref, job->version, res, msg, job->log_path,
						      t0, t1 });
	free(t0);
	free(t1);
	free(bn);
	return rc;
}

static bool selected(const jc_build_entry *e, const char *const *names, size_t n)
{
	if (n == 0)
		return true;
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], e->name) == 0)
			return true;
	return false;
}

/* Asks one entry's source what it looks like now. */
static void check_one(jc_builds *b, jc_bld_job *job, bool force, bool *changed)
{
	char *ref = NULL;
	bool unchanged = false;
	int rc;
	jc_error_clear(&job->err);
	if (job->entry->kind == JC_BUILD_GIT)
		rc = jc_bld_git_head(b, job, &ref, &job->err);
	else
		rc = jc_bld_apt_check(b, job, &ref, &unchanged, &job->err);
	*changed = false;
	if (rc < 0) {
		job->result = rc == JC_EUNREACHABLE || rc == JC_ETIMEOUT || rc == JC_EAUTH ? JC_BUILD_UNREACHABLE :
			      JC_BUILD_FAILED;
		jc_bld_logf(job, "%s", job->err.message);
		jc_bld_log(b, JC_LOG_WARN, "%s: %s", job->entry->name, job->err.message);
		return;
	}
	(void)unchanged;   /* an unchanged APT source gives the ref it gave before */
	job->ref = ref;
	*changed = force || !job->state.attempted || strcmp(ref, job->state.attempted) != 0;
}

static int cycle(jc_build_poll_result *res, jc_builds *b, const char *const *names, size_t n_names, bool force,
		 jc_error *err)
{
	int64_t started_ms = jc_now_ms(), started = jc_wall_ms() / 1000;
	jc_bld_job *jobs = NULL, **todo = NULL;
	size_t n_todo = 0, n = b->o.n_entries;
	jc_error first;
	int rc;

	memset(res, 0, sizeof(*res));
	jc_error_clear(&first);
	if (!b->o.repo_dir)
		return jc_err(err, JC_EINVALID, "no build repository: set build.repository.path in jcicd.yaml");
	if (n == 0)
		return jc_err(err, JC_EINVALID, "no build sources: add build.sources to jcicd.yaml (or pass --sources)");
	for (size_t i = 0; i < n_names; i++) {
		bool found = false;
		const char **known = jc_calloc(n + 1, sizeof(*known));
		for (size_t k = 0; k < n; k++) {
			known[k] = b->entries[k].name;
			found = found || strcmp(known[k], names[i]) == 0;
		}
		if (!found) {
			const char *s = jc_str_suggest(names[i], known, n);
			rc = jc_err(err, JC_EINVALID, "no build source named %s%s%s%s", names[i], s ? " (did you mean " : "",
				    s ? s : "", s ? "?)" : "");
			free(known);
			return rc;
		}
		free(known);
	}
	if ((rc = lock(b, err)) < 0)
		return rc;
	jobs = jc_calloc(n + 1, sizeof(*jobs));
	todo = jc_calloc(n + 1, sizeof(*todo));
	res->entries = jc_calloc(n + 1, sizeof(*res->entries));
	res->n_entries = 0;

	/* 1. ask every selected source (cheap: ls-remote, a conditional GET) */
	for (size_t i = 0; i < n; i++) {
		jc_bld_job *job = &jobs[i];
		bool changed = false;
		job->entry = &b->entries[i];
		if (!selected(job->entry, names, n_names))
			continue;
		if ((rc = ensure_row(b, job->entry, err)) < 0 ||
		    (rc = jc_bld_state_get(b, job->entry->name, &job->state, err)) < 0)
			goto out;
		job->build_number = job->state.builds + 1;
		job->log_path = new_log_path(b, job->entry, job->build_number);
		job->work = jc_sprintf("%s/work/%s", b->dir, job->entry->name);
		job->deadline = jc_now_ms() + job->entry->timeout_ms;
		res->checked++;
		check_one(b, job, force, &changed);
		if (job->result == JC_BUILD_UNREACHABLE || job->result == JC_BUILD_FAILED) {
			if (job->result == JC_BUILD_UNREACHABLE)
				res->unreachable++;
			else
				res->failed++;
			if (!first.code)
				jc_err_copy(&first, &job->err);
			if ((rc = record_attempt(b, job, started, err)) < 0)
				goto out;
			continue;
		}
		if ((rc = record_seen(b, job, err)) < 0)
			goto out;
		if (!changed) {
			unlink(job->log_path);
			continue;
		}
		res->changed++;
		todo[n_todo++] = job;
	}

	/* 2. build what changed, in parallel */
	if (n_todo) {
		jc_progress(b->o.logger, "build", "building", 0, (long)n_todo);
		build_all(b, todo, n_todo);
		jc_progress(b->o.logger, "build", "building", (long)n_todo, (long)n_todo);
	}

	/* 3. publish what succeeded; a failed publish fails those builds */
	bool any_ok = false;
	for (size_t i = 0; i < n_todo; i++)
		any_ok = any_ok || (todo[i]->result == JC_BUILD_OK && todo[i]->n_debs > 0);
	if (any_ok) {
		jc_error perr;
		if (jc_bld_publish(b, jobs, n, &perr) < 0) {
			for (size_t i = 0; i < n_todo; i++)
				if (todo[i]->result == JC_BUILD_OK) {
					todo[i]->result = JC_BUILD_FAILED;
					jc_err_copy(&todo[i]->err, &perr);
					jc_err_prefix(&todo[i]->err, "publishing %s", todo[i]->version);
					jc_bld_logf(todo[i], "FAILED: %s", todo[i]->err.message);
				}
		} else {
			res->published = true;
		}
	}
	for (size_t i = 0; i < n_todo; i++) {
		jc_bld_job *job = todo[i];
		if (job->result == JC_BUILD_OK)
			res->built++;
		else if (job->result == JC_BUILD_FAILED) {
			res->failed++;
			if (!first.code)
				jc_err_copy(&first, &job->err);
		}
		if ((rc = record_attempt(b, job, started, err)) < 0)
			goto out;
	}
	if (!res->published) {
		jc_error perr;
		int prc = jc_bld_publish_ensure(b, &perr);
		if (prc < 0) {
			rc = prc;
			jc_err_copy(err, &perr);
			goto out;
		}
	}

	/* 4. the result, in configuration order */
	{
		jc_build_entry_status *all = NULL;
		size_t na = 0;
		if ((rc = jc_build_status(&all, &na, b, err)) < 0)
			goto out;
		for (size_t i = 0; i < n; i++) {
			jc_build_entry_status *st;
			if (!selected(&b->entries[i], names, n_names))
				continue;
			st = &res->entries[res->n_entries++];
			/* status lists the configured entries first, in order */
			*st = all[i];
			memset(&all[i], 0, sizeof(all[i]));
			st->result = jobs[i].result;
			st->changed = jobs[i].result != JC_BUILD_NONE;
			st->elapsed_ms = jobs[i].elapsed_ms;
		}
		jc_build_entry_status_free(all, na);
	}
	rc = 0;
	if (res->failed)
		rc = JC_EFAILED;
	else if (res->unreachable)
		rc = JC_EUNREACHABLE;
	if (rc < 0) {
		jc_err_copy(err, &first);
		if (err)
			err->code = rc;
	}
out:
	res->elapsed_ms = jc_now_ms() - started_ms;
	for (size_t i = 0; i < n; i++)
		job_free(&jobs[i]);
	free(jobs);
	free(todo);
	unlock(b);
	return rc;
}

int jc_build_poll(jc_build_poll_result *res, jc_builds *b, jc_error *err)
{
	return cycle(res, b, NULL, 0, false, err);
}

int jc_build_run(jc_build_poll_result *res, jc_builds *b, const char *const *names, size_t n, jc_error *err)
{
	return cycle(res, b, names, n, true, err);
}

int jc_build_publish(jc_builds *b, jc_error *err)
{
	int rc;
	if (!b->o.repo_dir)
		return jc_err(err, JC_EINVALID, "no build repository: set build.repository.path in jcicd.yaml");
	if ((rc = lock(b, err)) < 0)
		return rc;
	rc = jc_bld_publish(b, NULL, 0, err);
	unlock(b);
	return rc;
}

void jc_build_poll_result_clear(jc_build_poll_result *res)
{
	if (!res)
		return;
	jc_build_entry_status_free(res->entries, res->n_entries);
	memset(res, 0, sizeof(*res));
}

/* ---- status */

static void status_row(jc_build_entry_status *st, sqlite3_stmt *q)
{
	st->seen = jc_sql_column_dup(q, 1);
	st->seen_at = sqlite3_column_int64(q, 2);
	st->built = jc_sql_column_dup(q, 3);
	st->built_version = jc_sql_column_dup(q, 4);
	st->last_version = jc_sql_column_dup(q, 5);
	st->last_result = jc_sql_column_dup(q, 6);
	st->last_error = jc_sql_column_dup(q, 7);
	st->log = jc_sql_column_dup(q, 8);
	st->last_started = sqlite3_column_int64(q, 9);
	st->last_finished = sqlite3_column_int64(q, 10);
	st->builds = (long)sqlite3_column_int64(q, 11);
	if (!st->location)
		st->location = jc_sql_column_dup(q, 12);
}

static int status_packages(jc_builds *b, jc_build_entry_status *st, jc_error *err)
{
	sqlite3_stmt *q;
	jc_strv v = JC_STRV_INIT;
	int rc = jc_store_prepare(b->store, &q, "SELECT name, version, architecture FROM build_packages "
				  "WHERE entry = ? AND superseded_at IS NULL ORDER BY name, architecture", err);
	if (rc < 0)
		return rc;
	sqlite3_bind_text(q, 1, st->name, -1, SQLITE_TRANSIENT);
	while (sqlite3_step(q) == SQLITE_ROW)
		jc_strv_push_owned(&v, jc_sprintf("%s %s %s", sqlite3_column_text(q, 0), sqlite3_column_text(q, 1),
						  sqlite3_column_text(q, 2)));
	sqlite3_finalize(q);
	st->packages = v.v;
	st->n_packages = v.n;
	return 0;
}

int jc_build_status(jc_build_entry_status **out, size_t *n, jc_builds *b, jc_error *err)
{
	sqlite3_stmt *q;
	jc_build_entry_status *v;
	size_t cap, k;
	int rc;

	*out = NULL;
	*n = 0;
	cap = b->o.n_entries + 8;
	v = jc_calloc(cap, sizeof(*v));
	for (k = 0; k < b->o.n_entries; k++) {
		v[k].name = jc_strdup(b->entries[k].name);
		v[k].kind = jc_strdup(kind_name(b->entries[k].kind));
		v[k].location = jc_strdup(location_of(&b->entries[k]));
	}
	rc = jc_store_prepare(b->store, &q, "SELECT name, seen, seen_at, built, built_version, last_version, "
			      "last_result, last_error, last_log, last_started, last_finished, builds, location "
			      "FROM build_entries ORDER BY name", err);
	if (rc < 0) {
		jc_build_entry_status_free(v, k);
		return rc;
	}
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(q, 0);
		size_t i;
		for (i = 0; i < k; i++)
			if (strcmp(v[i].name, name) == 0)
				break;
		if (i == k) {
			/* recorded, no longer configured */
			if (k + 1 >= cap) {
				cap *= 2;
				v = jc_realloc(v, cap * sizeof(*v));
			}
			memset(&v[k], 0, sizeof(v[k]));
			v[k].name = jc_strdup(name);
			k++;
		}
		status_row(&v[i], q);
	}
	sqlite3_finalize(q);
	for (size_t i = 0; i < k; i++)
		if ((rc = status_packages(b, &v[i], err)) < 0) {
			jc_build_entry_status_free(v, k);
			return rc;
		}
	*out = v;
	*n = k;
	return 0;
}

void jc_build_entry_status_free(jc_build_entry_status *st, size_t n)
{
	if (!st)
		return;
	for (size_t i = 0; i < n; i++) {
		free(st[i].name);
		free(st[i].kind);
		free(st[i].location);
		free(st[i].seen);
		free(st[i].built);
		free(st[i].built_version);
		free(st[i].last_version);
		free(st[i].last_result);
		free(st[i].last_error);
		free(st[i].log);
		for (size_t k = 0; k < st[i].n_packages; k++)
			free(st[i].packages[k]);
		free(st[i].packages);
	}
	free(st);
}

/* ---- watch */

int jc_build_watch(jc_builds *b, const jc_build_watch_options *opts, jc_error *err)
{
	jc_build_watch_options defaults = JC_BUILD_WATCH_OPTIONS_INIT;
	const jc_build_watch_options *o = opts ? opts : &defaults;
	char *path;
	int watch_fd = -1, rc;

	if (o->version != JC_BUILD_WATCH_OPTIONS_VERSION)
		return jc_err(err, JC_EINVALID, "jc_build_watch_options version %u is not supported", o->version);
	if (b->o.n_entries == 0)
		return jc_err(err, JC_EINVALID, "no build sources: add build.sources to jcicd.yaml (or pass --sources)");
	if (!b->o.repo_dir)
		return jc_err(err, JC_EINVALID, "no build repository: set build.repository.path in jcicd.yaml");
	path = jc_path_join(jc_store_dir(b->store), "build-watch.lock");
	rc = jc_snap_lock_file(&watch_fd, path, 0, "build watch", err);
	free(path);
	if (rc < 0)
		return rc;
	jc_bld_log(b, JC_LOG_INFO, "watching %zu source%s every %.0f s (+-%d%%)", b->o.n_entries,
		   b->o.n_entries == 1 ? "" : "s", (double)b->o.interval_ms / 1000.0, b->o.jitter_percent);
	for (long cycle_no = 1; !(o->stop && o->stop(o->payload)); cycle_no++) {
		jc_build_poll_result res;
		jc_error perr;
		long long spread, wait_ms;
		int64_t until;

		jc_error_clear(&perr);
		rc = jc_build_poll(&res, b, &perr);
		if (rc == JC_ELOCKED)
			jc_bld_log(b, JC_LOG_NOTICE, "skipping this poll: %s", perr.message);
		if (o->on_cycle)
			o->on_cycle(&res, rc < 0 ? &perr : NULL, o->payload);
		jc_build_poll_result_clear(&res);
		if (rc == JC_EINVALID) {
			/* the configuration is wrong: no later cycle will do better */
			jc_err_copy(err, &perr);
			break;
		}
		rc = 0;
		if (o->max_cycles && cycle_no >= o->max_cycles)
			break;
		spread = b->o.interval_ms * b->o.jitter_percent / 100;
		wait_ms = b->o.interval_ms - spread + (long long)jc_random((uint64_t)(2 * spread + 1));
		until = jc_now_ms() + wait_ms;
		while (!(o->stop && o->stop(o->payload)) && jc_now_ms() < until) {
			int64_t left = until - jc_now_ms();
			jc_sleep_ms(left < 200 ? left : 200);
		}
	}
	close(watch_fd);
	return rc;
}
