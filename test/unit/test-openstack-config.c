/* test-openstack-config.c - which cloud and which credentials: clouds.yaml,
 * secure.yaml, the search path, OS_CLOUD and the OS_* variables. */
#include "tests.h"

#include "cloud-openstack.h"

static char *dir;

static const char *const os_vars[] = {
	"OS_CLOUD", "OS_CLIENT_CONFIG_FILE", "OS_CLIENT_SECURE_FILE", "OS_AUTH_URL", "OS_USERNAME",
	"OS_USER_ID", "OS_PASSWORD", "OS_PROJECT_NAME", "OS_PROJECT_ID", "OS_TENANT_NAME", "OS_TENANT_ID",
	"OS_USER_DOMAIN_NAME", "OS_USER_DOMAIN_ID", "OS_PROJECT_DOMAIN_NAME", "OS_PROJECT_DOMAIN_ID",
	"OS_REGION_NAME", "OS_INTERFACE", "OS_ENDPOINT_TYPE", "OS_CACERT", "OS_CERT", "OS_KEY", "OS_INSECURE",
	"OS_AUTH_TYPE", "OS_APPLICATION_CREDENTIAL_ID", "OS_APPLICATION_CREDENTIAL_NAME",
	"OS_APPLICATION_CREDENTIAL_SECRET", "OS_IDENTITY_API_VERSION", "OS_COMPUTE_API_VERSION",
	"XDG_CONFIG_HOME",
};

static void setup(void)
{
	dir = test_tmpdir();
	for (size_t i = 0; i < JC_ARRAY_LEN(os_vars); i++)
		unsetenv(os_vars[i]);
	/* nothing of the machine's own ~/.config/openstack */
	setenv("HOME", dir, 1);
	ck_assert_int_eq(chdir(dir), 0);
}

static void teardown(void)
{
	ck_assert_int_eq(chdir("/"), 0);
	jc_rm_rf(dir, NULL);
	free(dir);
}

static const char clouds[] =
	"clouds:\n"
	"  prod:\n"
	"    auth:\n"
	"      auth_url: https://keystone.example:5000/v3\n"
	"      username: ci\n"
	"      password: s3cret-pw\n"
	"      project_name: builds\n"
	"      user_domain_name: Users\n"
	"      project_domain_id: default\n"
	"    region_name: RegionTwo\n"
	"    interface: internal\n"
	"    cacert: /etc/ssl/prod-ca.pem\n"
	"    compute_api_version: '2.60'\n"
	"    api_timeout: 30\n"
	"    jcicd:\n"
	"      default_networks: [net-a, net-b]\n"
	"      floating_network: public\n"
	"      page_limit: 20\n"
	"  nopw:\n"
	"    auth: {auth_url: 'http://127.0.0.1:5000', username: u, project_id: p1}\n"
	"  app:\n"
	"    auth_type: v3applicationcredential\n"
	"    auth:\n"
	"      auth_url: http://127.0.0.1:5000/v3\n"
	"      application_credential_id: ac-1\n"
	"      application_credential_secret: app-secret-1\n"
	"    verify: false\n";

START_TEST(named_cloud_from_file)
{
	os_config *c;
	jc_error err;
	char *path = test_path(dir, "my-clouds.yaml");
	test_write(dir, "my-clouds.yaml", clouds);
	ck_assert_int_eq(os_config_load(&c, "prod", path, &err), 0);
	ck_assert_str_eq(c->name, "prod");
	ck_assert_str_eq(c->source, path);
	ck_assert_int_eq(c->auth_type, OS_AUTH_PASSWORD);
	ck_assert_str_eq(c->auth_url, "https://keystone.example:5000/v3");
	ck_assert_str_eq(c->username, "ci");
	ck_assert_str_eq(c->password, "s3cret-pw");
	ck_assert_str_eq(c->project_name, "builds");
	ck_assert_str_eq(c->user_domain_name, "Users");
	ck_assert_str_eq(c->project_domain_id, "default");
	ck_assert_str_eq(c->region_name, "RegionTwo");
	ck_assert_str_eq(c->interface, "internal");
	ck_assert_str_eq(c->cacert, "/etc/ssl/prod-ca.pem");
	ck_assert(c->verify);
	ck_assert_int_eq(c->compute_api_cap, 2060);
	ck_assert_int_eq(c->api_timeout_ms, 30000);
	ck_assert_int_eq(c->default_networks, OS_DEFNET_LIST);
	ck_assert_int_eq(c->default_network_names.n, 2);
	ck_assert_str_eq(c->default_network_names.v[1], "net-b");
	ck_assert_str_eq(c->floating_network, "public");
	ck_assert_int_eq(c->page_limit, 20);
	os_config_free(c);
	free(path);
}
END_TEST

