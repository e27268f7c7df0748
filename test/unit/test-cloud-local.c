/* test-cloud-local.c - the embedded cloud: servers as processes. */
#include "tests.h"

#include <signal.h>

#include "jcicd/cloud.h"

static char *dir;

static void setup(void) { dir = test_tmpdir(); }
static void teardown(void)
{
	jc_rm_rf(dir, NULL);
	free(dir);
}

static jc_cloud *open_local(void)
{
	jc_cloud *c;
	jc_cloud_options o = JC_CLOUD_OPTIONS_INIT;
	jc_error err;
	o.state_dir = dir;
	ck_assert_int_eq(jc_cloud_open(&c, "local", &o, &err), 0);
	ck_assert_str_eq(jc_cloud_provider_name(c), "local");
	return c;
}

static jc_server_create req(const char *name, const char *role, const char *ud)
{
	jc_server_create r;
	memset(&r, 0, sizeof(r));
	r.name = name;
	r.hostname = name;
	r.tag = "t1";
	r.role = role;
	r.flavor = "small";
	r.image = "trusty";
	r.userdata = ud;
	r.userdata_len = ud ? strlen(ud) : 0;
	return r;
}

static char *wait_for_file(const char *path, int tries)
{
	char *text = NULL;
	for (int i = 0; i < tries; i++) {
		if (jc_file_read(path, &text, NULL, NULL) == 0 && strstr(text, "\n"))
			return text;
		free(text);
		text = NULL;
		jc_sleep_ms(50);
	}
	return NULL;
}

START_TEST(userdata_runs_with_its_identity)
{
	jc_cloud *c = open_local();
	jc_server_create r = req("cp1_t1", "cp", "#!/bin/sh\necho \"$JCICD_HOSTNAME $JCICD_ROLE $JCICD_TAG\"\nexec sleep 60\n");
	jc_create_result res;
	jc_server_list *l;
	jc_error err;
	ck_assert_int_eq(jc_cloud_create(c, &r, 1, &res, &err), 0);
	ck_assert_ptr_nonnull(res.id);
	ck_assert_int_eq(jc_cloud_list(c, "t1", &l, &err), 0);
	ck_assert_uint_eq(l->n, 1);
	ck_assert_int_eq(l->servers[0].status, JC_SERVER_ACTIVE);
	ck_assert_str_eq(l->servers[0].name, "cp1_t1");
	ck_assert_uint_eq(l->servers[0].n_fixed, 1);
	char *console = wait_for_file(l->servers[0].console, 100);
	ck_assert_ptr_nonnull(console);
	ck_assert_str_eq(console, "cp1_t1 cp t1\n");
	free(console);
	/* another tag sees nothing of it */
	jc_server_list *other;
	ck_assert_int_eq(jc_cloud_list(c, "t2", &other, &err), 0);
	ck_assert_uint_eq(other->n, 0);
	jc_server_list_free(other);
	/* delete stops the process tree and removes the directory */
	const char *id = res.id;
	char *sdir = jc_strndup(l->servers[0].console, strlen(l->servers[0].console) - strlen("/console.log"));
	ck_assert_int_eq(jc_cloud_delete(c, &id, 1, &err), 0);
	ck_assert(!jc_path_exists(sdir));
	jc_server_list_free(l);
	ck_assert_int_eq(jc_cloud_list(c, "t1", &l, &err), 0);
	ck_assert_uint_eq(l->n, 0);
	jc_server_list_free(l);
	free(sdir);
	jc_create_results_clear(&res, 1);
	jc_cloud_free(c);
}
END_TEST

