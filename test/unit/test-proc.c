/* test-proc.c - commands with deadlines, output and environment. */
#include "tests.h"

#include "proc.h"

/* Alive and not a zombie (a killed orphan waits for init to reap it). */
static bool running(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

START_TEST(exit_codes_and_output)
{
	jc_buf out = JC_BUF_INIT;
	jc_proc_options o = { 0 };
	jc_proc_result r;
	const char *env[] = { "JC_TEST_VAR=hello" };
	o.shell = "echo \"$JC_TEST_VAR\"; echo err >&2; exit 3";
	o.env = env;
	o.n_env = 1;
	o.output = &out;
	o.timeout_ms = 10000;
	ck_assert_int_eq(jc_proc_run(&o, &r, NULL), 0);
	ck_assert_int_eq(r.exit_code, 3);
	ck_assert(!r.timed_out);
	ck_assert_str_eq(out.data, "hello\nerr\n");
	jc_buf_free(&out);
}
END_TEST

START_TEST(deadline_stops_the_whole_tree)
{
	jc_buf out = JC_BUF_INIT;
	jc_proc_options o = { 0 };
	jc_proc_result r;
	char *dir = test_tmpdir();
	char *marker = jc_path_join(dir, "child.pid");
	char *cmd = jc_sprintf("sleep 60 & echo $! > %s; wait", marker);
	o.shell = cmd;
	o.timeout_ms = 300;
	o.kill_grace_ms = 200;
	o.output = &out;
	ck_assert_int_eq(jc_proc_run(&o, &r, NULL), 0);
	ck_assert(r.timed_out);
	char *text;
	ck_assert_int_eq(jc_file_read(marker, &text, NULL, NULL), 0);
	pid_t child = (pid_t)atol(text);
	free(text);
	/* the background sleep was in the group and is gone too */
	for (int i = 0; i < 50 && running(child); i++)
		jc_sleep_ms(20);
	ck_assert(!running(child));
	free(cmd);
	free(marker);
	jc_rm_rf(dir, NULL);
	free(dir);
	jc_buf_free(&out);
}
END_TEST

START_TEST(argv_cwd_log_and_missing_program)
{
	char *dir = test_tmpdir();
	char *log = jc_path_join(dir, "run.log");
	const char *argv[] = { "pwd", NULL };
	jc_proc_options o = { 0 };
	jc_proc_result r;
	o.argv = argv;
	o.cwd = dir;
	o.log_path = log;
	ck_assert_int_eq(jc_proc_run(&o, &r, NULL), 0);
	ck_assert_int_eq(r.exit_code, 0);
	char *text;
	ck_assert_int_eq(jc_file_read(log, &text, NULL, NULL), 0);
	ck_assert(strstr(text, dir) != NULL);
	free(text);
	const char *nope[] = { "/no/such/program", NULL };
	jc_buf out = JC_BUF_INIT;
	o.argv = nope;
	o.log_path = NULL;
	o.output = &out;
	ck_assert_int_eq(jc_proc_run(&o, &r, NULL), 0);
	ck_assert_int_eq(r.exit_code, 127);
	ck_assert(strstr(out.data, "cannot run /no/such/program") != NULL);
	jc_buf_free(&out);
	o.output = NULL;
	o.cwd = "/no/such/dir";
	ck_assert_int_eq(jc_proc_run(&o, &r, NULL), 0);
	ck_assert_int_eq(r.exit_code, 126);
	free(log);
	jc_rm_rf(dir, NULL);
	free(dir);
}
END_TEST

START_TEST(background_daemon_does_not_hang_us)
{
	jc_proc_options o = { 0 };
	jc_proc_result r;
	char *dir = test_tmpdir();
	char *marker = jc_path_join(dir, "daemon.pid");
	char *cmd = jc_sprintf("sleep 120 & echo $! > %s; exit 0", marker);
	/* exits at once but leaves a child holding stdout: we return while it
	 * still runs, instead of waiting for it */
	o.shell = cmd;
	ck_assert_int_eq(jc_proc_run(&o, &r, NULL), 0);
	ck_assert_int_eq(r.exit_code, 0);
	char *text;
	ck_assert_int_eq(jc_file_read(marker, &text, NULL, NULL), 0);
	pid_t daemon = (pid_t)atol(text);
	ck_assert(running(daemon));
	kill(daemon, SIGKILL);
	free(text);
	free(cmd);
	free(marker);
	jc_rm_rf(dir, NULL);
	free(dir);
}
END_TEST

START_TEST(stdin_and_output_cap)
{
	jc_buf out = JC_BUF_INIT;
	jc_proc_options o = { 0 };
	jc_proc_result r;
	o.shell = "cat; head -c 5000 /dev/zero | tr '\\0' x";
	o.stdin_text = "abc\n";
	o.output = &out;
	o.max_output = 100;
	ck_assert_int_eq(jc_proc_run(&o, &r, NULL), 0);
	ck_assert_uint_eq(out.len, 100);
	ck_assert(jc_str_ends(out.data, "xxxx"));
	jc_buf_free(&out);
}
END_TEST

static Suite *proc_suite(void)
{
	Suite *s = suite_create("proc");
	TCase *tc = tcase_create("proc");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, exit_codes_and_output);
	tcase_add_test(tc, deadline_stops_the_whole_tree);
	tcase_add_test(tc, argv_cwd_log_and_missing_program);
	tcase_add_test(tc, background_daemon_does_not_hang_us);
	tcase_add_test(tc, stdin_and_output_cap);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(proc_suite)
