/* test-build.c - the build module's pure parts: the sources parser (the
 * `build` section and sources.yaml, errors at file:line:col with "did you
 * mean"), the version scheme (it orders every build after the previous
 * one), changelog heads and entries, names.  Builds with real git and
 * dpkg-buildpackage are in test/build/. */
#include "tests.h"

#include "build-internal.h"
#include "jcicd/build.h"
#include "jcicd/config.h"
#include "jcicd/repo.h"

/* Loads a jcicd.yaml written into a fresh directory. */
static int load_text(const char *text, jc_config **cfg, jc_build_config **bc, jc_error *err, char **dir_out)
{
	char *dir = test_tmpdir(), *path = test_path(dir, "jcicd.yaml");
	int rc;
	test_write(dir, "jcicd.yaml", text);
	*bc = NULL;
	rc = jc_config_load(cfg, path, err);
	if (rc == 0)
		rc = jc_build_config_load(bc, *cfg, err);
	free(path);
	*dir_out = dir;
	return rc;
}

static void cleanup(jc_config *cfg, jc_build_config *bc, char *dir)
{
	jc_build_config_free(bc);
	jc_config_free(cfg);
	jc_rm_rf(dir, NULL);
	free(dir);
}

START_TEST(section_with_every_kind)
{
	jc_config *cfg = NULL;
	jc_build_config *bc = NULL;
	jc_error err;
	char *dir, *want;
	const jc_build_options *o;
	int rc = load_text("build:\n"
			   "  repository: {path: repo, suite: sid, component: contrib, architectures: [amd64, arm64]}\n"
			   "  max_parallel: 3\n"
			   "  timeout: 20m\n"
			   "  install_build_deps: yes\n"
			   "  jitter: 20%\n"
			   "  sources:\n"
			   "    - git: src/Hello.git\n"
			   "      branch: main\n"
			   "      profiles: nocheck nodoc\n"
			   "      build_depends: \"libfoo-dev (>= 2)\"\n"
			   "      timeout: 90s\n"
			   "    - name: tool\n"
			   "      git: https://git.example.org/tool.git\n"
			   "      packaging: {git: git@example.org:tool-debian.git, branch: debian}\n"
			   "      architectures: [amd64]\n"
			   "      version: \"{upstream}~{date}.{build}-1\"\n"
			   "    - apt: {url: http://deb.example.org/debian, suite: bookworm}\n"
			   "      source: jq\n"
			   "      pin: \"1.6*\"\n"
			   "    - name: etcd\n"
			   "      apt: {path: mirror, codename: bookworm, component: main}\n"
			   "      binary: etcd-server\n",
			   &cfg, &bc, &err, &dir);
	ck_assert_msg(rc == 0, "%s", err.message);
	o = jc_build_config_options(bc);
	want = jc_path_join(dir, "repo");
	ck_assert_str_eq(o->repo_dir, want);
	free(want);
	ck_assert_str_eq(o->suite, "sid");
	ck_assert_str_eq(o->component, "contrib");
	ck_assert_uint_eq(o->n_architectures, 2);
	ck_assert_str_eq(o->architectures[1], "arm64");
	ck_assert_int_eq(o->max_parallel, 3);
	ck_assert_int_eq(o->timeout_ms, 20 * 60000);
	ck_assert(o->install_build_deps);
	ck_assert_int_eq(o->jitter_percent, 20);
	ck_assert_uint_eq(o->n_entries, 4);

	ck_assert_int_eq(o->entries[0].kind, JC_BUILD_GIT);
	ck_assert_str_eq(o->entries[0].name, "hello");   /* from the path, lower-cased, no .git */
	want = jc_path_join(dir, "src/Hello.git");
	ck_assert_str_eq(o->entries[0].git, want);        /* a path: made absolute */
	free(want);
	ck_assert_str_eq(o->entries[0].branch, "main");
	ck_assert_uint_eq(o->entries[0].n_profiles, 2);
	ck_assert_str_eq(o->entries[0].profiles[1], "nodoc");
	ck_assert_str_eq(o->entries[0].build_depends, "libfoo-dev (>= 2)");
	ck_assert_int_eq(o->entries[0].timeout_ms, 90000);
	ck_assert_int_eq(o->entries[0].line, 8);

	ck_assert_str_eq(o->entries[1].git, "https://git.example.org/tool.git");   /* a URL: as written */
	ck_assert_str_eq(o->entries[1].packaging_git, "git@example.org:tool-debian.git");
	ck_assert_str_eq(o->entries[1].packaging_branch, "debian");
	ck_assert_str_eq(o->entries[1].version_format, "{upstream}~{date}.{build}-1");

	ck_assert_int_eq(o->entries[2].kind, JC_BUILD_APT_SOURCE);
	ck_assert_str_eq(o->entries[2].name, "jq");
	ck_assert_str_eq(o->entries[2].apt_url, "http://deb.example.org/debian");
	ck_assert_str_eq(o->entries[2].pin, "1.6*");

	ck_assert_int_eq(o->entries[3].kind, JC_BUILD_APT_BINARY);
	ck_assert_str_eq(o->entries[3].apt_suite, "bookworm");
	want = jc_path_join(dir, "mirror");
	ck_assert_str_eq(o->entries[3].apt_path, want);
	free(want);
	cleanup(cfg, bc, dir);
}
END_TEST

