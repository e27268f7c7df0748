/* build-run.c - building a prepared Debian source tree: the version, a
 * changelog entry, the build-dependency check, dpkg-buildpackage, and the
 * .debs it made. */
#include "common.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "build-internal.h"
#include "proc.h"
#include "repo-internal.h"

/* dpkg's name for this machine, asked once */
static int host_arch(jc_builds *b, const char **out, jc_error *err)
{
	int rc = 0;
	pthread_mutex_lock(&b->log_lock);
	if (!b->host_arch) {
		const char *argv[] = { "dpkg", "--print-architecture", NULL };
		jc_proc_options po;
		jc_proc_result pr;
		jc_buf outb = JC_BUF_INIT;
		memset(&po, 0, sizeof(po));
		po.argv = argv;
		po.timeout_ms = 30000;
		po.output = &outb;
		rc = jc_proc_run(&po, &pr, err);
		if (rc == 0 && (pr.exit_code != 0 || outb.len == 0))
			rc = jc_err(err, JC_EFAILED, "dpkg --print-architecture failed (exit %d): %s", pr.exit_code,
				    jc_buf_cstr(&outb));
		if (rc == 0) {
			outb.data[strcspn(outb.data, " \n")] = '\0';
			b->host_arch = jc_buf_detach(&outb);
		}
		jc_buf_free(&outb);
	}
	pthread_mutex_unlock(&b->log_lock);
	*out = b->host_arch;
	return rc;
}

static bool has_word(const char *const *v, size_t n, const char *w)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], w) == 0)
			return true;
	return false;
}

static char *join(const char *const *v, size_t n, const char *sep)
{
	jc_buf b = JC_BUF_INIT;
	for (size_t i = 0; i < n; i++)
		jc_buf_printf(&b, "%s%s", i ? sep : "", v[i]);
	return jc_buf_detach(&b);
}

/* "dpkg-checkbuilddeps: error: Unmet build dependencies: a b (>= 1)" -> "a b (>= 1)" */
static char *unmet(const char *out)
{
	const char *p = strstr(out, "Unmet build dependencies: ");
	const char *q = strstr(out, "Build conflicts: ");
	if (p) {
		p += strlen("Unmet build dependencies: ");
		return jc_strndup(p, strcspn(p, "\n"));
	}
	if (q) {
		q += strlen("Build conflicts: ");
		return jc_sprintf("conflicting %.*s", (int)strcspn(q, "\n"), q);
	}
	return NULL;
}

/* dpkg-checkbuilddeps, once for debian/control and once for the entry's
 * extra build dependencies; *missing gets what is missing, or NULL. */
static int check_deps(jc_builds *b, jc_bld_job *job, const char *tree, bool indep_only, char **missing,
		      jc_error *err)
{
	const jc_build_entry *e = job->entry;
	char *profiles = e->n_profiles ? join(e->profiles, e->n_profiles, ",") : NULL;
	char *popt = profiles ? jc_sprintf("-P%s", profiles) : NULL;
	jc_strv found = JC_STRV_INIT;
	int rc = 0;

	*missing = NULL;
	for (int pass = 0; pass < 2 && rc == 0; pass++) {
		const char *argv[8];
		size_t k = 0;
		jc_buf out = JC_BUF_INIT;
		jc_error cerr;
		if (pass == 1 && !e->build_depends)
			break;
		argv[k++] = "dpkg-checkbuilddeps";
		if (indep_only)
			argv[k++] = "-A";
		if (popt)
			argv[k++] = popt;
		if (pass == 1) {
			argv[k++] = "-d";
			argv[k++] = e->build_depends;
		}
		argv[k] = NULL;
		if (jc_bld_run(b, job, argv, tree, 120000, "dpkg-checkbuilddeps", &out, &cerr) < 0) {
			char *u = unmet(jc_buf_cstr(&out));
			if (u && job->last_exit == 1)
				jc_strv_push_owned(&found, u);
			else {
				free(u);
				jc_err_copy(err, &cerr);
				rc = cerr.code;
			}
		}
		jc_buf_free(&out);
	}
	if (rc == 0 && found.n)
		*missing = join((const char *const *)found.v, found.n, " ");
	jc_strv_free(&found);
	free(profiles);
	free(popt);
	return rc;
}

