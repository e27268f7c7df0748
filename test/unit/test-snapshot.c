/* test-snapshot.c - snapshots of a source repository in a local directory
 * (written here, file by file, so these tests need no tool): poll, publish,
 * pointers, diff, prune, integrity failures, the writer lock, recovery after
 * an interruption, configuration errors, apt lines.  The same against real
 * dpkg-deb, apt-ftparchive, HTTP and apt-get is in test/snapshot/. */
#include "tests.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include "jcicd/config.h"
#include "jcicd/snapshot.h"
#include "repo-internal.h"
#include "snapshot-internal.h"

struct fake {
	const char *name, *version, *arch, *content;
};

/* A repository as a build server writes it: pool files, Packages(.gz) for
 * each architecture, a Release listing them. */
static void make_repo(const char *dir, const struct fake *pkgs, size_t n, const char *const *archs, size_t n_archs)
{
	jc_repo_release_file files[8];
	jc_strv paths = JC_STRV_INIT, shas = JC_STRV_INIT;
	jc_repo_release_info info = JC_REPO_RELEASE_INFO_INIT;
	static const char *const comps[] = { "main" };
	char *text;
	size_t len, nf = 0;
	jc_error err;

	for (size_t a = 0; a < n_archs; a++) {
		jc_buf idx = JC_BUF_INIT, gz = JC_BUF_INIT;
		char *d, *p;
		for (size_t i = 0; i < n; i++) {
			char sha[JC_SHA256_HEX_SIZE];
			if (strcmp(pkgs[i].arch, archs[a]) != 0 && strcmp(pkgs[i].arch, "all") != 0)
				continue;
			char *rel = jc_sprintf("pool/main/%s_%s_%s.deb", pkgs[i].name, pkgs[i].version, pkgs[i].arch);
			char *full = jc_path_join(dir, rel);
			char *pooldir = jc_path_join(dir, "pool/main");
			ck_assert_int_eq(jc_mkdir_p(pooldir, 0755, &err), 0);
			ck_assert_int_eq(jc_file_write_atomic(full, pkgs[i].content, strlen(pkgs[i].content), 0644, &err), 0);
			jc_repo_sha256_buf(sha, pkgs[i].content, strlen(pkgs[i].content));
			jc_buf_printf(&idx, "Package: %s\nVersion: %s\nArchitecture: %s\nMaintainer: t <t@x>\n"
				      "Filename: %s\nSize: %zu\nSHA256: %s\nDescription: test %s\n two lines\n\n",
				      pkgs[i].name, pkgs[i].version, pkgs[i].arch, rel, strlen(pkgs[i].content), sha,
				      pkgs[i].name);
			free(rel);
			free(full);
			free(pooldir);
		}
		d = jc_sprintf("%s/dists/stable/main/binary-%s", dir, archs[a]);
		ck_assert_int_eq(jc_mkdir_p(d, 0755, &err), 0);
		p = jc_path_join(d, "Packages");
		ck_assert_int_eq(jc_file_write_atomic(p, idx.data ? idx.data : "", idx.len, 0644, &err), 0);
		free(p);
		ck_assert_int_eq(jc_gzip_compress(&gz, idx.data ? idx.data : "", idx.len, 9, &err), 0);
		p = jc_path_join(d, "Packages.gz");
		ck_assert_int_eq(jc_file_write_atomic(p, gz.data, gz.len, 0644, &err), 0);
		free(p);
		char sha[JC_SHA256_HEX_SIZE];
		jc_repo_sha256_buf(sha, idx.data ? idx.data : "", idx.len);
		jc_strv_push_owned(&paths, jc_sprintf("main/binary-%s/Packages", archs[a]));
		jc_strv_push(&shas, sha);
		files[nf].path = paths.v[paths.n - 1];
		files[nf].sha256 = shas.v[shas.n - 1];
		files[nf++].size = (long long)idx.len;
		jc_repo_sha256_buf(sha, gz.data, gz.len);
		jc_strv_push_owned(&paths, jc_sprintf("main/binary-%s/Packages.gz", archs[a]));
		jc_strv_push(&shas, sha);
		files[nf].path = paths.v[paths.n - 1];
		files[nf].sha256 = shas.v[shas.n - 1];
		files[nf++].size = (long long)gz.len;
		jc_buf_free(&idx);
		jc_buf_free(&gz);
		free(d);
	}
	info.suite = "stable";
	info.date = jc_wall_ms() / 1000;
	info.architectures = archs;
	info.n_architectures = n_archs;
	info.components = comps;
	info.n_components = 1;
	info.files = files;
	info.n_files = nf;
	ck_assert_int_eq(jc_repo_release_write(&text, &len, &info, &err), 0);
	char *rp = jc_sprintf("%s/dists/stable/Release", dir);
	ck_assert_int_eq(jc_file_write_atomic(rp, text, len, 0644, &err), 0);
	free(rp);
	free(text);
	jc_strv_free(&paths);
	jc_strv_free(&shas);
}

