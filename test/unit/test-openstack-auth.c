/* test-openstack-auth.c - Keystone v3 bodies, the catalog, and the whole
 * call path against a scripted Keystone+Nova+Glance+Neutron in a thread:
 * no call at open, one token reused, a new token on 401, a refused
 * password, microversion fallback, name resolution before any create. */
#include "tests.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#include "cloud-openstack.h"
#include "jcicd/cloud.h"

/* ---- pure parts */

static os_config *config(void)
{
	os_config *c = jc_calloc(1, sizeof(*c));
	c->name = jc_strdup("t");
	c->username = jc_strdup("ci");
	c->password = jc_strdup("pw-1234");
	c->project_name = jc_strdup("builds");
	return c;
}

START_TEST(password_body)
{
	os_config *c = config();
	char *body;
	jc_error err;
	ck_assert_int_eq(os_auth_body(&body, c, &err), 0);
	ck_assert_str_eq(body, "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":\"ci\","
			       "\"domain\":{\"id\":\"default\"},\"password\":\"pw-1234\"}}},\"scope\":{\"project\":{\"name\":"
			       "\"builds\",\"domain\":{\"id\":\"default\"}}}}}");
	free(body);
	c->user_domain_name = jc_strdup("Users");
	c->project_id = jc_strdup("p-9");
	ck_assert_int_eq(os_auth_body(&body, c, &err), 0);
	ck_assert_ptr_nonnull(strstr(body, "\"domain\":{\"name\":\"Users\"}"));
	ck_assert_ptr_nonnull(strstr(body, "\"scope\":{\"project\":{\"id\":\"p-9\"}}"));
	free(body);
	c->user_id = jc_strdup("u-1");
	ck_assert_int_eq(os_auth_body(&body, c, &err), 0);
	ck_assert_ptr_nonnull(strstr(body, "\"user\":{\"id\":\"u-1\",\"password\":\"pw-1234\"}"));
	free(body);
	free(c->password);
	c->password = NULL;
	ck_assert_int_eq(os_auth_body(&body, c, &err), JC_EINVALID);
	os_config_free(c);
}
END_TEST

START_TEST(application_credential_body)
{
	os_config *c = config();
	char *body;
	jc_error err;
	c->auth_type = OS_AUTH_APPCRED;
	c->appcred_id = jc_strdup("ac-1");
	c->appcred_secret = jc_strdup("sekrit");
	ck_assert_int_eq(os_auth_body(&body, c, &err), 0);
	/* an application credential brings its own scope: none is asked */
	ck_assert_str_eq(body, "{\"auth\":{\"identity\":{\"methods\":[\"application_credential\"],"
			       "\"application_credential\":{\"id\":\"ac-1\",\"secret\":\"sekrit\"}}}}");
	free(body);
	free(c->appcred_id);
	c->appcred_id = NULL;
	c->appcred_name = jc_strdup("deploy");
	ck_assert_int_eq(os_auth_body(&body, c, &err), 0);
	ck_assert_ptr_nonnull(strstr(body, "\"name\":\"deploy\",\"user\":{\"name\":\"ci\",\"domain\":{\"id\":\"default\"}}"));
	free(body);
	os_config_free(c);
}
END_TEST

START_TEST(tokens_url)
{
	char *u;
	jc_error err;
	ck_assert_int_eq(os_auth_tokens_url(&u, "http://127.0.0.1:5000/v3", &err), 0);
	ck_assert_str_eq(u, "http://127.0.0.1:5000/v3/auth/tokens");
	free(u);
	ck_assert_int_eq(os_auth_tokens_url(&u, "https://id.example/v3/", &err), 0);
	ck_assert_str_eq(u, "https://id.example/v3/auth/tokens");
	free(u);
	ck_assert_int_eq(os_auth_tokens_url(&u, "http://127.0.0.1:5000", &err), 0);
	ck_assert_str_eq(u, "http://127.0.0.1:5000/v3/auth/tokens");
	free(u);
	ck_assert_int_eq(os_auth_tokens_url(&u, "https://cloud.example/identity/", &err), 0);
	ck_assert_str_eq(u, "https://cloud.example/identity/v3/auth/tokens");
	free(u);
	ck_assert_int_eq(os_auth_tokens_url(&u, "http://127.0.0.1:5000/v2.0", &err), JC_EINVALID);
	ck_assert_int_eq(os_auth_tokens_url(&u, "keystone:5000", &err), JC_EINVALID);
}
END_TEST

