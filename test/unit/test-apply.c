/* test-apply.c - plan, apply, retries, deadlines, delete and ssh-config on
 * the local cloud. */
#include "tests.h"

#include "jcicd/apply.h"

static char *dir;
static jc_cloud *cloud;

static void setup(void)
{
	jc_cloud_options o = JC_CLOUD_OPTIONS_INIT;
	dir = test_tmpdir();
	o.state_dir = dir;
	ck_assert_int_eq(jc_cloud_open(&cloud, "local", &o, NULL), 0);
}

static void teardown(void)
{
	jc_stack_delete(cloud, "t1", NULL, NULL, NULL);
	jc_cloud_free(cloud);
	jc_rm_rf(dir, NULL);
	free(dir);
	unsetenv("JCICD_LOCAL_FAIL_ROLES");
}

static jc_spec *spec_of(const char *text, const char *overrides)
{
	jc_spec *s;
	jc_error err;
	jc_spec_options o = JC_SPEC_OPTIONS_INIT;
	char *p = test_path(dir, "spec.yaml");
	test_write(dir, "spec.yaml", text);
	o.overrides = overrides;
	ck_assert_msg(jc_spec_load(&s, p, &o, &err) == 0, "%s", err.message);
	free(p);
	return s;
}

static const char stack[] =
	"resources:\n"
	"  bootstrap: {number: 1, flavor: small, image: trusty, assign_floating_ip: true}\n"
	"  cp: {number: 2, flavor: large, image: trusty}\n";

static size_t count_action(const jc_plan *p, jc_plan_action a)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n; i++)
		n += p->entries[i].action == a;
	return n;
}