static const char *const amd64[] = { "amd64" };

struct env {
	char *dir, *src, *root, *state;
	jc_snapshot_source source;
	jc_snapshot_options opts;
	jc_snapshots *s;
};

static void env_open(struct env *e)
{
	jc_error err;
	static const char *const comps[] = { "main" };
	jc_snapshot_options init = JC_SNAPSHOT_OPTIONS_INIT;
	memset(&e->source, 0, sizeof(e->source));
	e->source.name = "build";
	e->source.path = e->src;
	e->source.suite = "stable";
	e->source.components = comps;
	e->source.n_components = 1;
	e->source.architectures = amd64;
	e->source.n_architectures = 1;
	e->opts = init;
	e->opts.state_dir = e->state;
	e->opts.publish_root = e->root;
	e->opts.sources = &e->source;
	e->opts.n_sources = 1;
	e->opts.no_sync = true;
	ck_assert_msg(jc_snapshot_open(&e->s, &e->opts, &err) == 0, "%s", err.message);
}

static void env_init(struct env *e)
{
	e->dir = test_tmpdir();
	e->src = test_path(e->dir, "src");
	e->root = test_path(e->dir, "pub");
	e->state = test_path(e->dir, "state");
	env_open(e);
}

static void env_free(struct env *e)
{
	jc_snapshot_free(e->s);
	jc_rm_rf(e->dir, NULL);
	free(e->dir);
	free(e->src);
	free(e->root);
	free(e->state);
}

static long poll_ok(struct env *e, jc_snapshot_poll_result *r)
{
	jc_error err;
	ck_assert_msg(jc_snapshot_poll(r, e->s, 0, &err) == 0, "poll: %s", err.message);
	return r->number;
}

static char *link_target(const char *root, const char *name)
{
	char *p = jc_path_join(root, name), buf[256];
	ssize_t k = readlink(p, buf, sizeof(buf) - 1);
	free(p);
	if (k < 0)
		return NULL;
	buf[k] = '\0';
	return jc_strdup(buf);
}

/* Every file a published Release lists exists with that hash. */
static void check_tree(const char *root, long n)
{
	char *rp = jc_sprintf("%s/snapshots/%ld/dists/stable/Release", root, n), *text;
	size_t len;
	jc_repo_release *r;
	jc_error err;
	ck_assert_int_eq(jc_file_read(rp, &text, &len, &err), 0);
	ck_assert_int_eq(jc_repo_release_parse(&r, text, len, rp, &err), 0);
	ck_assert_int_ge(jc_repo_release_file_count(r), 2);
	for (size_t i = 0; i < jc_repo_release_file_count(r); i++) {
		const jc_repo_release_file *f = jc_repo_release_file_at(r, i);
		char *fp = jc_sprintf("%s/snapshots/%ld/dists/stable/%s", root, n, f->path);
		char *bh = jc_sprintf("%s/snapshots/%ld/dists/stable/main/binary-amd64/by-hash/SHA256/%s", root, n,
				      f->sha256);
		char h[JC_SHA256_HEX_SIZE];
		long long size;
		ck_assert_int_eq(jc_repo_sha256_file(h, &size, fp, &err), 0);
		ck_assert_str_eq(h, f->sha256);
		ck_assert_int_eq(size, f->size);
		ck_assert_msg(jc_path_exists(bh), "by-hash entry for %s", f->path);
		free(fp);
		free(bh);
	}
	jc_repo_release_free(r);
	free(text);
	free(rp);
}