START_TEST(sources_in_their_own_file)
{
	jc_config *cfg = NULL;
	jc_build_config *bc = NULL;
	jc_error err;
	char *dir, *sub, *want, *other;
	const jc_build_options *o;
	int rc;

	dir = test_tmpdir();
	sub = test_path(dir, "conf");
	ck_assert_int_eq(jc_mkdir_p(sub, 0755, NULL), 0);
	test_write(sub, "sources.yaml", "sources:\n  - {name: a, git: ../src/a}\n");
	test_write(dir, "jcicd.yaml", "build:\n  repository: {path: r}\n  sources: conf/sources.yaml\n");
	want = test_path(dir, "jcicd.yaml");
	ck_assert_int_eq(jc_config_load(&cfg, want, &err), 0);
	free(want);
	rc = jc_build_config_load(&bc, cfg, &err);
	ck_assert_msg(rc == 0, "%s", err.message);
	o = jc_build_config_options(bc);
	ck_assert_uint_eq(o->n_entries, 1);
	/* relative to the sources file, not to jcicd.yaml */
	ck_assert(jc_str_ends(o->entries[0].git, "/conf/../src/a"));

	/* --sources replaces the list */
	other = test_path(dir, "other.yaml");
	test_write(dir, "other.yaml", "sources:\n  - {name: b, git: https://x/b.git}\n  - {name: c, git: /abs/c}\n");
	ck_assert_int_eq(jc_build_config_load_sources(bc, other, &err), 0);
	o = jc_build_config_options(bc);
	ck_assert_uint_eq(o->n_entries, 2);
	ck_assert_str_eq(o->entries[1].git, "/abs/c");
	ck_assert_int_eq(jc_build_config_load_sources(bc, "/nonexistent/s.yaml", &err), JC_EINVALID);
	ck_assert_msg(strstr(err.message, "/nonexistent/s.yaml") || jc_str_ends(err.file, "/nonexistent/s.yaml"), "%s", err.message);
	/* a bad file leaves the list as it was */
	test_write(dir, "bad.yaml", "sources:\n  - {name: d, git: /d}\n  - {name: e, git: /e, brnach: x}\n");
	free(other);
	other = test_path(dir, "bad.yaml");
	ck_assert_int_eq(jc_build_config_load_sources(bc, other, &err), JC_EINVALID);
	ck_assert_int_eq(err.line, 3);
	o = jc_build_config_options(bc);
	ck_assert_uint_eq(o->n_entries, 2);
	ck_assert_str_eq(o->entries[0].name, "b");
	ck_assert_str_eq(o->entries[1].git, "/abs/c");
	free(other);
	free(sub);
	cleanup(cfg, bc, dir);
}
END_TEST

