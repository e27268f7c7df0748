/* snapshot.c - opening the snapshot state (options, schema, pool), the
 * writer lock, and how clients name a snapshot (URLs, apt lines). */
#include "common.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "snapshot-internal.h"

/* The snapshot tables.  Step i takes the schema from version i to i+1. */
static const char *const schema[] = {
	/* a counter that only grows: numbers are never reused, even when the
	 * newest snapshot is pruned */
	"CREATE TABLE snapshot_counter (id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  last_number INTEGER NOT NULL);"
	"INSERT INTO snapshot_counter VALUES (1, 0);"
	"CREATE TABLE snapshots ("
	"  number INTEGER PRIMARY KEY CHECK (number > 0),"
	"  created_at INTEGER NOT NULL,"
	"  state TEXT NOT NULL CHECK (state IN ('recorded', 'published', 'pruning', 'pruned')),"
	"  published_at INTEGER, pruned_at INTEGER,"
	"  suite TEXT NOT NULL, origin TEXT, label TEXT,"
	"  components TEXT NOT NULL, architectures TEXT NOT NULL,"
	"  n_packages INTEGER NOT NULL, size INTEGER NOT NULL);"
	"CREATE TABLE snapshot_indices ("
	"  number INTEGER NOT NULL REFERENCES snapshots(number),"
	"  component TEXT NOT NULL, architecture TEXT NOT NULL,"
	"  packages_sha256 TEXT NOT NULL, packages_size INTEGER NOT NULL,"
	"  gz_sha256 TEXT NOT NULL, gz_size INTEGER NOT NULL, n_packages INTEGER NOT NULL,"
	"  PRIMARY KEY (number, component, architecture)) WITHOUT ROWID;"
	/* where each snapshot came from: the verified Release of every source
	 * and the source indices it listed */
	"CREATE TABLE snapshot_sources ("
	"  number INTEGER NOT NULL REFERENCES snapshots(number),"
	"  source TEXT NOT NULL, position INTEGER NOT NULL, location TEXT NOT NULL, suite TEXT NOT NULL,"
	"  release_file TEXT NOT NULL, release_sha256 TEXT NOT NULL, release_date TEXT,"
	"  signed_by TEXT, PRIMARY KEY (number, source)) WITHOUT ROWID;"
	"CREATE TABLE snapshot_source_indices ("
	"  number INTEGER NOT NULL REFERENCES snapshots(number),"
	"  source TEXT NOT NULL, path TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL,"
	"  PRIMARY KEY (number, source, path)) WITHOUT ROWID;"
	/* what the last successful poll saw of each source: validators for
	 * the next conditional request */
	"CREATE TABLE snapshot_source_state ("
	"  source TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, release_file TEXT,"
	"  etag TEXT, last_modified TEXT, release_sha256 TEXT, signed_by TEXT,"
	"  checked_at INTEGER, changed_at INTEGER);"
	"CREATE TABLE snapshot_pointers ("
	"  name TEXT PRIMARY KEY, number INTEGER NOT NULL REFERENCES snapshots(number),"
	"  updated_at INTEGER NOT NULL, who TEXT, why TEXT);"
	"CREATE TABLE snapshot_promotions ("
	"  id INTEGER PRIMARY KEY, name TEXT NOT NULL, number INTEGER NOT NULL,"
	"  previous INTEGER, at INTEGER NOT NULL, who TEXT, why TEXT);"
	"CREATE INDEX snapshots_state ON snapshots(state, number);",
};

int64_t jc_snap_now(void)
{
	return jc_wall_ms() / 1000;
}

static const char *keep(jc_snapshots *s, const char *str)
{
	if (!str)
		return NULL;
	jc_strv_push(&s->strings, str);
	return s->strings.v[s->strings.n - 1];
}

static const char *const *keep_list(jc_snapshots *s, const char *const *list, size_t n)
{
	const char **copy;
	if (!n)
		return NULL;
	copy = jc_calloc(n, sizeof(*copy));
	for (size_t i = 0; i < n; i++)
		copy[i] = keep(s, list[i]);
	/* the array itself is owned through a string slot */
	jc_strv_push_owned(&s->strings, (char *)copy);
	return copy;
}

static bool word_ok(const char *w, const char *extra)
{
	if (!w || !*w)
		return false;
	for (const char *c = w; *c; c++)
		if (!(islower((unsigned char)*c) || isdigit((unsigned char)*c) || strchr(extra, *c)))
			return false;
	return true;
}

