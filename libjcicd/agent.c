/* agent.c - the node-side loop: register, watch, converge, validate,
 * report.  See jcicd/agent.h for the contract. */
#include "common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jcicd/agent.h"
#include "jcicd/spec.h"

struct jc_agent {
	jc_orch *orch;
	jc_kv *kv;
	jc_agent_options o;
	jc_strv owned;           /* copies of the option strings */
	char *version_file;
	char *lock_file;
	int lock_fd;
	int fail_codes[16];
	size_t n_fail_codes;
	/* the protocol state */
	int64_t lease;
	int64_t next_keepalive_ms;
	int64_t renewed_ms;      /* the lease was granted or kept alive */
	jc_kv_watch *watch;
	char *desired, *gate;
	long long spread_ms;     /* desired/spread_ms: the fleet's jitter window */
	char *local;             /* the local version file's content */
	char *desired_key, *gate_key, *spread_key;
	/* the last run */
	bool healthy;
	bool ran;
	char *failed_target;     /* target of the failing runs */
	int retries;
	int64_t retry_at_ms;
	int64_t act_at_ms;       /* jitter: when to act on the pending target */
	char *pending;           /* the target the jitter is for */
	int64_t validate_at_ms;
	bool paused_pending;     /* an upgrade waits for the pause flag to go */
	int64_t pause_check_ms;
	int64_t reconnect_at_ms;
	long long backoff_ms;
	volatile int *stop;
	struct {
		char *running, *stage, *message, *attempted;
		bool healthy, saved, pending;
		int crc, vrc;
		int64_t retry_at_ms;
		long long backoff_ms;
	} rep;                   /* the last report, kept to send again */
};

static const char *keep(jc_agent *a, const char *s)
{
	if (!s)
		return NULL;
	jc_strv_push(&a->owned, s);
	return a->owned.v[a->owned.n - 1];
}

int jc_agent_local_version(char **out, const char *path, jc_error *err)
{
	char *text = NULL;
	size_t len;
	int rc = jc_file_read(path, &text, &len, err);
	*out = NULL;
	if (rc == JC_ENOTFOUND || (rc < 0 && !jc_path_exists(path))) {
		jc_error_clear(err);
		*out = jc_strdup("");
		return 0;
	}
	if (rc < 0)
		return rc;
	while (len && (text[len - 1] == '\n' || text[len - 1] == ' ' || text[len - 1] == '\r'))
		text[--len] = '\0';
	*out = text;
	return 0;
}

int jc_agent_set_local_version(const char *path, const char *version, jc_error *err)
{
	char *line = jc_sprintf("%s\n", version), *dir = jc_strdup(path), *slash = strrchr(dir, '/');
	int rc = 0;
	if (slash && slash != dir) {
		*slash = '\0';
		rc = jc_mkdir_p(dir, 0755, err);
	}
	if (rc == 0)
		rc = jc_file_write_atomic(path, line, strlen(line), 0644, err);
	free(line);
	free(dir);
	return rc;
}

static int parse_codes(jc_agent *a, const char *s, jc_error *err)
{
	char *copy = jc_strdup(s ? s : "1,4,6"), *save = NULL;
	a->n_fail_codes = 0;
	for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
		long v;
		if (!jc_parse_long(t, &v) || v < 0 || v > 255 || a->n_fail_codes == JC_ARRAY_LEN(a->fail_codes)) {
			free(copy);
			return jc_err(err, JC_EINVALID, "converge failure codes: '%s' is not an exit status", t);
		}
		a->fail_codes[a->n_fail_codes++] = (int)v;
	}
	free(copy);
	return 0;
}

