/*
 * cloud-local.c - the embedded cloud.  A server is a directory under
 * <state>/local-cloud/servers/<id> with its userdata, console log and
 * process; its record lives in the state database, so concurrent jcicd
 * processes on one state dir see one consistent cloud.  A "#!" userdata runs
 * as a process in its own session (as cloud-init would run it on a VM); the
 * server is ACTIVE once that process started.
 *
 * Test-only knobs (environment): JCICD_LOCAL_FAIL_RATE (0..1, fraction of
 * creates that end in ERROR), JCICD_LOCAL_FAIL_ROLES (roles whose creates
 * always end in ERROR), JCICD_LOCAL_BUILD_MS (how long a server stays BUILD).
 */
#include "common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cloud-internal.h"
#include "store-internal.h"

extern char **environ;

struct local_cloud {
	jc_store *store;
	char *base;          /* <state>/local-cloud */
	const jc_logger *logger;
	double fail_rate;
	jc_strv fail_roles;
	long long build_ms;
};

static const char *const local_schema[] = {
	"CREATE TABLE local_servers ("
	"  id TEXT PRIMARY KEY,"
	"  name TEXT NOT NULL,"
	"  tag TEXT NOT NULL,"
	"  role TEXT, hostname TEXT, flavor TEXT, image TEXT,"
	"  status TEXT NOT NULL,"
	"  fault TEXT,"
	"  created_ms INTEGER NOT NULL,"
	"  ready_ms INTEGER NOT NULL DEFAULT 0,"
	"  creator_pid INTEGER,"
	"  pid INTEGER, pid_start TEXT,"
	"  seq INTEGER NOT NULL,"
	"  floating INTEGER NOT NULL DEFAULT 0,"
	"  dir TEXT NOT NULL);"
	"CREATE UNIQUE INDEX local_servers_name ON local_servers(tag, name);"
	"CREATE TABLE local_seq (n INTEGER NOT NULL);"
	"INSERT INTO local_seq VALUES (0);",
};

static int local_open(void **state, const char *name, const jc_cloud_options *opts, jc_error *err)
{
	struct local_cloud *lc;
	jc_store_options so = JC_STORE_OPTIONS_INIT;
	const char *env;
	int rc;

	(void)name;
	lc = jc_calloc(1, sizeof(*lc));
	lc->logger = opts ? opts->logger : NULL;
	so.logger = lc->logger;
	rc = jc_store_open(&lc->store, opts ? opts->state_dir : NULL, &so, err);
	if (rc == 0)
		rc = jc_store_migrate(lc->store, "local-cloud", local_schema, JC_ARRAY_LEN(local_schema), err);
	if (rc < 0) {
		jc_store_free(lc->store);
		free(lc);
		return rc;
	}
	lc->base = jc_path_join(jc_store_dir(lc->store), "local-cloud");
	env = getenv("JCICD_LOCAL_FAIL_RATE");
	if (env && *env)
		lc->fail_rate = strtod(env, NULL);
	env = getenv("JCICD_LOCAL_FAIL_ROLES");
	if (env && *env) {
		char *copy = jc_strdup(env), *save = NULL;
		for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
			jc_strv_push(&lc->fail_roles, t);
		free(copy);
	}
	env = getenv("JCICD_LOCAL_BUILD_MS");
	if (env && *env)
		lc->build_ms = atoll(env);
	*state = lc;
	return 0;
}

static void local_close(void *state)
{
	struct local_cloud *lc = state;
	if (!lc)
		return;
	jc_store_free(lc->store);
	jc_strv_free(&lc->fail_roles);
	free(lc->base);
	free(lc);
}

/* ---- processes */

/* Field 22 of /proc/<pid>/stat: when the process started, in clock ticks.
 * Together with the pid it names one process, even after pid reuse. */
static char *proc_start_time(pid_t pid)
{
	char path[64], buf[1024];
	ssize_t n;
	int fd;
	char *p;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	p = strrchr(buf, ')');  /* the command name may hold spaces */
	if (!p)
		return NULL;
	p++;
	for (int field = 3; field < 22 && p; field++) {
		p = strchr(p + 1, ' ');
	}
	if (!p)
		return NULL;
	p++;
	return jc_strndup(p, strcspn(p, " "));
}

