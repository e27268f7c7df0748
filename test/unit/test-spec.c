/* test-spec.c - specs, mappings, overrides, names, userdata. */
#include "tests.h"

#include "jcicd/spec.h"

static char *dir;

static void setup(void) { dir = test_tmpdir(); }
static void teardown(void)
{
	jc_rm_rf(dir, NULL);
	free(dir);
}

static jc_spec *load(const char *spec_text, const char *map_text, const char *overrides, jc_error *err)
{
	jc_mappings *m = NULL;
	jc_spec *spec = NULL;
	jc_spec_options o = JC_SPEC_OPTIONS_INIT;
	char *sp = test_path(dir, "spec.yaml"), *mp = test_path(dir, "map.yaml");
	test_write(dir, "spec.yaml", spec_text);
	if (map_text) {
		test_write(dir, "map.yaml", map_text);
		if (jc_mappings_load(&m, mp, err) < 0)
			goto out;
	}
	o.mappings = m;
	o.overrides = overrides;
	jc_spec_load(&spec, sp, &o, err);
out:
	jc_mappings_free(m);
	free(sp);
	free(mp);
	return spec;
}

static const char full_spec[] =
	"resources:\n"
	"  bootstrap:\n"
	"    number: 1\n"
	"    flavor: small\n"
	"    image: trusty\n"
	"    networks: default\n"
	"    boot_volume: default_volume\n"
	"    assign_floating_ip: true\n"
	"  cp:\n"
	"    number: 2\n"
	"    flavor: large\n"
	"    image: trusty\n"
	"    networks: default\n"
	"    boot_volume: default_volume\n";

static const char jio_map[] =
	"image: {trusty: 5d246189-a666-470c-8cee-36ee489cbd9e}\n"
	"flavor: {small: m1.small, large: m1.large}\n"
	"networks: {default: [7270b05c-0086-44d3-994f-4099ef6fc4bf, second-net]}\n"
	"boot_volume: {default_volume: 50}\n";

START_TEST(mappings_apply_field_by_field)
{
	jc_error err;
	jc_spec *s = load(full_spec, jio_map, NULL, &err);
	ck_assert_msg(s != NULL, "%s", err.message);
	ck_assert_uint_eq(jc_spec_role_count(s), 2);
	const jc_role *b = jc_spec_role(s, 0);
	ck_assert_str_eq(b->name, "bootstrap");
	ck_assert_str_eq(b->flavor, "m1.small");
	ck_assert_str_eq(b->image, "5d246189-a666-470c-8cee-36ee489cbd9e");
	ck_assert_int_eq(b->networks_mode, JC_NETWORKS_LIST);
	ck_assert_uint_eq(b->n_networks, 2);
	ck_assert_str_eq(b->networks[1], "second-net");
	ck_assert_int_eq(b->boot_volume_gb, 50);
	ck_assert(b->assign_floating_ip);
	ck_assert_int_eq(b->line, 2);
	const jc_role *cp = jc_spec_role_find(s, "cp");
	ck_assert_int_eq(cp->number, 2);
	ck_assert(!cp->assign_floating_ip);
	jc_spec_free(s);
}
END_TEST

START_TEST(unmapped_values_pass_through)
{
	jc_error err;
	jc_spec *s = load("resources:\n  cp: {number: 1, flavor: '3', image: img-uuid}\n",
			  "flavor: {small: '1'}\n", NULL, &err);
	ck_assert_msg(s != NULL, "%s", err.message);
	ck_assert_str_eq(jc_spec_role(s, 0)->flavor, "3");
	ck_assert_str_eq(jc_spec_role(s, 0)->image, "img-uuid");
	ck_assert_int_eq(jc_spec_role(s, 0)->networks_mode, JC_NETWORKS_DEFAULT);
	jc_spec_free(s);
}
END_TEST

START_TEST(boolean_and_null_mappings)
{
	jc_error err;
	/* staging.map.yaml of the original: no floating IPs, no networks */
	jc_spec *s = load(full_spec, "assign_floating_ip: {true: false}\nnetworks: {default: }\n"
			  "boot_volume: {default_volume: 20}\n", NULL, &err);
	ck_assert_msg(s != NULL, "%s", err.message);
	ck_assert(!jc_spec_role(s, 0)->assign_floating_ip);
	ck_assert_int_eq(jc_spec_role(s, 0)->networks_mode, JC_NETWORKS_NONE);
	ck_assert_uint_eq(jc_spec_role(s, 0)->n_networks, 0);
	jc_spec_free(s);
	/* "yes" is the same boolean as "true" */
	s = load("resources:\n  cp: {number: 1, flavor: a, image: b, assign_floating_ip: yes}\n",
		 "assign_floating_ip: {true: false}\n", NULL, &err);
	ck_assert_msg(s != NULL, "%s", err.message);
	ck_assert(!jc_spec_role(s, 0)->assign_floating_ip);
	jc_spec_free(s);
}
END_TEST