int jc_agent_new(jc_agent **out, jc_orch *orch, const jc_agent_options *opts, jc_error *err)
{
	jc_agent *a;
	int rc;

	*out = NULL;
	if (!opts || opts->version != JC_AGENT_OPTIONS_VERSION)
		return jc_err(err, JC_EINVALID, "jc_agent_options missing or of an unsupported version");
	if (!opts->hostname || !*opts->hostname || strchr(opts->hostname, '/'))
		return jc_err(err, JC_EINVALID, "the agent needs a hostname (--hostname or $JCICD_HOSTNAME)");
	if (!opts->dir || !*opts->dir)
		return jc_err(err, JC_EINVALID, "the agent needs a directory of its own");
	a = jc_calloc(1, sizeof(*a));
	a->orch = orch;
	a->kv = jc_orch_kv(orch);
	a->o = *opts;
	a->lock_fd = -1;
	a->o.hostname = keep(a, opts->hostname);
	if (!opts->role || !*opts->role) {
		char *role = NULL;
		jc_name_parse(opts->hostname, &role, NULL, NULL);
		a->o.role = keep(a, role ? role : "");
		free(role);
	} else {
		a->o.role = keep(a, opts->role);
	}
	a->o.tag = keep(a, opts->tag ? opts->tag : "");
	a->o.dir = keep(a, opts->dir);
	a->o.apt_base_url = keep(a, opts->apt_base_url);
	a->o.apt_suite = keep(a, opts->apt_suite ? opts->apt_suite : "stable");
	a->o.apt_components = keep(a, opts->apt_components ? opts->apt_components : "main");
	a->o.apt_keyring = keep(a, opts->apt_keyring);
	a->o.apt_sources_file = keep(a, opts->apt_sources_file ? opts->apt_sources_file : JC_AGENT_DEFAULT_SOURCES);
	a->o.update_command = keep(a, opts->update_command ? opts->update_command : JC_AGENT_DEFAULT_UPDATE);
	a->o.upgrade_command = keep(a, opts->upgrade_command ? opts->upgrade_command : JC_AGENT_DEFAULT_UPGRADE);
	a->o.converge_command = keep(a, opts->converge_command ? opts->converge_command : JC_AGENT_DEFAULT_CONVERGE);
	a->o.validation_dir = keep(a, opts->validation_dir ? opts->validation_dir : JC_AGENT_DEFAULT_VALIDATION);
	if (a->o.lease_ttl_s <= 0)
		a->o.lease_ttl_s = 30;
	if (a->o.step_timeout_ms <= 0)
		a->o.step_timeout_ms = 30 * 60 * 1000;
	if (a->o.max_retries < 0)
		a->o.max_retries = 3;
	if (a->o.retry_backoff_ms <= 0)
		a->o.retry_backoff_ms = 10000;
	a->version_file = opts->version_file ? jc_strdup(opts->version_file) : jc_path_join(opts->dir, "current_version");
	a->lock_file = jc_path_join(opts->dir, "agent.lock");
	a->desired_key = jc_orch_key(orch, "desired/version");
	a->gate_key = jc_orch_key(orch, "desired/gate");
	a->spread_key = jc_orch_key(orch, "desired/spread_ms");
	a->healthy = true;
	if ((rc = parse_codes(a, opts->converge_failure_codes, err)) < 0 ||
	    (rc = jc_mkdir_p(opts->dir, 0755, err)) < 0) {
		jc_agent_free(a);
		return rc;
	}
	*out = a;
	return 0;
}

void jc_agent_free(jc_agent *a)
{
	if (!a)
		return;
	if (a->lock_fd >= 0)
		close(a->lock_fd);
	jc_kv_watch_free(a->watch);
	jc_strv_free(&a->owned);
	free(a->version_file);
	free(a->lock_file);
	free(a->desired);
	free(a->gate);
	free(a->local);
	free(a->desired_key);
	free(a->gate_key);
	free(a->spread_key);
	free(a->failed_target);
	free(a->pending);
	free(a->rep.running);
	free(a->rep.stage);
	free(a->rep.message);
	free(a->rep.attempted);
	free(a);
}

/* ---- the lock: one agent per host */

