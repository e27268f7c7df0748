/* pool.c - the content-addressed file pool of the store (see
 * pool-internal.h). */
#include "common.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pool-internal.h"
#include "repo-internal.h"

struct jc_pool {
	char *dir;            /* <state>/pool */
	char *files;          /* <state>/pool/sha256 */
	char *tmp;            /* <state>/pool/tmp */
	atomic_ulong counter;
	/* open shard directories: lookups and links relative to them skip
	 * walking the long absolute path thousands of times per snapshot.
	 * A poll links and stores from two threads at once: opening takes the
	 * lock, using an open one does not. */
	_Atomic int shard_fd[256];
	pthread_mutex_t open_lock;
};

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The shard directory of a hash, opened once (and created when `make`);
 * -1 when it does not exist. */
static int shard(jc_pool *p, const char *sha, bool make)
{
	int hi = hexval(sha[0]), lo = hi < 0 ? -1 : hexval(sha[1]), k, fd;
	char *d;
	if (lo < 0)
		return -1;
	k = hi * 16 + lo;
	if ((fd = atomic_load(&p->shard_fd[k])) >= 0)
		return fd;
	pthread_mutex_lock(&p->open_lock);
	fd = atomic_load(&p->shard_fd[k]);
	if (fd < 0) {
		d = jc_sprintf("%s/%.2s", p->files, sha);
		if (!make || mkdir(d, 0755) == 0 || errno == EEXIST)
			fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		free(d);
		atomic_store(&p->shard_fd[k], fd);
	}
	pthread_mutex_unlock(&p->open_lock);
	return fd;
}

int jc_pool_open(jc_pool **out, const char *state_dir, jc_error *err)
{
	jc_pool *p = jc_calloc(1, sizeof(*p));
	int rc;
	*out = NULL;
	for (size_t i = 0; i < JC_ARRAY_LEN(p->shard_fd); i++)
		atomic_init(&p->shard_fd[i], -1);
	pthread_mutex_init(&p->open_lock, NULL);
	p->dir = jc_path_join(state_dir, "pool");
	p->files = jc_path_join(p->dir, "sha256");
	p->tmp = jc_path_join(p->dir, "tmp");
	if ((rc = jc_mkdir_p(p->files, 0755, err)) < 0 || (rc = jc_mkdir_p(p->tmp, 0755, err)) < 0) {
		jc_pool_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

void jc_pool_free(jc_pool *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < JC_ARRAY_LEN(p->shard_fd); i++)
		if (atomic_load(&p->shard_fd[i]) >= 0)
			close(atomic_load(&p->shard_fd[i]));
	pthread_mutex_destroy(&p->open_lock);
	free(p->dir);
	free(p->files);
	free(p->tmp);
	free(p);
}

const char *jc_pool_dir(const jc_pool *p) { return p->dir; }

char *jc_pool_path(const jc_pool *p, const char *sha)
{
	return jc_sprintf("%s/%.2s/%s", p->files, sha, sha);
}

bool jc_pool_has(jc_pool *p, const char *sha)
{
	int fd;
	if (!jc_repo_is_sha256(sha))
		return false;
	fd = shard(p, sha, false);
	return fd >= 0 && faccessat(fd, sha, F_OK, 0) == 0;
}

char *jc_pool_temp_name(jc_pool *p, const char *hint)
{
	char safe[48];
	size_t k = 0;
	for (const char *c = hint ? hint : "file"; *c && k < sizeof(safe) - 1; c++)
		safe[k++] = (*c == '/' || *c == ' ') ? '_' : *c;
	safe[k] = '\0';
	return jc_sprintf("%s/%ld-%lu-%s", p->tmp, (long)getpid(), atomic_fetch_add(&p->counter, 1) + 1, safe);
}

int jc_pool_clean_temp(jc_pool *p, jc_error *err)
{
	int rc = jc_rm_rf(p->tmp, err);
	if (rc == 0)
		rc = jc_mkdir_p(p->tmp, 0755, err);
	return rc;
}

int jc_pool_adopt(jc_pool *p, const char *temp, const char *sha, jc_error *err)
{
	char *path;
	int rc;
	int fd;
	if (!jc_repo_is_sha256(sha))
		return jc_err(err, JC_EINVALID, "\"%s\" is not a SHA256 hash", sha);
	path = jc_pool_path(p, sha);
	fd = shard(p, sha, true);
	/* link, not rename: an existing pool file is never replaced, since
	 * published trees share its inode */
	if (fd < 0)
		rc = jc_err_errno(err, JC_EIO, errno, "cannot create the directory of %s", path);
	else if (linkat(AT_FDCWD, temp, fd, sha, 0) < 0 && errno != EEXIST)
		rc = jc_err_errno(err, JC_EIO, errno, "cannot add %s to the pool", path);
	else
		rc = 0;
	unlink(temp);
	free(path);
	return rc;
}

int jc_pool_put(jc_pool *p, const void *data, size_t len, char sha[JC_SHA256_HEX_SIZE], jc_error *err)
{
	jc_repo_sha256_buf(sha, data, len);
	return jc_pool_put_hashed(p, data, len, sha, err);
}

int jc_pool_put_hashed(jc_pool *p, const void *data, size_t len, const char *sha, jc_error *err)
{
	char *tmp;
	int rc;
	if (jc_pool_has(p, sha))
		return 0;
	tmp = jc_pool_temp_name(p, "put");
	rc = jc_file_write_atomic(tmp, data, len, 0644, err);
	if (rc == 0)
		rc = jc_pool_adopt(p, tmp, sha, err);
	free(tmp);
	return rc;
}

static int copy_file(const char *from, int dirfd, const char *to, jc_error *err)
{
	char buf[1 << 16];
	ssize_t n;
	int in = open(from, O_RDONLY | O_CLOEXEC), out, rc = 0;
	if (in < 0)
		return jc_err_errno(err, JC_EIO, errno, "cannot open %s", from);
	out = openat(dirfd, to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (out < 0) {
		rc = jc_err_errno(err, JC_EIO, errno, "cannot create %s", to);
		close(in);
		return rc;
	}
	while (rc == 0 && (n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno != EINTR)
				rc = jc_err_errno(err, JC_EIO, errno, "cannot read %s", from);
			continue;
		}
		for (ssize_t off = 0; off < n && rc == 0;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno != EINTR)
				rc = jc_err_errno(err, JC_EIO, errno, "cannot write %s", to);
			else if (w > 0)
				off += w;
		}
	}
	close(in);
	if (close(out) < 0 && rc == 0)
		rc = jc_err_errno(err, JC_EIO, errno, "cannot write %s", to);
	if (rc < 0)
		unlinkat(dirfd, to, 0);
	return rc;
}