START_TEST(poll_publishes_then_sees_no_change)
{
	struct env e;
	jc_snapshot_poll_result r;
	const struct fake v1[] = {
		{ "alpha", "1.0-1", "amd64", "alpha one" },
		{ "beta", "2:3.0~rc1-1", "amd64", "beta one" },
		{ "libgamma1", "1.0-1", "all", "gamma" },
	};
	char *target, *deb, *pooled;
	struct stat a, b;
	env_init(&e);
	make_repo(e.src, v1, 3, amd64, 1);

	ck_assert_int_eq(poll_ok(&e, &r), 1);
	ck_assert(r.changed && r.published);
	ck_assert_int_eq(r.n_packages, 3);
	ck_assert_int_eq(r.debs_fetched, 3);
	ck_assert_int_eq(r.previous, 0);
	check_tree(e.root, 1);
	target = link_target(e.root, "latest");
	ck_assert_str_eq(target, "snapshots/1");
	free(target);
	/* pool names follow Debian: lib prefix, epoch dropped */
	deb = jc_sprintf("%s/snapshots/1/pool/main/libg/libgamma1_1.0-1_all.deb", e.root);
	ck_assert(jc_path_exists(deb));
	free(deb);
	deb = jc_sprintf("%s/snapshots/1/pool/main/b/beta_3.0~rc1-1_amd64.deb", e.root);
	ck_assert(jc_path_exists(deb));
	/* a hard link to the pool, not a copy */
	char sha[JC_SHA256_HEX_SIZE];
	jc_repo_sha256_buf(sha, "beta one", 8);
	pooled = jc_sprintf("%s/pool/sha256/%.2s/%s", e.state, sha, sha);
	ck_assert_int_eq(stat(deb, &a), 0);
	ck_assert_int_eq(stat(pooled, &b), 0);
	ck_assert_int_eq(a.st_ino, b.st_ino);
	free(deb);
	free(pooled);

	ck_assert_int_eq(poll_ok(&e, &r), 0);
	ck_assert(!r.changed);
	ck_assert_int_eq(r.previous, 1);
	env_free(&e);
}
END_TEST

struct changes {
	jc_buf text;
};

static int record_change(const jc_snapshot_change *c, void *payload)
{
	struct changes *ch = payload;
	jc_buf_printf(&ch->text, "%c %s %s %s %s\n", c->kind == JC_SNAPSHOT_ADDED ? '+' : c->kind == JC_SNAPSHOT_REMOVED ?
		      '-' : '!', c->name, c->architecture, c->from ? c->from : "-", c->to ? c->to : "-");
	return 0;
}