static const char catalog_text[] =
	"[{\"type\": \"compute\", \"name\": \"nova\", \"endpoints\": ["
	"  {\"interface\": \"public\", \"region_id\": \"R1\", \"url\": \"https://nova.r1/v2.1\"},"
	"  {\"interface\": \"internal\", \"region_id\": \"R1\", \"url\": \"http://nova.r1.internal/v2.1\"},"
	"  {\"interface\": \"public\", \"region_id\": \"R2\", \"url\": \"https://nova.r2/v2.1\"}]},"
	" {\"type\": \"image\", \"endpoints\": ["
	"  {\"interface\": \"public\", \"region\": \"R1\", \"url\": \"https://glance\"},"
	"  {\"interface\": \"public\", \"region\": \"R2\", \"url\": \"https://glance\"}]}]";

START_TEST(catalog_choice)
{
	json_object *cat = json_tokener_parse(catalog_text);
	char *u;
	jc_error err;
	ck_assert_int_eq(os_catalog_url(&u, cat, "compute", "public", "R2", &err), 0);
	ck_assert_str_eq(u, "https://nova.r2/v2.1");
	free(u);
	ck_assert_int_eq(os_catalog_url(&u, cat, "compute", "internal", NULL, &err), 0);
	ck_assert_str_eq(u, "http://nova.r1.internal/v2.1");
	free(u);
	/* two regions and none asked for: say which there are */
	ck_assert_int_eq(os_catalog_url(&u, cat, "compute", "public", NULL, &err), JC_EAMBIGUOUS);
	ck_assert_ptr_nonnull(strstr(err.message, "R1, R2"));
	/* the same URL in every region is no ambiguity */
	ck_assert_int_eq(os_catalog_url(&u, cat, "image", "public", NULL, &err), 0);
	ck_assert_str_eq(u, "https://glance");
	free(u);
	ck_assert_int_eq(os_catalog_url(&u, cat, "compute", "admin", NULL, &err), JC_EINVALID);
	ck_assert_int_eq(os_catalog_url(&u, cat, "compute", "public", "R3", &err), JC_EINVALID);
	ck_assert_ptr_nonnull(strstr(err.message, "regions: R1, R2"));
	ck_assert_int_eq(os_catalog_url(&u, cat, "network", "public", NULL, &err), JC_EUNSUPPORTED);
	json_object_put(cat);
}
END_TEST

/* ---- a scripted cloud */

struct mock {
	int fd, port;
	pthread_t thread;
	pthread_mutex_t lock;
	int connections, auths, versions, lists, posts, flavor_lists;
	int token_seq;
	char token[32];
	bool revoke_next;     /* the next call with the current token gets 401 */
	bool bad_password;
	bool drop_posts;      /* act on POST /servers, then close without an answer */
	int max_minor;        /* Nova's newest microversion 2.<max_minor> */
	char last_list[512];
	char last_post[4096];
	char last_mv[64];
	char auth_body[1024];
};

static struct mock M;

static void reply(int c, int status, const char *extra, const char *body)
{
	char head[1024];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
			 "x-openstack-request-id: req-mock-%d\r\n%s\r\n",
			 status, strlen(body), status, extra ? extra : "");
	if (send(c, head, (size_t)n, MSG_NOSIGNAL) < 0 || send(c, body, strlen(body), MSG_NOSIGNAL) < 0)
		return;
}

