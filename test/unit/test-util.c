/* test-util.c - buffers, strings, durations, errors, redaction. */
#include "tests.h"

START_TEST(buf_grows_and_formats)
{
	jc_buf b = JC_BUF_INIT;
	for (int i = 0; i < 1000; i++)
		jc_buf_printf(&b, "%d,", i);
	ck_assert_uint_eq(b.len, strlen(b.data));
	ck_assert(jc_str_starts(b.data, "0,1,2,"));
	ck_assert(jc_str_ends(b.data, "998,999,"));
	char *s = jc_buf_detach(&b);
	ck_assert_ptr_null(b.data);
	free(s);
}
END_TEST

START_TEST(strv_push_contains_sort)
{
	jc_strv v = JC_STRV_INIT;
	jc_strv_push(&v, "b");
	jc_strv_push(&v, "a");
	jc_strv_push(&v, "c");
	ck_assert(jc_strv_contains(&v, "a"));
	ck_assert(!jc_strv_contains(&v, "d"));
	jc_strv_sort(&v);
	ck_assert_str_eq(v.v[0], "a");
	ck_assert_str_eq(v.v[2], "c");
	ck_assert_ptr_null(v.v[3]);
	jc_strv_free(&v);
}
END_TEST

START_TEST(suggest_finds_typos_only)
{
	static const char *const keys[] = { "number", "flavor", "image", "networks", "assign_floating_ip" };
	ck_assert_str_eq(jc_str_suggest("flavour", keys, 5), "flavor");
	ck_assert_str_eq(jc_str_suggest("nubmer", keys, 5), "number");
	ck_assert_str_eq(jc_str_suggest("network", keys, 5), "networks");
	ck_assert_str_eq(jc_str_suggest("assign_floating", keys, 5), "assign_floating_ip");
	ck_assert_ptr_null(jc_str_suggest("zzz", keys, 5));
	ck_assert_int_eq(jc_str_distance("kitten", "sitting"), 3);
}
END_TEST

START_TEST(durations)
{
	long long ms;
	ck_assert(jc_parse_duration_ms("90", &ms) && ms == 90000);
	ck_assert(jc_parse_duration_ms("15m", &ms) && ms == 900000);
	ck_assert(jc_parse_duration_ms("2h", &ms) && ms == 7200000);
	ck_assert(jc_parse_duration_ms("250ms", &ms) && ms == 250);
	ck_assert(jc_parse_duration_ms("1.5s", &ms) && ms == 1500);
	ck_assert(!jc_parse_duration_ms("", &ms));
	ck_assert(!jc_parse_duration_ms("-1", &ms));
	ck_assert(!jc_parse_duration_ms("5 minutes", &ms));
	long n;
	ck_assert(jc_parse_long("42", &n) && n == 42);
	ck_assert(!jc_parse_long("42x", &n));
	ck_assert(!jc_parse_long("", &n));
	/* addresses, never names (a source address is bound, not resolved) */
	ck_assert(jc_is_ip_address("10.0.0.5"));
	ck_assert(jc_is_ip_address("fd00::5"));
	ck_assert(!jc_is_ip_address("eth0"));
	ck_assert(!jc_is_ip_address("localhost"));
	ck_assert(!jc_is_ip_address("10.0.0.256"));
	ck_assert(!jc_is_ip_address(""));
	ck_assert(!jc_is_ip_address(NULL));
}
END_TEST

START_TEST(error_format_places)
{
	jc_error err;
	char buf[2048];
	jc_err_at(&err, JC_EINVALID, "spec.yaml", 3, 7, "unknown key \"flavour\"");
	ck_assert_str_eq(jc_error_format(&err, buf, sizeof(buf)), "spec.yaml:3:7: unknown key \"flavour\"");
	ck_assert_int_eq(jc_error_exit_status(err.code), 2);
	jc_err_http(&err, JC_EHTTP, "http://nova/v2.1/servers", 500, "req-1234", "POST refused: boom");
	ck_assert_str_eq(jc_error_format(&err, buf, sizeof(buf)),
			 "POST refused: boom (HTTP 500 from http://nova/v2.1/servers, request id req-1234)");
	ck_assert_int_eq(jc_error_exit_status(JC_EUNREACHABLE), 3);
	ck_assert_int_eq(jc_error_exit_status(JC_EAUTH), 3);
	ck_assert_int_eq(jc_error_exit_status(JC_EFAILED), 1);
	ck_assert_int_eq(jc_error_exit_status(JC_OK), 0);
	jc_err(&err, JC_ENOTFOUND, "no such thing");
	jc_err_prefix(&err, "looking up %s", "x");
	ck_assert_str_eq(err.message, "looking up x: no such thing");
	ck_assert_str_eq(jc_strerror(JC_ETIMEOUT), "timed out");
	/* NULL error pointers are allowed everywhere */
	ck_assert_int_eq(jc_err(NULL, JC_EIO, "x"), JC_EIO);
}
END_TEST