/* Each bad file: the error's line, column and a piece of its message. */
static const struct bad {
	const char *yaml;
	int line, col;
	const char *msg;
} bad_cases[] = {
	{ "build:\n  sources:\n    - git: x\n      brnach: main\n", 4, 7, "did you mean \"branch\"" },
	{ "build:\n  repositry: {path: r}\n", 2, 3, "did you mean \"repository\"" },
	{ "build:\n  sources:\n    - name: a\n", 3, 7, "exactly one of git" },
	{ "build:\n  sources:\n    - {git: x, apt: {url: http://h, suite: s}, source: y}\n", 3, 7, "exactly one of git" },
	{ "build:\n  sources:\n    - apt: {url: http://h, suite: s}\n", 3, 7, "exactly one of source" },
	{ "build:\n  sources:\n    - apt: {url: ftp://h, suite: s}\n      binary: b\n", 3, 18, "http:// or https://" },
	{ "build:\n  sources:\n    - apt: {url: http://h}\n      binary: b\n", 3, 12, "needs a suite" },
	{ "build:\n  sources:\n    - {git: x, timeout: soon}\n", 3, 25, "duration" },
	{ "build:\n  sources:\n    - {git: x, version: \"{version}+{sha}\"}\n", 3, 25, "unknown placeholder {sha}" },
	{ "build:\n  sources:\n    - {git: x, version: \"{version}+git{short}\"}\n", 3, 25, "no {build}" },
	{ "build:\n  sources:\n    - {git: a/x}\n    - {git: b/x}\n", 4, 7, "a second build source named x" },
	{ "build:\n  sources:\n    - {git: x, name: Bad_Name}\n", 3, 22, "not a usable entry name" },
	{ "build:\n  sources:\n    - {git: x, source: y}\n", 3, 24, "go with apt" },
	{ "build:\n  sources:\n    - {git: x, architectures: {a: b}}\n", 3, 31, "must be a list" },
	{ "build:\n  sources:\n    - {apt: {path: p, suite: s}, binary: b, profiles: [x]}\n", 3, 55, "no meaning" },
	{ "build:\n  max_parallel: 0\n", 2, 17, "build.max_parallel" },
	{ "build:\n  repository: {suite: s}\n", 2, 15, "needs a path" },
	{ "build:\n  sources: nofile.yaml\n", 2, 12, "no sources file" },
	{ "build:\n  sources: {git: x}\n", 2, 12, "must be a list" },
};

START_TEST(bad_files_point_at_the_place)
{
	const struct bad *c = &bad_cases[_i];
	jc_config *cfg = NULL;
	jc_build_config *bc = NULL;
	jc_error err;
	char *dir;
	int rc = load_text(c->yaml, &cfg, &bc, &err, &dir);
	ck_assert_msg(rc == JC_EINVALID || rc == JC_EPARSE, "case %d: rc %d", _i, rc);
	ck_assert_msg(err.line == c->line && err.column == c->col, "case %d: %d:%d (wanted %d:%d): %s", _i, err.line,
		      err.column, c->line, c->col, err.message);
	ck_assert_msg(strstr(err.message, c->msg), "case %d: \"%s\" lacks \"%s\"", _i, err.message, c->msg);
	ck_assert(jc_str_ends(err.file, "jcicd.yaml"));
	ck_assert(bc == NULL);
	cleanup(cfg, bc, dir);
}
END_TEST

