/* test-yaml.c - the position-keeping YAML tree. */
#include "tests.h"

#include "jcicd/yaml.h"

static jc_yaml_doc *load(const char *text, jc_error *err)
{
	jc_yaml_doc *doc = NULL;
	jc_yaml_load_string(&doc, text, strlen(text), "t.yaml", err);
	return doc;
}

START_TEST(positions_and_types)
{
	jc_error err;
	jc_yaml_doc *doc = load("a: 1\nb:\n  - x\n  - 'y'\nc: {d: ~, e: true}\n", &err);
	ck_assert_ptr_nonnull(doc);
	const jc_yaml_node *root = jc_yaml_root(doc);
	ck_assert_int_eq(jc_yaml_type_of(root), JC_YAML_MAPPING);
	ck_assert_uint_eq(jc_yaml_size(root), 3);
	const jc_yaml_node *b = jc_yaml_get(root, "b");
	ck_assert_int_eq(jc_yaml_type_of(b), JC_YAML_SEQUENCE);
	ck_assert_int_eq(jc_yaml_line(jc_yaml_item(b, 1)), 4);
	ck_assert_int_eq(jc_yaml_column(jc_yaml_item(b, 1)), 5);
	ck_assert(jc_yaml_quoted(jc_yaml_item(b, 1)));
	const jc_yaml_node *c = jc_yaml_get(root, "c");
	ck_assert_int_eq(jc_yaml_type_of(jc_yaml_get(c, "d")), JC_YAML_NULL);
	bool v = false;
	ck_assert(jc_yaml_is_bool(jc_yaml_get(c, "e"), &v) && v);
	long n;
	ck_assert(jc_yaml_is_int(jc_yaml_get(root, "a"), &n) && n == 1);
	ck_assert_ptr_null(jc_yaml_get(root, "zz"));
	jc_yaml_free(doc);
}
END_TEST

START_TEST(syntax_error_has_place)
{
	jc_error err;
	jc_yaml_doc *doc = load("a: [1, 2\nb: 3\n", &err);
	ck_assert_ptr_null(doc);
	ck_assert_int_eq(err.code, JC_EPARSE);
	ck_assert_str_eq(err.file, "t.yaml");
	ck_assert_int_gt(err.line, 0);
	ck_assert_int_gt(err.column, 0);
	ck_assert(strstr(err.message, "invalid YAML") != NULL);
}
END_TEST

START_TEST(duplicate_keys_are_errors)
{
	jc_error err;
	jc_yaml_doc *doc = load("resources:\n  cp: 1\n  ct: 2\n  cp: 3\n", &err);
	ck_assert_ptr_null(doc);
	ck_assert_int_eq(err.line, 4);
	ck_assert_int_eq(err.column, 3);
	ck_assert(strstr(err.message, "duplicate key \"cp\" (first defined at line 2)") != NULL);
}
END_TEST

START_TEST(aliases_resolve)
{
	jc_error err;
	jc_yaml_doc *doc = load("base: &b {flavor: small}\nx: *b\n", &err);
	ck_assert_ptr_nonnull(doc);
	const jc_yaml_node *x = jc_yaml_get(jc_yaml_root(doc), "x");
	ck_assert_str_eq(jc_yaml_scalar(jc_yaml_get(x, "flavor")), "small");
	jc_yaml_free(doc);
	ck_assert_ptr_null(load("x: *nope\n", &err));
	ck_assert(strstr(err.message, "undefined alias") != NULL || strstr(err.message, "invalid YAML") != NULL);
}
END_TEST

START_TEST(typed_reads)
{
	jc_error err;
	jc_yaml_doc *doc = load("n: -3\ns: '5'\nb: maybe\nm: {}\n", &err);
	const jc_yaml_node *root = jc_yaml_root(doc);
	long n;
	bool b;
	const char *s;
	ck_assert_int_eq(jc_yaml_get_int(jc_yaml_get(root, "n"), "n", 0, 10, &n, &err), JC_EINVALID);
	ck_assert(strstr(err.message, "between 0 and 10, found -3") != NULL);
	ck_assert_int_eq(err.line, 1);
	/* a quoted number is a string */
	ck_assert_int_eq(jc_yaml_get_int(jc_yaml_get(root, "s"), "s", 0, 10, &n, &err), JC_EINVALID);
	ck_assert_int_eq(jc_yaml_get_bool(jc_yaml_get(root, "b"), "b", &b, &err), JC_EINVALID);
	ck_assert(strstr(err.message, "true or false, found \"maybe\"") != NULL);
	ck_assert_int_eq(jc_yaml_get_string(jc_yaml_get(root, "m"), "m", &s, &err), JC_EINVALID);
	ck_assert(strstr(err.message, "must be a string, found a mapping") != NULL);
	jc_yaml_free(doc);
}
END_TEST

START_TEST(unknown_keys_get_suggestions)
{
	static const char *const known[] = { "number", "flavor", "image" };
	jc_error err;
	jc_yaml_doc *doc = load("number: 1\nflavour: x\n", &err);
	ck_assert_int_eq(jc_yaml_check_keys(jc_yaml_root(doc), known, 3, "role cp", &err), JC_EINVALID);
	ck_assert_str_eq(err.message, "unknown key \"flavour\" in role cp; did you mean \"flavor\"?");
	ck_assert_int_eq(err.line, 2);
	ck_assert_int_eq(err.column, 1);
	jc_yaml_free(doc);
	doc = load("qqqq: 1\n", &err);
	ck_assert_int_eq(jc_yaml_check_keys(jc_yaml_root(doc), known, 3, "role cp", &err), JC_EINVALID);
	ck_assert(strstr(err.message, "known keys: number, flavor, image") != NULL);
	jc_yaml_free(doc);
}
END_TEST

START_TEST(empty_document_is_null)
{
	jc_error err;
	jc_yaml_doc *doc = load("", &err);
	ck_assert_ptr_nonnull(doc);
	ck_assert_int_eq(jc_yaml_type_of(jc_yaml_root(doc)), JC_YAML_NULL);
	jc_yaml_free(doc);
	ck_assert_int_eq(jc_yaml_load_file(&doc, "/nonexistent.yaml", &err), JC_EINVALID);
	ck_assert_str_eq(err.file, "/nonexistent.yaml");
}
END_TEST

static Suite *yaml_suite(void)
{
	Suite *s = suite_create("yaml");
	TCase *tc = tcase_create("yaml");
	tcase_add_test(tc, positions_and_types);
	tcase_add_test(tc, syntax_error_has_place);
	tcase_add_test(tc, duplicate_keys_are_errors);
	tcase_add_test(tc, aliases_resolve);
	tcase_add_test(tc, typed_reads);
	tcase_add_test(tc, unknown_keys_get_suggestions);
	tcase_add_test(tc, empty_document_is_null);
	suite_add_tcase(s, tc);
	return s;
}

TEST_MAIN(yaml_suite)
