/* build-git.c - git entries: the branch head by ls-remote (nothing is
 * fetched while it does not move), a bare mirror per repository fetched
 * only to build, and the tree at the commit exported into a clean
 * directory. */
#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build-internal.h"
#include "repo-internal.h"

static const char *refname(const char *branch, char *buf, size_t size)
{
	if (!branch)
		return "HEAD";
	if (jc_str_starts(branch, "refs/"))
		return branch;
	snprintf(buf, size, "refs/heads/%s", branch);
	return buf;
}

static bool is_sha(const char *s, size_t n)
{
	if (n != 40 && n != 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static int ls_remote(jc_builds *b, jc_bld_job *job, const char *url, const char *branch, char **sha, jc_error *err)
{
	char rbuf[300];
	const char *ref = refname(branch, rbuf, sizeof(rbuf));
	const char *argv[] = { "git", "ls-remote", "--exit-code", "--", url, ref, NULL };
	jc_buf out = JC_BUF_INIT;
	int rc;

	*sha = NULL;
	rc = jc_bld_run(b, job, argv, NULL, b->o.git_timeout_ms, "git ls-remote", &out, err);
	if (rc == JC_EFAILED) {
		/* exit 2: the repository answered and has no such ref */
		bool no_ref = job->last_exit == 2;
		char msg[JC_ERROR_MESSAGE_MAX];
		snprintf(msg, sizeof(msg), "%s", err->message);
		if (no_ref)
			rc = jc_err(err, JC_EFAILED, "%s has no %s%s%s", url, branch ? "branch " : "",
				    branch ? branch : "HEAD", branch ? "" : " (an empty repository?)");
		else
			rc = jc_err(err, JC_EUNREACHABLE, "cannot reach git repository %s: %s", url, msg);
	} else if (rc == JC_ETIMEOUT) {
		jc_err_prefix(err, "git repository %s", url);
	}
	if (rc == 0) {
		const char *line = jc_buf_cstr(&out);
		size_t n = strcspn(line, " \t\n");
		/* the output may carry git's warnings first; the answer is the
		 * line that starts with a hash */
		while (*line && !is_sha(line, n)) {
			line = strchr(line, '\n');
			line = line ? line + 1 : "";
			n = strcspn(line, " \t\n");
		}
		if (!*line)
			rc = jc_err(err, JC_EFAILED, "git ls-remote %s %s said nothing usable: %.200s", url, ref,
				    jc_buf_cstr(&out));
		else
			*sha = jc_strndup(line, n);
	}
	jc_buf_free(&out);
	return rc;
}

int jc_bld_git_head(jc_builds *b, jc_bld_job *job, char **ref, jc_error *err)
{
	const jc_build_entry *e = job->entry;
	char *up = NULL, *pk = NULL;
	int rc;

	*ref = NULL;
	rc = ls_remote(b, job, e->git, e->branch, &up, err);
	if (rc == 0 && e->packaging_git)
		rc = ls_remote(b, job, e->packaging_git, e->packaging_branch, &pk, err);
	if (rc == 0)
		*ref = pk ? jc_sprintf("%s+%s", up, pk) : jc_strdup(up);
	free(up);
	free(pk);
	return rc;
}

/* Fetches the branch into the entry's bare mirror; *sha gets the commit
 * fetched (the branch may have moved since ls-remote). */
static int fetch(jc_builds *b, jc_bld_job *job, const char *mirror, const char *url, const char *branch, char **sha,
		 jc_error *err)
{
	char rbuf[300], *spec;
	const char *ref = refname(branch, rbuf, sizeof(rbuf));
	jc_buf out = JC_BUF_INIT;
	int rc = 0;

	*sha = NULL;
	if (!jc_path_exists(mirror)) {
		const char *init[] = { "git", "init", "--bare", "-q", mirror, NULL };
		rc = jc_bld_run(b, job, init, NULL, b->o.git_timeout_ms, "git init", NULL, err);
	}
	spec = jc_sprintf("+%s:refs/jcicd/head", ref);
	if (rc == 0) {
		const char *argv[] = { "git", "-C", mirror, "fetch", "--no-tags", "--force", "-q", "--", url, spec, NULL };
		rc = jc_bld_run(b, job, argv, NULL, 0, "git fetch", NULL, err);
		if (rc < 0)
			jc_err_prefix(err, "fetching %s %s", url, ref);
	}
	if (rc == 0) {
		const char *argv[] = { "git", "-C", mirror, "rev-parse", "--verify", "-q", "refs/jcicd/head^{commit}", NULL };
		rc = jc_bld_run(b, job, argv, NULL, b->o.git_timeout_ms, "git rev-parse", &out, err);
		if (rc == 0) {
			const char *s = jc_buf_cstr(&out);
			size_t n = strcspn(s, " \t\n");
			if (!is_sha(s, n))
				rc = jc_err(err, JC_EFAILED, "git rev-parse in %s said \"%.100s\"", mirror, s);
			else
				*sha = jc_strndup(s, n);
		}
	}
	free(spec);
	jc_buf_free(&out);
	return rc;
}

/* The tree of a commit into dir (created), without .git. */
static int export_tree(jc_builds *b, jc_bld_job *job, const char *mirror, const char *sha, const char *dir,
		       jc_error *err)
{
	char *tar = jc_sprintf("%s.tar", dir);
	const char *archive[] = { "git", "-C", mirror, "archive", "--format=tar", "-o", tar, sha, NULL };
	const char *untar[] = { "tar", "-x", "--no-same-owner", "-f", tar, "-C", dir, NULL };
	int rc = jc_mkdir_p(dir, 0755, err);
	if (rc == 0)
		rc = jc_bld_run(b, job, archive, NULL, b->o.git_timeout_ms, "git archive", NULL, err);
	if (rc == 0)
		rc = jc_bld_run(b, job, untar, NULL, b->o.git_timeout_ms, "tar -x", NULL, err);
	unlink(tar);
	free(tar);
	return rc;
}

static char *mirror_path(jc_builds *b, const char *entry, const char *suffix)
{
	return jc_sprintf("%s/git/%s%s.git", b->dir, entry, suffix);
}

/* Lays the packaging repository's debian/ over the upstream tree (a
 * packaging repository may also be the debian/ directory itself). */
static int overlay_debian(jc_bld_job *job, const char *pkg_dir, const char *tree, jc_error *err)
{
	char *src = jc_path_join(pkg_dir, "debian"), *dst = jc_path_join(tree, "debian");
	char *control = jc_path_join(pkg_dir, "control");
	int rc = 0;
	if (!jc_path_exists(src)) {
		free(src);
		src = jc_path_exists(control) ? jc_strdup(pkg_dir) : NULL;
	}
	if (!src) {
		rc = jc_err(err, JC_EFAILED, "packaging repository %s has neither debian/ nor debian/control at its top",
			    job->entry->packaging_git);
	} else {
		if (jc_path_exists(dst))
			jc_bld_logf(job, "replacing upstream's debian/ with the packaging repository's");
		rc = jc_rm_rf(dst, err);
		if (rc == 0 && rename(src, dst) < 0)
			rc = jc_err_errno(err, JC_EIO, errno, "cannot move %s to %s", src, dst);
	}
	free(src);
	free(dst);
	free(control);
	return rc;
}

int jc_bld_git_build(jc_builds *b, jc_bld_job *job, jc_error *err)
{
	const jc_build_entry *e = job->entry;
	char *mirror = mirror_path(b, e->name, ""), *pk_mirror = NULL;
	char *up_sha = NULL, *pk_sha = NULL, *tree = jc_path_join(job->work, e->name), *pk_dir = NULL;
	char *text = NULL, *gitdir = jc_sprintf("%s/git", b->dir);
	int rc;

	rc = jc_mkdir_p(gitdir, 0755, err);
	if (rc == 0)
		rc = fetch(b, job, mirror, e->git, e->branch, &up_sha, err);
	if (rc == 0 && e->packaging_git) {
		pk_mirror = mirror_path(b, e->name, "-packaging");
		rc = fetch(b, job, pk_mirror, e->packaging_git, e->packaging_branch, &pk_sha, err);
	}
	if (rc == 0) {
		/* what was built is what the next poll compares with */
		free(job->ref);
		job->ref = pk_sha ? jc_sprintf("%s+%s", up_sha, pk_sha) : jc_strdup(up_sha);
		job->commit = jc_strdup(pk_sha ? pk_sha : up_sha);
		rc = export_tree(b, job, mirror, up_sha, tree, err);
	}
	if (rc == 0 && pk_sha) {
		pk_dir = jc_path_join(job->work, ".packaging");
		rc = export_tree(b, job, pk_mirror, pk_sha, pk_dir, err);
		if (rc == 0)
			rc = overlay_debian(job, pk_dir, tree, err);
		if (rc == 0)
			rc = jc_rm_rf(pk_dir, err);
	}
	if (rc == 0) {
		char short_up[8], short_pk[8];
		snprintf(short_up, sizeof(short_up), "%.7s", up_sha);
		snprintf(short_pk, sizeof(short_pk), "%.7s", pk_sha ? pk_sha : "");
		text = pk_sha ? jc_sprintf("Built by jcicd from %s %s at %s, packaging %s %s at %s.", e->git,
					   e->branch ? e->branch : "HEAD", short_up, e->packaging_git,
					   e->packaging_branch ? e->packaging_branch : "HEAD", short_pk) :
				jc_sprintf("Built by jcicd from %s %s at %s.", e->git, e->branch ? e->branch : "HEAD",
					   short_up);
		rc = jc_bld_build_tree(b, job, tree, text, err);
	}
	free(mirror);
	free(pk_mirror);
	free(up_sha);
	free(pk_sha);
	free(tree);
	free(pk_dir);
	free(text);
	free(gitdir);
	return rc;
}
