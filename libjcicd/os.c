/* os.c - clocks, randomness, files and directories. */
#include "common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

int64_t jc_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t jc_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void jc_sleep_ms(int64_t ms)
{
	struct timespec ts;
	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

uint64_t jc_random_next(uint64_t *state)
{
	/* xorshift64*: plenty for jitter and ids; never used for anything secret */
	uint64_t x = *state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 2685821657736338717ULL;
}

static pthread_mutex_t rng_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t rng_state;
static pid_t rng_pid;

uint64_t jc_random(uint64_t n)
{
	uint64_t x;
	pid_t pid;
	if (n == 0)
		return 0;
	pid = getpid();
	pthread_mutex_lock(&rng_lock);
	/* seeded per process: children of one fork() must not draw the same
	 * numbers (lease ids would collide) */
	if (!rng_state || rng_pid != pid) {
		struct timespec ts;
		uint64_t seed = 0;
		if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed)) {
			clock_gettime(CLOCK_REALTIME, &ts);
			seed = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec;
		}
		rng_state = (seed ^ ((uint64_t)pid << 40) ^ 0x9E3779B97F4A7C15ULL) | 1;
		rng_pid = pid;
	}
	x = jc_random_next(&rng_state);
	pthread_mutex_unlock(&rng_lock);
	return x % n;
}

char *jc_iso8601(int64_t epoch_s, char *buf, size_t size)
{
	time_t t = (time_t)epoch_s;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

int jc_file_read(const char *path, char **out, size_t *out_len, jc_error *err)
{
	FILE *f;
	jc_buf b = JC_BUF_INIT;
	char chunk[65536];
	size_t n;

	*out = NULL;
	if (out_len)
		*out_len = 0;
	f = fopen(path, "rb");
	if (!f)
		return jc_err_errno(err, errno == ENOENT ? JC_ENOTFOUND : JC_EIO, errno,
				    "cannot open %s", path);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		jc_buf_add(&b, chunk, n);
	if (ferror(f)) {
		int e = errno;
		fclose(f);
		jc_buf_free(&b);
		return jc_err_errno(err, JC_EIO, e, "cannot read %s", path);
	}
	fclose(f);
	if (out_len)
		*out_len = b.len;
	*out = jc_buf_detach(&b);
	return 0;
}

int jc_file_write_atomic(const char *path, const void *data, size_t len, int mode, jc_error *err)
{
	char *tmp = jc_sprintf("%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode ? mode : 0644);
	const char *p = data;
	size_t left = len;

	if (fd < 0) {
		int e = errno;
		free(tmp);
		return jc_err_errno(err, JC_EIO, e, "cannot create %s", path);
	}
	while (left) {
		ssize_t w = write(fd, p, left);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			unlink(tmp);
			free(tmp);
			return jc_err_errno(err, JC_EIO, e, "cannot write %s", path);
		}
		p += w;
		left -= (size_t)w;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		int e = errno;
		unlink(tmp);
		free(tmp);
		return jc_err_errno(err, JC_EIO, e, "cannot flush %s", path);
	}
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		free(tmp);
		return jc_err_errno(err, JC_EIO, e, "cannot rename into %s", path);
	}
	free(tmp);
	return 0;
}

int jc_mkdir_p(const char *path, int mode, jc_error *err)
{
	char *p = jc_strdup(path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST) {
			int e = errno;
			int rc = jc_err_errno(err, JC_EIO, e, "cannot create directory %s", p);
			free(p);
			return rc;
		}
		*s = '/';
	}
	if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST) {
		int e = errno;
		int rc = jc_err_errno(err, JC_EIO, e, "cannot create directory %s", p);
		free(p);
		return rc;
	}
	free(p);
	return 0;
}

int jc_rm_rf(const char *path, jc_error *err)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : jc_err_errno(err, JC_EIO, errno, "cannot stat %s", path);
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *de;
		if (!d)
			return jc_err_errno(err, JC_EIO, errno, "cannot open directory %s", path);
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			char *child = jc_path_join(path, de->d_name);
			int rc = jc_rm_rf(child, err);
			free(child);
			if (rc < 0) {
				closedir(d);
				return rc;
			}
		}
		closedir(d);
		if (rmdir(path) < 0 && errno != ENOENT)
			return jc_err_errno(err, JC_EIO, errno, "cannot remove %s", path);
		return 0;
	}
	if (unlink(path) < 0 && errno != ENOENT)
		return jc_err_errno(err, JC_EIO, errno, "cannot remove %s", path);
	return 0;
}

bool jc_path_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

char *jc_path_join(const char *a, const char *b)
{
	size_t la = strlen(a);
	if (b[0] == '/')
		return jc_strdup(b);
	if (la && a[la - 1] == '/')
		return jc_sprintf("%s%s", a, b);
	return jc_sprintf("%s/%s", a, b);
}

char *jc_state_dir_resolve(const char *explicit_dir)
{
	const char *env;
	if (explicit_dir && *explicit_dir)
		return jc_strdup(explicit_dir);
	env = getenv("JCICD_STATE_DIR");
	if (env && *env)
		return jc_strdup(env);
	env = getenv("XDG_STATE_HOME");
	if (env && *env)
		return jc_path_join(env, "jcicd");
	env = getenv("HOME");
	if (env && *env)
		return jc_sprintf("%s/.local/state/jcicd", env);
	return jc_strdup("/var/lib/jcicd");
}
