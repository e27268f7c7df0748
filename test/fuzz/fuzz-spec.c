/* libFuzzer target: a resource spec and a mappings file built from the
 * input (split at the first NUL) load, map and name without crashing. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jcicd/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/jcicd-fuzz-spec-XXXXXX";
static char spec_path[64], map_path[64];

static void write_file(const char *path, const uint8_t *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		abort();
	fwrite(p, 1, n, f);
	fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t spec_len = nul ? (size_t)(nul - data) : size;
	jc_mappings *m = NULL;
	jc_spec *spec = NULL;
	jc_spec_options o = JC_SPEC_OPTIONS_INIT;
	jc_error err;

	if (!spec_path[0]) {
		if (!mkdtemp(dir))
			abort();
		snprintf(spec_path, sizeof(spec_path), "%s/spec.yaml", dir);
		snprintf(map_path, sizeof(map_path), "%s/map.yaml", dir);
	}
	write_file(spec_path, data, spec_len);
	if (nul) {
		write_file(map_path, nul + 1, size - spec_len - 1);
		jc_mappings_load(&m, map_path, &err);
	}
	o.mappings = m;
	o.overrides = "cp=3";
	if (jc_spec_load(&spec, spec_path, &o, &err) == 0) {
		jc_instance *inst;
		size_t n;
		if (jc_spec_instances(spec, "fuzz", &inst, &n, &err) == 0)
			jc_instances_free(inst, n);
		jc_spec_free(spec);
	}
	jc_mappings_free(m);
	return 0;
}