START_TEST(mapping_chains_and_cycles)
{
	jc_error err;
	jc_spec *s = load("resources:\n  cp: {number: 1, flavor: small, image: b}\n",
			  "flavor: {small: medium, medium: m1.medium}\n", NULL, &err);
	ck_assert_msg(s != NULL, "%s", err.message);
	ck_assert_str_eq(jc_spec_role(s, 0)->flavor, "m1.medium");
	jc_spec_free(s);
	s = load("resources:\n  cp: {number: 1, flavor: small, image: b}\n",
		 "flavor: {small: medium, medium: small}\n", NULL, &err);
	ck_assert_ptr_null(s);
	ck_assert(strstr(err.message, "mapping cycle in flavor: small -> medium -> small") != NULL);
	ck_assert(jc_str_ends(err.file, "map.yaml"));
	ck_assert_int_eq(err.line, 1);
	/* a value mapped to itself is the end of a chain, not a cycle */
	s = load("resources:\n  cp: {number: 1, flavor: small, image: b}\n", "flavor: {small: small}\n", NULL, &err);
	ck_assert_msg(s != NULL, "%s", err.message);
	jc_spec_free(s);
}
END_TEST

START_TEST(mapped_value_of_wrong_type)
{
	jc_error err;
	jc_spec *s = load("resources:\n  cp: {number: 1, flavor: small, image: b}\n",
			  "flavor: {small: [a, b]}\n", NULL, &err);
	ck_assert_ptr_null(s);
	ck_assert(strstr(err.message, "flavor of role cp maps to a list, but must be a string") != NULL);
	ck_assert(jc_str_ends(err.file, "map.yaml"));
	ck_assert_int_eq(err.line, 1);
	ck_assert_int_eq(err.column, 17);
}
END_TEST

START_TEST(overrides_both_syntaxes)
{
	jc_error err;
	jc_spec *s = load(full_spec, NULL, "cp=5:bootstrap=0", &err);
	ck_assert_ptr_null(s); /* boot_volume: default_volume needs a mapping */
	ck_assert(strstr(err.message, "is a mappings file missing?") != NULL);
	s = load(full_spec, jio_map, "cp=5:bootstrap=0", &err);
	ck_assert_msg(s != NULL, "%s", err.message);
	ck_assert_int_eq(jc_spec_role_find(s, "cp")->number, 5);
	ck_assert_int_eq(jc_spec_role_find(s, "cp")->spec_number, 2);
	ck_assert_int_eq(jc_spec_role_find(s, "bootstrap")->number, 0);
	ck_assert_int_eq(jc_spec_override(s, "cp=1,bootstrap=2", &err), 0);
	ck_assert_int_eq(jc_spec_role_find(s, "cp")->number, 1);
	/* an unknown role changes nothing */
	ck_assert_int_eq(jc_spec_override(s, "cp=9,cq=2", &err), JC_EINVALID);
	ck_assert(strstr(err.message, "no role \"cq\"; did you mean \"cp\"?") != NULL);
	ck_assert_int_eq(jc_spec_role_find(s, "cp")->number, 1);
	ck_assert_int_eq(jc_spec_override(s, "cp=-1", &err), JC_EINVALID);
	ck_assert_int_eq(jc_spec_override(s, "cp", &err), JC_EINVALID);
	jc_spec_free(s);
}
END_TEST