static int take_lock(jc_agent *a, jc_error *err)
{
	char pid[32];
	/* O_CLOEXEC: the commands the agent runs must not hold its lock */
	a->lock_fd = open(a->lock_file, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (a->lock_fd < 0)
		return jc_err_errno(err, JC_EIO, errno, "cannot open %s", a->lock_file);
	if (flock(a->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		char other[32] = "";
		ssize_t n = pread(a->lock_fd, other, sizeof(other) - 1, 0);
		if (n > 0)
			other[n] = '\0';
		for (char *p = other; *p; p++)
			if (*p == '\n')
				*p = '\0';
		close(a->lock_fd);
		a->lock_fd = -1;
		return jc_err(err, JC_ELOCKED, "another agent (pid %s) runs for %s: %s is locked",
			      *other ? other : "?", a->o.hostname, a->lock_file);
	}
	snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(a->lock_fd, 0) == 0 && pwrite(a->lock_fd, pid, strlen(pid), 0) < 0) {
		/* the pid is only a courtesy for the message above */
	}
	return 0;
}

/* ---- the lease */

/* Sends the saved report; on failure it stays pending and is sent again
 * with backoff (a report lost to a busy or restarting store would leave the
 * fleet view wrong until the next version). */
static void send_report(jc_agent *a)
{
	jc_host_report r = { 0 };
	jc_error err;
	r.hostname = a->o.hostname;
	r.role = a->o.role;
	r.tag = a->o.tag;
	r.running_version = a->rep.running;
	r.healthy = a->rep.healthy;
	r.stage = a->rep.stage;
	r.message = a->rep.message;
	r.attempted_version = a->rep.attempted;
	r.converge_rc = a->rep.crc;
	r.validation_rc = a->rep.vrc;
	if (jc_orch_report(a->orch, &r, a->lease, &err) == 0) {
		a->rep.pending = false;
		a->rep.backoff_ms = 0;
		return;
	}
	a->rep.pending = true;
	a->rep.backoff_ms = a->rep.backoff_ms ? a->rep.backoff_ms * 2 : 500;
	if (a->rep.backoff_ms > 10000)
		a->rep.backoff_ms = 10000;
	a->rep.retry_at_ms = jc_now_ms() + a->rep.backoff_ms / 2 + (int64_t)jc_random((uint64_t)a->rep.backoff_ms / 2 + 1);
	jc_log(a->o.logger, JC_LOG_WARN, "agent", "cannot report (trying again in %.1f s): %s",
	       (double)(a->rep.retry_at_ms - jc_now_ms()) / 1000, err.message);
}

static void report(jc_agent *a, const char *running, bool healthy, const char *stage, const char *message,
		   const char *attempted, int crc, int vrc)
{
	char *copies[4];
	/* a failed attempt leaves the node at the last version that converged
	 * and validated here (the version file), and the report says so */
	if (!running && a->local && *a->local)
		running = a->local;
	copies[0] = jc_strdup(running);
	copies[1] = jc_strdup(stage);
	copies[2] = jc_strdup(message);
	copies[3] = jc_strdup(attempted);
	free(a->rep.running);
	free(a->rep.stage);
	free(a->rep.message);
	free(a->rep.attempted);
	a->rep.running = copies[0];
	a->rep.stage = copies[1];
	a->rep.message = copies[2];
	a->rep.attempted = copies[3];
	a->rep.healthy = healthy;
	a->rep.crc = crc;
	a->rep.vrc = vrc;
	a->rep.saved = true;
	a->rep.backoff_ms = 0;
	send_report(a);
}

static int register_host(jc_agent *a, bool with_lease, jc_error *err)
{
	jc_host_report r = { 0 };
	int rc;
	a->lease = 0;
	if (with_lease && (rc = jc_kv_lease_grant(&a->lease, a->kv, a->o.lease_ttl_s, err)) < 0)
		return rc;
	r.hostname = a->o.hostname;
	r.role = a->o.role;
	r.tag = a->o.tag;
	if ((rc = jc_orch_register(a->orch, &r, a->lease, err)) < 0)
		return rc;
	a->renewed_ms = jc_now_ms();
	a->next_keepalive_ms = a->renewed_ms + a->o.lease_ttl_s * 1000 / 3;
	jc_log(a->o.logger, JC_LOG_INFO, "agent", "%s registered (role %s, lease %lld, ttl %ld s)", a->o.hostname,
	       a->o.role, (long long)a->lease, a->o.lease_ttl_s);
	return 0;
}

/* Keeps the lease alive when due; a lost lease is granted again and
 * everything reported again. */
static void tick(jc_agent *a)
{
	jc_error err;
	int rc;
	if (!a->lease || jc_now_ms() < a->next_keepalive_ms)
		return;
	rc = jc_kv_lease_keepalive(NULL, a->kv, a->lease, &err);
	if (rc == 0) {
		a->renewed_ms = jc_now_ms();
		a->next_keepalive_ms = a->renewed_ms + a->o.lease_ttl_s * 1000 / 3;
		return;
	}
	if (rc == JC_ENOTFOUND) {
		jc_log(a->o.logger, JC_LOG_WARN, "agent", "lease expired; registering again");
		if (register_host(a, true, &err) == 0) {
			/* the keys went with the old lease: report again */
			if (a->rep.saved)
				send_report(a);
			return;
		}
	}
	jc_log(a->o.logger, JC_LOG_WARN, "agent", "keep-alive failed: %s", err.message);
	/* try again soon, not at once */
	a->next_keepalive_ms = jc_now_ms() + 1000 + (int64_t)jc_random(1000);
}

/* ---- running one command with a deadline */

struct step_result {
	int rc;                 /* exit status, or 128+signal, or -1 (could not run) */
	bool timed_out;
	char tail[512];         /* the end of its output */
};

static void tail_of(const char *path, char *buf, size_t size)
{
	char *text = NULL;
	size_t len = 0;
	buf[0] = '\0';
	if (jc_file_read(path, &text, &len, NULL) < 0)
		return;
	while (len && (text[len - 1] == '\n' || text[len - 1] == ' '))
		text[--len] = '\0';
	const char *start = len > size - 1 ? text + len - (size - 1) : text;
	/* the last line says most: keep the last ones that fit, on one line */
	snprintf(buf, size, "%s", start);
	for (char *p = buf; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	free(text);
}

static void run_step(jc_agent *a, const char *name, const char *cmd, const char *version,
		     struct step_result *res)
{
	char *log = jc_sprintf("%s/step-%s.log", a->o.dir, name);
	int64_t deadline = jc_now_ms() + a->o.step_timeout_ms;
	int64_t killed_at = 0;
	pid_t pid;
	int status = 0;

	memset(res, 0, sizeof(*res));
	jc_log(a->o.logger, JC_LOG_INFO, "agent", "%s: %s", name, cmd);
	pid = fork();
	if (pid < 0) {
		res->rc = -1;
		snprintf(res->tail, sizeof(res->tail), "cannot fork: %s", strerror(errno));
		free(log);
		return;
	}
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		setsid();
		/* dies with the agent: a restarted agent must not race an orphan */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0) {
			dup2(fd, 0);
			close(fd);
		}
		setenv("JCICD_HOSTNAME", a->o.hostname, 1);
		setenv("JCICD_ROLE", a->o.role, 1);
		setenv("JCICD_TAG", a->o.tag, 1);
		setenv("JCICD_VERSION", version ? version : "", 1);
		setenv("FACTER_role", a->o.role, 1);
		setenv("FACTER_tag", a->o.tag, 1);
		setenv("FACTER_version", version ? version : "", 1);
		setenv("FACTER_current_version", version ? version : "", 1);
		setenv("DEBIAN_FRONTEND", "noninteractive", 1);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			status = -1;
			break;
		}
		int64_t now = jc_now_ms();
		if (!killed_at && (now >= deadline || (a->stop && *a->stop))) {
			res->timed_out = now >= deadline;
			kill(-pid, SIGTERM);
			kill(pid, SIGTERM);
			killed_at = now;
		} else if (killed_at && now - killed_at > 5000) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
		}
		tick(a);   /* a long converge must not lose the lease */
		jc_sleep_ms(100);
	}
	if (status == -1)
		res->rc = -1;
	else if (WIFEXITED(status))
		res->rc = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		res->rc = 128 + WTERMSIG(status);
	tail_of(log, res->tail, sizeof(res->tail));
	if (res->timed_out) {
		char t[sizeof(res->tail) + 64];
		snprintf(t, sizeof(t), "timed out after %lld s; %s", a->o.step_timeout_ms / 1000, res->tail);
		jc_strlcpy(res->tail, t, sizeof(res->tail));
	}
	jc_log(a->o.logger, res->rc == 0 ? JC_LOG_DEBUG : JC_LOG_NOTICE, "agent", "%s exited %d%s", name, res->rc,
	       res->timed_out ? " (deadline)" : "");
	free(log);
}