START_TEST(diff_promote_prune)
{
	struct env e;
	jc_snapshot_poll_result r;
	jc_snapshot_diff_summary sum;
	jc_snapshot_prune_result pr;
	struct changes ch = { JC_BUF_INIT };
	const struct fake v1[] = {
		{ "alpha", "1.0-1", "amd64", "alpha one" },
		{ "beta", "1.0-1", "amd64", "beta one" },
		{ "gone", "1.0-1", "amd64", "gone" },
	};
	const struct fake v2[] = {
		{ "alpha", "1.0-1", "amd64", "alpha one" },
		{ "beta", "1.1-1", "amd64", "beta two" },
		{ "new", "0.1-1", "all", "new" },
	};
	const struct fake v3[] = {
		{ "alpha", "1.0-2", "amd64", "alpha three" },
	};
	jc_snapshot_info *info;
	size_t n;
	long prev, num;
	char *target, *tree, *gone_pool;
	char sha[JC_SHA256_HEX_SIZE];
	jc_error err;

	env_init(&e);
	make_repo(e.src, v1, 3, amd64, 1);
	ck_assert_int_eq(poll_ok(&e, &r), 1);
	jc_rm_rf(e.src, NULL);
	make_repo(e.src, v2, 3, amd64, 1);
	ck_assert_int_eq(poll_ok(&e, &r), 2);
	ck_assert_int_eq(r.debs_fetched, 2);
	ck_assert_int_eq(r.debs_reused, 1);

	ck_assert_int_eq(jc_snapshot_diff(&sum, e.s, 1, 2, record_change, &ch, &err), 0);
	ck_assert_str_eq(jc_buf_cstr(&ch.text), "! beta amd64 1.0-1 1.1-1\n- gone amd64 1.0-1 -\n+ new all - 0.1-1\n");
	ck_assert_int_eq(sum.added, 1);
	ck_assert_int_eq(sum.removed, 1);
	ck_assert_int_eq(sum.changed, 1);
	ck_assert_int_eq(sum.unchanged, 1);
	jc_buf_free(&ch.text);

	/* promotion: the pointer, its history, its symlink */
	ck_assert_int_eq(jc_snapshot_promote(&prev, e.s, 1, "testing", "alice", "verdict 7 passed", &err), 0);
	ck_assert_int_eq(prev, 0);
	target = link_target(e.root, "testing");
	ck_assert_str_eq(target, "snapshots/1");
	free(target);
	ck_assert_int_eq(jc_snapshot_resolve(&num, e.s, "testing", &err), 0);
	ck_assert_int_eq(num, 1);
	ck_assert_int_eq(jc_snapshot_resolve(&num, e.s, "stable", &err), JC_ENOTFOUND);
	ck_assert_int_eq(jc_snapshot_promote(NULL, e.s, 9, "stable", "bob", NULL, &err), JC_ENOTFOUND);
	ck_assert_int_eq(jc_snapshot_promote(NULL, e.s, 1, "Bad Name", "bob", NULL, &err), JC_EINVALID);
	ck_assert_int_eq(jc_snapshot_promote(NULL, e.s, 1, "snapshots", "bob", NULL, &err), JC_EINVALID);

	/* prune never removes what a pointer names */
	ck_assert_int_eq(jc_snapshot_prune(&pr, e.s, 1, false, &err), 0);
	ck_assert_int_eq(pr.removed, 0);
	ck_assert_int_eq(pr.kept, 2);
	ck_assert_int_eq(jc_snapshot_promote(&prev, e.s, 2, "testing", "alice", "verdict 8 passed", &err), 0);
	ck_assert_int_eq(prev, 1);
	ck_assert_int_eq(jc_snapshot_prune(&pr, e.s, 1, true, &err), 0);
	ck_assert_int_eq(pr.removed, 1);
	ck_assert_int_eq(pr.files_removed, 0);   /* a dry run only counts */
	ck_assert_int_eq(jc_snapshot_prune(&pr, e.s, 1, false, &err), 0);
	ck_assert_int_eq(pr.removed, 1);
	ck_assert_int_eq(pr.kept, 1);
	ck_assert_int_ge(pr.files_removed, 2);   /* gone's deb, beta 1.0's deb, old indices */
	tree = jc_sprintf("%s/snapshots/1", e.root);
	ck_assert(!jc_path_exists(tree));
	free(tree);
	jc_repo_sha256_buf(sha, "gone", 4);
	gone_pool = jc_sprintf("%s/pool/sha256/%.2s/%s", e.state, sha, sha);
	ck_assert(!jc_path_exists(gone_pool));
	free(gone_pool);
	check_tree(e.root, 2);
	ck_assert_int_eq(jc_snapshot_resolve(&num, e.s, "1", &err), JC_ENOTFOUND);
	ck_assert(strstr(err.message, "pruned") != NULL);
	ck_assert_int_eq(jc_snapshot_list(&info, &n, e.s, true, &err), 0);
	ck_assert_int_eq(n, 2);
	ck_assert_str_eq(info[1].state, "pruned");
	ck_assert_int_eq(info[0].n_pointers, 2);   /* latest and testing */
	jc_snapshot_info_free(info, n);

	/* a pruned number is never used again */
	jc_rm_rf(e.src, NULL);
	make_repo(e.src, v3, 1, amd64, 1);
	ck_assert_int_eq(poll_ok(&e, &r), 3);
	ck_assert_int_eq(jc_snapshot_prune(&pr, e.s, 0, false, &err), JC_EINVALID);
	env_free(&e);
}
END_TEST