/* apt-get build-dep for debian/control, apt-get satisfy for the extras. */
static int install_deps(jc_builds *b, jc_bld_job *job, const char *tree, jc_error *err)
{
	const jc_build_entry *e = job->entry;
	char *profiles = e->n_profiles ? join(e->profiles, e->n_profiles, ",") : NULL;
	char *dir = jc_sprintf("%s/", tree);
	const char *argv[10];
	size_t k = 0;
	int rc;

	argv[k++] = "apt-get";
	argv[k++] = "-y";
	argv[k++] = "-q";
	argv[k++] = "--no-install-recommends";
	if (profiles) {
		argv[k++] = "-P";
		argv[k++] = profiles;
	}
	argv[k++] = "build-dep";
	argv[k++] = dir;
	argv[k] = NULL;
	rc = jc_bld_run(b, job, argv, NULL, 0, "apt-get build-dep", NULL, err);
	if (rc == 0 && e->build_depends) {
		const char *sat[] = { "apt-get", "-y", "-q", "--no-install-recommends", "satisfy", e->build_depends, NULL };
		rc = jc_bld_run(b, job, sat, NULL, 0, "apt-get satisfy", NULL, err);
	}
	free(profiles);
	free(dir);
	return rc;
}

static void deb_clear(jc_bld_deb *d)
{
	free(d->path);
	free(d->name);
	free(d->version);
	free(d->architecture);
	free(d->source);
	free(d->control);
	memset(d, 0, sizeof(*d));
}

void jc_bld_debs_free(jc_bld_deb *debs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		deb_clear(&debs[i]);
	free(debs);
}

static int control_fields(const jc_deb822_para *para, jc_error *err, void *payload)
{
	jc_bld_deb *d = payload;
	const char *src;
	(void)err;
	if (d->name)
		return 0;
	d->name = jc_strdup(jc_deb822_get(para, "Package"));
	d->version = jc_strdup(jc_deb822_get(para, "Version"));
	d->architecture = jc_strdup(jc_deb822_get(para, "Architecture"));
	src = jc_deb822_get(para, "Source");
	/* "Source: name (version)" when the binary's version differs */
	d->source = src ? jc_strndup(src, strcspn(src, " (")) : jc_strdup(d->name);
	return 0;
}

int jc_bld_deb_read(jc_builds *b, jc_bld_job *job, const char *path, jc_bld_deb *d, jc_error *err)
{
	const char *argv[] = { "dpkg-deb", "--field", path, NULL };
	jc_buf out = JC_BUF_INIT;
	int rc;

	memset(d, 0, sizeof(*d));
	d->path = jc_strdup(path);
	rc = jc_bld_run(b, job, argv, NULL, 60000, "dpkg-deb --field", &out, err);
	if (rc == 0)
		rc = jc_deb822_parse(out.data ? out.data : "", out.len, path, control_fields, d, err);
	if (rc == 0 && (!d->name || !d->version || !d->architecture))
		rc = jc_err(err, JC_EFAILED, "%s: its control file lacks Package, Version or Architecture", path);
	if (rc == 0)
		rc = jc_repo_sha256_file(d->sha256, &d->size, path, err);
	if (rc == 0) {
		/* keep the paragraph as dpkg-deb printed it, without the final newline */
		while (out.len && out.data[out.len - 1] == '\n')
			out.data[--out.len] = '\0';
		d->control = jc_buf_detach(&out);
	}
	jc_buf_free(&out);
	return rc;
}

int jc_bld_collect_debs(jc_builds *b, jc_bld_job *job, jc_error *err)
{
	DIR *dir = opendir(job->work);
	struct dirent *de;
	jc_strv names = JC_STRV_INIT;
	int rc = 0;

	if (!dir)
		return jc_err_errno(err, JC_EIO, errno, "cannot read %s", job->work);
	while ((de = readdir(dir)) != NULL)
		if (jc_str_ends(de->d_name, ".deb"))
			jc_strv_push(&names, de->d_name);
	closedir(dir);
	jc_strv_sort(&names);
	job->debs = jc_calloc(names.n + 1, sizeof(*job->debs));
	for (size_t i = 0; i < names.n && rc == 0; i++) {
		char *path = jc_path_join(job->work, names.v[i]);
		jc_bld_deb d;
		const jc_builds *cb = b;
		rc = jc_bld_deb_read(b, job, path, &d, err);
		free(path);
		if (rc < 0) {
			deb_clear(&d);
			break;
		}
		/* only what the repository carries */
		if (strcmp(d.architecture, "all") != 0 && !has_word(cb->o.architectures, cb->o.n_architectures,
								    d.architecture)) {
			jc_bld_logf(job, "not published: %s is for %s", names.v[i], d.architecture);
			deb_clear(&d);
			continue;
		}
		job->debs[job->n_debs++] = d;
	}
	if (rc == 0 && job->n_debs == 0)
		rc = jc_err(err, JC_EFAILED, "the build made no package for the repository's architectures (%zu .deb "
			    "file%s in all)", names.n, names.n == 1 ? "" : "s");
	jc_strv_free(&names);
	return rc;
}

