/* libFuzzer target: what an APT mirror sends is untrusted input.  The
 * Release parser and the deb822 parser (whole buffer, and the push parser
 * fed in uneven chunks, as a Packages.gz is while it decompresses) never
 * crash, leak or read out of bounds, and both deb822 paths agree. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jcicd/repo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count(const jc_deb822_para *para, jc_error *err, void *payload)
{
	(void)err;
	for (size_t i = 0; i < jc_deb822_field_count(para); i++) {
		const char *name = jc_deb822_field_name(para, i);
		if (jc_deb822_get(para, name) == NULL || jc_deb822_field_value(para, i) == NULL)
			abort();
		(void)jc_deb822_field_line(para, i);
	}
	(void)jc_deb822_line(para);
	++*(size_t *)payload;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	jc_repo_release *rel = NULL;
	jc_deb822_parser *p = NULL;
	size_t whole = 0, pushed = 0, off = 0, step = 1;
	int rc_whole, rc_push = 0;
	jc_error err;

	if (jc_repo_release_parse(&rel, text, size, "Release", &err) == 0) {
		for (size_t i = 0; i < jc_repo_release_file_count(rel); i++) {
			const jc_repo_release_file *f = jc_repo_release_file_at(rel, i);
			if (jc_repo_release_lookup(rel, f->path) == NULL || !jc_repo_is_sha256(f->sha256))
				abort();
		}
		(void)jc_repo_release_field(rel, "Suite");
		jc_repo_release_free(rel);
	}

	rc_whole = jc_deb822_parse(text, size, "Packages", count, &whole, &err);
	if (jc_deb822_parser_new(&p, "Packages", count, &pushed, &err) < 0)
		return 0;
	/* chunks of 1, 2, 3, ... bytes: every split point of a short input */
	while (rc_push == 0 && off < size) {
		size_t n = size - off < step ? size - off : step;
		rc_push = jc_deb822_parser_feed(p, text + off, n, &err);
		off += n;
		step++;
	}
	if (rc_push == 0)
		rc_push = jc_deb822_parser_finish(p, &err);
	jc_deb822_parser_free(p);
	if ((rc_whole == 0) != (rc_push == 0) || (rc_whole == 0 && whole != pushed))
		abort();
	return 0;
}