START_TEST(a_bad_package_publishes_nothing)
{
	struct env e;
	jc_snapshot_poll_result r;
	const struct fake v1[] = { { "alpha", "1.0-1", "amd64", "alpha one" } };
	const struct fake v2[] = { { "alpha", "1.1-1", "amd64", "alpha two" } };
	char *deb, *target;
	jc_snapshot_info *info;
	size_t n;
	jc_error err;

	env_init(&e);
	make_repo(e.src, v1, 1, amd64, 1);
	ck_assert_int_eq(poll_ok(&e, &r), 1);
	jc_rm_rf(e.src, NULL);
	make_repo(e.src, v2, 1, amd64, 1);
	/* the file changes after its index was written: same size, other bytes */
	deb = jc_sprintf("%s/pool/main/alpha_1.1-1_amd64.deb", e.src);
	ck_assert_int_eq(jc_file_write_atomic(deb, "alpha tw0", 9, 0644, &err), 0);
	ck_assert_int_eq(jc_snapshot_poll(&r, e.s, 0, &err), JC_EINTEGRITY);
	ck_assert_msg(strstr(err.message, "does not match its index") != NULL, "%s", err.message);
	ck_assert(strstr(err.message, "alpha_1.1-1_amd64.deb") != NULL);
	ck_assert_int_eq(r.number, 0);
	ck_assert_int_eq(jc_snapshot_list(&info, &n, e.s, true, &err), 0);
	ck_assert_int_eq(n, 1);
	jc_snapshot_info_free(info, n);
	target = link_target(e.root, "latest");
	ck_assert_str_eq(target, "snapshots/1");
	free(target);
	/* a size that does not match is refused too */
	ck_assert_int_eq(jc_file_write_atomic(deb, "alpha two, longer", 17, 0644, &err), 0);
	ck_assert_int_eq(jc_snapshot_poll(&r, e.s, 0, &err), JC_EINTEGRITY);
	ck_assert(strstr(err.message, "larger than") != NULL);
	/* fixed at the source: the next poll makes snapshot 2 */
	ck_assert_int_eq(jc_file_write_atomic(deb, "alpha two", 9, 0644, &err), 0);
	ck_assert_int_eq(poll_ok(&e, &r), 2);
	free(deb);
	env_free(&e);
}
END_TEST

START_TEST(a_second_writer_is_refused)
{
	struct env e;
	jc_snapshot_poll_result r;
	const struct fake v1[] = { { "alpha", "1.0-1", "amd64", "alpha one" } };
	int pipefd[2];
	pid_t pid;
	char c;
	jc_error err;

	env_init(&e);
	make_repo(e.src, v1, 1, amd64, 1);
	ck_assert_int_eq(pipe(pipefd), 0);
	pid = fork();
	if (pid == 0) {
		int fd;
		char *path = jc_path_join(e.state, "snapshot.lock");
		if (jc_snap_lock_file(&fd, path, 0, "the snapshot store", NULL) < 0)
			_exit(1);
		if (write(pipefd[1], "x", 1) != 1)
			_exit(1);
		sleep(30);
		_exit(0);
	}
	ck_assert_int_eq(read(pipefd[0], &c, 1), 1);
	ck_assert_int_eq(jc_snapshot_poll(&r, e.s, 0, &err), JC_ELOCKED);
	ck_assert_msg(strstr(err.message, "the snapshot store is busy: pid ") != NULL, "%s", err.message);
	ck_assert(strstr(err.message, "snapshot.lock") != NULL);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	/* the kernel dropped the dead holder's lock */
	ck_assert_int_eq(poll_ok(&e, &r), 1);
	close(pipefd[0]);
	close(pipefd[1]);
	env_free(&e);
}
END_TEST

START_TEST(an_interrupted_publish_is_finished)
{
	struct env e;
	jc_snapshot_poll_result r;
	const struct fake v1[] = { { "alpha", "1.0-1", "amd64", "alpha one" } };
	char *stale, *target;
	jc_snapshot_info *x;
	long built;
	jc_error err;

	env_init(&e);
	make_repo(e.src, v1, 1, amd64, 1);
	/* as if killed between recording and publishing, in the middle of
	 * building the tree */
	ck_assert_int_eq(jc_snapshot_poll(&r, e.s, JC_SNAPSHOT_POLL_NO_PUBLISH, &err), 0);
	ck_assert_int_eq(r.number, 1);
	ck_assert(!r.published);
	stale = jc_sprintf("%s/snapshots/.tmp-1-99999/dists", e.root);
	ck_assert_int_eq(jc_mkdir_p(stale, 0755, &err), 0);
	ck_assert_int_eq(jc_snapshot_show(&x, e.s, 1, &err), 0);
	ck_assert_str_eq(x->state, "recorded");
	jc_snapshot_info_free(x, 1);

	ck_assert_int_eq(jc_snapshot_publish(&built, e.s, 0, &err), 0);
	ck_assert(!jc_path_exists(stale));
	check_tree(e.root, 1);
	target = link_target(e.root, "latest");
	ck_assert_str_eq(target, "snapshots/1");
	free(target);
	ck_assert_int_eq(jc_snapshot_show(&x, e.s, 1, &err), 0);
	ck_assert_str_eq(x->state, "published");
	ck_assert_int_eq(x->n_sources, 1);
	ck_assert_str_eq(x->sources[0].release_file, "Release");
	ck_assert(jc_repo_is_sha256(x->sources[0].release_sha256));
	jc_snapshot_info_free(x, 1);

	/* a publish root that lost its trees gets them back */
	char *tree = jc_sprintf("%s/snapshots/1", e.root);
	ck_assert_int_eq(jc_rm_rf(tree, &err), 0);
	ck_assert_int_eq(jc_snapshot_publish(&built, e.s, 0, &err), 0);
	ck_assert_int_eq(built, 1);
	check_tree(e.root, 1);
	free(tree);
	free(stale);
	env_free(&e);
}
END_TEST