static int new_version(jc_builds *b, jc_bld_job *job, const char *changelog_version, jc_error *err)
{
	jc_bld_version_vars vars = { changelog_version, job->commit, job->build_number, jc_wall_ms() / 1000 };
	int rc;
	(void)b;
	rc = jc_bld_version_make(&job->version, job->entry->version_format, &vars, err);
	if (rc < 0)
		return rc;
	if (job->state.built_version && jc_repo_version_compare(job->version, job->state.built_version) <= 0)
		return jc_err(err, JC_EFAILED, "version %s would not be newer than %s, built before (did "
			      "debian/changelog go back?)", job->version, job->state.built_version);
	if (jc_repo_version_compare(job->version, changelog_version) < 0)
		jc_bld_logf(job, "note: %s sorts before the changelog's %s", job->version, changelog_version);
	return 0;
}

int jc_bld_build_tree(jc_builds *b, jc_bld_job *job, const char *tree, const char *commit_text, jc_error *err)
{
	const jc_build_entry *e = job->entry;
	char *chpath = jc_path_join(tree, "debian/changelog"), *text = NULL, *source = NULL, *cl_version = NULL;
	char *dist = NULL, *entry = NULL, *missing = NULL, *profiles = NULL, *popt = NULL;
	const char *arch = NULL;
	size_t len;
	bool indep_only = false;
	int rc;

	if (!jc_path_exists(chpath)) {
		rc = jc_err(err, JC_EFAILED, "no debian/changelog in %s%s%s: not a Debian source tree", e->git ? e->git : e->package, job->commit ? " at " : "", job->commit ? job->commit : "");
		goto out;
	}
	rc = jc_file_read(chpath, &text, &len, err);
	if (rc == 0)
		rc = jc_bld_changelog_head(text, &source, &cl_version, &dist, "debian/changelog", err);
	if (rc == 0)
		rc = host_arch(b, &arch, err);
	if (rc < 0)
		goto out;
	if (e->architectures && !has_word(e->architectures, e->n_architectures, arch) &&
	    !has_word(e->architectures, e->n_architectures, "any")) {
		if (!has_word(e->architectures, e->n_architectures, "all")) {
			job->result = JC_BUILD_SKIPPED;
			rc = jc_err(err, JC_EUNSUPPORTED, "not built on %s: the entry is for %s", arch, e->architectures[0]);
			goto out;
		}
		indep_only = true;
	}
	rc = new_version(b, job, cl_version, err);
	if (rc < 0)
		goto out;
	jc_bld_logf(job, "%s %s -> %s", source, cl_version, job->version);
	entry = jc_bld_changelog_entry(source, job->version, dist, b->o.maintainer, commit_text, jc_wall_ms() / 1000);
	{
		jc_buf nb = JC_BUF_INIT;
		jc_buf_puts(&nb, entry);
		jc_buf_add(&nb, text, len);
		rc = jc_file_write_atomic(chpath, nb.data, nb.len, 0644, err);
		jc_buf_free(&nb);
	}
	if (rc == 0)
		rc = check_deps(b, job, tree, indep_only, &missing, err);
	if (rc == 0 && missing && b->o.install_build_deps) {
		jc_bld_logf(job, "installing missing build dependencies: %s", missing);
		rc = install_deps(b, job, tree, err);
		free(missing);
		missing = NULL;
		if (rc == 0)
			rc = check_deps(b, job, tree, indep_only, &missing, err);
	}
	if (rc == 0 && missing)
		rc = jc_err(err, JC_EFAILED, "missing build dependencies: %s (install them, or let jcicd do it with "
			    "build.install_build_deps: true)", missing);
	if (rc < 0)
		goto out;
	profiles = e->n_profiles ? join(e->profiles, e->n_profiles, ",") : NULL;
	popt = profiles ? jc_sprintf("-P%s", profiles) : NULL;
	{
		const char *argv[8];
		size_t k = 0;
		argv[k++] = "dpkg-buildpackage";
		argv[k++] = "-us";
		argv[k++] = "-uc";
		argv[k++] = indep_only ? "-A" : "-b";
		if (popt)
			argv[k++] = popt;
		argv[k] = NULL;
		rc = jc_bld_run(b, job, argv, tree, 0, "dpkg-buildpackage", NULL, err);
		if (rc < 0) {
			jc_err_prefix(err, "%s %s", source, job->version);
			goto out;
		}
	}
	rc = jc_bld_collect_debs(b, job, err);
out:
	free(chpath);
	free(text);
	free(source);
	free(cl_version);
	free(dist);
	free(entry);
	free(missing);
	free(profiles);
	free(popt);
	return rc;
}