static bool converge_failed(const jc_agent *a, const struct step_result *r)
{
	if (r->timed_out || r->rc < 0 || r->rc > 128 || r->rc == 126 || r->rc == 127)
		return true;
	for (size_t i = 0; i < a->n_fail_codes; i++)
		if (r->rc == a->fail_codes[i])
			return true;
	return false;
}

static int name_cmp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* run-parts: executable regular files named [A-Za-z0-9_-]+, in order,
 * stopping at the first that fails */
static void run_validation(jc_agent *a, const char *version, struct step_result *res)
{
	DIR *d;
	struct dirent *de;
	jc_strv names = JC_STRV_INIT;

	memset(res, 0, sizeof(*res));
	if (!*a->o.validation_dir)
		return;
	d = opendir(a->o.validation_dir);
	if (!d) {
		if (errno == ENOENT)
			return;   /* no checks installed: nothing fails */
		res->rc = -1;
		snprintf(res->tail, sizeof(res->tail), "cannot read %s: %s", a->o.validation_dir, strerror(errno));
		return;
	}
	while ((de = readdir(d)) != NULL) {
		const char *n = de->d_name;
		bool ok = *n != '\0';
		for (const char *p = n; *p && ok; p++)
			ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			     *p == '_' || *p == '-';
		if (ok)
			jc_strv_push(&names, n);
	}
	closedir(d);
	qsort(names.v, names.n, sizeof(*names.v), name_cmp);
	for (size_t i = 0; i < names.n; i++) {
		char *path = jc_path_join(a->o.validation_dir, names.v[i]);
		struct stat sb;
		if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && access(path, X_OK) == 0) {
			char *step = jc_sprintf("validate-%s", names.v[i]);
			char *quoted = jc_sprintf("'%s'", path);
			run_step(a, step, quoted, version, res);
			free(step);
			free(quoted);
			if (res->rc != 0 || res->timed_out) {
				char t[sizeof(res->tail) + 300];
				snprintf(t, sizeof(t), "%s exited %d: %s", names.v[i], res->rc, res->tail);
				jc_strlcpy(res->tail, t, sizeof(res->tail));
				if (res->rc == 0)
					res->rc = 1;
				free(path);
				break;
			}
		}
		free(path);
	}
	jc_strv_free(&names);
}