START_TEST(two_sources_two_architectures)
{
	struct env e;
	jc_snapshot_poll_result r;
	jc_snapshot_source srcs[2];
	static const char *const archs[] = { "amd64", "arm64" };
	static const char *const comps[] = { "main" };
	const struct fake a[] = {
		{ "tool", "1.0-1", "amd64", "tool amd64" },
		{ "tool", "1.0-1", "arm64", "tool arm64" },
		{ "data", "1.0-1", "all", "data" },
	};
	const struct fake b[] = {
		{ "data", "1.0-1", "all", "other data" },   /* shadowed by the first source */
		{ "extra", "2.0-1", "all", "extra" },
	};
	struct changes ch = { JC_BUF_INIT };
	jc_snapshot_diff_summary sum;
	char *src2;
	jc_error err;

	env_init(&e);
	src2 = test_path(e.dir, "src2");
	make_repo(e.src, a, 3, archs, 2);
	make_repo(src2, b, 2, archs, 2);
	jc_snapshot_free(e.s);
	memset(srcs, 0, sizeof(srcs));
	for (int i = 0; i < 2; i++) {
		srcs[i].path = i ? src2 : e.src;
		srcs[i].suite = "stable";
		srcs[i].components = comps;
		srcs[i].n_components = 1;
		srcs[i].architectures = archs;
		srcs[i].n_architectures = 2;
	}
	e.opts.sources = srcs;
	e.opts.n_sources = 2;
	ck_assert_int_eq(jc_snapshot_open(&e.s, &e.opts, &err), 0);
	ck_assert_int_eq(poll_ok(&e, &r), 1);
	/* amd64: tool, data, extra; arm64: the same */
	ck_assert_int_eq(r.n_packages, 6);
	ck_assert_int_eq(r.debs_fetched, 4);   /* tool x2, data (first source's), extra */
	/* diff against itself is empty; "all" packages count once */
	ck_assert_int_eq(jc_snapshot_diff(&sum, e.s, 1, 1, record_change, &ch, &err), 0);
	ck_assert_int_eq(sum.unchanged, 4);
	ck_assert_str_eq(jc_buf_cstr(&ch.text), "");
	jc_buf_free(&ch.text);
	free(src2);
	env_free(&e);
}
END_TEST

/* ---- configuration */

static int load_yaml(const char *dir, const char *yaml, jc_snapshot_config **out, jc_error *err)
{
	jc_config *cfg;
	char *path = jc_path_join(dir, "jcicd.yaml");
	int rc;
	ck_assert_int_eq(jc_file_write_atomic(path, yaml, strlen(yaml), 0644, NULL), 0);
	rc = jc_config_load(&cfg, path, err);
	if (rc == 0) {
		rc = jc_snapshot_config_load(out, cfg, err);
		jc_config_free(cfg);
	}
	free(path);
	return rc;
}

