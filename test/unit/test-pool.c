/* test-pool.c - the content-addressed pool: put, adopt, link, sweep. */
#include "tests.h"

#include <sys/stat.h>

#include "pool-internal.h"

START_TEST(put_adopt_and_link)
{
	char *d = test_tmpdir(), *path, *tmp, *dest;
	char sha[JC_SHA256_HEX_SIZE], sha2[JC_SHA256_HEX_SIZE];
	jc_pool *p;
	struct stat a, b;
	bool copied = true;
	jc_error err;

	ck_assert_int_eq(jc_pool_open(&p, d, &err), 0);
	ck_assert_int_eq(jc_pool_put(p, "abc", 3, sha, &err), 0);
	ck_assert_str_eq(sha, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	ck_assert(jc_pool_has(p, sha));
	path = jc_pool_path(p, sha);
	ck_assert(strstr(path, "/pool/sha256/ba/ba7816bf") != NULL);
	/* putting it again changes nothing (and never rewrites the inode) */
	ck_assert_int_eq(stat(path, &a), 0);
	ck_assert_int_eq(jc_pool_put(p, "abc", 3, sha2, &err), 0);
	ck_assert_int_eq(stat(path, &b), 0);
	ck_assert_int_eq(a.st_ino, b.st_ino);

	/* adopting a verified temporary file that is already there drops it */
	tmp = jc_pool_temp_name(p, "x/y z");
	ck_assert(strstr(tmp, "x_y_z") != NULL);
	ck_assert_int_eq(jc_file_write_atomic(tmp, "abc", 3, 0644, &err), 0);
	ck_assert_int_eq(jc_pool_adopt(p, tmp, sha, &err), 0);
	ck_assert(!jc_path_exists(tmp));
	ck_assert_int_eq(jc_pool_adopt(p, tmp, "nothex", &err), JC_EINVALID);

	/* a link shares the inode; a second link to the same place says so */
	dest = test_path(d, "published.deb");
	ck_assert_int_eq(jc_pool_link(p, sha, dest, &copied, &err), 0);
	ck_assert(!copied);
	ck_assert_int_eq(stat(dest, &b), 0);
	ck_assert_int_eq(a.st_ino, b.st_ino);
	ck_assert_int_eq(jc_pool_link(p, sha, dest, NULL, &err), JC_EEXISTS);
	free(dest);
	dest = test_path(d, "other.deb");
	ck_assert_int_eq(jc_pool_link(p, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", dest,
				      NULL, &err), JC_ENOTFOUND);

	ck_assert_int_eq(jc_pool_sync(p, &err), 0);
	jc_pool_free(p);
	jc_rm_rf(d, NULL);
	free(path);
	free(tmp);
	free(dest);
	free(d);
}
END_TEST

static int keep_abc(const char *sha, bool *keep, jc_error *err, void *payload)
{
	int *asked = payload;
	(void)err;
	(*asked)++;
	*keep = strcmp(sha, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0;
	return 0;
}

START_TEST(sweep_removes_what_nothing_keeps)
{
	char *d = test_tmpdir(), *stray, *tmp;
	char sha[JC_SHA256_HEX_SIZE];
	jc_pool *p;
	long removed;
	long long bytes;
	int asked = 0;
	jc_error err;

	ck_assert_int_eq(jc_pool_open(&p, d, &err), 0);
	ck_assert_int_eq(jc_pool_put(p, "abc", 3, sha, &err), 0);
	for (int i = 0; i < 50; i++) {
		char text[32];
		snprintf(text, sizeof(text), "file %d", i);
		ck_assert_int_eq(jc_pool_put(p, text, strlen(text), sha, &err), 0);
	}
	/* a file that is not named by a hash is not the pool's: it goes */
	stray = jc_sprintf("%s/pool/sha256/ba/junk", d);
	ck_assert_int_eq(jc_file_write_atomic(stray, "x", 1, 0644, &err), 0);
	ck_assert_int_eq(jc_pool_sweep(p, keep_abc, &asked, &removed, &bytes, &err), 0);
	ck_assert_int_eq(asked, 51);
	ck_assert_int_eq(removed, 51);
	ck_assert(bytes >= 50 * 6);
	ck_assert(jc_pool_has(p, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
	ck_assert(!jc_path_exists(stray));

	/* temporary files of an interrupted writer are cleaned */
	tmp = jc_pool_temp_name(p, "partial");
	ck_assert_int_eq(jc_file_write_atomic(tmp, "part", 4, 0644, &err), 0);
	ck_assert_int_eq(jc_pool_clean_temp(p, &err), 0);
	ck_assert(!jc_path_exists(tmp));
	jc_pool_free(p);
	jc_rm_rf(d, NULL);
	free(stray);
	free(tmp);
	free(d);
}
END_TEST

static Suite *pool_suite(void)
{
	Suite *s = suite_create("pool");
	TCase *t = tcase_create("pool");
	tcase_add_test(t, put_adopt_and_link);
	tcase_add_test(t, sweep_removes_what_nothing_keeps);
	suite_add_tcase(s, t);
	return s;
}

TEST_MAIN(pool_suite)
