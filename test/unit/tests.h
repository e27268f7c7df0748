/* tests.h - what every unit suite shares. */
#ifndef JCICD_TESTS_H
#define JCICD_TESTS_H

#include "common.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>

/* A fresh temporary directory for one test; removed by the caller. */
static inline char *test_tmpdir(void)
{
	char tmpl[] = "/tmp/jcicd-test-XXXXXX";
	char *d = mkdtemp(tmpl);
	ck_assert_ptr_nonnull(d);
	return jc_strdup(d);
}

static inline void test_write(const char *dir, const char *name, const char *text)
{
	char *p = jc_path_join(dir, name);
	ck_assert_int_eq(jc_file_write_atomic(p, text, strlen(text), 0644, NULL), 0);
	free(p);
}

static inline char *test_path(const char *dir, const char *name)
{
	return jc_path_join(dir, name);
}

#define TEST_MAIN(suite_fn)                                   \
	int main(void)                                        \
	{                                                     \
		SRunner *sr = srunner_create(suite_fn());     \
		int failed;                                   \
		srunner_run_all(sr, CK_ENV);                  \
		failed = srunner_ntests_failed(sr);           \
		srunner_free(sr);                             \
		return failed ? EXIT_FAILURE : EXIT_SUCCESS;  \
	}

#endif