START_TEST(config_section)
{
	char *d = test_tmpdir();
	jc_snapshot_config *c;
	const jc_snapshot_options *o;
	jc_error err;
	const char *yaml =
		"snapshots:\n"
		"  publish_root: pub\n"
		"  base_url: http://snapshots.example/\n"
		"  interval: 5m\n"
		"  jitter: 20%\n"
		"  pointers: [latest, unstable]\n"
		"  signing: {key: ABCDEF, gnupghome: keys}\n"
		"  sources:\n"
		"    - name: build\n"
		"      url: http://127.0.0.1:8080/debian\n"
		"      codename: bookworm\n"
		"      components: main contrib\n"
		"      architectures: [amd64, arm64]\n"
		"      keyring: build.gpg\n"
		"    - path: /srv/mirror\n"
		"      suite: stable\n"
		"      components: [main]\n"
		"      architectures: amd64\n";
	ck_assert_int_eq(load_yaml(d, yaml, &c, &err), 0);
	o = jc_snapshot_config_options(c);
	ck_assert(jc_str_ends(o->publish_root, "/pub") && o->publish_root[0] == '/');
	ck_assert_str_eq(o->base_url, "http://snapshots.example/");
	ck_assert_int_eq(o->interval_ms, 300000);
	ck_assert_int_eq(o->jitter_percent, 20);
	ck_assert_int_eq(o->n_pointers, 2);
	ck_assert_str_eq(o->pointers[1], "unstable");
	ck_assert_str_eq(o->sign_key, "ABCDEF");
	ck_assert(jc_str_ends(o->gnupghome, "/keys"));
	ck_assert_int_eq(o->n_sources, 2);
	ck_assert_str_eq(o->sources[0].suite, "bookworm");
	ck_assert_int_eq(o->sources[0].n_components, 2);
	ck_assert_str_eq(o->sources[0].components[1], "contrib");
	ck_assert_int_eq(o->sources[0].n_architectures, 2);
	ck_assert(jc_str_ends(o->sources[0].keyring, "/build.gpg"));
	ck_assert_str_eq(o->sources[1].path, "/srv/mirror");
	ck_assert_int_eq(o->sources[1].n_architectures, 1);
	jc_snapshot_config_free(c);
	jc_rm_rf(d, NULL);
	free(d);
}
END_TEST

START_TEST(config_errors_point_at_the_place)
{
	static const struct {
		const char *yaml;
		int line, col;
		const char *msg;
	} cases[] = {
		{ "snapshots:\n  publsh_root: /x\n", 2, 3, "unknown key \"publsh_root\" in snapshots; did you mean \"publish_root\"?" },
		{ "snapshots:\n  interval: soon\n", 2, 13,
		  "snapshots.interval must be a duration of at least 1s (like 90s, 15m, 1h), not \"soon\"" },
		{ "snapshots:\n  sources:\n    - url: http://x/\n      components: [main]\n      architectures: [amd64]\n",
		  3, 7, "snapshots.sources[0] needs a suite (or codename): the directory below dists/" },
		{ "snapshots:\n  sources:\n    - url: http://x/\n      path: /y\n      suite: s\n", 3, 7,
		  "snapshots.sources[0] needs exactly one of url (http:// or https://) and path (a local directory)" },
		{ "snapshots:\n  sources:\n    - url: ftp://x/\n      suite: s\n      components: main\n      architectures: amd64\n",
		  3, 12, "url of a source must start with http:// or https://" },
		{ "snapshots:\n  sources:\n    - url: http://x/\n      suite: s\n      componets: [main]\n", 5, 7,
		  "unknown key \"componets\" in snapshots.sources[0]; did you mean \"components\"?" },
		{ "snapshots:\n  pointers: [Latest]\n", 2, 13,
		  "\"Latest\" is not a pointer name (lower-case letters, digits, - and _, starting with a letter; not \"snapshots\")" },
		{ "snapshots:\n  signing:\n    gnupghome: /k\n", 3, 5, "snapshots.signing needs a key (a fingerprint)" },
		{ "snapshots:\n  gzip_level: 11\n", 2, 15, NULL },
	};
	char *d = test_tmpdir();
	for (size_t i = 0; i < JC_ARRAY_LEN(cases); i++) {
		jc_snapshot_config *c = NULL;
		jc_error err;
		ck_assert_int_eq(load_yaml(d, cases[i].yaml, &c, &err), JC_EINVALID);
		ck_assert_ptr_null(c);
		ck_assert(jc_str_ends(err.file, "jcicd.yaml"));
		ck_assert_msg(err.line == cases[i].line && err.column == cases[i].col, "case %zu: %d:%d %s", i, err.line,
			      err.column, err.message);
		if (cases[i].msg)
			ck_assert_str_eq(err.message, cases[i].msg);
	}
	jc_rm_rf(d, NULL);
	free(d);
}
END_TEST

