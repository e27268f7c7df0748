/* test-store.c - opening, migrating and sharing the state database. */
#include "tests.h"

#include <sys/wait.h>

#include "store-internal.h"

static const char *const steps_v1[] = { "CREATE TABLE t (x INTEGER);" };
static const char *const steps_v2[] = { "CREATE TABLE t (x INTEGER);", "ALTER TABLE t ADD COLUMN y TEXT;" };

START_TEST(migrations_run_once_and_forward)
{
	char *d = test_tmpdir();
	jc_store *s;
	jc_error err;
	ck_assert_int_eq(jc_store_open(&s, d, NULL, &err), 0);
	ck_assert_str_eq(jc_store_dir(s), d);
	ck_assert_int_eq(jc_store_migrate(s, "mod", steps_v1, 1, &err), 0);
	ck_assert_int_eq(jc_store_migrate(s, "mod", steps_v1, 1, &err), 0);
	ck_assert_int_eq(jc_store_exec(s, "INSERT INTO t VALUES (1)", &err), 0);
	ck_assert_int_eq(jc_store_migrate(s, "mod", steps_v2, 2, &err), 0);
	ck_assert_int_eq(jc_store_exec(s, "INSERT INTO t VALUES (2, 'two')", &err), 0);
	/* an older jcicd refuses a newer database instead of guessing */
	ck_assert_int_eq(jc_store_migrate(s, "mod", steps_v1, 1, &err), JC_EUNSUPPORTED);
	ck_assert(strstr(err.message, "upgrade jcicd") != NULL);
	/* a failing step leaves the version as it was */
	static const char *const bad[] = { "CREATE TABLE u (a);", "THIS IS NOT SQL;" };
	ck_assert_int_eq(jc_store_migrate(s, "other", bad, 2, &err), JC_EIO);
	ck_assert(strstr(err.message, "migrating other schema to version 2") != NULL);
	jc_store_free(s);
	jc_rm_rf(d, NULL);
	free(d);
}
END_TEST

START_TEST(concurrent_writers_serialise)
{
	char *d = test_tmpdir();
	jc_store *s;
	jc_error err;
	ck_assert_int_eq(jc_store_open(&s, d, NULL, &err), 0);
	ck_assert_int_eq(jc_store_migrate(s, "c", steps_v1, 1, &err), 0);
	jc_store_free(s);
	/* four processes each add 50 rows in write transactions */
	for (int p = 0; p < 4; p++) {
		if (fork() == 0) {
			jc_store *cs;
			if (jc_store_open(&cs, d, NULL, NULL) < 0)
				_exit(1);
			for (int i = 0; i < 50; i++) {
				if (jc_store_begin(cs, true, NULL) < 0 ||
				    jc_store_exec(cs, "INSERT INTO t VALUES (1)", NULL) < 0 ||
				    jc_store_commit(cs, NULL) < 0)
					_exit(2);
			}
			jc_store_free(cs);
			_exit(0);
		}
	}
	for (int p = 0; p < 4; p++) {
		int status;
		wait(&status);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	ck_assert_int_eq(jc_store_open(&s, d, NULL, &err), 0);
	sqlite3_stmt *st;
	ck_assert_int_eq(jc_store_prepare(s, &st, "SELECT count(*) FROM t", &err), 0);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(st, 0), 200);
	sqlite3_finalize(st);
	jc_store_free(s);
	jc_rm_rf(d, NULL);
	free(d);
}
END_TEST

START_TEST(unwritable_dir_is_a_clear_error)
{
	jc_store *s;
	jc_error err;
	ck_assert_int_lt(jc_store_open(&s, "/proc/jcicd-cannot-be-here", NULL, &err), 0);
	ck_assert(strstr(err.message, "/proc/jcicd-cannot-be-here") != NULL);
}
END_TEST

static Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("store");
	tcase_add_test(tc, migrations_run_once_and_forward);
	tcase_add_test(tc, concurrent_writers_serialise);
	tcase_add_test(tc, unwritable_dir_is_a_clear_error);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(store_suite)