START_TEST(instances_and_names)
{
	jc_error err;
	jc_instance *v;
	size_t n;
	jc_spec *s = load(full_spec, jio_map, NULL, &err);
	ck_assert_int_eq(jc_spec_instances(s, "test123", &v, &n, &err), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(v[0].name, "bootstrap1_test123");
	ck_assert_str_eq(v[2].name, "cp2_test123");
	ck_assert_str_eq(v[2].hostname, "cp2-test123");
	ck_assert_int_eq(v[2].index, 2);
	jc_instances_free(v, n);
	ck_assert_int_eq(jc_spec_instances(s, "Bad_Tag", &v, &n, &err), JC_EINVALID);
	ck_assert_int_eq(jc_spec_instances(s, "a-very-long-tag-that-is-exactly-forty-ch", &v, &n, &err), 0);
	jc_instances_free(v, n);
	jc_spec_free(s);
	s = load("resources:\n  averyveryverylongrolename: {number: 1, flavor: a, image: b}\n", NULL, NULL, &err);
	ck_assert_int_eq(jc_spec_instances(s, "a-very-long-tag-that-is-exactly-forty-ch", &v, &n, &err), JC_EINVALID);
	ck_assert(strstr(err.message, "is 67 characters long; hostnames are limited to 63") != NULL);
	ck_assert_int_eq(err.line, 2);
	jc_spec_free(s);

	char *role, *tag;
	long idx;
	ck_assert(jc_name_parse("cp12_t1", &role, &idx, &tag));
	ck_assert_str_eq(role, "cp");
	ck_assert_int_eq(idx, 12);
	ck_assert_str_eq(tag, "t1");
	free(role);
	free(tag);
	ck_assert(jc_name_parse("stmonleader1-build-7", &role, &idx, &tag));
	ck_assert_str_eq(role, "stmonleader");
	ck_assert_str_eq(tag, "build-7");
	free(role);
	free(tag);
	ck_assert(!jc_name_parse("cp_t1", NULL, NULL, NULL));
	ck_assert(!jc_name_parse("12cp", NULL, NULL, NULL));
	ck_assert(!jc_name_parse("cp1x", NULL, NULL, NULL));
}
END_TEST

START_TEST(tags)
{
	jc_error err;
	ck_assert_int_eq(jc_tag_check("t1", &err), 0);
	ck_assert_int_eq(jc_tag_check("build-42", &err), 0);
	ck_assert_int_eq(jc_tag_check("", &err), JC_EINVALID);
	ck_assert_int_eq(jc_tag_check(NULL, &err), JC_EINVALID);
	ck_assert_int_eq(jc_tag_check("-x", &err), JC_EINVALID);
	ck_assert_int_eq(jc_tag_check("x-", &err), JC_EINVALID);
	ck_assert_int_eq(jc_tag_check("a_b", &err), JC_EINVALID);
	ck_assert(strstr(err.message, "('_')") != NULL);
}
END_TEST

START_TEST(userdata_templates)
{
	jc_error err;
	char *out;
	size_t len;
	jc_userdata_vars vars = { "cp1-t1", "cp", "t1", "42" };
	const char *t = "#!/bin/sh\necho ${hostname} ${role} ${tag} ${version} $${HOME} $HOME\n";
	ck_assert_int_eq(jc_userdata_render(&out, &len, "u.tmpl", t, strlen(t), true, &vars, &err), 0);
	ck_assert_str_eq(out, "#!/bin/sh\necho cp1-t1 cp t1 42 ${HOME} $HOME\n");
	free(out);
	/* not a template: byte for byte, ${...} included */
	ck_assert_int_eq(jc_userdata_render(&out, &len, "u.sh", t, strlen(t), false, &vars, &err), 0);
	ck_assert_str_eq(out, t);
	free(out);
	const char *bad = "line1\n  x=${nope}\n";
	ck_assert_int_eq(jc_userdata_render(&out, &len, "u.tmpl", bad, strlen(bad), true, &vars, &err), JC_EINVALID);
	ck_assert_int_eq(err.line, 2);
	ck_assert_int_eq(err.column, 5);
	ck_assert(strstr(err.message, "unknown variable ${nope}") != NULL);
	jc_userdata_vars nov = { "h", "r", "t", NULL };
	ck_assert_int_eq(jc_userdata_render(&out, &len, "u.tmpl", "${version}", 10, true, &nov, &err), JC_EINVALID);
	ck_assert(jc_userdata_is_template("x.tmpl"));
	ck_assert(!jc_userdata_is_template("x.sh"));
	ck_assert_int_eq(jc_userdata_check_size("u", 49149, &err), 0);
	ck_assert_int_eq(jc_userdata_check_size("u", 49150, &err), JC_EINVALID);
}
END_TEST

START_TEST(new_optional_fields)
{
	jc_error err;
	char *ud = test_path(dir, "cp.sh");
	test_write(dir, "cp.sh", "#!/bin/sh\n");
	jc_spec *s = load("resources:\n  cp:\n    number: 1\n    flavor: a\n    image: b\n"
			  "    security_groups: [default, web]\n    key_name: ops\n    availability_zone: nova\n"
			  "    metadata: {owner: ci, purpose: test}\n    userdata: cp.sh\n    config_drive: on\n",
			  NULL, NULL, &err);
	ck_assert_msg(s != NULL, "%s", err.message);
	const jc_role *r = jc_spec_role(s, 0);
	ck_assert_uint_eq(r->n_security_groups, 2);
	ck_assert_str_eq(r->key_name, "ops");
	ck_assert_str_eq(r->availability_zone, "nova");
	ck_assert_uint_eq(r->n_metadata, 2);
	ck_assert_str_eq(r->metadata_values[1], "test");
	ck_assert_str_eq(r->userdata, ud);
	ck_assert(r->config_drive);
	jc_spec_free(s);
	free(ud);
}
END_TEST

static Suite *spec_suite(void)
{
	Suite *s = suite_create("spec");
	TCase *tc = tcase_create("spec");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, mappings_apply_field_by_field);
	tcase_add_test(tc, unmapped_values_pass_through);
	tcase_add_test(tc, boolean_and_null_mappings);
	tcase_add_test(tc, mapping_chains_and_cycles);
	tcase_add_test(tc, mapped_value_of_wrong_type);
	tcase_add_test(tc, overrides_both_syntaxes);
	tcase_add_test(tc, instances_and_names);
	tcase_add_test(tc, tags);
	tcase_add_test(tc, userdata_templates);
	tcase_add_test(tc, new_optional_fields);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(spec_suite)