START_TEST(application_credential_and_verify)
{
	os_config *c;
	jc_error err;
	char *path = test_path(dir, "clouds.yaml");
	test_write(dir, "clouds.yaml", clouds);
	ck_assert_int_eq(os_config_load(&c, "app", path, &err), 0);
	ck_assert_int_eq(c->auth_type, OS_AUTH_APPCRED);
	ck_assert_str_eq(c->appcred_id, "ac-1");
	ck_assert_str_eq(c->appcred_secret, "app-secret-1");
	ck_assert(!c->verify);
	ck_assert_str_eq(c->interface, "public");
	ck_assert_int_eq(c->default_networks, OS_DEFNET_AUTO);
	ck_assert_int_eq(c->page_limit, 100);
	os_config_free(c);
	free(path);
}
END_TEST

START_TEST(secrets_come_from_secure_yaml_or_os_password)
{
	os_config *c;
	jc_error err;
	char *path = test_path(dir, "clouds.yaml");
	test_write(dir, "clouds.yaml", clouds);
	/* no password anywhere: a clear error, nothing else */
	ck_assert_int_eq(os_config_load(&c, "nopw", path, &err), JC_EINVALID);
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(strstr(err.message, "password is missing"));
	/* OS_PASSWORD (a CI credentials binding) fills the gap */
	setenv("OS_PASSWORD", "from-env", 1);
	ck_assert_int_eq(os_config_load(&c, "nopw", path, &err), 0);
	ck_assert_str_eq(c->password, "from-env");
	os_config_free(c);
	unsetenv("OS_PASSWORD");
	/* secure.yaml beside clouds.yaml wins over clouds.yaml */
	test_write(dir, "secure.yaml", "clouds:\n  nopw:\n    auth:\n      password: from-secure\n"
					  "  prod:\n    auth: {password: better}\n");
	ck_assert_int_eq(os_config_load(&c, "nopw", path, &err), 0);
	ck_assert_str_eq(c->password, "from-secure");
	ck_assert_str_eq(c->username, "u");
	ck_assert_str_eq(c->project_id, "p1");
	os_config_free(c);
	ck_assert_int_eq(os_config_load(&c, "prod", path, &err), 0);
	ck_assert_str_eq(c->password, "better");
	os_config_free(c);
	/* OS_CLIENT_SECURE_FILE names another one */
	test_write(dir, "other-secure.yaml", "clouds:\n  nopw:\n    auth:\n      password: from-other\n");
	char *other = test_path(dir, "other-secure.yaml");
	setenv("OS_CLIENT_SECURE_FILE", other, 1);
	ck_assert_int_eq(os_config_load(&c, "nopw", path, &err), 0);
	ck_assert_str_eq(c->password, "from-other");
	os_config_free(c);
	free(other);
	free(path);
}
END_TEST

START_TEST(search_path_and_os_cloud)
{
	os_config *c;
	jc_error err;
	char *cfg = test_path(dir, ".config/openstack");
	ck_assert_int_eq(jc_mkdir_p(cfg, 0755, NULL), 0);
	/* nothing anywhere */
	ck_assert_int_eq(os_config_load(&c, "prod", NULL, &err), JC_EINVALID);
	ck_assert_ptr_nonnull(strstr(err.message, "no clouds.yaml found"));
	/* ~/.config/openstack/clouds.yaml */
	test_write(cfg, "clouds.yaml", clouds);
	ck_assert_int_eq(os_config_load(&c, "prod", NULL, &err), 0);
	ck_assert_ptr_nonnull(strstr(c->source, ".config/openstack/clouds.yaml"));
	os_config_free(c);
	/* ./clouds.yaml comes first */
	test_write(dir, "clouds.yaml", "clouds:\n  prod:\n    auth: {auth_url: 'http://here:5000/v3', username: a, "
				       "password: bbbb, project_name: c}\n");
	ck_assert_int_eq(os_config_load(&c, "prod", NULL, &err), 0);
	ck_assert_str_eq(c->source, "./clouds.yaml");
	ck_assert_str_eq(c->auth_url, "http://here:5000/v3");
	os_config_free(c);
	/* $OS_CLIENT_CONFIG_FILE comes before them all; OS_CLOUD names the cloud */
	char *f = test_path(cfg, "clouds.yaml");
	setenv("OS_CLIENT_CONFIG_FILE", f, 1);
	setenv("OS_CLOUD", "prod", 1);
	ck_assert_int_eq(os_config_load(&c, NULL, NULL, &err), 0);
	ck_assert_str_eq(c->name, "prod");
	ck_assert_str_eq(c->auth_url, "https://keystone.example:5000/v3");
	os_config_free(c);
	ck_assert_int_eq(os_config_load(&c, "env", NULL, &err), 0);
	ck_assert_str_eq(c->name, "prod");
	os_config_free(c);
	free(f);
	free(cfg);
}
END_TEST

