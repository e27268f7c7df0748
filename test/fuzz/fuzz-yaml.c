/* libFuzzer target: the YAML loader and the typed reads never crash, leak
 * or read out of bounds, whatever the bytes. */
#include <stddef.h>
#include <stdint.h>

#include "jcicd/yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(const jc_yaml_node *n, int depth)
{
	long l;
	bool b;
	const char *s;
	if (depth > 64)
		return;
	jc_yaml_is_int(n, &l);
	jc_yaml_is_bool(n, &b);
	jc_yaml_get_string(n, "x", &s, NULL);
	for (size_t i = 0; i < jc_yaml_size(n); i++) {
		if (jc_yaml_type_of(n) == JC_YAML_MAPPING) {
			walk(jc_yaml_key(n, i), depth + 1);
			walk(jc_yaml_value(n, i), depth + 1);
		} else {
			walk(jc_yaml_item(n, i), depth + 1);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	jc_yaml_doc *doc;
	jc_error err;
	static const char *const keys[] = { "resources", "number", "flavor" };
	if (jc_yaml_load_string(&doc, (const char *)data, size, "fuzz.yaml", &err) == 0) {
		walk(jc_yaml_root(doc), 0);
		jc_yaml_check_keys(jc_yaml_root(doc), keys, 3, "fuzz", &err);
		jc_yaml_free(doc);
	}
	return 0;
}
