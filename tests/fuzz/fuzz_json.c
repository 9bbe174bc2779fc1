/* libFuzzer harness: lib/json's own parser and serialiser against jq's.
 * kx_json_parse must accept exactly what jv_parse_sized accepts, with an
 * equal value, and kx_json_dump must write exactly what jv_dump_string
 * writes (flags 0), byte for byte. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	kx_err e = KX_ERR_INIT;
	jv ours = kx_json_parse((const char *)data, size, &e);
	jv theirs = jv_parse_sized((const char *)data, (int)size);

	if (jv_is_valid(ours) != jv_is_valid(theirs)) {
		fprintf(stderr, "kx_json_parse %s what jq %s\n", jv_is_valid(ours) ? "accepts" : "refuses",
			jv_is_valid(theirs) ? "accepts" : "refuses");
		abort();
	}
	if (!jv_is_valid(ours)) {
		jv_free(ours);
		jv_free(theirs);
		return 0;
	}
	char *a = kx_json_dump(jv_copy(ours), 0);
	jv b = jv_dump_string(jv_copy(theirs), 0);
	if (!jv_equal(jv_copy(ours), jv_copy(theirs)) || strcmp(a, jv_string_value(b))) {
		fprintf(stderr, "differ:\n ours:   %s\n theirs: %s\n", a, jv_string_value(b));
		abort();
	}
	free(a);
	jv_free(b);
	jv_free(ours);
	jv_free(theirs);
	return 0;
}
