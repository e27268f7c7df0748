/* test-openstack-compute.c - the pure parts of the Nova side: microversion
 * negotiation, what "networks" becomes, the create body, reading a server. */
#include "tests.h"

#include "cloud-openstack.h"

START_TEST(microversion_negotiation)
{
	int v;
	jc_error err;
	/* the highest both sides speak */
	ck_assert_int_eq(os_microversion_choose(&v, 2001, 2093, 0, &err), 0);
	ck_assert_int_eq(v, 2093);
	ck_assert_int_eq(os_microversion_choose(&v, 2001, 2100, 0, &err), 0);
	ck_assert_int_eq(v, OS_MV_MAX);
	ck_assert_int_eq(os_microversion_choose(&v, 2001, 2040, 0, &err), 0);
	ck_assert_int_eq(v, 2040);
	/* compute_api_version caps it */
	ck_assert_int_eq(os_microversion_choose(&v, 2001, 2093, 2045, &err), 0);
	ck_assert_int_eq(v, 2045);
	/* a cloud without microversions speaks 2.1 */
	ck_assert_int_eq(os_microversion_choose(&v, 0, 0, 0, &err), 0);
	ck_assert_int_eq(v, 2001);
	/* no overlap is an error that says both ranges */
	ck_assert_int_eq(os_microversion_choose(&v, 2095, 2100, 0, &err), JC_EUNSUPPORTED);
	ck_assert_ptr_nonnull(strstr(err.message, "2.95 to 2.100"));
	ck_assert_int_eq(os_microversion_choose(&v, 2060, 2093, 2050, &err), JC_EUNSUPPORTED);
	ck_assert_ptr_nonnull(strstr(err.message, "capped"));
}
END_TEST

START_TEST(networks_choice)
{
	os_config cfg;
	os_nets nets;
	bool dflt;
	jc_error err;
	memset(&cfg, 0, sizeof(cfg));
	/* the spec lists networks: those, always */
	ck_assert_int_eq(os_networks_choose(&nets, &dflt, JC_NETWORKS_LIST, &cfg, 2001, &err), 0);
	ck_assert_int_eq(nets, OS_NETS_LIST);
	ck_assert(!dflt);
	/* none: "none" from 2.37, impossible before */
	ck_assert_int_eq(os_networks_choose(&nets, &dflt, JC_NETWORKS_NONE, &cfg, 2037, &err), 0);
	ck_assert_int_eq(nets, OS_NETS_NONE);
	ck_assert_int_eq(os_networks_choose(&nets, &dflt, JC_NETWORKS_NONE, &cfg, 2036, &err), JC_EUNSUPPORTED);
	ck_assert_ptr_nonnull(strstr(err.message, "2.37"));
	/* not given: "auto" from 2.37, the key left out before */
	ck_assert_int_eq(os_networks_choose(&nets, &dflt, JC_NETWORKS_DEFAULT, &cfg, 2093, &err), 0);
	ck_assert_int_eq(nets, OS_NETS_AUTO);
	ck_assert_int_eq(os_networks_choose(&nets, &dflt, JC_NETWORKS_DEFAULT, &cfg, 2036, &err), 0);
	ck_assert_int_eq(nets, OS_NETS_OMIT);
	/* ... unless the cloud says otherwise */
	cfg.default_networks = OS_DEFNET_NONE;
	ck_assert_int_eq(os_networks_choose(&nets, &dflt, JC_NETWORKS_DEFAULT, &cfg, 2093, &err), 0);
	ck_assert_int_eq(nets, OS_NETS_NONE);
	cfg.default_networks = OS_DEFNET_LIST;
	ck_assert_int_eq(os_networks_choose(&nets, &dflt, JC_NETWORKS_DEFAULT, &cfg, 2001, &err), 0);
	ck_assert_int_eq(nets, OS_NETS_LIST);
	ck_assert(dflt);
}
END_TEST

static jc_server_create request(void)
{
	static const char *const nets[] = { "net-1" };
	static const char *const mk[] = { "owner" }, *const mv[] = { "ci" };
	jc_server_create r;
	memset(&r, 0, sizeof(r));
	r.name = "cp1_t1";
	r.hostname = "cp1-t1";
	r.tag = "t1";
	r.role = "cp";
	r.flavor = "m1.small";
	r.image = "trusty";
	r.networks_mode = JC_NETWORKS_LIST;
	r.networks = nets;
	r.n_networks = 1;
	r.key_name = "ci-key";
	r.availability_zone = "nova";
	r.config_drive = true;
	r.metadata_keys = mk;
	r.metadata_values = mv;
	r.n_metadata = 1;
	r.userdata = "#!/bin/sh\necho hi\n";
	r.userdata_len = strlen(r.userdata);
	return r;
}

static json_object *server_of(const char *body)
{
	json_object *root = json_tokener_parse(body), *s = NULL;
	ck_assert_ptr_nonnull(root);
	ck_assert(json_object_object_get_ex(root, "server", &s));
	json_object_get(s);
	json_object_put(root);
	return s;
}