static int write_sources(jc_agent *a, const char *version, jc_error *err)
{
	char *opt = a->o.apt_keyring ? jc_sprintf("signed-by=%s", a->o.apt_keyring) : jc_strdup("trusted=yes");
	char *base = jc_strdup(a->o.apt_base_url);
	size_t bl = strlen(base);
	while (bl && base[bl - 1] == '/')
		base[--bl] = '\0';
	char *line = jc_sprintf("# written by jcicd agent: snapshot %s\ndeb [%s] %s/snapshots/%s %s %s\n", version, opt,
				base, version, a->o.apt_suite, a->o.apt_components);
	char *dir = jc_strdup(a->o.apt_sources_file), *slash = strrchr(dir, '/');
	int rc = 0;
	if (slash && slash != dir) {
		*slash = '\0';
		rc = jc_mkdir_p(dir, 0755, err);
	}
	if (rc == 0)
		rc = jc_file_write_atomic(a->o.apt_sources_file, line, strlen(line), 0644, err);
	free(dir);
	free(line);
	free(base);
	free(opt);
	return rc;
}

/* ---- one run */

enum run_kind { RUN_UPGRADE, RUN_HEAL, RUN_VALIDATE };

/* Returns true when the host ended healthy. */
static bool run_once(jc_agent *a, enum run_kind kind, const char *target)
{
	struct step_result r;
	const char *version = target ? target : a->local;
	bool upgrades_ok = true;
	jc_error err;
	int crc = -1;

	a->ran = true;
	if (kind != RUN_VALIDATE) {
		if (jc_orch_upgrades_enabled(&upgrades_ok, a->orch, a->o.role, a->o.hostname, &err) < 0) {
			jc_log(a->o.logger, JC_LOG_WARN, "agent", "cannot read the pause flags: %s", err.message);
			upgrades_ok = false;   /* unknown: do not upgrade, as jorc treated errors */
		}
		if (!upgrades_ok) {
			/* paused: no upgrade, but keep validating (check_puppet exit 9) */
			a->paused_pending = kind == RUN_UPGRADE;
			run_validation(a, a->local, &r);
			report(a, NULL, r.rc == 0, "paused",
			       r.rc == 0 ? "upgrades paused (config_state enable_puppet)" : r.tail, a->local, -1, r.rc);
			jc_log(a->o.logger, JC_LOG_NOTICE, "agent", "upgrades paused; validation %s",
			       r.rc == 0 ? "passed" : "failed");
			a->healthy = r.rc == 0;
			return a->healthy;
		}
	}
	a->paused_pending = false;
	if (kind == RUN_UPGRADE) {
		jc_log(a->o.logger, JC_LOG_INFO, "agent", "upgrading %s from %s to %s", a->o.hostname,
		       *a->local ? a->local : "(none)", target);
		if (a->o.apt_base_url && *a->o.apt_base_url && write_sources(a, target, &err) < 0) {
			report(a, NULL, false, "sources", err.message, target, -1, -1);
			return a->healthy = false;
		}
		if (*a->o.update_command) {
			run_step(a, "apt-update", a->o.update_command, target, &r);
			if (r.rc != 0) {
				report(a, NULL, false, "apt-update", r.tail, target, -1, -1);
				return a->healthy = false;
			}
		}
		if (*a->o.upgrade_command) {
			run_step(a, "apt-upgrade", a->o.upgrade_command, target, &r);
			if (r.rc != 0) {
				report(a, NULL, false, "apt-upgrade", r.tail, target, -1, -1);
				return a->healthy = false;
			}
		}
	}
	if (kind != RUN_VALIDATE && *a->o.converge_command) {
		run_step(a, "converge", a->o.converge_command, version, &r);
		crc = r.rc;
		if (converge_failed(a, &r)) {
			char msg[600];
			snprintf(msg, sizeof(msg), "converge exited %d%s: %s", r.rc, r.timed_out ? " at its deadline" : "",
				 r.tail);
			report(a, NULL, false, "converge", msg, version, r.rc, -1);
			return a->healthy = false;
		}
	}
	run_validation(a, version, &r);
	if (r.rc != 0) {
		report(a, NULL, false, "validation", r.tail, version, crc, r.rc);
		return a->healthy = false;
	}
	/* converge and validation passed: now, and only now, the version counts */
	if (version && *version && !jc_str_eq(version, a->local)) {
		if (jc_agent_set_local_version(a->version_file, version, &err) < 0) {
			report(a, NULL, false, "converged", err.message, version, crc, 0);
			return a->healthy = false;
		}
		free(a->local);
		a->local = jc_strdup(version);
	}
	report(a, version && *version ? version : NULL, true, "converged", "", version, crc, 0);
	jc_log(a->o.logger, JC_LOG_INFO, "agent", "%s healthy at %s", a->o.hostname,
	       version && *version ? version : "(no version)");
	return a->healthy = true;
}