START_TEST(duplicate_names_are_refused)
{
	jc_cloud *c = open_local();
	jc_server_create r = req("cp1_t1", "cp", NULL);
	jc_create_result res[2];
	jc_error err;
	ck_assert_int_eq(jc_cloud_create(c, &r, 1, res, &err), 0);
	ck_assert_int_eq(jc_cloud_create(c, &r, 1, res + 1, &err), JC_EEXISTS);
	ck_assert_ptr_null(res[1].id);
	ck_assert_int_eq(res[1].error.code, JC_EEXISTS);
	jc_create_results_clear(res, 2);
	jc_cloud_free(c);
}
END_TEST

START_TEST(bad_interpreter_is_an_error_server)
{
	jc_cloud *c = open_local();
	jc_server_create r = req("cp1_t1", "cp", "#!/no/such/interpreter\n");
	jc_create_result res;
	jc_server_list *l;
	jc_error err;
	ck_assert_int_eq(jc_cloud_create(c, &r, 1, &res, &err), 0);
	ck_assert_int_eq(jc_cloud_list(c, "t1", &l, &err), 0);
	ck_assert_int_eq(l->servers[0].status, JC_SERVER_ERROR);
	ck_assert(strstr(l->servers[0].fault, "No such file or directory") != NULL);
	jc_server_list_free(l);
	jc_create_results_clear(&res, 1);
	jc_cloud_free(c);
}
END_TEST

START_TEST(fault_knobs)
{
	setenv("JCICD_LOCAL_FAIL_ROLES", "ct", 1);
	setenv("JCICD_LOCAL_BUILD_MS", "400", 1);
	jc_cloud *c = open_local();
	jc_server_create r[2] = { req("cp1_t1", "cp", NULL), req("ct1_t1", "ct", NULL) };
	jc_create_result res[2];
	jc_server_list *l;
	jc_error err;
	ck_assert_int_eq(jc_cloud_create(c, r, 2, res, &err), 0);
	ck_assert_int_eq(jc_cloud_list(c, "t1", &l, &err), 0);
	const jc_server *cp = jc_server_list_find(l, "cp1_t1"), *ct = jc_server_list_find(l, "ct1_t1");
	ck_assert_int_eq(cp->status, JC_SERVER_BUILD);
	ck_assert_int_eq(ct->status, JC_SERVER_ERROR);
	ck_assert(strstr(ct->fault, "injected fault") != NULL);
	jc_server_list_free(l);
	jc_sleep_ms(450);
	ck_assert_int_eq(jc_cloud_list(c, "t1", &l, &err), 0);
	ck_assert_int_eq(jc_server_list_find(l, "cp1_t1")->status, JC_SERVER_ACTIVE);
	/* floating addresses */
	ck_assert_int_eq(jc_cloud_add_floating_ip(c, jc_server_list_find(l, "cp1_t1"), &err), 0);
	jc_server_list_free(l);
	ck_assert_int_eq(jc_cloud_list(c, "t1", &l, &err), 0);
	ck_assert_uint_eq(jc_server_list_find(l, "cp1_t1")->n_floating, 1);
	jc_server_list_free(l);
	unsetenv("JCICD_LOCAL_FAIL_ROLES");
	unsetenv("JCICD_LOCAL_BUILD_MS");
	jc_create_results_clear(res, 2);
	jc_cloud_free(c);
}
END_TEST

START_TEST(unknown_cloud_names_say_so)
{
	jc_cloud *c;
	jc_error err;
	jc_cloud_options o = JC_CLOUD_OPTIONS_INIT;
	o.state_dir = dir;
	o.version = 99;
	ck_assert_int_eq(jc_cloud_open(&c, "local", &o, &err), JC_EINVALID);
}
END_TEST

static Suite *local_suite(void)
{
	Suite *s = suite_create("cloud-local");
	TCase *tc = tcase_create("local");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, userdata_runs_with_its_identity);
	tcase_add_test(tc, duplicate_names_are_refused);
	tcase_add_test(tc, bad_interpreter_is_an_error_server);
	tcase_add_test(tc, fault_knobs);
	tcase_add_test(tc, unknown_cloud_names_say_so);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(local_suite)