static const char *field(json_object *o, const char *key)
{
	json_object *v;
	return json_object_object_get_ex(o, key, &v) ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN) : NULL;
}

START_TEST(create_body)
{
	jc_server_create r = request();
	static const char *const net_ids[] = { "11111111-2222-3333-4444-555555555555" };
	static const char *const sg_ids[] = { "sg-1" };
	os_create_ids ids = { "2", "img-1", OS_NETS_LIST, net_ids, 1, sg_ids, 1 };
	char *body;
	json_object *s;
	jc_error err;

	ck_assert_int_eq(os_server_body(&body, &r, &ids, 2093, &err), 0);
	s = server_of(body);
	ck_assert_str_eq(field(s, "name"), "\"cp1_t1\"");
	ck_assert_str_eq(field(s, "flavorRef"), "\"2\"");
	ck_assert_str_eq(field(s, "imageRef"), "\"img-1\"");
	ck_assert_str_eq(field(s, "networks"), "[{\"uuid\":\"11111111-2222-3333-4444-555555555555\"}]");
	ck_assert_str_eq(field(s, "security_groups"), "[{\"name\":\"sg-1\"}]");
	ck_assert_str_eq(field(s, "key_name"), "\"ci-key\"");
	ck_assert_str_eq(field(s, "availability_zone"), "\"nova\"");
	ck_assert_str_eq(field(s, "config_drive"), "true");
	ck_assert_str_eq(field(s, "user_data"), "\"IyEvYmluL3NoCmVjaG8gaGkK\"");
	ck_assert_str_eq(field(s, "hostname"), "\"cp1-t1\"");
	ck_assert_str_eq(field(s, "metadata"), "{\"owner\":\"ci\",\"jcicd_stack\":\"t1\",\"jcicd_role\":\"cp\"}");
	ck_assert_str_eq(field(s, "tags"), "[\"jcicd\",\"jcicd-stack-t1\"]");
	ck_assert_ptr_null(field(s, "block_device_mapping_v2"));
	json_object_put(s);
	free(body);

	/* before 2.52 there are no tags at create (the metadata still marks the
	 * stack), before 2.90 no hostname */
	ck_assert_int_eq(os_server_body(&body, &r, &ids, 2051, &err), 0);
	s = server_of(body);
	ck_assert_ptr_null(field(s, "tags"));
	ck_assert_ptr_null(field(s, "hostname"));
	ck_assert_ptr_nonnull(strstr(field(s, "metadata"), "\"jcicd_stack\":\"t1\""));
	json_object_put(s);
	free(body);

	/* networks: none, auto, and left out */
	ids.nets = OS_NETS_NONE;
	ck_assert_int_eq(os_server_body(&body, &r, &ids, 2093, &err), 0);
	s = server_of(body);
	ck_assert_str_eq(field(s, "networks"), "\"none\"");
	json_object_put(s);
	free(body);
	ids.nets = OS_NETS_AUTO;
	ck_assert_int_eq(os_server_body(&body, &r, &ids, 2093, &err), 0);
	s = server_of(body);
	ck_assert_str_eq(field(s, "networks"), "\"auto\"");
	json_object_put(s);
	free(body);
	ids.nets = OS_NETS_OMIT;
	ck_assert_int_eq(os_server_body(&body, &r, &ids, 2001, &err), 0);
	s = server_of(body);
	ck_assert_ptr_null(field(s, "networks"));
	json_object_put(s);
	free(body);
}
END_TEST

START_TEST(boot_from_volume)
{
	jc_server_create r = request();
	os_create_ids ids = { "2", "img-1", OS_NETS_NONE, NULL, 0, NULL, 0 };
	char *body;
	json_object *s;
	jc_error err;
	r.boot_volume_gb = 50;
	r.userdata = NULL;
	r.config_drive = false;
	ck_assert_int_eq(os_server_body(&body, &r, &ids, 2093, &err), 0);
	s = server_of(body);
	ck_assert_str_eq(field(s, "imageRef"), "\"\"");
	ck_assert_str_eq(field(s, "block_device_mapping_v2"),
			 "[{\"boot_index\":0,\"uuid\":\"img-1\",\"source_type\":\"image\",\"destination_type\":\"volume\","
			 "\"volume_size\":50,\"delete_on_termination\":true}]");
	ck_assert_ptr_null(field(s, "user_data"));
	ck_assert_ptr_null(field(s, "config_drive"));
	json_object_put(s);
	free(body);
	/* no flavor is a programming error, not a crash */
	ids.flavor = NULL;
	ck_assert_int_eq(os_server_body(&body, &r, &ids, 2093, &err), JC_EINVALID);
}
END_TEST