START_TEST(version_scheme_orders_builds)
{
	jc_bld_version_vars v = { "1.0-1", "0123456789abcdef0123456789abcdef01234567", 1, 1764000000 };
	char *a, *b, *c, *d;
	jc_error err;
	/* 1764000000 = 2025-11-24T16:00:00Z */
	ck_assert_int_eq(jc_bld_version_make(&a, JC_BUILD_VERSION_FORMAT_GIT, &v, &err), 0);
	ck_assert_str_eq(a, "1.0-1+git20251124.1.0123456");
	ck_assert(jc_repo_version_compare(a, "1.0-1") > 0);
	/* the next build the same day, of an older commit (a revert): still newer */
	v.build = 2;
	v.commit = "ffffffffffffffffffffffffffffffffffffffff";
	ck_assert_int_eq(jc_bld_version_make(&b, JC_BUILD_VERSION_FORMAT_GIT, &v, &err), 0);
	ck_assert(jc_repo_version_compare(b, a) > 0);
	/* build 10 after build 9 (numbers, not strings) */
	v.build = 9;
	ck_assert_int_eq(jc_bld_version_make(&c, JC_BUILD_VERSION_FORMAT_GIT, &v, &err), 0);
	v.build = 10;
	v.commit = "0000000000000000000000000000000000000000";
	ck_assert_int_eq(jc_bld_version_make(&d, JC_BUILD_VERSION_FORMAT_GIT, &v, &err), 0);
	ck_assert(jc_repo_version_compare(d, c) > 0);
	free(c);
	free(d);
	/* a new day with a smaller counter is newer too (the date comes first) */
	v.build = 3;
	v.when += 86400;
	ck_assert_int_eq(jc_bld_version_make(&c, JC_BUILD_VERSION_FORMAT_GIT, &v, &err), 0);
	ck_assert(jc_repo_version_compare(c, b) > 0);
	/* a new release in debian/changelog beats every build of the old one */
	v.version = "1.1-1";
	v.build = 4;
	ck_assert_int_eq(jc_bld_version_make(&d, JC_BUILD_VERSION_FORMAT_GIT, &v, &err), 0);
	ck_assert(jc_repo_version_compare(d, c) > 0);
	free(a);
	free(b);
	free(c);
	free(d);

	/* the other placeholders; epochs survive */
	v.version = "2:3.4~rc1-0ubuntu2";
	v.build = 7;
	ck_assert_int_eq(jc_bld_version_make(&a, "{upstream}+{date}T{time}.{build}-{revision}", &v, &err), 0);
	ck_assert_str_eq(a, "3.4~rc1+20251125T160000.7-0ubuntu2");
	free(a);
	ck_assert_int_eq(jc_bld_version_make(&a, JC_BUILD_VERSION_FORMAT_APT, &v, &err), 0);
	ck_assert_str_eq(a, "2:3.4~rc1-0ubuntu2+jcicd7");
	ck_assert(jc_repo_version_compare(a, "2:3.4~rc1-0ubuntu2") > 0);
	free(a);
	v.commit = NULL;
	ck_assert_int_eq(jc_bld_version_make(&a, "{version}.{build}{short}", &v, &err), 0);
	ck_assert_str_eq(a, "2:3.4~rc1-0ubuntu2.7");
	free(a);

	/* formats that cannot work */
	ck_assert_int_eq(jc_bld_version_make(&a, "{version}+{bulid}", &v, &err), JC_EINVALID);
	ck_assert_ptr_nonnull(strstr(err.message, "did you mean {build}?"));
	ck_assert_int_eq(jc_bld_version_make(&a, "git{build}", &v, &err), JC_EINVALID);
	ck_assert_ptr_nonnull(strstr(err.message, "not a Debian version"));
	ck_assert_int_eq(jc_bld_version_make(&a, "{version} {build}", &v, &err), JC_EINVALID);
	ck_assert_int_eq(jc_bld_version_format_check("{version}+{build", &err), JC_EINVALID);
	ck_assert_int_eq(jc_bld_version_format_check("{version}}+{build}", &err), JC_EINVALID);
	ck_assert_ptr_null(a);
}
END_TEST

/* jc_repo_version_compare must agree with `dpkg --compare-versions`: the
 * build repository, snapshots and apt-get all order what jcicd builds.
 * Each row is "a op b" as dpkg answers it (checked with dpkg 1.21). */
static const struct vcmp {
	const char *a;
	int sign;       /* of compare(a, b) */
	const char *b;
} vcmp_cases[] = {
	{ "1.0", 0, "1.0" },
	{ "1.0", 0, "0:1.0" },
	{ "1.0", 0, "1.0-0" },               /* no revision is revision 0 */
	{ "1.0-1", 1, "1.0" },
	{ "1.0~rc1", -1, "1.0" },            /* ~ before everything, even the end */
	{ "1.0~~", -1, "1.0~" },
	{ "1.0~rc1", -1, "1.0~rc2" },
	{ "1.0+git1", 1, "1.0" },
	{ "1.0+git20251124.1.abc", -1, "1.0+git20251124.2.abc" },
	{ "1.0+git20251124.9.fff", -1, "1.0+git20251124.10.000" },  /* numbers, not strings */
	{ "1.0+git20251124.9.fff", -1, "1.0+git20251125.1.000" },
	{ "1.0-1+git20261125.1.a81c998", 1, "1.0-1" },
	{ "1.0-1+git20261125.1.a81c998", -1, "1.0-2" },
	{ "1.0+git20261125.1.a81c998", -1, "1.1" },
	{ "1:0.1", 1, "2.0" },               /* the epoch first */
	{ "1.0a", 1, "1.0" },
	{ "1.0a", -1, "1.0+" },              /* letters before non-letters */
	{ "1.0.", 1, "1.0" },
	{ "1.0-1", -1, "1.0-1.1" },
	{ "1.2.3", -1, "1.10" },
	{ "001", 0, "1" },
	{ "1.0-0ubuntu2", 1, "1.0-0ubuntu1" },
	{ "2:3.4~rc1-0ubuntu2+jcicd7", 1, "2:3.4~rc1-0ubuntu2" },
	{ "2:3.4~rc1-0ubuntu2+jcicd10", 1, "2:3.4~rc1-0ubuntu2+jcicd9" },
};