static bool pid_alive(pid_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

static char **build_env(const char *const *extra, size_t n_extra)
{
	size_t n_env = 0, k = 0;
	char **envp;
	while (environ && environ[n_env])
		n_env++;
	envp = jc_calloc(n_env + n_extra + 1, sizeof(char *));
	for (size_t i = 0; i < n_env; i++) {
		bool overridden = false;
		for (size_t j = 0; j < n_extra && !overridden; j++) {
			size_t kl = strcspn(extra[j], "=");
			overridden = strncmp(environ[i], extra[j], kl + 1) == 0;
		}
		if (!overridden)
			envp[k++] = environ[i];
	}
	for (size_t j = 0; j < n_extra; j++)
		envp[k++] = (char *)extra[j];
	envp[k] = NULL;
	return envp;
}

/*
 * Starts the userdata script as the leader of a new session, detached from
 * jcicd (double fork), output appended to console.log, in two steps so that
 * a jcicd killed at any moment never leaves a process it did not record:
 * spawn_start() forks the process, which then waits on the "go" pipe;
 * the caller records its pid; spawn_go() lets it exec.  If jcicd dies in
 * between, the go pipe closes and the process exits without running.
 * The status pipe carries the pid, then an errno if exec failed (it closes
 * on a successful exec).
 */
struct spawn {
	pid_t pid;
	int go_fd;
	int status_fd;
};

static int spawn_start(const char *dir, const char *script, char **envp, struct spawn *sp, jc_error *err)
{
	int status[2], go[2];
	pid_t child;
	int32_t pid_msg;
	ssize_t got = 0, n;
	char *console = jc_path_join(dir, "console.log");

	sp->pid = 0;
	sp->go_fd = sp->status_fd = -1;
	if (pipe2(status, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0) {
		free(console);
		return jc_err_errno(err, JC_EIO, errno, "cannot create a pipe");
	}
	child = fork();
	if (child < 0) {
		int e = errno;
		close(status[0]);
		close(status[1]);
		close(go[0]);
		close(go[1]);
		free(console);
		return jc_err_errno(err, JC_EIO, e, "cannot fork");
	}
	if (child == 0) {
		pid_t gc = fork();
		if (gc != 0) {
			int32_t v = gc > 0 ? (int32_t)gc : -1;
			if (write(status[1], &v, sizeof(v)) < 0)
				_exit(1);
			_exit(0);
		}
		setsid();
		close(go[1]);
		int in = open("/dev/null", O_RDONLY);
		int out = open(console, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (in >= 0) {
			dup2(in, 0);
			close(in);
		}
		if (out >= 0) {
			dup2(out, 1);
			dup2(out, 2);
			close(out);
		}
		for (int fd = 3; fd < 1024; fd++)
			if (fd != status[1] && fd != go[0])
				close(fd);
		char c;
		while ((n = read(go[0], &c, 1)) < 0 && errno == EINTR)
			;
		if (n != 1)
			_exit(0);   /* jcicd died before recording us: never run */
		close(go[0]);
		if (chdir(dir) < 0)
			_exit(126);
		signal(SIGPIPE, SIG_DFL);
		execle(script, script, (char *)NULL, envp);
		int32_t e = errno;
		if (write(status[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(status[1]);
	close(go[0]);
	free(console);
	while (got < (ssize_t)sizeof(pid_msg)) {
		n = read(status[0], (char *)&pid_msg + got, sizeof(pid_msg) - (size_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	waitpid(child, NULL, 0);
	if (got < (ssize_t)sizeof(pid_msg) || pid_msg <= 0) {
		close(status[0]);
		close(go[1]);
		return jc_err(err, JC_EIO, "cannot start the userdata process");
	}
	sp->pid = (pid_t)pid_msg;
	sp->go_fd = go[1];
	sp->status_fd = status[0];
	return 0;
}

/* Lets a started process exec; reports whether exec worked. */
static int spawn_go(struct spawn *sp, jc_error *err)
{
	int32_t e;
	ssize_t got = 0, n;
	if (write(sp->go_fd, "g", 1) != 1) {
		int en = errno;
		close(sp->go_fd);
		close(sp->status_fd);
		return jc_err_errno(err, JC_EIO, en, "cannot start the userdata process");
	}
	close(sp->go_fd);
	while (got < (ssize_t)sizeof(e)) {
		n = read(sp->status_fd, (char *)&e + got, sizeof(e) - (size_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	close(sp->status_fd);
	if (got >= (ssize_t)sizeof(e))
		return jc_err(err, JC_EFAILED, "userdata could not start: %s", strerror(e));
	return 0;
}

/* Stops a server's whole process tree: TERM, a grace period, then KILL. */
static void stop_process_group(pid_t pid, const char *pid_start)
{
	char *now_start;
	if (pid <= 0)
		return;
	now_start = proc_start_time(pid);
	if (now_start && pid_start && strcmp(now_start, pid_start) != 0) {
		/* the leader's pid was reused by an unrelated process: hands off */
		free(now_start);
		return;
	}
	free(now_start);
	if (kill(-pid, SIGTERM) < 0)
		return;
	for (int i = 0; i < 50; i++) {
		if (kill(-pid, 0) < 0 && errno == ESRCH)
			return;
		jc_sleep_ms(100);
	}
	kill(-pid, SIGKILL);
	for (int i = 0; i < 50; i++) {
		if (kill(-pid, 0) < 0 && errno == ESRCH)
			return;
		jc_sleep_ms(20);
	}
}

/* ---- records */

static void random_id(char *buf, size_t size)
{
	unsigned char b[16];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, b, sizeof(b)) != (ssize_t)sizeof(b)) {
		for (size_t i = 0; i < sizeof(b); i++)
			b[i] = (unsigned char)jc_random(256);
	}
	if (fd >= 0)
		close(fd);
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(buf, size, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
		 b[14], b[15]);
}

static char *address_of(long seq, bool floating)
{
	/* all of 127.0.0.0/8 reaches this machine: fixed 127.1.x.y, floating 127.2.x.y */
	return jc_sprintf("127.%d.%ld.%ld", floating ? 2 : 1, (seq >> 8) & 255, seq & 255);
}

/* pid -1 keeps the recorded process (a server in ERROR may still have one
 * that a delete must stop). */
static int set_status(struct local_cloud *lc, const char *id, const char *status, const char *fault,
		      pid_t pid, const char *pid_start, jc_error *err)
{
	sqlite3_stmt *st;
	int rc = jc_store_prepare(lc->store, &st, pid < 0 ?
				  "UPDATE local_servers SET status = ?1, fault = ?2 WHERE id = ?5" :
				  "UPDATE local_servers SET status = ?1, fault = ?2, pid = ?3, pid_start = ?4"
				  " WHERE id = ?5", err);
	if (rc < 0)
		return rc;
	sqlite3_bind_text(st, 1, status, -1, SQLITE_TRANSIENT);
	jc_sql_bind_text(st, 2, fault);
	if (pid > 0)
		sqlite3_bind_int64(st, 3, pid);
	else
		sqlite3_bind_null(st, 3);
	jc_sql_bind_text(st, 4, pid_start);
	sqlite3_bind_text(st, 5, id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = jc_store_error(lc->store, err, "updating a local server");
	sqlite3_finalize(st);
	return rc;
}

/* Inserts the BUILD record; the (tag, name) index makes a duplicate name
 * impossible even when two jcicd processes race. */
static int insert_server(struct local_cloud *lc, const jc_server_create *r, const char *id,
			 const char *dir, long *seq_out, jc_error *err)
{
	sqlite3_stmt *st;
	long seq = 0;
	int rc = jc_store_begin(lc->store, true, err);
	if (rc < 0)
		return rc;
	rc = jc_store_exec(lc->store, "UPDATE local_seq SET n = n + 1", err);
	if (rc == 0)
		rc = jc_store_prepare(lc->store, &st, "SELECT n FROM local_seq", err);
	if (rc == 0) {
		if (sqlite3_step(st) == SQLITE_ROW)
			seq = (long)sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		rc = jc_store_prepare(lc->store, &st,
				      "INSERT INTO local_servers(id, name, tag, role, hostname, flavor, image,"
				      " status, created_ms, ready_ms, creator_pid, seq, dir)"
				      " VALUES(?, ?, ?, ?, ?, ?, ?, 'BUILD', ?, ?, ?, ?, ?)", err);
	}
	if (rc == 0) {
		int64_t now = jc_wall_ms();
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, r->name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, r->tag, -1, SQLITE_TRANSIENT);
		jc_sql_bind_text(st, 4, r->role);
		jc_sql_bind_text(st, 5, r->hostname);
		jc_sql_bind_text(st, 6, r->flavor);
		jc_sql_bind_text(st, 7, r->image);
		sqlite3_bind_int64(st, 8, now);
		sqlite3_bind_int64(st, 9, now + lc->build_ms);
		sqlite3_bind_int64(st, 10, getpid());
		sqlite3_bind_int64(st, 11, seq);
		sqlite3_bind_text(st, 12, dir, -1, SQLITE_TRANSIENT);
		int s = sqlite3_step(st);
		if (s == SQLITE_CONSTRAINT)
			rc = jc_err(err, JC_EEXISTS, "a server named %s already exists in stack %s", r->name,
				    r->tag);
		else if (s != SQLITE_DONE)
			rc = jc_store_error(lc->store, err, "recording a local server");
		sqlite3_finalize(st);
	}
	if (rc < 0) {
		jc_store_rollback(lc->store);
		return rc;
	}
	*seq_out = seq;
	return jc_store_commit(lc->store, err);
}

static bool injected_failure(struct local_cloud *lc, const jc_server_create *r)
{
	if (r->role && jc_strv_contains(&lc->fail_roles, r->role))
		return true;
	return lc->fail_rate > 0 && (double)jc_random(1000000) / 1e6 < lc->fail_rate;
}

static int create_one(struct local_cloud *lc, const jc_server_create *r, jc_create_result *res)
{
	char id[40];
	char *dir, *ud_path, *fixed;
	long seq = 0;
	pid_t pid = 0;
	char *pid_start = NULL;
	jc_error *err = &res->error;
	int rc;

	random_id(id, sizeof(id));
	dir = jc_sprintf("%s/servers/%s", lc->base, id);
	rc = insert_server(lc, r, id, dir, &seq, err);
	if (rc < 0) {
		free(dir);
		return rc;
	}
	res->id = jc_strdup(id);
	ud_path = jc_path_join(dir, "userdata");
	fixed = address_of(seq, false);
	rc = jc_mkdir_p(dir, 0755, err);
	if (rc == 0)
		rc = jc_file_write_atomic(ud_path, r->userdata ? r->userdata : "", r->userdata_len, 0755, err);
	if (rc < 0) {
		set_status(lc, id, "ERROR", err->message, 0, NULL, NULL);
		goto out;
	}
	if (injected_failure(lc, r)) {
		set_status(lc, id, "ERROR", "injected fault (JCICD_LOCAL_FAIL_RATE / JCICD_LOCAL_FAIL_ROLES)", 0,
			   NULL, NULL);
		jc_log(lc->logger, JC_LOG_DEBUG, "local", "%s: injected ERROR", r->name);
		rc = 0;
		goto out;
	}
	if (r->userdata_len >= 2 && r->userdata[0] == '#' && r->userdata[1] == '!') {
		char *vars[10];
		size_t nv = 0;
		vars[nv++] = jc_sprintf("JCICD_HOSTNAME=%s", r->hostname ? r->hostname : r->name);
		vars[nv++] = jc_sprintf("JCICD_ROLE=%s", r->role ? r->role : "");
		vars[nv++] = jc_sprintf("JCICD_TAG=%s", r->tag);
		vars[nv++] = jc_sprintf("JCICD_SERVER_ID=%s", id);
		vars[nv++] = jc_sprintf("JCICD_SERVER_NAME=%s", r->name);
		vars[nv++] = jc_sprintf("JCICD_SERVER_DIR=%s", dir);
		vars[nv++] = jc_sprintf("JCICD_STATE_DIR=%s", jc_store_dir(lc->store));
		vars[nv++] = jc_sprintf("JCICD_FIXED_IP=%s", fixed);
		char **envp = build_env((const char *const *)vars, nv);
		struct spawn sp;
		jc_error spawn_err;
		jc_error_clear(&spawn_err);
		if (spawn_start(dir, ud_path, envp, &sp, &spawn_err) < 0) {
			set_status(lc, id, "ERROR", spawn_err.message, 0, NULL, NULL);
		} else {
			pid = sp.pid;
			pid_start = proc_start_time(pid);
			/* recorded before it may run: a delete can always find it */
			rc = set_status(lc, id, "BUILD", NULL, pid, pid_start, err);
			if (rc < 0) {
				close(sp.go_fd);
				close(sp.status_fd);
			} else if (spawn_go(&sp, &spawn_err) < 0) {
				set_status(lc, id, "ERROR", spawn_err.message, -1, NULL, NULL);
				pid = 0;
			}
		}
		free(envp);
		for (size_t i = 0; i < nv; i++)
			free(vars[i]);
		if (!pid || rc < 0)
			goto out;
	} else if (r->userdata_len) {
		jc_log(lc->logger, JC_LOG_DEBUG, "local", "%s: userdata is not a #! script; kept, not run",
		       r->name);
	}
	rc = set_status(lc, id, "ACTIVE", NULL, pid, pid_start, err);
out:
	free(pid_start);
	free(fixed);
	free(ud_path);
	free(dir);
	return rc;
}

static int local_create(void *state, const jc_server_create *reqs, size_t n, jc_create_result *results,
			jc_error *err)
{
	struct local_cloud *lc = state;
	int first = 0;
	for (size_t i = 0; i < n; i++) {
		int rc = create_one(lc, &reqs[i], &results[i]);
		if (rc < 0 && first == 0) {
			first = rc;
			jc_err_copy(err, &results[i].error);
		}
	}
	return first;
}

static int destroy_one(struct local_cloud *lc, const char *id, jc_error *err);

static int local_list(void *state, const char *tag, jc_server_list **out, jc_error *err)
{
	struct local_cloud *lc = state;
	sqlite3_stmt *st;
	jc_server_list *l;
	size_t cap = 0;
	int rc, s;
	int64_t now = jc_wall_ms();
	jc_strv interrupted = JC_STRV_INIT;
	jc_strv abandoned = JC_STRV_INIT;

	rc = jc_store_prepare(lc->store, &st,
			      "SELECT id, name, tag, status, fault, flavor, image, created_ms, ready_ms,"
			      " creator_pid, pid, seq, floating, dir FROM local_servers"
			      " WHERE (?1 IS NULL OR tag = ?1) ORDER BY created_ms, name", err);
	if (rc < 0)
		return rc;
	jc_sql_bind_text(st, 1, tag);
	l = jc_calloc(1, sizeof(*l));
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		jc_server *sv;
		const char *status = (const char *)sqlite3_column_text(st, 3);
		char created[32];
		if (l->n == cap) {
			cap = cap ? cap * 2 : 16;
			l->servers = jc_realloc(l->servers, cap * sizeof(*l->servers));
		}
		sv = &l->servers[l->n++];
		memset(sv, 0, sizeof(*sv));
		sv->id = jc_sql_column_dup(st, 0);
		sv->name = jc_sql_column_dup(st, 1);
		sv->tag = jc_sql_column_dup(st, 2);
		sv->fault = jc_sql_column_dup(st, 4);
		sv->flavor = jc_sql_column_dup(st, 5);
		sv->image = jc_sql_column_dup(st, 6);
		sv->created = jc_strdup(jc_iso8601(sqlite3_column_int64(st, 7) / 1000, created, sizeof(created)));
		if (strcmp(status, "ACTIVE") == 0 && sqlite3_column_int64(st, 8) > now) {
			sv->status = JC_SERVER_BUILD;
		} else if (strcmp(status, "ACTIVE") == 0) {
			sv->status = JC_SERVER_ACTIVE;
		} else if (strcmp(status, "ERROR") == 0) {
			sv->status = JC_SERVER_ERROR;
		} else if (strcmp(status, "DELETING") == 0) {
			sv->status = JC_SERVER_DELETING;
			if (!pid_alive((pid_t)sqlite3_column_int64(st, 9)))
				jc_strv_push(&abandoned, sv->id);
		} else if (strcmp(status, "BUILD") == 0) {
			pid_t creator = (pid_t)sqlite3_column_int64(st, 9);
			if (!pid_alive(creator)) {
				/* its creator died before it booted (kill -9): a VM that
				 * never came up is an ERROR server */
				sv->status = JC_SERVER_ERROR;
				free(sv->fault);
				sv->fault = jc_strdup("boot interrupted: the jcicd process creating it exited");
				jc_strv_push(&interrupted, sv->id);
			} else {
				sv->status = JC_SERVER_BUILD;
			}
		} else {
			sv->status = JC_SERVER_OTHER;
		}
		sv->status_text = jc_strdup(jc_server_status_name(sv->status));
		if (sv->status != JC_SERVER_ERROR) {
			char *a = address_of((long)sqlite3_column_int64(st, 11), false);
			jc_server_add_address(sv, a, false);
			free(a);
			if (sqlite3_column_int(st, 12)) {
				a = address_of((long)sqlite3_column_int64(st, 11), true);
				jc_server_add_address(sv, a, true);
				free(a);
			}
		}
		sv->console = jc_sprintf("%s/console.log", (const char *)sqlite3_column_text(st, 13));
	}
	if (s != SQLITE_DONE)
		rc = jc_store_error(lc->store, err, "listing local servers");
	sqlite3_finalize(st);
	for (size_t i = 0; rc == 0 && i < interrupted.n; i++)
		set_status(lc, interrupted.v[i], "ERROR", "boot interrupted: the jcicd process creating it exited",
			   -1, NULL, NULL);
	jc_strv_free(&interrupted);
	/* finish deletions whose jcicd died half-way, and leave them out */
	for (size_t i = 0; rc == 0 && i < abandoned.n; i++) {
		if (destroy_one(lc, abandoned.v[i], NULL) < 0)
			continue;
		for (size_t j = 0; j < l->n; j++) {
			if (strcmp(l->servers[j].id, abandoned.v[i]) == 0) {
				jc_server_clear(&l->servers[j]);
				l->servers[j] = l->servers[--l->n];
				break;
			}
		}
	}
	jc_strv_free(&abandoned);
	if (rc < 0) {
		jc_server_list_free(l);
		return rc;
	}
	*out = l;
	return 0;
}

/* Who works on a server now: a BUILD or DELETING server whose worker died
 * (kill -9) is taken over by the next jcicd that lists it. */
static int mark_creator(struct local_cloud *lc, const char *id, jc_error *err)
{
	sqlite3_stmt *st;
	int rc = jc_store_prepare(lc->store, &st, "UPDATE local_servers SET creator_pid = ? WHERE id = ?", err);
	if (rc < 0)
		return rc;
	sqlite3_bind_int64(st, 1, getpid());
	sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = jc_store_error(lc->store, err, "updating a local server");
	sqlite3_finalize(st);
	return rc;
}

static int destroy_one(struct local_cloud *lc, const char *id, jc_error *err)
{
	sqlite3_stmt *st;
	pid_t pid = 0;
	char *pid_start = NULL, *dir = NULL;
	int rc = jc_store_prepare(lc->store, &st, "SELECT pid, pid_start, dir FROM local_servers WHERE id = ?",
				  err);
	if (rc < 0)
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		pid = (pid_t)sqlite3_column_int64(st, 0);
		pid_start = jc_sql_column_dup(st, 1);
		dir = jc_sql_column_dup(st, 2);
	}
	sqlite3_finalize(st);
	if (!dir)
		return 0;  /* already gone: deleting is idempotent */
	rc = set_status(lc, id, "DELETING", NULL, -1, NULL, err);
	if (rc == 0)
		rc = mark_creator(lc, id, err);
	if (rc == 0) {
		stop_process_group(pid, pid_start);
		rc = jc_rm_rf(dir, err);
	}
	if (rc == 0) {
		rc = jc_store_prepare(lc->store, &st, "DELETE FROM local_servers WHERE id = ?", err);
		if (rc == 0) {
			sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
			if (sqlite3_step(st) != SQLITE_DONE)
				rc = jc_store_error(lc->store, err, "deleting a local server");
			sqlite3_finalize(st);
		}
	}
	free(pid_start);
	free(dir);
	return rc;
}

static int local_destroy(void *state, const char *const *ids, size_t n, jc_error *err)
{
	struct local_cloud *lc = state;
	for (size_t i = 0; i < n; i++) {
		int rc = destroy_one(lc, ids[i], err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int local_add_floating_ip(void *state, const jc_server *server, jc_error *err)
{
	struct local_cloud *lc = state;
	sqlite3_stmt *st;
	int rc = jc_store_prepare(lc->store, &st, "UPDATE local_servers SET floating = 1 WHERE id = ?", err);
	if (rc < 0)
		return rc;
	sqlite3_bind_text(st, 1, server->id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = jc_store_error(lc->store, err, "assigning a floating address");
	else if (sqlite3_changes(jc_store_db(lc->store)) == 0)
		rc = jc_err(err, JC_ENOTFOUND, "server %s no longer exists", server->name);
	sqlite3_finalize(st);
	return rc;
}

static bool local_handles(const char *name)
{
	return strcmp(name, "local") == 0;
}

const jc_cloud_provider jc_local_provider = {
	.version = JC_CLOUD_PROVIDER_VERSION,
	.name = "local",
	.poll_first_ms = 50,
	.poll_max_ms = 500,
	.handles = local_handles,
	.open = local_open,
	.close = local_close,
	.prepare = NULL,
	.list = local_list,
	.create = local_create,
	.destroy = local_destroy,
	.add_floating_ip = local_add_floating_ip,
};