bool jc_snapshot_pointer_name_ok(const char *name)
{
	if (!name || !islower((unsigned char)name[0]) || strlen(name) > 64 || strcmp(name, "snapshots") == 0)
		return false;
	return word_ok(name, "-_");
}

static int check_source(const jc_snapshot_source *src, size_t i, jc_error *err)
{
	const char *what = src->name ? src->name : src->url ? src->url : src->path ? src->path : "";
	if ((!src->url) == (!src->path))
		return jc_err(err, JC_EINVALID, "snapshot source %zu (%s) needs exactly one of url and path", i + 1,
			      what);
	if (src->url && !jc_str_starts(src->url, "http://") && !jc_str_starts(src->url, "https://"))
		return jc_err(err, JC_EINVALID, "snapshot source %s: url must start with http:// or https://", what);
	if (!src->suite || !jc_repo_relpath_ok(src->suite))
		return jc_err(err, JC_EINVALID, "snapshot source %s needs a suite (the directory below dists/)",
			      what);
	if (!src->n_components || !src->n_architectures)
		return jc_err(err, JC_EINVALID, "snapshot source %s needs components and architectures", what);
	for (size_t c = 0; c < src->n_components; c++)
		if (!word_ok(src->components[c], "-_.+") )
			return jc_err(err, JC_EINVALID, "snapshot source %s: \"%s\" is not a component name", what,
				      src->components[c] ? src->components[c] : "");
	for (size_t a = 0; a < src->n_architectures; a++)
		if (!word_ok(src->architectures[a], "-") || strcmp(src->architectures[a], "all") == 0)
			return jc_err(err, JC_EINVALID, "snapshot source %s: \"%s\" is not an architecture (\"all\" "
				      "packages come with every architecture)", what,
				      src->architectures[a] ? src->architectures[a] : "");
	return 0;
}

int jc_snapshot_open(jc_snapshots **out, const jc_snapshot_options *opts, jc_error *err)
{
	jc_snapshots *s;
	jc_store_options so = JC_STORE_OPTIONS_INIT;
	static const char *const default_pointers[] = { "latest" };
	int rc;

	*out = NULL;
	if (!opts || opts->version != JC_SNAPSHOT_OPTIONS_VERSION)
		return jc_err(err, JC_EINVALID, "jc_snapshot_options version %u is not supported",
			      opts ? opts->version : 0);
	for (size_t i = 0; i < opts->n_sources; i++) {
		if ((rc = check_source(&opts->sources[i], i, err)) < 0)
			return rc;
	}
	for (size_t i = 0; i < opts->n_pointers; i++)
		if (!jc_snapshot_pointer_name_ok(opts->pointers[i]))
			return jc_err(err, JC_EINVALID, "\"%s\" is not a pointer name (lower-case letters, digits, - "
				      "and _, starting with a letter)", opts->pointers[i]);
	if (opts->gzip_level < 0 || opts->gzip_level > 9)
		return jc_err(err, JC_EINVALID, "gzip level %d is not within 1..9", opts->gzip_level);
	if (opts->interval_ms < 0)
		return jc_err(err, JC_EINVALID, "a negative poll interval makes no sense");
	if (opts->suite && !jc_repo_relpath_ok(opts->suite))
		return jc_err(err, JC_EINVALID, "\"%s\" is not a suite name", opts->suite);

	s = jc_calloc(1, sizeof(*s));
	s->lock_fd = -1;
	s->o = *opts;
	s->o.state_dir = keep(s, opts->state_dir);
	s->o.publish_root = keep(s, opts->publish_root);
	s->o.base_url = keep(s, opts->base_url);
	s->o.suite = keep(s, opts->suite);
	s->o.origin = keep(s, opts->origin ? opts->origin : "jcicd");
	s->o.label = keep(s, opts->label ? opts->label : "jcicd");
	s->o.sign_key = keep(s, opts->sign_key);
	s->o.gnupghome = keep(s, opts->gnupghome);
	s->o.passphrase_file = keep(s, opts->passphrase_file);
	s->o.ca_file = keep(s, opts->ca_file);
	if (opts->n_pointers) {
		s->o.pointers = keep_list(s, opts->pointers, opts->n_pointers);
	} else if (!opts->pointers) {
		s->o.pointers = default_pointers;
		s->o.n_pointers = 1;
	}
	if (!s->o.gzip_level)
		s->o.gzip_level = 6;
	if (!s->o.interval_ms)
		s->o.interval_ms = 15 * 60 * 1000;
	if (s->o.jitter_percent == 0)
		s->o.jitter_percent = 10;
	else if (s->o.jitter_percent < 0)
		s->o.jitter_percent = 0;
	if (s->o.jitter_percent > 50)
		s->o.jitter_percent = 50;
	if (s->o.max_parallel <= 0)
		s->o.max_parallel = 8;
	s->sources = jc_calloc(opts->n_sources + 1, sizeof(*s->sources));
	s->source_names = jc_calloc(opts->n_sources + 1, sizeof(*s->source_names));
	for (size_t i = 0; i < opts->n_sources; i++) {
		const jc_snapshot_source *in = &opts->sources[i];
		jc_snapshot_source *o = &s->sources[i];
		o->url = keep(s, in->url);
		o->path = keep(s, in->path);
		o->suite = keep(s, in->suite);
		o->keyring = keep(s, in->keyring);
		o->components = keep_list(s, in->components, in->n_components);
		o->n_components = in->n_components;
		o->architectures = keep_list(s, in->architectures, in->n_architectures);
		o->n_architectures = in->n_architectures;
		o->name = keep(s, in->name ? in->name : in->url ? in->url : in->path);
		s->source_names[i] = o->name;
		for (size_t j = 0; j < i; j++)
			if (strcmp(s->source_names[j], o->name) == 0) {
				rc = jc_err(err, JC_EINVALID, "two snapshot sources are named %s", o->name);
				jc_snapshot_free(s);
				return rc;
			}
	}
	s->o.sources = s->sources;
	if (!s->o.suite && opts->n_sources)
		s->o.suite = s->sources[0].suite;

	so.logger = opts->logger;
	rc = jc_store_open(&s->store, opts->state_dir, &so, err);
	if (rc == 0)
		rc = jc_store_migrate(s->store, "snapshot", schema, JC_ARRAY_LEN(schema), err);
	if (rc == 0)
		rc = jc_pool_open(&s->pool, jc_store_dir(s->store), err);
	if (rc < 0) {
		jc_snapshot_free(s);
		return rc;
	}
	s->gpg_dir = jc_path_join(jc_store_dir(s->store), "gnupg");
	*out = s;
	return 0;
}