/* One request on connection c; returns -1 when the connection is done. */
static int serve_one(int c)
{
	char buf[16384], method[16], path[1024], token[64] = "", mv[64] = "";
	size_t len = 0;
	char *end = NULL, *h;
	long clen = 0;
	char body[8192];

	while (!end) {
		ssize_t n = recv(c, buf + len, sizeof(buf) - 1 - len, 0);
		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	*end = '\0';
	sscanf(buf, "%15s %1023s", method, path);
	if ((h = strcasestr(buf, "content-length:")) != NULL)
		clen = strtol(h + 15, NULL, 10);
	if ((h = strcasestr(buf, "x-auth-token:")) != NULL)
		sscanf(h + 13, " %63s", token);
	if ((h = strcasestr(buf, "openstack-api-version:")) != NULL)
		sscanf(h + 22, " compute %63s", mv);
	size_t have = len - (size_t)(end + 4 - buf);
	memcpy(body, end + 4, have);
	while ((long)have < clen && have < sizeof(body) - 1) {
		ssize_t n = recv(c, body + have, sizeof(body) - 1 - have, 0);
		if (n <= 0)
			return -1;
		have += (size_t)n;
	}
	body[have] = '\0';

	pthread_mutex_lock(&M.lock);
	if (strcmp(method, "POST") == 0 && strcmp(path, "/v3/auth/tokens") == 0) {
		M.auths++;
		jc_strlcpy(M.auth_body, body, sizeof(M.auth_body));
		if (M.bad_password) {
			pthread_mutex_unlock(&M.lock);
			reply(c, 401, NULL, "{\"error\": {\"code\": 401, \"message\": \"The request you have made requires "
					    "authentication.\"}}");
			return 0;
		}
		char hdr[128], out[2048];
		snprintf(M.token, sizeof(M.token), "tok-%d", ++M.token_seq);
		snprintf(hdr, sizeof(hdr), "X-Subject-Token: %s\r\n", M.token);
		snprintf(out, sizeof(out),
			 "{\"token\": {\"issued_at\": \"2026-01-01T00:00:00.000000Z\", \"expires_at\": "
			 "\"2099-01-01T00:00:00.000000Z\", \"project\": {\"id\": \"p1\"}, \"user\": {\"id\": \"u1\"},"
			 " \"catalog\": [{\"type\": \"compute\", \"endpoints\": [{\"interface\": \"public\", \"region_id\": "
			 "\"R1\", \"url\": \"http://127.0.0.1:%d/v2.1\"}, {\"interface\": \"internal\", \"region_id\": \"R1\","
			 " \"url\": \"http://internal.invalid/v2.1\"}]}, {\"type\": \"image\", \"endpoints\": [{\"interface\":"
			 " \"public\", \"region_id\": \"R1\", \"url\": \"http://127.0.0.1:%d/image\"}]}, {\"type\": "
			 "\"network\", \"endpoints\": [{\"interface\": \"public\", \"region_id\": \"R1\", \"url\": "
			 "\"http://127.0.0.1:%d/network/\"}]}]}}",
			 M.port, M.port, M.port);
		pthread_mutex_unlock(&M.lock);
		reply(c, 201, hdr, out);
		return 0;
	}
	if (!*token || strcmp(token, M.token) != 0 || M.revoke_next) {
		M.revoke_next = false;
		M.token[0] = '\0';
		pthread_mutex_unlock(&M.lock);
		reply(c, 401, NULL, "{\"error\": {\"code\": 401, \"message\": \"bad token\"}}");
		return 0;
	}
	if (*mv)
		jc_strlcpy(M.last_mv, mv, sizeof(M.last_mv));
	if (strcmp(path, "/v2.1/") == 0) {
		char out[256];
		M.versions++;
		snprintf(out, sizeof(out), "{\"version\": {\"id\": \"v2.1\", \"version\": \"2.%d\", \"min_version\": \"2.1\"}}",
			 M.max_minor);
		pthread_mutex_unlock(&M.lock);
		reply(c, 200, NULL, out);
	} else if (strncmp(path, "/v2.1/servers/detail", 20) == 0) {
		M.lists++;
		jc_strlcpy(M.last_list, path, sizeof(M.last_list));
		pthread_mutex_unlock(&M.lock);
		reply(c, 200, NULL, "{\"servers\": [{\"id\": \"s-1\", \"name\": \"cp1_t1\", \"status\": \"ACTIVE\", "
				    "\"metadata\": {\"jcicd_stack\": \"t1\"}}, {\"id\": \"s-2\", \"name\": \"db1_t1\", "
				    "\"status\": \"ACTIVE\", \"metadata\": {}}]}");
	} else if (strcmp(method, "POST") == 0 && strcmp(path, "/v2.1/servers") == 0) {
		M.posts++;
		jc_strlcpy(M.last_post, body, sizeof(M.last_post));
		if (M.drop_posts) {
			pthread_mutex_unlock(&M.lock);
			return -1;
		}
		pthread_mutex_unlock(&M.lock);
		reply(c, 202, NULL, "{\"server\": {\"id\": \"new-1\"}}");
	} else if (strncmp(path, "/v2.1/flavors", 13) == 0) {
		M.flavor_lists++;
		pthread_mutex_unlock(&M.lock);
		reply(c, 200, NULL, "{\"flavors\": [{\"id\": \"1\", \"name\": \"m1.tiny\"}, {\"id\": \"2\", \"name\": \"m1.small\"}]}");
	} else if (strcmp(path, "/image/v2/images?name=trusty&limit=25") == 0) {
		pthread_mutex_unlock(&M.lock);
		reply(c, 200, NULL, "{\"images\": [{\"id\": \"img-1\", \"name\": \"trusty\", \"status\": \"active\"}]}");
	} else if (strncmp(path, "/image/v2/images?name=dup", 25) == 0) {
		pthread_mutex_unlock(&M.lock);
		reply(c, 200, NULL, "{\"images\": [{\"id\": \"img-2\", \"status\": \"active\"}, {\"id\": \"img-3\", "
				    "\"status\": \"active\"}]}");
	} else if (strncmp(path, "/network/v2.0/networks?name=net-1", 33) == 0) {
		pthread_mutex_unlock(&M.lock);
		reply(c, 200, NULL, "{\"networks\": [{\"id\": \"net-id-1\", \"name\": \"net-1\"}]}");
	} else if (strcmp(path, "/v2.1/os-keypairs/ci-key") == 0) {
		pthread_mutex_unlock(&M.lock);
		reply(c, 200, NULL, "{\"keypair\": {\"name\": \"ci-key\"}}");
	} else {
		pthread_mutex_unlock(&M.lock);
		reply(c, 404, NULL, "{\"itemNotFound\": {\"code\": 404, \"message\": \"nothing here\"}}");
	}
	return 0;
}

static void *conn_main(void *arg)
{
	int c = (int)(intptr_t)arg;
	while (serve_one(c) == 0)
		;
	close(c);
	return NULL;
}

static void *accept_main(void *arg)
{
	(void)arg;
	for (;;) {
		int c = accept(M.fd, NULL, NULL);
		pthread_t t;
		if (c < 0)
			return NULL;
		pthread_mutex_lock(&M.lock);
		M.connections++;
		pthread_mutex_unlock(&M.lock);
		pthread_create(&t, NULL, conn_main, (void *)(intptr_t)c);
		pthread_detach(t);
	}
}

static char *dir;

static void mock_start(void)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	int one = 1;
	char text[1024];

	memset(&M, 0, sizeof(M));
	pthread_mutex_init(&M.lock, NULL);
	M.max_minor = 93;
	M.fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(M.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(M.fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(M.fd, 16), 0);
	getsockname(M.fd, (struct sockaddr *)&a, &al);
	M.port = ntohs(a.sin_port);
	pthread_create(&M.thread, NULL, accept_main, NULL);

	dir = test_tmpdir();
	setenv("HOME", dir, 1);
	unsetenv("OS_CLOUD");
	unsetenv("OS_CLIENT_CONFIG_FILE");
	unsetenv("OS_CLIENT_SECURE_FILE");
	unsetenv("OS_PASSWORD");
	snprintf(text, sizeof(text),
		 "clouds:\n  mock:\n    auth:\n      auth_url: http://127.0.0.1:%d/v3\n      username: ci\n"
		 "      password: hunter2-secret\n      project_name: builds\n    region_name: R1\n"
		 "    jcicd: {default_networks: none}\n",
		 M.port);
	test_write(dir, "clouds.yaml", text);
}

static void mock_stop(void)
{
	shutdown(M.fd, SHUT_RDWR);
	close(M.fd);
	pthread_join(M.thread, NULL);
	jc_rm_rf(dir, NULL);
	free(dir);
}

static jc_cloud *open_mock(void)
{
	jc_cloud *cloud;
	jc_cloud_options o = JC_CLOUD_OPTIONS_INIT;
	jc_error err;
	char *path = test_path(dir, "clouds.yaml");
	o.config_file = path;
	o.http_retries = 0;
	ck_assert_int_eq(jc_cloud_open(&cloud, "mock", &o, &err), 0);
	ck_assert_str_eq(jc_cloud_provider_name(cloud), "openstack");
	free(path);
	return cloud;
}

START_TEST(lazy_auth_token_reuse_and_keepalive)
{
	jc_cloud *cloud = open_mock();
	jc_server_list *l;
	jc_error err;
	long long first, max;

	/* opening reads clouds.yaml only */
	ck_assert_int_eq(M.connections + M.auths, 0);
	jc_cloud_poll_interval(cloud, &first, &max);
	ck_assert_int_eq(first, 2000);
	ck_assert_int_eq(max, 10000);
	ck_assert_int_eq(jc_cloud_list(cloud, "t1", &l, &err), 0);
	ck_assert_int_eq(l->n, 2);
	ck_assert_str_eq(l->servers[0].name, "cp1_t1");
	ck_assert_str_eq(l->servers[0].tag, "t1");
	jc_server_list_free(l);
	ck_assert_str_eq(M.last_list, "/v2.1/servers/detail?tags=jcicd-stack-t1&limit=100");
	ck_assert_str_eq(M.last_mv, "2.93");
	ck_assert_ptr_nonnull(strstr(M.auth_body, "\"name\":\"builds\""));
	ck_assert_int_eq(jc_cloud_list(cloud, "t1", &l, &err), 0);
	jc_server_list_free(l);
	/* one token and one version document for the run */
	ck_assert_int_eq(M.auths, 1);
	ck_assert_int_eq(M.versions, 1);
	ck_assert_int_eq(M.lists, 2);
	/* one connection for everything: kept alive */
	ck_assert_int_eq(M.connections, 1);
	jc_cloud_free(cloud);
}
END_TEST

START_TEST(new_token_on_401)
{
	jc_cloud *cloud = open_mock();
	jc_server_list *l;
	jc_error err;
	ck_assert_int_eq(jc_cloud_list(cloud, "t1", &l, &err), 0);
	jc_server_list_free(l);
	M.revoke_next = true;
	ck_assert_int_eq(jc_cloud_list(cloud, "t1", &l, &err), 0);
	jc_server_list_free(l);
	ck_assert_int_eq(M.auths, 2);
	ck_assert_int_eq(M.lists, 2);
	jc_cloud_free(cloud);
}
END_TEST

START_TEST(refused_password)
{
	jc_cloud *cloud = open_mock();
	jc_server_list *l;
	jc_error err;
	char msg[2048];
	M.bad_password = true;
	ck_assert_int_eq(jc_cloud_list(cloud, "t1", &l, &err), JC_EAUTH);
	ck_assert_int_eq(jc_error_exit_status(err.code), 3);
	jc_error_format(&err, msg, sizeof(msg));
	ck_assert_ptr_nonnull(strstr(msg, "Keystone refused the credentials of user ci"));
	ck_assert_ptr_nonnull(strstr(msg, "HTTP 401"));
	ck_assert_ptr_null(strstr(msg, "hunter2"));
	ck_assert_int_eq(M.lists, 0);
	jc_cloud_free(cloud);
}
END_TEST

static jc_server_create mock_request(void)
{
	static const char *const nets[] = { "net-1" };
	jc_server_create r;
	memset(&r, 0, sizeof(r));
	r.name = "cp1_t1";
	r.hostname = "cp1-t1";
	r.tag = "t1";
	r.role = "cp";
	r.flavor = "m1.tiny";
	r.image = "trusty";
	r.networks_mode = JC_NETWORKS_LIST;
	r.networks = nets;
	r.n_networks = 1;
	r.key_name = "ci-key";
	return r;
}

START_TEST(create_resolves_names_once)
{
	jc_cloud *cloud = open_mock();
	jc_server_create r[2] = { mock_request(), mock_request() };
	jc_create_result res[2];
	jc_error err;
	r[1].name = "cp2_t1";
	r[1].networks_mode = JC_NETWORKS_DEFAULT;   /* the cloud says none */
	ck_assert_int_eq(jc_cloud_prepare(cloud, r, 2, &err), 0);
	ck_assert_int_eq(jc_cloud_create(cloud, r, 2, res, &err), 0);
	ck_assert_str_eq(res[0].id, "new-1");
	ck_assert_int_eq(M.posts, 2);
	ck_assert_int_eq(M.flavor_lists, 1);
	ck_assert_ptr_nonnull(strstr(M.last_post, "\"flavorRef\":\"1\""));
	ck_assert_ptr_nonnull(strstr(M.last_post, "\"imageRef\":\"img-1\""));
	ck_assert_ptr_nonnull(strstr(M.last_post, "\"tags\":[\"jcicd\",\"jcicd-stack-t1\"]"));
	ck_assert_ptr_nonnull(strstr(M.last_post, "\"key_name\":\"ci-key\""));
	jc_create_results_clear(res, 2);
	jc_cloud_free(cloud);
}
END_TEST

START_TEST(unknown_and_ambiguous_names_create_nothing)
{
	jc_cloud *cloud = open_mock();
	jc_server_create r = mock_request();
	jc_create_result res;
	jc_error err;
	r.flavor = "m1.tinyy";
	ck_assert_int_eq(jc_cloud_prepare(cloud, &r, 1, &err), JC_EINVALID);
	ck_assert_ptr_nonnull(strstr(err.message, "flavor \"m1.tinyy\" (role cp) not found; did you mean \"m1.tiny\"?"));
	ck_assert_int_eq(jc_error_exit_status(err.code), 2);
	ck_assert_int_eq(jc_cloud_create(cloud, &r, 1, &res, &err), JC_EINVALID);
	ck_assert_ptr_null(res.id);
	r.flavor = "m1.tiny";
	r.image = "dup";
	ck_assert_int_eq(jc_cloud_prepare(cloud, &r, 1, &err), JC_EAMBIGUOUS);
	ck_assert_ptr_nonnull(strstr(err.message, "matches 2 images (img-2, img-3)"));
	r.image = "trusty";
	r.key_name = "nokey";
	ck_assert_int_eq(jc_cloud_prepare(cloud, &r, 1, &err), JC_EINVALID);
	ck_assert_ptr_nonnull(strstr(err.message, "key pair \"nokey\""));
	ck_assert_int_eq(M.posts, 0);
	jc_cloud_free(cloud);
}
END_TEST

START_TEST(older_nova_falls_back)
{
	jc_cloud *cloud;
	jc_server_create r = mock_request();
	jc_create_result res;
	jc_server_list *l;
	jc_error err;
	M.max_minor = 40;
	cloud = open_mock();
	ck_assert_int_eq(jc_cloud_create(cloud, &r, 1, &res, &err), 0);
	jc_create_results_clear(&res, 1);
	ck_assert_str_eq(M.last_mv, "2.40");
	/* no tags at create before 2.52: the metadata marks the stack */
	ck_assert_ptr_null(strstr(M.last_post, "\"tags\""));
	ck_assert_ptr_nonnull(strstr(M.last_post, "\"jcicd_stack\":\"t1\""));
	ck_assert_int_eq(jc_cloud_list(cloud, "t1", &l, &err), 0);
	/* tags are filterable from 2.26: still by tag */
	ck_assert_str_eq(M.last_list, "/v2.1/servers/detail?tags=jcicd-stack-t1&limit=100");
	jc_server_list_free(l);
	jc_cloud_free(cloud);

	M.max_minor = 20;
	cloud = open_mock();
	ck_assert_int_eq(jc_cloud_list(cloud, "t1", &l, &err), 0);
	/* before 2.26: by name, and only servers whose metadata says the stack */
	ck_assert_str_eq(M.last_list, "/v2.1/servers/detail?name=_t1%24&limit=100");
	ck_assert_int_eq(l->n, 1);
	ck_assert_str_eq(l->servers[0].name, "cp1_t1");
	jc_server_list_free(l);
	/* and "networks: none" cannot be said before 2.37 */
	r.networks_mode = JC_NETWORKS_NONE;
	ck_assert_int_eq(jc_cloud_prepare(cloud, &r, 1, &err), JC_EUNSUPPORTED);
	jc_cloud_free(cloud);
}
END_TEST

START_TEST(an_acted_on_post_is_never_sent_twice)
{
	jc_cloud *cloud = open_mock();
	jc_server_create r = mock_request();
	jc_create_result res;
	jc_server_list *l;
	jc_error err;
	/* a kept-alive connection first, which the POST must not reuse */
	ck_assert_int_eq(jc_cloud_list(cloud, "t1", &l, &err), 0);
	jc_server_list_free(l);
	M.drop_posts = true;
	ck_assert_int_eq(jc_cloud_create(cloud, &r, 1, &res, &err), 0);
	/* the connection died after Nova acted: looked up by name, not resent */
	ck_assert_int_eq(M.posts, 1);
	ck_assert_str_eq(res.id, "s-1");
	jc_create_results_clear(&res, 1);
	jc_cloud_free(cloud);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("openstack-auth");
	TCase *t = tcase_create("pure");
	tcase_add_test(t, password_body);
	tcase_add_test(t, application_credential_body);
	tcase_add_test(t, tokens_url);
	tcase_add_test(t, catalog_choice);
	suite_add_tcase(s, t);
	t = tcase_create("calls");
	tcase_add_checked_fixture(t, mock_start, mock_stop);
	tcase_add_test(t, lazy_auth_token_reuse_and_keepalive);
	tcase_add_test(t, new_token_on_401);
	tcase_add_test(t, refused_password);
	tcase_add_test(t, create_resolves_names_once);
	tcase_add_test(t, unknown_and_ambiguous_names_create_nothing);
	tcase_add_test(t, older_nova_falls_back);
	tcase_add_test(t, an_acted_on_post_is_never_sent_twice);
	suite_add_tcase(s, t);
	return s;
}

TEST_MAIN(suite)
