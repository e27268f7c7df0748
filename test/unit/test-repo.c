/* test-repo.c - the APT repository model: hashes, deb822, Release files
 * (parsing, and writing against golden files), clearsigned messages,
 * Debian version order, gzip, safe paths. */
#include "tests.h"

#include "jcicd/repo.h"
#include "repo-internal.h"

static char *data_path(const char *name)
{
	const char *top = getenv("TOP_SRCDIR");
	return jc_sprintf("%s/test/data/repo/%s", top && *top ? top : ".", name);
}

/* ---- hashes */

START_TEST(sha256_known_vectors)
{
	char h[JC_SHA256_HEX_SIZE];
	jc_sha256_ctx c;
	jc_repo_sha256_buf(h, "", 0);
	ck_assert_str_eq(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	jc_repo_sha256_buf(h, "abc", 3);
	ck_assert_str_eq(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	/* streaming gives the same digest, in any pieces */
	jc_sha256_init(&c);
	jc_sha256_update(&c, "a", 1);
	jc_sha256_update(&c, "bc", 2);
	ck_assert_int_eq(c.size, 3);
	jc_sha256_final(&c, h);
	ck_assert_str_eq(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	ck_assert(jc_repo_is_sha256(h));
	ck_assert(!jc_repo_is_sha256("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
	ck_assert(!jc_repo_is_sha256("abc"));
	ck_assert(!jc_repo_is_sha256(NULL));
}
END_TEST

START_TEST(sha256_of_a_file)
{
	char *d = test_tmpdir(), *p = test_path(d, "f"), h[JC_SHA256_HEX_SIZE];
	long long size = -1;
	jc_error err;
	test_write(d, "f", "abc");
	ck_assert_int_eq(jc_repo_sha256_file(h, &size, p, &err), 0);
	ck_assert_str_eq(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	ck_assert_int_eq(size, 3);
	ck_assert_int_eq(jc_repo_sha256_file(h, NULL, "/nonexistent/x", &err), JC_ENOTFOUND);
	jc_rm_rf(d, NULL);
	free(p);
	free(d);
}
END_TEST

/* ---- deb822 */

/* Serialises paragraphs as "line|Name=value;Name=value\n" to compare runs. */
static int dump(const jc_deb822_para *p, jc_error *err, void *payload)
{
	jc_buf *b = payload;
	(void)err;
	jc_buf_printf(b, "%d|", jc_deb822_line(p));
	for (size_t i = 0; i < jc_deb822_field_count(p); i++)
		jc_buf_printf(b, "%s@%d=%s;", jc_deb822_field_name(p, i), jc_deb822_field_line(p, i),
			      jc_deb822_field_value(p, i));
	jc_buf_putc(b, '\n');
	return 0;
}

static const char packages[] =
	"# a comment line is ignored\n"
	"Package: hello\n"
	"Version: 2.10-3\n"
	"Description: the classic greeting\n"
	" GNU hello prints a greeting.\n"
	" .\n"
	" It is an example.\n"
	"SHA256:   abc   \n"
	"\n"
	"\n"
	"Package: world\r\n"
	"Version: 1:1.0~rc1\r\n"
	"   \t\n"
	"Package: last\n"
	"Depends:\n"
	"Version: 0";

static const char packages_dump[] =
	"2|Package@2=hello;Version@3=2.10-3;Description@4=the classic greeting\n"
	" GNU hello prints a greeting.\n"
	" .\n"
	" It is an example.;SHA256@8=abc;\n"
	"11|Package@11=world;Version@12=1:1.0~rc1;\n"
	"14|Package@14=last;Depends@15=;Version@16=0;\n";

START_TEST(deb822_paragraphs_and_fields)
{
	jc_buf b = JC_BUF_INIT;
	jc_error err;
	ck_assert_int_eq(jc_deb822_parse(packages, strlen(packages), "Packages", dump, &b, &err), 0);
	ck_assert_str_eq(jc_buf_cstr(&b), packages_dump);
	jc_buf_free(&b);
}
END_TEST

START_TEST(deb822_push_parser_in_any_pieces)
{
	/* fed one byte at a time, or in odd chunks, the result is the same */
	for (size_t chunk = 1; chunk <= 7; chunk += 3) {
		jc_buf b = JC_BUF_INIT;
		jc_deb822_parser *p;
		jc_error err;
		ck_assert_int_eq(jc_deb822_parser_new(&p, "Packages", dump, &b, &err), 0);
		for (size_t off = 0; off < strlen(packages); off += chunk) {
			size_t n = strlen(packages) - off < chunk ? strlen(packages) - off : chunk;
			ck_assert_int_eq(jc_deb822_parser_feed(p, packages + off, n, &err), 0);
		}
		ck_assert_int_eq(jc_deb822_parser_finish(p, &err), 0);
		jc_deb822_parser_free(p);
		ck_assert_str_eq(jc_buf_cstr(&b), packages_dump);
		jc_buf_free(&b);
	}
}
END_TEST

static int get_fields(const jc_deb822_para *p, jc_error *err, void *payload)
{
	(void)err;
	(void)payload;
	ck_assert_str_eq(jc_deb822_get(p, "package"), "hello");
	ck_assert_str_eq(jc_deb822_get(p, "VERSION"), "1.0");
	ck_assert_ptr_null(jc_deb822_get(p, "Depends"));
	ck_assert_ptr_null(jc_deb822_field_name(p, 9));
	return 0;
}

START_TEST(deb822_lookup_ignores_case)
{
	const char *t = "Package: hello\nVersion: 1.0\n";
	ck_assert_int_eq(jc_deb822_parse(t, strlen(t), "x", get_fields, NULL, NULL), 0);
}
END_TEST

static int stop_at_second(const jc_deb822_para *p, jc_error *err, void *payload)
{
	int *seen = payload;
	(void)p;
	if (++*seen == 2)
		return jc_err(err, JC_ECANCELLED, "enough");
	return 0;
}

START_TEST(deb822_callback_stops)
{
	const char *t = "A: 1\n\nA: 2\n\nA: 3\n";
	int seen = 0;
	jc_error err;
	ck_assert_int_eq(jc_deb822_parse(t, strlen(t), "x", stop_at_second, &seen, &err), JC_ECANCELLED);
	ck_assert_int_eq(seen, 2);
	ck_assert_str_eq(err.message, "enough");
}
END_TEST

START_TEST(deb822_errors_have_a_place)
{
	static const struct {
		const char *text;
		int line, col;
		const char *msg;
	} cases[] = {
		{ " leading: continuation\n", 1, 1, "a continuation line (starting with a space) outside a field" },
		{ "A: 1\nno colon here\n", 2, 1, "expected \"Field: value\"" },
		{ "A: 1\n: empty name\n", 2, 1, "expected \"Field: value\"" },
		{ "A: 1\nB: 2\na: 3\n", 3, 1, "field \"A\" appears twice in one paragraph" },
		{ "A: 1\nB\x01x: 2\n", 2, 2, "invalid character in field name \"B\x01x\"" },
		{ "A: 1\n\n b\n", 3, 1, "a continuation line (starting with a space) outside a field" },
	};
	for (size_t i = 0; i < JC_ARRAY_LEN(cases); i++) {
		jc_error err;
		ck_assert_int_eq(jc_deb822_parse(cases[i].text, strlen(cases[i].text), "f.txt", NULL, NULL, &err),
				 JC_EPARSE);
		ck_assert_str_eq(err.file, "f.txt");
		ck_assert_int_eq(err.line, cases[i].line);
		ck_assert_int_eq(err.column, cases[i].col);
		ck_assert_str_eq(err.message, cases[i].msg);
	}
}
END_TEST

/* ---- Release */

static const char release_text[] =
	"Origin: Debian\n"
	"Suite: stable\n"
	"Codename: bookworm\n"
	"Date: Sat, 07 Oct 2023 09:52:43 UTC\n"
	"Acquire-By-Hash: yes\n"
	"MD5Sum:\n"
	" 0123456789abcdef0123456789abcdef 10 main/binary-amd64/Packages\n"
	"SHA256:\n"
	" 2E7D2C03A9507AE265ECF5B5356885A53393A2029D241394997265A1A25AEFC6   1234 main/binary-amd64/Packages\n"
	" e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 0 contrib/binary-amd64/Packages.gz\n"
	" ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad 3 main/binary-amd64/Packages.gz\n";

START_TEST(release_parse)
{
	jc_repo_release *r;
	const jc_repo_release_file *f;
	jc_error err;
	ck_assert_int_eq(jc_repo_release_parse(&r, release_text, strlen(release_text), "Release", &err), 0);
	ck_assert_str_eq(jc_repo_release_field(r, "suite"), "stable");
	ck_assert_str_eq(jc_repo_release_field(r, "Acquire-By-Hash"), "yes");
	ck_assert_ptr_null(jc_repo_release_field(r, "Valid-Until"));
	ck_assert_int_eq(jc_repo_release_file_count(r), 3);
	f = jc_repo_release_file_at(r, 0);
	ck_assert_str_eq(f->path, "main/binary-amd64/Packages");
	/* hashes are normalised to lower case */
	ck_assert_str_eq(f->sha256, "2e7d2c03a9507ae265ecf5b5356885a53393a2029d241394997265a1a25aefc6");
	ck_assert_int_eq(f->size, 1234);
	f = jc_repo_release_lookup(r, "main/binary-amd64/Packages.gz");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(f->size, 3);
	ck_assert_ptr_nonnull(jc_repo_release_lookup(r, "contrib/binary-amd64/Packages.gz"));
	ck_assert_ptr_null(jc_repo_release_lookup(r, "main/binary-i386/Packages"));
	ck_assert_ptr_null(jc_repo_release_file_at(r, 3));
	jc_repo_release_free(r);
}
END_TEST

START_TEST(release_parse_errors)
{
	static const struct {
		const char *text;
		int line;
		const char *msg;
	} cases[] = {
		{ "Suite: s\nMD5Sum:\n 00 1 x\n", 1, "the Release file has no SHA256 list (MD5 and SHA1 alone are not trusted)" },
		{ "Suite: s\nSHA256:\n zz 1 main/Packages\n", 3, "\"zz\" is not a SHA256 hash" },
		{ "Suite: s\nSHA256:\n e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 x main/P\n", 3,
		  "SHA256 entry is not \"<hash> <size> <path>\": \" e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 x main/P\"" },
		{ "Suite: s\nSHA256:\n e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 1 a b\n", 3,
		  "SHA256 entry is not \"<hash> <size> <path>\": \" e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 1 a b\"" },
		{ "Suite: s\nSHA256:\n\nSuite: t\n", 4, "a Release file has exactly one paragraph; a second one starts here" },
		{ "", 1, "empty Release file" },
	};
	for (size_t i = 0; i < JC_ARRAY_LEN(cases); i++) {
		jc_repo_release *r = NULL;
		jc_error err;
		ck_assert_int_eq(jc_repo_release_parse(&r, cases[i].text, strlen(cases[i].text), "R", &err), JC_EPARSE);
		ck_assert_ptr_null(r);
		ck_assert_int_eq(err.line, cases[i].line);
		ck_assert_str_eq(err.message, cases[i].msg);
	}
}
END_TEST

static void check_golden(const char *name, const char *got)
{
	char *path = data_path(name), *want = NULL;
	jc_error err;
	if (getenv("JCICD_UPDATE_GOLDEN")) {
		ck_assert_int_eq(jc_file_write_atomic(path, got, strlen(got), 0644, &err), 0);
	}
	ck_assert_msg(jc_file_read(path, &want, NULL, &err) == 0, "%s: %s", path, err.message);
	ck_assert_str_eq(got, want);
	free(want);
	free(path);
}

START_TEST(release_write_matches_golden)
{
	static const char *const archs[] = { "amd64", "arm64" };
	static const char *const comps[] = { "main", "contrib" };
	/* given out of order: the file lists them sorted by path */
	static const jc_repo_release_file files[] = {
		{ "main/binary-amd64/Packages.gz", 1811, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "contrib/binary-amd64/Packages", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "main/binary-amd64/Packages", 6401234, "2e7d2c03a9507ae265ecf5b5356885a53393a2029d241394997265a1a25aefc6" },
	};
	jc_repo_release_info info = JC_REPO_RELEASE_INFO_INIT;
	jc_repo_release *back;
	char *text;
	size_t len;
	jc_error err;

	info.origin = "jcicd";
	info.label = "jcicd";
	info.suite = "stable";
	info.date = 1764083227;   /* 2025-11-25T15:07:07Z */
	info.description = "jcicd snapshot 42";
	info.architectures = archs;
	info.n_architectures = 2;
	info.components = comps;
	info.n_components = 2;
	info.acquire_by_hash = true;
	info.files = files;
	info.n_files = JC_ARRAY_LEN(files);
	ck_assert_int_eq(jc_repo_release_write(&text, &len, &info, &err), 0);
	ck_assert_uint_eq(len, strlen(text));
	check_golden("release-snapshot.golden", text);
	/* and it reads back to the same entries */
	ck_assert_int_eq(jc_repo_release_parse(&back, text, len, "golden", &err), 0);
	ck_assert_int_eq(jc_repo_release_file_count(back), 3);
	ck_assert_int_eq(jc_repo_release_lookup(back, "main/binary-amd64/Packages")->size, 6401234);
	ck_assert_str_eq(jc_repo_release_field(back, "Codename"), "stable");
	jc_repo_release_free(back);
	free(text);

	/* a minimal one: no origin, label, description or by-hash */
	jc_repo_release_info min = JC_REPO_RELEASE_INFO_INIT;
	min.suite = "unstable";
	min.codename = "sid";
	min.date = 0;
	min.architectures = archs;
	min.n_architectures = 1;
	min.components = comps;
	min.n_components = 1;
	ck_assert_int_eq(jc_repo_release_write(&text, &len, &min, &err), 0);
	check_golden("release-minimal.golden", text);
	free(text);
}
END_TEST

START_TEST(release_write_refuses_bad_input)
{
	static const char *const a[] = { "amd64" };
	jc_repo_release_file bad = { "main/with space", 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" };
	jc_repo_release_info info = JC_REPO_RELEASE_INFO_INIT;
	char *text = (char *)"untouched";
	jc_error err;
	info.architectures = a;
	info.n_architectures = 1;
	ck_assert_int_eq(jc_repo_release_write(&text, NULL, &info, &err), JC_EINVALID);
	ck_assert_ptr_null(text);
	info.suite = "s";
	info.origin = "two\nlines";
	ck_assert_int_eq(jc_repo_release_write(&text, NULL, &info, &err), JC_EINVALID);
	info.origin = NULL;
	info.files = &bad;
	info.n_files = 1;
	ck_assert_int_eq(jc_repo_release_write(&text, NULL, &info, &err), JC_EINVALID);
	info.version = 99;
	ck_assert_int_eq(jc_repo_release_write(&text, NULL, &info, &err), JC_EINVALID);
}
END_TEST

/* ---- clearsigned messages */

static const char clearsigned[] =
	"-----BEGIN PGP SIGNED MESSAGE-----\n"
	"Hash: SHA512\n"
	"\n"
	"Origin: x\n"
	"- -----not an armour line once unescaped\n"
	"SHA256:\n"
	"-----BEGIN PGP SIGNATURE-----\n"
	"\n"
	"iHUEARYKAB0WIQQ=\n"
	"-----END PGP SIGNATURE-----\n"
	"\n";

START_TEST(clearsign_strip)
{
	char *out;
	size_t len;
	jc_error err;
	ck_assert_int_eq(jc_repo_clearsign_strip(&out, &len, clearsigned, strlen(clearsigned), "InRelease", &err), 0);
	ck_assert_str_eq(out, "Origin: x\n-----not an armour line once unescaped\nSHA256:\n");
	ck_assert_uint_eq(len, strlen(out));
	free(out);
}
END_TEST

START_TEST(clearsign_strip_refuses_tricks)
{
	static const char *const bad[] = {
		"Origin: x\n",                                            /* not signed at all */
		"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\nOrigin: x\n",   /* no signature */
		/* text after the signature must never count as signed */
		"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\nA: 1\n-----BEGIN PGP SIGNATURE-----\n"
		"x\n-----END PGP SIGNATURE-----\nSuite: evil\n",
		/* a second message inside the first */
		"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n-----BEGIN PGP SIGNED MESSAGE-----\n",
		"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\nA: 1\n-----BEGIN PGP SIGNATURE-----\nx\n",
	};
	for (size_t i = 0; i < JC_ARRAY_LEN(bad); i++) {
		char *out = (char *)"untouched";
		jc_error err;
		ck_assert_int_eq(jc_repo_clearsign_strip(&out, NULL, bad[i], strlen(bad[i]), "InRelease", &err), JC_EPARSE);
		ck_assert_ptr_null(out);
	}
}
END_TEST

/* ---- versions (cases from dpkg's own test suite and Policy 5.6.12) */

START_TEST(version_order)
{
	static const struct {
		const char *a, *b;
		int want;
	} cases[] = {
		{ "1.0", "1.0", 0 },        { "1.0", "1.0-0", 0 },       { "1.0", "1.1", -1 },
		{ "1.0-1", "1.0-2", -1 },   { "1.0~rc1", "1.0", -1 },    { "1.0~~", "1.0~", -1 },
		{ "1.0~", "1.0", -1 },      { "1.0", "1.0+b1", -1 },     { "1:0.1", "2.0", 1 },
		{ "0:1.0", "1.0", 0 },      { "1.10", "1.9", 1 },        { "1.001", "1.1", 0 },
		{ "2.10-3", "2.10-10", -1 }, { "1.0a", "1.0", 1 },       { "1.0a", "1.0+", -1 },
		{ "1.0.0-1", "1.0.1-1", -1 }, { "10", "9", 1 },          { "1:1.0", "1:1.0", 0 },
		{ "a", "b", -1 },           { "1.0-1ubuntu1", "1.0-1", 1 },
	};
	for (size_t i = 0; i < JC_ARRAY_LEN(cases); i++) {
		int got = jc_repo_version_compare(cases[i].a, cases[i].b);
		int back = jc_repo_version_compare(cases[i].b, cases[i].a);
		ck_assert_msg((got > 0) - (got < 0) == cases[i].want, "%s vs %s: %d", cases[i].a, cases[i].b, got);
		ck_assert_msg((back > 0) - (back < 0) == -cases[i].want, "%s vs %s reversed", cases[i].a, cases[i].b);
	}
}
END_TEST

/* ---- gzip and streams */

static int collect(const char *data, size_t len, jc_error *err, void *payload)
{
	(void)err;
	jc_buf_add(payload, data, len);
	return 0;
}

START_TEST(gzip_round_trip_and_streaming)
{
	jc_buf plain = JC_BUF_INIT, gz = JC_BUF_INIT, back = JC_BUF_INIT, two = JC_BUF_INIT, streamed = JC_BUF_INIT;
	char *d = test_tmpdir(), *p = test_path(d, "two.gz");
	char h1[JC_SHA256_HEX_SIZE], h2[JC_SHA256_HEX_SIZE];
	jc_error err;

	for (int i = 0; i < 20000; i++)
		jc_buf_printf(&plain, "Package: synth-%05d\nVersion: 1.0-%d\n\n", i, i % 7);
	ck_assert_int_eq(jc_gzip_compress(&gz, plain.data, plain.len, 6, &err), 0);
	ck_assert(gz.len < plain.len / 4);
	/* deterministic: equal input, equal bytes, equal hash */
	jc_repo_sha256_buf(h1, gz.data, gz.len);
	jc_buf_clear(&two);
	ck_assert_int_eq(jc_gzip_compress(&two, plain.data, plain.len, 6, &err), 0);
	jc_repo_sha256_buf(h2, two.data, two.len);
	ck_assert_str_eq(h1, h2);
	ck_assert_int_eq(jc_gzip_decompress(&back, gz.data, gz.len, "x.gz", &err), 0);
	ck_assert_uint_eq(back.len, plain.len);
	ck_assert(memcmp(back.data, plain.data, plain.len) == 0);

	/* two gzip members are one stream, read whole or in chunks */
	jc_buf_add(&two, gz.data, gz.len);
	ck_assert_int_eq(jc_file_write_atomic(p, two.data, two.len, 0644, &err), 0);
	ck_assert_int_eq(jc_file_stream(p, true, collect, &streamed, &err), 0);
	ck_assert_uint_eq(streamed.len, 2 * plain.len);
	ck_assert(memcmp(streamed.data + plain.len, plain.data, plain.len) == 0);

	/* truncated input is an error, not a short result */
	jc_buf_clear(&back);
	ck_assert_int_eq(jc_gzip_decompress(&back, gz.data, gz.len / 2, "half.gz", &err), JC_EPARSE);
	ck_assert(strstr(err.message, "half.gz") != NULL);
	ck_assert_int_eq(jc_file_write_atomic(p, gz.data, gz.len / 2, 0644, &err), 0);
	jc_buf_clear(&streamed);
	ck_assert_int_eq(jc_file_stream(p, true, collect, &streamed, &err), JC_EPARSE);
	ck_assert(strstr(err.message, "truncated") != NULL);
	ck_assert_int_eq(jc_gzip_decompress(&back, "not gzip", 8, "x", &err), JC_EPARSE);

	jc_buf_free(&plain);
	jc_buf_free(&gz);
	jc_buf_free(&back);
	jc_buf_free(&two);
	jc_buf_free(&streamed);
	jc_rm_rf(d, NULL);
	free(p);
	free(d);
}
END_TEST

START_TEST(relpaths)
{
	ck_assert(jc_repo_relpath_ok("pool/main/h/hello_1.0_amd64.deb"));
	ck_assert(jc_repo_relpath_ok("a"));
	ck_assert(jc_repo_relpath_ok("pool/x+y~z:1.deb"));
	ck_assert(!jc_repo_relpath_ok(""));
	ck_assert(!jc_repo_relpath_ok(NULL));
	ck_assert(!jc_repo_relpath_ok("/etc/passwd"));
	ck_assert(!jc_repo_relpath_ok("pool/../../etc/passwd"));
	ck_assert(!jc_repo_relpath_ok(".."));
	ck_assert(!jc_repo_relpath_ok("pool//x"));
	ck_assert(!jc_repo_relpath_ok("pool/./x"));
	ck_assert(!jc_repo_relpath_ok("pool/x/"));
	ck_assert(!jc_repo_relpath_ok("pool/a b"));
	ck_assert(!jc_repo_relpath_ok("pool\\x"));
}
END_TEST

START_TEST(remote_urls_escape)
{
	jc_repo_remote *r;
	jc_http *h;
	char *u;
	ck_assert_int_eq(jc_http_new(&h, NULL, NULL), 0);
	ck_assert_int_eq(jc_repo_remote_open(&r, "http://127.0.0.1:1/debian//", NULL, h, NULL, NULL), 0);
	u = jc_repo_remote_where(r, "pool/main/h/h%llo:1_1.0+b1~x_amd64.deb");
	ck_assert_str_eq(u, "http://127.0.0.1:1/debian/pool/main/h/h%25llo%3A1_1.0+b1~x_amd64.deb");
	free(u);
	jc_repo_remote_free(r);
	ck_assert_int_eq(jc_repo_remote_open(&r, "ftp://x/", NULL, h, NULL, NULL), JC_EINVALID);
	ck_assert_int_eq(jc_repo_remote_open(&r, "http://x/", "/tmp", h, NULL, NULL), JC_EINVALID);
	jc_http_free(h);
}
END_TEST

static Suite *repo_suite(void)
{
	Suite *s = suite_create("repo");
	TCase *t = tcase_create("repo");
	tcase_add_test(t, sha256_known_vectors);
	tcase_add_test(t, sha256_of_a_file);
	tcase_add_test(t, deb822_paragraphs_and_fields);
	tcase_add_test(t, deb822_push_parser_in_any_pieces);
	tcase_add_test(t, deb822_lookup_ignores_case);
	tcase_add_test(t, deb822_callback_stops);
	tcase_add_test(t, deb822_errors_have_a_place);
	tcase_add_test(t, release_parse);
	tcase_add_test(t, release_parse_errors);
	tcase_add_test(t, release_write_matches_golden);
	tcase_add_test(t, release_write_refuses_bad_input);
	tcase_add_test(t, clearsign_strip);
	tcase_add_test(t, clearsign_strip_refuses_tricks);
	tcase_add_test(t, version_order);
	tcase_add_test(t, gzip_round_trip_and_streaming);
	tcase_add_test(t, relpaths);
	tcase_add_test(t, remote_urls_escape);
	suite_add_tcase(s, t);
	return s;
}

TEST_MAIN(repo_suite)
