/* libFuzzer target: userdata templates render or fail cleanly. */
#include <stdint.h>
#include <stdlib.h>

#include "jcicd/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	jc_userdata_vars vars = { "cp1-t1", "cp", "t1", "42" };
	char *out;
	size_t len;
	jc_error err;
	if (jc_userdata_render(&out, &len, "fuzz.tmpl", (const char *)data, size, true, &vars, &err) == 0)
		free(out);
	return 0;
}