/* ---- the loop */

static void close_watch(jc_agent *a)
{
	jc_kv_watch_free(a->watch);
	a->watch = NULL;
}

/* Reads desired/ and opens the watch after it. */
/* A window no longer than half an hour: a wrong value must not park a
 * fleet for days. */
static long long parse_spread(const char *v)
{
	char *end;
	long long ms = v ? strtoll(v, &end, 10) : 0;
	if (!v || *end || ms < 0)
		return 0;
	return ms < 30 * 60 * 1000 ? ms : 30 * 60 * 1000;
}

static int sync_desired(jc_agent *a, jc_error *err)
{
	jc_kv_list l;
	char *prefix = jc_orch_key(a->orch, "desired/");
	int rc = jc_kv_range(&l, a->kv, prefix, NULL, err);
	if (rc == 0) {
		free(a->desired);
		free(a->gate);
		a->desired = a->gate = NULL;
		for (size_t i = 0; i < l.n; i++) {
			if (strcmp(l.items[i].key, a->desired_key) == 0)
				a->desired = jc_strdup(l.items[i].value);
			else if (strcmp(l.items[i].key, a->gate_key) == 0)
				a->gate = jc_strdup(l.items[i].value);
			else if (strcmp(l.items[i].key, a->spread_key) == 0)
				a->spread_ms = parse_spread(l.items[i].value);
		}
		close_watch(a);
		rc = jc_kv_watch_open(&a->watch, a->kv, prefix, l.revision + 1, err);
		jc_kv_list_clear(&l);
	}
	free(prefix);
	return rc;
}