START_TEST(secrets_never_reach_messages)
{
	jc_error err;
	jc_secret_register("s3cr3t-token-value");
	jc_err(&err, JC_EAUTH, "token s3cr3t-token-value was refused");
	ck_assert_str_eq(err.message, "token *** was refused");
	char line[64] = "a s3cr3t-token-value b s3cr3t-token-value";
	jc_redact(line, sizeof(line));
	ck_assert_str_eq(line, "a *** b ***");
}
END_TEST

static int n_lines;
static char last[256];
static void capture(const jc_log_event *ev, void *payload)
{
	(void)payload;
	if (ev->kind == JC_LOG_LINE) {
		n_lines++;
		snprintf(last, sizeof(last), "%s", ev->message);
	}
}

START_TEST(logger_levels_and_redaction)
{
	jc_logger log = { capture, JC_LOG_INFO, NULL };
	n_lines = 0;
	jc_log(&log, JC_LOG_DEBUG, "t", "hidden");
	ck_assert_int_eq(n_lines, 0);
	jc_secret_register("hunter2-password");
	jc_log(&log, JC_LOG_INFO, "t", "password=%s", "hunter2-password");
	ck_assert_int_eq(n_lines, 1);
	ck_assert_str_eq(last, "password=***");
	jc_log(NULL, JC_LOG_ERROR, "t", "no logger is fine");
}
END_TEST

START_TEST(files_atomic_write_and_rm)
{
	char *d = test_tmpdir();
	char *sub = jc_sprintf("%s/a/b/c", d);
	char *f = jc_sprintf("%s/file", sub);
	char *text;
	size_t len;
	jc_error err;
	ck_assert_int_eq(jc_mkdir_p(sub, 0755, &err), 0);
	ck_assert_int_eq(jc_file_write_atomic(f, "hello", 5, 0600, &err), 0);
	ck_assert_int_eq(jc_file_read(f, &text, &len, &err), 0);
	ck_assert_uint_eq(len, 5);
	ck_assert_str_eq(text, "hello");
	free(text);
	ck_assert_int_eq(jc_file_read("/nonexistent/x", &text, &len, &err), JC_ENOTFOUND);
	ck_assert_int_eq(jc_rm_rf(d, &err), 0);
	ck_assert(!jc_path_exists(d));
	free(f);
	free(sub);
	free(d);
}
END_TEST

START_TEST(state_dir_resolution)
{
	char *s;
	s = jc_state_dir_resolve("/explicit");
	ck_assert_str_eq(s, "/explicit");
	free(s);
	setenv("JCICD_STATE_DIR", "/from-env", 1);
	s = jc_state_dir_resolve(NULL);
	ck_assert_str_eq(s, "/from-env");
	free(s);
	unsetenv("JCICD_STATE_DIR");
	setenv("XDG_STATE_HOME", "/xdg", 1);
	s = jc_state_dir_resolve(NULL);
	ck_assert_str_eq(s, "/xdg/jcicd");
	free(s);
}
END_TEST

static Suite *util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("util");
	tcase_add_test(tc, buf_grows_and_formats);
	tcase_add_test(tc, strv_push_contains_sort);
	tcase_add_test(tc, suggest_finds_typos_only);
	tcase_add_test(tc, durations);
	tcase_add_test(tc, error_format_places);
	tcase_add_test(tc, secrets_never_reach_messages);
	tcase_add_test(tc, logger_levels_and_redaction);
	tcase_add_test(tc, files_atomic_write_and_rm);
	tcase_add_test(tc, state_dir_resolution);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(util_suite)