START_TEST(os_variables)
{
	os_config *c;
	jc_error err;
	ck_assert_int_eq(os_config_load(&c, NULL, NULL, &err), JC_EINVALID);
	ck_assert_ptr_nonnull(strstr(err.message, "OS_AUTH_URL is not set"));
	setenv("OS_AUTH_URL", "http://127.0.0.1:5000/v3", 1);
	setenv("OS_USERNAME", "demo", 1);
	setenv("OS_PASSWORD", "pw-from-env", 1);
	setenv("OS_TENANT_NAME", "demo-proj", 1);
	setenv("OS_REGION_NAME", "RegionOne", 1);
	setenv("OS_ENDPOINT_TYPE", "publicURL", 1);
	setenv("OS_CACERT", "/tmp/ca.pem", 1);
	ck_assert_int_eq(os_config_load(&c, "env", NULL, &err), 0);
	ck_assert_str_eq(c->name, "env");
	ck_assert_str_eq(c->source, "the OS_* variables");
	ck_assert_str_eq(c->project_name, "demo-proj");
	ck_assert_str_eq(c->region_name, "RegionOne");
	ck_assert_str_eq(c->interface, "public");
	ck_assert_str_eq(c->cacert, "/tmp/ca.pem");
	ck_assert(c->verify);
	os_config_free(c);
	setenv("OS_INSECURE", "true", 1);
	setenv("OS_COMPUTE_API_VERSION", "2.37", 1);
	ck_assert_int_eq(os_config_load(&c, NULL, NULL, &err), 0);
	ck_assert(!c->verify);
	ck_assert_int_eq(c->compute_api_cap, 2037);
	os_config_free(c);
	setenv("OS_IDENTITY_API_VERSION", "2.0", 1);
	ck_assert_int_eq(os_config_load(&c, NULL, NULL, &err), JC_EINVALID);
	ck_assert_ptr_nonnull(strstr(err.message, "only Keystone v3"));
}
END_TEST

START_TEST(mistakes_are_pointed_at)
{
	os_config *c;
	jc_error err;
	char *path = test_path(dir, "clouds.yaml");
	test_write(dir, "clouds.yaml", clouds);
	ck_assert_int_eq(os_config_load(&c, "prd", path, &err), JC_EINVALID);
	ck_assert_ptr_nonnull(strstr(err.message, "no cloud \"prd\"; did you mean \"prod\"?"));
	ck_assert_int_eq(os_config_load(&c, "zzzzzzzz", path, &err), JC_EINVALID);
	ck_assert_ptr_nonnull(strstr(err.message, "(it has: prod, nopw, app)"));
	test_write(dir, "clouds.yaml", "clouds:\n  x:\n    auth: {auth_url: 'http://h/v3', username: u, password: pppp, "
				       "project_name: p}\n    jcicd:\n      floating_netwrk: ext\n");
	ck_assert_int_eq(os_config_load(&c, "x", path, &err), JC_EINVALID);
	ck_assert_int_eq(err.line, 5);
	ck_assert_int_eq(err.column, 7);
	ck_assert_ptr_nonnull(strstr(err.message, "floating_network"));
	test_write(dir, "clouds.yaml", "clouds:\n  x:\n    profile: vexxhost\n");
	ck_assert_int_eq(os_config_load(&c, "x", path, &err), JC_EINVALID);
	ck_assert_int_eq(err.line, 3);
	test_write(dir, "clouds.yaml", "clouds:\n  x:\n    identity_api_version: 2\n");
	ck_assert_int_eq(os_config_load(&c, "x", path, &err), JC_EINVALID);
	ck_assert_ptr_nonnull(strstr(err.message, "only Keystone v3"));
	test_write(dir, "clouds.yaml", "clouds:\n  x:\n    compute_api_version: two\n");
	ck_assert_int_eq(os_config_load(&c, "x", path, &err), JC_EINVALID);
	test_write(dir, "clouds.yaml", "clouds:\n  x:\n    auth_type: token\n");
	ck_assert_int_eq(os_config_load(&c, "x", path, &err), JC_EINVALID);
	ck_assert_ptr_nonnull(strstr(err.message, "not supported"));
	test_write(dir, "clouds.yaml", "clouds:\n  x:\n    auth: {auth_url: 'http://h/v3', username: u, password: pppp}\n");
	ck_assert_int_eq(os_config_load(&c, "x", path, &err), JC_EINVALID);
	ck_assert_ptr_nonnull(strstr(err.message, "project_name (or project_id) is missing"));
	free(path);
}
END_TEST

START_TEST(versions)
{
	int v;
	ck_assert(os_version_parse("2.93", &v));
	ck_assert_int_eq(v, 2093);
	ck_assert(os_version_parse("2.1", &v));
	ck_assert_int_eq(v, 2001);
	ck_assert(os_version_parse("3", &v));
	ck_assert_int_eq(v, 3000);
	ck_assert(!os_version_parse("2.x", &v));
	ck_assert(!os_version_parse("", &v));
	ck_assert(!os_version_parse("latest", &v));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("openstack-config");
	TCase *t = tcase_create("config");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, named_cloud_from_file);
	tcase_add_test(t, application_credential_and_verify);
	tcase_add_test(t, secrets_come_from_secure_yaml_or_os_password);
	tcase_add_test(t, search_path_and_os_cloud);
	tcase_add_test(t, os_variables);
	tcase_add_test(t, mistakes_are_pointed_at);
	tcase_add_test(t, versions);
	suite_add_tcase(s, t);
	return s;
}

TEST_MAIN(suite)