static void apply_events(jc_agent *a, const jc_kv_events *ev)
{
	for (size_t i = 0; i < ev->n; i++) {
		const jc_kv_event *e = &ev->items[i];
		if (strcmp(e->kv.key, a->spread_key) == 0) {
			a->spread_ms = e->type == JC_KV_EVENT_PUT ? parse_spread(e->kv.value) : 0;
			continue;
		}
		char **slot = strcmp(e->kv.key, a->desired_key) == 0 ? &a->desired
			      : strcmp(e->kv.key, a->gate_key) == 0 ? &a->gate : NULL;
		if (!slot)
			continue;
		free(*slot);
		*slot = e->type == JC_KV_EVENT_PUT ? jc_strdup(e->kv.value) : NULL;
	}
}

static char *current_target(jc_agent *a)
{
	char *t = NULL;
	jc_orch_target_for(&t, a->desired, a->gate, a->o.hostname, a->o.role);
	return t;
}

static long long backoff(jc_agent *a)
{
	a->backoff_ms = a->backoff_ms ? a->backoff_ms * 2 : 500;
	if (a->backoff_ms > 10000)
		a->backoff_ms = 10000;
	return a->backoff_ms / 2 + (long long)jc_random((uint64_t)a->backoff_ms / 2 + 1);
}

static int run_single(jc_agent *a, jc_error *err)
{
	char *target;
	int rc = register_host(a, false, err);
	bool ok;
	if (rc == 0)
		rc = sync_desired(a, err);
	close_watch(a);
	if (rc < 0)
		return rc;
	target = current_target(a);
	if (target && !jc_str_eq(target, a->local))
		ok = run_once(a, RUN_UPGRADE, target);
	else if (!a->desired)
		ok = run_once(a, RUN_HEAL, NULL);      /* bootstrap: converge with no version */
	else
		ok = run_once(a, RUN_VALIDATE, NULL);
	free(target);
	if (!ok)
		return jc_err(err, JC_EFAILED, "%s is not healthy (see its health in the KV and %s/step-*.log)",
			      a->o.hostname, a->o.dir);
	return 0;
}