START_TEST(open_checks_options)
{
	jc_snapshot_options o = JC_SNAPSHOT_OPTIONS_INIT;
	jc_snapshot_source src;
	static const char *const comps[] = { "main" };
	static const char *const archs[] = { "all" };
	jc_snapshots *s;
	char *d = test_tmpdir();
	jc_error err;
	memset(&src, 0, sizeof(src));
	src.url = "http://x/";
	src.suite = "stable";
	src.components = comps;
	src.n_components = 1;
	src.architectures = archs;
	src.n_architectures = 1;
	o.state_dir = d;
	o.sources = &src;
	o.n_sources = 1;
	ck_assert_int_eq(jc_snapshot_open(&s, &o, &err), JC_EINVALID);
	ck_assert(strstr(err.message, "\"all\" packages come with every architecture") != NULL);
	src.architectures = amd64;
	src.suite = "../etc";
	ck_assert_int_eq(jc_snapshot_open(&s, &o, &err), JC_EINVALID);
	src.suite = "stable";
	ck_assert_int_eq(jc_snapshot_open(&s, &o, &err), 0);
	/* writing verbs need a publish root */
	jc_snapshot_poll_result r;
	ck_assert_int_eq(jc_snapshot_poll(&r, s, 0, &err), JC_EINVALID);
	ck_assert(strstr(err.message, "publish root") != NULL);
	jc_snapshot_free(s);
	o.version = 7;
	ck_assert_int_eq(jc_snapshot_open(&s, &o, &err), JC_EINVALID);
	jc_rm_rf(d, NULL);
	free(d);
}
END_TEST

START_TEST(apt_lines_and_urls)
{
	static const char *const comps[] = { "main", "contrib" };
	char *s, *url;
	jc_error err;
	ck_assert_int_eq(jc_snapshot_url(&url, "http://apt.example/jcicd//", 12, &err), 0);
	ck_assert_str_eq(url, "http://apt.example/jcicd/snapshots/12");
	ck_assert_int_eq(jc_snapshot_apt_line(&s, url, "stable", comps, 2, NULL, &err), 0);
	ck_assert_str_eq(s, "deb [trusted=yes] http://apt.example/jcicd/snapshots/12 stable main contrib");
	free(s);
	free(url);
	ck_assert_int_eq(jc_snapshot_pointer_url(&s, "http://apt.example", "testing", &err), 0);
	ck_assert_str_eq(s, "http://apt.example/testing");
	char *line;
	ck_assert_int_eq(jc_snapshot_apt_line(&line, s, "stable", comps, 1, "/usr/share/keyrings/jcicd.gpg", &err), 0);
	ck_assert_str_eq(line, "deb [signed-by=/usr/share/keyrings/jcicd.gpg] http://apt.example/testing stable main");
	free(line);
	free(s);
	ck_assert_int_eq(jc_snapshot_url(&s, "http://x", 0, &err), JC_EINVALID);
	ck_assert_int_eq(jc_snapshot_url(&s, NULL, 3, &err), JC_EINVALID);
	ck_assert_int_eq(jc_snapshot_pointer_url(&s, "http://x", "../etc", &err), JC_EINVALID);
	ck_assert_int_eq(jc_snapshot_apt_line(&s, "http://x y", "stable", comps, 1, NULL, &err), JC_EINVALID);
	ck_assert_int_eq(jc_snapshot_apt_line(&s, "http://x", "stable", comps, 0, NULL, &err), JC_EINVALID);
	ck_assert(jc_snapshot_pointer_name_ok("stable"));
	ck_assert(jc_snapshot_pointer_name_ok("rc-2_b"));
	ck_assert(!jc_snapshot_pointer_name_ok("snapshots"));
	ck_assert(!jc_snapshot_pointer_name_ok("9lives"));
	ck_assert(!jc_snapshot_pointer_name_ok(".hidden"));
	ck_assert(!jc_snapshot_pointer_name_ok(""));
}
END_TEST

static Suite *snapshot_suite(void)
{
	Suite *s = suite_create("snapshot");
	TCase *t = tcase_create("snapshot");
	tcase_add_test(t, poll_publishes_then_sees_no_change);
	tcase_add_test(t, diff_promote_prune);
	tcase_add_test(t, a_bad_package_publishes_nothing);
	tcase_add_test(t, a_second_writer_is_refused);
	tcase_add_test(t, an_interrupted_publish_is_finished);
	tcase_add_test(t, two_sources_two_architectures);
	tcase_add_test(t, config_section);
	tcase_add_test(t, config_errors_point_at_the_place);
	tcase_add_test(t, open_checks_options);
	tcase_add_test(t, apt_lines_and_urls);
	suite_add_tcase(s, t);
	return s;
}

TEST_MAIN(snapshot_suite)