void jc_snapshot_free(jc_snapshots *s)
{
	if (!s)
		return;
	jc_snap_unlock(s);
	jc_http_free(s->http);
	jc_pool_free(s->pool);
	jc_store_free(s->store);
	free(s->sources);
	free(s->source_names);
	free(s->gpg_dir);
	jc_strv_free(&s->strings);
	free(s);
}

int jc_snap_need_root(jc_snapshots *s, jc_error *err)
{
	if (!s->o.publish_root || !*s->o.publish_root)
		return jc_err(err, JC_EINVALID, "no publish root: set snapshots.publish_root in jcicd.yaml "
			      "or pass --publish-root");
	return 0;
}

int jc_snap_http(jc_snapshots *s, jc_http **out, jc_error *err)
{
	if (!s->http) {
		jc_http_options ho = JC_HTTP_OPTIONS_INIT;
		ho.max_parallel = s->o.max_parallel;
		ho.ca_file = s->o.ca_file;
		ho.insecure = s->o.insecure;
		ho.logger = s->o.logger;
		int rc = jc_http_new(&s->http, &ho, err);
		if (rc < 0)
			return rc;
	}
	*out = s->http;
	return 0;
}

char *jc_snap_tree(const jc_snapshots *s, long number)
{
	return jc_sprintf("%s/snapshots/%ld", s->o.publish_root, number);
}

/* ---- locks */

/* Who holds a lock, from the pid the holder wrote into the file. */
static void describe_holder(int fd, char *buf, size_t size)
{
	char line[64] = "";
	ssize_t n = pread(fd, line, sizeof(line) - 1, 0);
	long pid;
	snprintf(buf, size, "another process");
	if (n <= 0)
		return;
	line[n] = '\0';
	line[strcspn(line, "\n")] = '\0';
	if (!jc_parse_long(line, &pid) || pid <= 0)
		return;
	char path[64], cmd[256];
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	int cf = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t k = cf >= 0 ? read(cf, cmd, sizeof(cmd) - 1) : -1;
	if (cf >= 0)
		close(cf);
	if (k > 0) {
		cmd[k] = '\0';
		for (ssize_t i = 0; i < k - 1; i++)
			if (cmd[i] == '\0')
				cmd[i] = ' ';
		snprintf(buf, size, "pid %ld (%s)", pid, cmd);
	} else {
		snprintf(buf, size, "pid %ld", pid);
	}
}