int jc_agent_run(jc_agent *a, bool once, volatile int *stop, jc_error *err)
{
	int rc;
	static volatile int never;

	a->stop = stop ? stop : &never;
	if ((rc = take_lock(a, err)) < 0)
		return rc;
	if ((rc = jc_agent_local_version(&a->local, a->version_file, err)) < 0)
		return rc;
	if (once)
		return run_single(a, err);

	/* at start, check the host before claiming its version again */
	a->validate_at_ms = jc_now_ms();
	while (!*a->stop) {
		int64_t now = jc_now_ms(), wake;
		jc_kv_events ev;
		jc_error e;
		char *target;

		if (!a->lease || !a->watch) {
			if (now < a->reconnect_at_ms) {
				jc_sleep_ms(a->reconnect_at_ms - now > 200 ? 200 : a->reconnect_at_ms - now);
				continue;
			}
			if ((!a->lease && register_host(a, true, &e) < 0) || (!a->watch && sync_desired(a, &e) < 0)) {
				long long d = backoff(a);
				jc_log(a->o.logger, JC_LOG_WARN, "agent", "%s; trying again in %.1f s", e.message,
				       (double)d / 1000);
				a->reconnect_at_ms = jc_now_ms() + d;
				continue;
			}
			a->backoff_ms = 0;
			if (a->rep.saved)   /* a new lease: say again where we are */
				send_report(a);
		}
		tick(a);
		if (a->rep.pending && jc_now_ms() >= a->rep.retry_at_ms)
			send_report(a);
		now = jc_now_ms();
		target = current_target(a);
		if (target && !jc_str_eq(target, a->local) && !jc_str_eq(target, a->failed_target)) {
			/* a new target: wait a random moment first (jitter) */
			if (!jc_str_eq(a->pending, target)) {
				free(a->pending);
				a->pending = jc_strdup(target);
				/* the fleet's window when the version came with one */
				long long window = a->o.jitter_ms > a->spread_ms ? a->o.jitter_ms : a->spread_ms;
				a->act_at_ms = now + (window > 0 ? (int64_t)jc_random((uint64_t)window) : 0);
				if (a->lease)
					a->next_keepalive_ms = jc_orch_keepalive_due_ms(a->next_keepalive_ms, a->renewed_ms,
											a->o.lease_ttl_s, window, now);
				a->paused_pending = false;
			}
			if (a->paused_pending && now < a->pause_check_ms) {
				/* paused: look at the flag again now and then */
			} else if (now >= a->act_at_ms) {
				bool ok = run_once(a, RUN_UPGRADE, target);
				a->pause_check_ms = jc_now_ms() + a->o.lease_ttl_s * 1000 / 3;
				if (!ok && !a->paused_pending) {
					free(a->failed_target);
					a->failed_target = jc_strdup(target);
					a->retries = 0;
					a->retry_at_ms = jc_now_ms() + a->o.retry_backoff_ms;
				}
				if (ok)
					a->validate_at_ms = a->o.validate_interval_ms ? jc_now_ms() + a->o.validate_interval_ms : 0;
				free(a->pending);
				a->pending = a->paused_pending ? jc_strdup(target) : NULL;
				free(target);
				continue;
			}
		} else if (!a->healthy && a->failed_target && jc_str_eq(target, a->failed_target) &&
			   a->retries < a->o.max_retries && now >= a->retry_at_ms) {
			/* unhealthy: converge again, a bounded number of times */
			a->retries++;
			jc_log(a->o.logger, JC_LOG_NOTICE, "agent", "unhealthy; converging again (%d of %d)", a->retries,
			       a->o.max_retries);
			bool ok = jc_str_eq(target, a->local) ? run_once(a, RUN_HEAL, target) : run_once(a, RUN_UPGRADE, target);
			if (ok) {
				free(a->failed_target);
				a->failed_target = NULL;
			} else {
				long long wait = a->o.retry_backoff_ms;
				for (int i = 0; i < a->retries && wait < 600000; i++)
					wait *= 2;   /* doubling, at most 10 min */
				a->retry_at_ms = jc_now_ms() + (wait < 600000 ? wait : 600000);
			}
			free(target);
			continue;
		} else if (a->validate_at_ms && now >= a->validate_at_ms && (!target || jc_str_eq(target, a->local))) {
			bool ok;
			if (!a->desired && !a->ran)
				ok = run_once(a, RUN_HEAL, NULL);     /* bootstrap: nothing desired yet */
			else
				ok = run_once(a, RUN_VALIDATE, NULL);
			if (!ok && !a->failed_target) {
				/* unhealthy at our own version: heal by converging */
				a->failed_target = jc_strdup(target ? target : a->local);
				a->retries = 0;
				a->retry_at_ms = jc_now_ms() + a->o.retry_backoff_ms;
			}
			a->validate_at_ms = a->o.validate_interval_ms ? jc_now_ms() + a->o.validate_interval_ms : 0;
			free(target);
			continue;
		}
		if (target && !jc_str_eq(target, a->failed_target) && a->failed_target && !jc_str_eq(a->failed_target, a->local)) {
			/* the target moved on from a failed one: forget the failure */
			free(a->failed_target);
			a->failed_target = NULL;
		}
		/* sleep in the watch until the next thing to do */
		wake = now + 60000;
		if (a->lease && a->next_keepalive_ms < wake)
			wake = a->next_keepalive_ms;
		if (a->pending && a->act_at_ms < wake)
			wake = a->act_at_ms;
		if (a->paused_pending && a->pause_check_ms < wake)
			wake = a->pause_check_ms;
		if (a->failed_target && a->retries < a->o.max_retries && a->retry_at_ms < wake)
			wake = a->retry_at_ms;
		if (a->validate_at_ms && a->validate_at_ms < wake)
			wake = a->validate_at_ms;
		if (a->rep.pending && a->rep.retry_at_ms < wake)
			wake = a->rep.retry_at_ms;
		if (wake - now > 1000)
			wake = now + 1000;   /* look at *stop now and then */
		free(target);
		rc = jc_kv_watch_next(&ev, a->watch, wake > now ? wake - now : 0, &e);
		if (rc < 0) {
			jc_log(a->o.logger, JC_LOG_WARN, "agent", "watch: %s", e.message);
			continue;   /* the watch reconnects by itself */
		}
		if (ev.compacted) {
			close_watch(a);   /* read desired/ again, then watch on */
		} else if (ev.n) {
			apply_events(a, &ev);
			jc_log(a->o.logger, JC_LOG_DEBUG, "agent", "desired %s%s", a->desired ? a->desired : "(none)",
			       a->gate ? " (gated)" : "");
		}
		jc_kv_events_clear(&ev);
	}
	return 0;
}