START_TEST(reading_servers)
{
	const char *text =
		"{\"id\": \"s-1\", \"name\": \"cp1_t1\", \"status\": \"ACTIVE\", \"OS-EXT-STS:task_state\": null,"
		" \"flavor\": {\"original_name\": \"m1.small\", \"vcpus\": 1}, \"image\": {\"id\": \"img-1\"},"
		" \"created\": \"2026-11-25T15:25:18Z\", \"addresses\": {\"test-net\": ["
		"  {\"addr\": \"10.99.0.5\", \"version\": 4, \"OS-EXT-IPS:type\": \"fixed\"},"
		"  {\"addr\": \"203.0.113.9\", \"version\": 4, \"OS-EXT-IPS:type\": \"floating\"}]}}";
	json_object *o = json_tokener_parse(text);
	jc_server s;
	jc_error err;
	ck_assert_int_eq(os_server_parse(&s, o, "t1", &err), 0);
	ck_assert_str_eq(s.id, "s-1");
	ck_assert_str_eq(s.tag, "t1");
	ck_assert_int_eq(s.status, JC_SERVER_ACTIVE);
	ck_assert_str_eq(s.flavor, "m1.small");
	ck_assert_str_eq(s.image, "img-1");
	ck_assert_int_eq(s.n_fixed, 1);
	ck_assert_str_eq(s.fixed_addresses[0], "10.99.0.5");
	ck_assert_int_eq(s.n_floating, 1);
	ck_assert_str_eq(s.floating_addresses[0], "203.0.113.9");
	ck_assert_ptr_null(s.fault);
	jc_server_clear(&s);
	json_object_put(o);

	/* before 2.47 the flavor is an id; a volume-booted server has no image;
	 * an ERROR server has a fault */
	o = json_tokener_parse("{\"id\": \"s-2\", \"name\": \"ct1_t1\", \"status\": \"ERROR\", \"flavor\": {\"id\": \"99\"},"
			       " \"image\": \"\", \"fault\": {\"message\": \"No valid host was found.\", \"code\": 500}}");
	ck_assert_int_eq(os_server_parse(&s, o, "t1", &err), 0);
	ck_assert_int_eq(s.status, JC_SERVER_ERROR);
	ck_assert_str_eq(s.flavor, "99");
	ck_assert_str_eq(s.image, "(volume)");
	ck_assert_str_eq(s.fault, "No valid host was found. (fault code 500)");
	jc_server_clear(&s);
	json_object_put(o);

	/* on its way out, whatever its status says */
	o = json_tokener_parse("{\"id\": \"s-3\", \"name\": \"x1_t1\", \"status\": \"ACTIVE\", "
			       "\"OS-EXT-STS:task_state\": \"deleting\"}");
	ck_assert_int_eq(os_server_parse(&s, o, "t1", &err), 0);
	ck_assert_int_eq(s.status, JC_SERVER_DELETING);
	ck_assert_str_eq(s.status_text, "DELETING");
	jc_server_clear(&s);
	json_object_put(o);

	o = json_tokener_parse("{\"name\": \"x\"}");
	ck_assert_int_eq(os_server_parse(&s, o, "t1", &err), JC_EHTTP);
	jc_server_clear(&s);
	json_object_put(o);

	ck_assert_int_eq(os_status_map("BUILD", NULL), JC_SERVER_BUILD);
	ck_assert_int_eq(os_status_map("REBUILD", NULL), JC_SERVER_BUILD);
	ck_assert_int_eq(os_status_map("SHUTOFF", NULL), JC_SERVER_OTHER);
	ck_assert_int_eq(os_status_map("SOFT_DELETED", NULL), JC_SERVER_DELETING);
	ck_assert_int_eq(os_status_map(NULL, NULL), JC_SERVER_OTHER);
}
END_TEST

START_TEST(base64_and_uuids)
{
	static const struct {
		const char *in, *out;
	} v[] = { { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
		  { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" } };
	for (size_t i = 0; i < JC_ARRAY_LEN(v); i++) {
		char *b = os_base64(v[i].in, strlen(v[i].in));
		ck_assert_str_eq(b, v[i].out);
		free(b);
	}
	char bin[3] = { (char)0xff, 0, (char)0xfe };
	char *b = os_base64(bin, 3);
	ck_assert_str_eq(b, "/wD+");
	free(b);
	ck_assert(os_is_uuid("da921b3b-65c8-48aa-acd0-fcf4f32c3588"));
	ck_assert(os_is_uuid("DA921B3B65C848AAACD0FCF4F32C3588"));
	ck_assert(!os_is_uuid("fake-image"));
	ck_assert(!os_is_uuid("da921b3b-65c8-48aa-acd0-fcf4f32c358"));
	ck_assert(!os_is_uuid("da921b3b65c8-48aa-acd0-fcf4f32c3588-"));
	ck_assert(!os_is_uuid("ga921b3b-65c8-48aa-acd0-fcf4f32c3588"));
	ck_assert(!os_is_uuid(NULL));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("openstack-compute");
	TCase *t = tcase_create("compute");
	tcase_add_test(t, microversion_negotiation);
	tcase_add_test(t, networks_choice);
	tcase_add_test(t, create_body);
	tcase_add_test(t, boot_from_volume);
	tcase_add_test(t, reading_servers);
	tcase_add_test(t, base64_and_uuids);
	suite_add_tcase(s, t);
	return s;
}

TEST_MAIN(suite)