int jc_pool_link_at(jc_pool *p, const char *sha, int dirfd, const char *name, bool *copied, jc_error *err)
{
	int fd = jc_repo_is_sha256(sha) ? shard(p, sha, false) : -1;
	int rc = 0;
	if (copied)
		*copied = false;
	if (fd >= 0 && linkat(fd, sha, dirfd, name, 0) == 0)
		return 0;
	int e = fd < 0 ? ENOENT : errno;
	char *src = jc_pool_path(p, sha);
	if (e == EEXIST) {
		rc = jc_err(err, JC_EEXISTS, "%s exists already", name);
	} else if (e == EXDEV || e == EPERM || e == EMLINK) {
		/* another file system (or one without hard links): a copy is
		 * as immutable, just bigger */
		rc = copy_file(src, dirfd, name, err);
		if (rc == 0 && copied)
			*copied = true;
	} else if (e == ENOENT && !jc_path_exists(src)) {
		rc = jc_err(err, JC_ENOTFOUND, "pool file %s is missing (was the pool pruned by hand?)", src);
	} else {
		rc = jc_err_errno(err, JC_EIO, e, "cannot link %s to %s", name, src);
	}
	free(src);
	return rc;
}

int jc_pool_link(jc_pool *p, const char *sha, const char *dest, bool *copied, jc_error *err)
{
	return jc_pool_link_at(p, sha, AT_FDCWD, dest, copied, err);
}

int jc_pool_sync(jc_pool *p, jc_error *err)
{
	int fd = open(p->files, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;
	if (fd < 0)
		return jc_err_errno(err, JC_EIO, errno, "cannot open %s", p->files);
	if (syncfs(fd) < 0)
		rc = jc_err_errno(err, JC_EIO, errno, "cannot flush the file system of %s", p->files);
	close(fd);
	return rc;
}

int jc_pool_sweep(jc_pool *p, jc_pool_keep_fn keep, void *payload, long *removed, long long *removed_bytes,
		  jc_error *err)
{
	DIR *top = opendir(p->files);
	struct dirent *de;
	int rc = 0;

	*removed = 0;
	*removed_bytes = 0;
	if (!top)
		return jc_err_errno(err, JC_EIO, errno, "cannot open %s", p->files);
	while (rc == 0 && (de = readdir(top)) != NULL) {
		char *shard;
		DIR *d;
		struct dirent *fe;
		if (de->d_name[0] == '.')
			continue;
		shard = jc_path_join(p->files, de->d_name);
		d = opendir(shard);
		if (!d) {
			free(shard);
			continue;
		}
		while (rc == 0 && (fe = readdir(d)) != NULL) {
			bool k = true;
			struct stat st;
			if (fe->d_name[0] == '.')
				continue;
			if (!jc_repo_is_sha256(fe->d_name)) {
				k = false;   /* not ours to keep: a stray file */
			} else {
				rc = keep(fe->d_name, &k, err, payload);
			}
			if (rc == 0 && !k) {
				char *f = jc_path_join(shard, fe->d_name);
				if (lstat(f, &st) == 0 && unlink(f) == 0) {
					(*removed)++;
					*removed_bytes += st.st_size;
				}
				free(f);
			}
		}
		closedir(d);
		/* only succeeds when it became empty; forget its open fd then */
		if (rmdir(shard) == 0 && hexval(de->d_name[0]) >= 0 && hexval(de->d_name[1]) >= 0) {
			int k = hexval(de->d_name[0]) * 16 + hexval(de->d_name[1]);
			int fd = atomic_exchange(&p->shard_fd[k], -1);
			if (fd >= 0)
				close(fd);
		}
		free(shard);
	}
	closedir(top);
	return rc;
}