int jc_snap_lock_file(int *out, const char *path, long long timeout_ms, const char *what, jc_error *err)
{
	int64_t deadline = jc_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	char pid[32];

	*out = -1;
	if (fd < 0)
		return jc_err_errno(err, JC_EIO, errno, "cannot open lock file %s", path);
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			int rc = jc_err_errno(err, JC_EIO, errno, "cannot lock %s", path);
			close(fd);
			return rc;
		}
		if (jc_now_ms() >= deadline) {
			char who[300];
			describe_holder(fd, who, sizeof(who));
			close(fd);
			return jc_err(err, JC_ELOCKED, "%s is busy: %s holds %s%s", what, who, path,
				      timeout_ms > 0 ? " (waited for it)" : "");
		}
		jc_sleep_ms(50);
	}
	/* the lock is the flock, released by the kernel even on kill -9; the
	 * pid inside only names the holder in the message above */
	snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == 0 && pwrite(fd, pid, strlen(pid), 0) < 0) {
		/* the message would be less helpful; the lock still holds */
	}
	*out = fd;
	return 0;
}

int jc_snap_lock(jc_snapshots *s, jc_error *err)
{
	char *path;
	int rc;
	if (s->lock_fd >= 0)
		return 0;
	path = jc_path_join(jc_store_dir(s->store), "snapshot.lock");
	rc = jc_snap_lock_file(&s->lock_fd, path, s->o.lock_timeout_ms, "the snapshot store", err);
	free(path);
	if (rc < 0)
		return rc;
	rc = jc_snap_recover(s, err);
	if (rc < 0)
		jc_snap_unlock(s);
	return rc;
}

void jc_snap_unlock(jc_snapshots *s)
{
	if (s->lock_fd >= 0) {
		close(s->lock_fd);
		s->lock_fd = -1;
	}
}

/* ---- names for clients */

static char *trim_base(const char *base)
{
	char *b = jc_strdup(base);
	size_t n = strlen(b);
	while (n > 0 && b[n - 1] == '/')
		b[--n] = '\0';
	return b;
}

static bool no_space(const char *s)
{
	return s && *s && !strpbrk(s, " \t\r\n]");
}

int jc_snapshot_url(char **out, const char *base_url, long number, jc_error *err)
{
	char *b;
	*out = NULL;
	if (!no_space(base_url))
		return jc_err(err, JC_EINVALID, "no base URL for the publish root (snapshots.base_url)");
	if (number <= 0)
		return jc_err(err, JC_EINVALID, "snapshot numbers are positive, not %ld", number);
	b = trim_base(base_url);
	*out = jc_sprintf("%s/snapshots/%ld", b, number);
	free(b);
	return 0;
}

int jc_snapshot_pointer_url(char **out, const char *base_url, const char *pointer, jc_error *err)
{
	char *b;
	*out = NULL;
	if (!no_space(base_url))
		return jc_err(err, JC_EINVALID, "no base URL for the publish root (snapshots.base_url)");
	if (!jc_snapshot_pointer_name_ok(pointer))
		return jc_err(err, JC_EINVALID, "\"%s\" is not a pointer name", pointer ? pointer : "");
	b = trim_base(base_url);
	*out = jc_sprintf("%s/%s", b, pointer);
	free(b);
	return 0;
}

int jc_snapshot_apt_line(char **out, const char *url, const char *suite, const char *const *components,
			 size_t n_components, const char *signed_by, jc_error *err)
{
	jc_buf b = JC_BUF_INIT;
	*out = NULL;
	if (!no_space(url) || !no_space(suite))
		return jc_err(err, JC_EINVALID, "an apt source needs a URL and a suite without spaces");
	if (!n_components)
		return jc_err(err, JC_EINVALID, "an apt source needs at least one component");
	if (signed_by && !no_space(signed_by))
		return jc_err(err, JC_EINVALID, "signed-by path \"%s\" must not contain spaces", signed_by);
	if (signed_by)
		jc_buf_printf(&b, "deb [signed-by=%s] %s %s", signed_by, url, suite);
	else
		jc_buf_printf(&b, "deb [trusted=yes] %s %s", url, suite);
	for (size_t i = 0; i < n_components; i++) {
		if (!no_space(components[i])) {
			jc_buf_free(&b);
			return jc_err(err, JC_EINVALID, "component \"%s\" is not a word", components[i] ? components[i] : "");
		}
		jc_buf_printf(&b, " %s", components[i]);
	}
	*out = jc_buf_detach(&b);
	return 0;
}
