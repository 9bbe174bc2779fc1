/* libFuzzer harness: YAML parsing, then dumping each document and reading
 * it back, which must give the same value (parse(dump(x)) == x). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "buf.h"
#include "err.h"
#include "json.h"
#include "yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	kx_err e = KX_ERR_INIT;
	jv docs = kx_yaml_parse((const char *)data, size, "fuzz", &e);

	if (!jv_is_valid(docs)) {
		jv_free(docs);
		return 0;
	}
	int n = jv_array_length(jv_copy(docs));
	for (int i = 0; i < n; i++) {
		jv d = jv_array_get(jv_copy(docs), i);
		kx_buf b = KX_BUF_INIT;
		if (kx_yaml_dump_buf(&b, jv_copy(d)) < 0)
			abort();
		jv back = kx_yaml_parse(b.p, b.len, "dumped", &e);
		if (!jv_is_valid(back) || jv_array_length(jv_copy(back)) != 1 ||
		    !kx_jv_equal(jv_array_get(jv_copy(back), 0), jv_copy(d))) {
			char *j = kx_json_dump(jv_copy(d), 0);
			fprintf(stderr, "round trip failed\njson: %s\nyaml:\n%s\nerror: %s\n", j,
				kx_buf_str(&b), jv_is_valid(back) ? "" : e.msg);
			abort();
		}
		jv_free(back);
		jv_free(d);
		kx_buf_free(&b);
	}
	jv_free(docs);
	return 0;
}