START_TEST(versions_order_like_dpkg)
{
	const struct vcmp *c = &vcmp_cases[_i];
	int got = jc_repo_version_compare(c->a, c->b), back = jc_repo_version_compare(c->b, c->a);
	got = got < 0 ? -1 : got > 0;
	back = back < 0 ? -1 : back > 0;
	ck_assert_msg(got == c->sign, "%s vs %s: %d, dpkg says %d", c->a, c->b, got, c->sign);
	ck_assert_msg(back == -c->sign, "%s vs %s: %d, dpkg says %d", c->b, c->a, back, -c->sign);
}
END_TEST

START_TEST(versions_valid)
{
	static const char *const good[] = { "1", "1.0", "1.0-1", "2:1.0-1", "1.0~rc1+git.1-0ubuntu1", "1-2-3",
					    "0:0", "9.9+dfsg.1-1~bpo12+1" };
	static const char *const bad[] = { "", "a1", "1.0-", ":1", "x:1", "1_0", "1.0-a_b", "1 0", "-1",
					   "1:-1" };
	for (size_t i = 0; i < JC_ARRAY_LEN(good); i++)
		ck_assert_msg(jc_bld_version_valid(good[i]), "%s", good[i]);
	for (size_t i = 0; i < JC_ARRAY_LEN(bad); i++)
		ck_assert_msg(!jc_bld_version_valid(bad[i]), "%s", bad[i]);
}
END_TEST

START_TEST(changelogs)
{
	char *src, *ver, *dist, *entry;
	jc_error err;
	ck_assert_int_eq(jc_bld_changelog_head("hello (1.0-1) unstable experimental; urgency=low\n\n  * x\n",
					       &src, &ver, &dist, "c", &err), 0);
	ck_assert_str_eq(src, "hello");
	ck_assert_str_eq(ver, "1.0-1");
	ck_assert_str_eq(dist, "unstable");
	free(src);
	free(ver);
	free(dist);
	ck_assert_int_eq(jc_bld_changelog_head("\nfoo (2:1~a) UNRELEASED;urgency=high\n", &src, &ver, &dist, "c", &err), 0);
	ck_assert_str_eq(ver, "2:1~a");
	ck_assert_str_eq(dist, "UNRELEASED");
	free(src);
	free(ver);
	free(dist);
	ck_assert_int_eq(jc_bld_changelog_head("hello 1.0 unstable\n", &src, &ver, &dist, "debian/changelog", &err),
			 JC_EPARSE);
	ck_assert_str_eq(err.file, "debian/changelog");
	ck_assert_int_eq(err.line, 1);
	ck_assert_int_eq(jc_bld_changelog_head("hello (1.0 unstable\n", &src, &ver, &dist, "c", &err), JC_EPARSE);
	ck_assert_int_eq(jc_bld_changelog_head("hello (one) unstable\n", &src, &ver, &dist, "c", &err), JC_EPARSE);
	ck_assert_ptr_nonnull(strstr(err.message, "not a Debian version"));
	ck_assert_int_eq(jc_bld_changelog_head("", &src, &ver, &dist, "c", &err), JC_EPARSE);

	/* 1764000000 is a Monday; the date is RFC 5322 whatever the locale */
	entry = jc_bld_changelog_entry("hello", "1.0+git1", "unstable", "J <j@x>", "Built.", 1764000000);
	ck_assert_str_eq(entry, "hello (1.0+git1) unstable; urgency=medium\n\n  * Built.\n\n"
			 " -- J <j@x>  Mon, 24 Nov 2025 16:00:00 +0000\n\n");
	/* and it reads back */
	ck_assert_int_eq(jc_bld_changelog_head(entry, &src, &ver, &dist, "c", &err), 0);
	ck_assert_str_eq(ver, "1.0+git1");
	free(src);
	free(ver);
	free(dist);
	free(entry);
}
END_TEST

