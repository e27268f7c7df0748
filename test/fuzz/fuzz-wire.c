/* fuzz-wire.c - libFuzzer target: HTTP answers as etcd's gateway (or
 * anything listening on its port) might send them, read by wire.c in
 * pieces of every size.  The first byte picks the piece size. */
#include "common.h"

#include <stdlib.h>
#include <string.h>

#include "wire.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	jc_wire_response r;
	jc_error err;
	size_t piece;

	if (size < 1)
		return 0;
	piece = (size_t)data[0] % 64 + 1;
	if (jc_wire_parse_answer(data + 1, size - 1, piece, &r, &err) == 0) {
		/* whatever was read is a string of the length said */
		if (strlen(r.body) > r.body_len)
			abort();
		jc_wire_response_clear(&r);
	} else if (!err.message[0]) {
		abort();   /* every failure says why */
	}
	return 0;
}