START_TEST(apply_then_noop)
{
	jc_spec *s = spec_of(stack, NULL);
	jc_apply_options o = JC_APPLY_OPTIONS_INIT;
	jc_plan *p;
	jc_error err;
	o.tag = "t1";
	ck_assert_int_eq(jc_apply_plan(&p, cloud, s, &o, &err), 0);
	ck_assert_uint_eq(count_action(p, JC_PLAN_CREATE), 3);
	jc_plan_free(p);
	ck_assert_msg(jc_apply_run(&p, cloud, s, &o, &err) == 0, "%s", err.message);
	ck_assert_uint_eq(count_action(p, JC_PLAN_CREATE), 3);
	for (size_t i = 0; i < p->n; i++) {
		ck_assert_int_eq(p->entries[i].status, JC_SERVER_ACTIVE);
		ck_assert_int_eq(p->entries[i].attempts, 1);
	}
	jc_plan_free(p);
	ck_assert_int_eq(jc_apply_run(&p, cloud, s, &o, &err), 0);
	ck_assert_uint_eq(count_action(p, JC_PLAN_KEEP), 3);
	ck_assert_uint_eq(count_action(p, JC_PLAN_CREATE), 0);
	jc_plan_free(p);

	jc_server_list *l;
	ck_assert_int_eq(jc_stack_status(&l, cloud, "t1", s, &err), 0);
	ck_assert_uint_eq(l->n, 3);
	ck_assert_str_eq(l->servers[0].name, "bootstrap1_t1");
	ck_assert_uint_eq(l->servers[0].n_floating, 1);
	char *cfg;
	ck_assert_int_eq(jc_stack_ssh_config(&cfg, l, NULL, &err), 0);
	ck_assert(strstr(cfg, "Host cp2_t1\n    HostName 127.1.0.3\n    ProxyCommand ssh -o LogLevel=ERROR "
			      "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null %r@127.2.0.1 nc %h %p\n") != NULL);
	free(cfg);
	jc_server_list_free(l);

	size_t n;
	ck_assert_int_eq(jc_stack_delete(cloud, "t1", NULL, &n, &err), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(jc_stack_status(&l, cloud, "t1", NULL, &err), 0);
	ck_assert_uint_eq(l->n, 0);
	jc_server_list_free(l);
	jc_spec_free(s);
}
END_TEST

START_TEST(overrides_scale_up_and_extras_are_left_alone)
{
	jc_spec *s = spec_of(stack, "cp=4");
	jc_apply_options o = JC_APPLY_OPTIONS_INIT;
	jc_plan *p;
	jc_error err;
	o.tag = "t1";
	ck_assert_int_eq(jc_apply_run(&p, cloud, s, &o, &err), 0);
	ck_assert_uint_eq(p->n, 5);
	jc_plan_free(p);
	jc_spec_free(s);
	/* back to cp=2: apply is additive, cp3 and cp4 stay and are reported */
	s = spec_of(stack, NULL);
	ck_assert_int_eq(jc_apply_run(&p, cloud, s, &o, &err), 0);
	ck_assert_uint_eq(count_action(p, JC_PLAN_EXTRA), 2);
	ck_assert_uint_eq(count_action(p, JC_PLAN_KEEP), 3);
	jc_plan_free(p);
	jc_spec_free(s);
}
END_TEST

START_TEST(error_servers_exhaust_the_retry_budget)
{
	setenv("JCICD_LOCAL_FAIL_ROLES", "cp", 1);
	jc_cloud_free(cloud);
	jc_cloud_options co = JC_CLOUD_OPTIONS_INIT;
	co.state_dir = dir;
	ck_assert_int_eq(jc_cloud_open(&cloud, "local", &co, NULL), 0);
	jc_spec *s = spec_of(stack, NULL);
	jc_apply_options o = JC_APPLY_OPTIONS_INIT;
	jc_plan *p;
	jc_error err;
	o.tag = "t1";
	o.retry = 2;
	ck_assert_int_eq(jc_apply_run(&p, cloud, s, &o, &err), JC_EFAILED);
	ck_assert(strstr(err.message, "stack t1: 2 servers failed") != NULL);
	ck_assert(strstr(err.message, "cp1_t1 failed: injected fault") != NULL);
	for (size_t i = 0; i < p->n; i++) {
		if (strcmp(p->entries[i].role, "cp") == 0) {
			ck_assert_int_eq(p->entries[i].attempts, 3);
			ck_assert_int_eq(p->entries[i].status, JC_SERVER_ERROR);
		} else {
			ck_assert_int_eq(p->entries[i].status, JC_SERVER_ACTIVE);
		}
	}
	jc_plan_free(p);
	/* exactly one server per name remains (the last ERROR one) */
	jc_server_list *l;
	ck_assert_int_eq(jc_stack_status(&l, cloud, "t1", s, &err), 0);
	ck_assert_uint_eq(l->n, 3);
	jc_server_list_free(l);
	jc_spec_free(s);
}
END_TEST

START_TEST(deadline_bounds_the_wait)
{
	setenv("JCICD_LOCAL_BUILD_MS", "60000", 1);
	jc_cloud_free(cloud);
	jc_cloud_options co = JC_CLOUD_OPTIONS_INIT;
	co.state_dir = dir;
	ck_assert_int_eq(jc_cloud_open(&cloud, "local", &co, NULL), 0);
	unsetenv("JCICD_LOCAL_BUILD_MS");
	jc_spec *s = spec_of(stack, NULL);
	jc_apply_options o = JC_APPLY_OPTIONS_INIT;
	jc_plan *p;
	jc_error err;
	o.tag = "t1";
	o.timeout_ms = 300;
	ck_assert_int_eq(jc_apply_run(&p, cloud, s, &o, &err), JC_ETIMEOUT);
	ck_assert(strstr(err.message, "not ready after 0 s: bootstrap1_t1 BUILD") != NULL);
	jc_plan_free(p);
	jc_spec_free(s);
}
END_TEST

START_TEST(bad_userdata_makes_no_cloud_call)
{
	jc_spec *s = spec_of(stack, NULL);
	jc_apply_options o = JC_APPLY_OPTIONS_INIT;
	jc_plan *p;
	jc_error err;
	char *ud = test_path(dir, "ud.tmpl");
	test_write(dir, "ud.tmpl", "#!/bin/sh\necho ${nothing}\n");
	o.tag = "t1";
	o.userdata_path = ud;
	ck_assert_int_eq(jc_apply_run(&p, cloud, s, &o, &err), JC_EINVALID);
	ck_assert_int_eq(err.line, 2);
	jc_plan_free(p);
	jc_server_list *l;
	ck_assert_int_eq(jc_stack_status(&l, cloud, "t1", NULL, &err), 0);
	ck_assert_uint_eq(l->n, 0);
	jc_server_list_free(l);
	o.userdata_path = "/no/such/userdata";
	ck_assert_int_eq(jc_apply_run(NULL, cloud, s, &o, &err), JC_EINVALID);
	ck_assert_str_eq(err.file, "/no/such/userdata");
	free(ud);
	jc_spec_free(s);
}
END_TEST

START_TEST(ssh_config_without_bastion)
{
	jc_spec *s = spec_of("resources:\n  cp: {number: 2, flavor: a, image: b}\n", NULL);
	jc_apply_options o = JC_APPLY_OPTIONS_INIT;
	jc_error err;
	jc_server_list *l;
	char *cfg;
	o.tag = "t1";
	ck_assert_int_eq(jc_apply_run(NULL, cloud, s, &o, &err), 0);
	ck_assert_int_eq(jc_stack_status(&l, cloud, "t1", s, &err), 0);
	ck_assert_int_eq(jc_stack_ssh_config(&cfg, l, "ubuntu", &err), 0);
	ck_assert(strstr(cfg, "ProxyCommand") == NULL);
	ck_assert(strstr(cfg, "None") == NULL);
	ck_assert(strstr(cfg, "Host cp1_t1\n    HostName 127.1.0.1\n    User ubuntu\n") != NULL);
	free(cfg);
	jc_server_list_free(l);
	jc_spec_free(s);
}
END_TEST

static Suite *apply_suite(void)
{
	Suite *s = suite_create("apply");
	TCase *tc = tcase_create("apply");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, apply_then_noop);
	tcase_add_test(tc, overrides_scale_up_and_extras_are_left_alone);
	tcase_add_test(tc, error_servers_exhaust_the_retry_budget);
	tcase_add_test(tc, deadline_bounds_the_wait);
	tcase_add_test(tc, bad_userdata_makes_no_cloud_call);
	tcase_add_test(tc, ssh_config_without_bastion);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(apply_suite)