START_TEST(names_and_locations)
{
	char *p;
	ck_assert(jc_bld_name_ok("hello-jcicd"));
	ck_assert(jc_bld_name_ok("0ad"));
	ck_assert(jc_bld_name_ok("libc6.1+x_y"));
	ck_assert(!jc_bld_name_ok(""));
	ck_assert(!jc_bld_name_ok("Hello"));
	ck_assert(!jc_bld_name_ok("-x"));
	ck_assert(!jc_bld_name_ok("a/b"));
	ck_assert(!jc_bld_name_ok("../x"));
	ck_assert(jc_bld_git_is_url("https://h/x.git"));
	ck_assert(jc_bld_git_is_url("file:///srv/x"));
	ck_assert(jc_bld_git_is_url("git@github.com:o/x.git"));
	ck_assert(jc_bld_git_is_url("host:x"));
	ck_assert(!jc_bld_git_is_url("/srv/git/x"));
	ck_assert(!jc_bld_git_is_url("state/src/x"));
	ck_assert(!jc_bld_git_is_url("./a:b"));
	p = jc_bld_pool_prefix("hello");
	ck_assert_str_eq(p, "h");
	free(p);
	p = jc_bld_pool_prefix("libfoo");
	ck_assert_str_eq(p, "libf");
	free(p);
	p = jc_bld_pool_prefix("lib");
	ck_assert_str_eq(p, "l");
	free(p);
}
END_TEST

START_TEST(open_checks_options)
{
	jc_build_options o = JC_BUILD_OPTIONS_INIT;
	jc_build_entry e[2];
	jc_builds *b = NULL;
	jc_error err;
	char *dir = test_tmpdir();
	jc_build_poll_result r;

	memset(e, 0, sizeof(e));
	o.state_dir = dir;
	o.version = 99;
	ck_assert_int_eq(jc_build_open(&b, &o, &err), JC_EINVALID);
	o.version = JC_BUILD_OPTIONS_VERSION;
	e[0].name = "a";
	e[0].kind = JC_BUILD_GIT;
	e[1] = e[0];
	e[1].git = e[0].git = "/x";
	o.entries = e;
	o.n_entries = 2;
	ck_assert_int_eq(jc_build_open(&b, &o, &err), JC_EINVALID);
	ck_assert_ptr_nonnull(strstr(err.message, "two build sources are named a"));
	e[1].name = "b";
	e[1].version_format = "{version}";
	ck_assert_int_eq(jc_build_open(&b, &o, &err), JC_EINVALID);
	e[1].version_format = NULL;
	e[1].kind = JC_BUILD_APT_BINARY;
	ck_assert_int_eq(jc_build_open(&b, &o, &err), JC_EINVALID);
	e[1].kind = JC_BUILD_GIT;
	ck_assert_int_eq(jc_build_open(&b, &o, &err), 0);
	/* no repository: nothing to publish into */
	ck_assert_int_eq(jc_build_poll(&r, b, &err), JC_EINVALID);
	ck_assert_ptr_nonnull(strstr(err.message, "build.repository.path"));
	jc_build_poll_result_clear(&r);
	jc_build_free(b);

	/* an unknown entry name is refused before anything runs */
	o.repo_dir = dir;
	ck_assert_int_eq(jc_build_open(&b, &o, &err), 0);
	{
		const char *names[] = { "b", "aa" };
		ck_assert_int_eq(jc_build_run(&r, b, names, 2, &err), JC_EINVALID);
		ck_assert_ptr_nonnull(strstr(err.message, "no build source named aa (did you mean a?)"));
		jc_build_poll_result_clear(&r);
	}
	jc_build_free(b);
	jc_rm_rf(dir, NULL);
	free(dir);
}
END_TEST

static Suite *build_suite(void)
{
	Suite *s = suite_create("build");
	TCase *t = tcase_create("build");
	tcase_add_test(t, section_with_every_kind);
	tcase_add_test(t, sources_in_their_own_file);
	tcase_add_loop_test(t, bad_files_point_at_the_place, 0, (int)JC_ARRAY_LEN(bad_cases));
	tcase_add_test(t, version_scheme_orders_builds);
	tcase_add_loop_test(t, versions_order_like_dpkg, 0, (int)JC_ARRAY_LEN(vcmp_cases));
	tcase_add_test(t, versions_valid);
	tcase_add_test(t, changelogs);
	tcase_add_test(t, names_and_locations);
	tcase_add_test(t, open_checks_options);
	suite_add_tcase(s, t);
	return s;
}

TEST_MAIN(build_suite)
