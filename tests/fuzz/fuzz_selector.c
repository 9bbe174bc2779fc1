/* libFuzzer harness: label and field selector parsing, matching, printing.
 * Also checks that the canonical string parses back to itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "selector.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	kx_err e = KX_ERR_INIT;
	char *s = malloc(size + 1);

	memcpy(s, data, size);
	s[size] = 0;
	kx_selector *sel = kx_selector_parse(s, &e);
	if (sel) {
		jv l = jv_parse("{\"app\":\"web\",\"n\":\"3\",\"a\":\"\"}");
		kx_selector_match(sel, l);
		jv_free(l);
		char *c = kx_selector_string(sel);
		kx_selector *again = kx_selector_parse(c, &e);
		if (!again)
			abort(); /* the canonical form must parse */
		char *c2 = kx_selector_string(again);
		if (strcmp(c, c2))
			abort(); /* and be a fixed point */
		free(c2);
		kx_selector_free(again);
		free(c);
		kx_selector_free(sel);
	}
	kx_fieldsel *f = kx_fieldsel_parse(s, &e);
	if (f) {
		jv o = jv_parse("{\"metadata\":{\"name\":\"x\"}}");
		kx_fieldsel_match(f, o);
		jv_free(o);
		static const char *const allowed[] = {"metadata.name", NULL};
		kx_fieldsel_unsupported(f, allowed);
		kx_fieldsel_free(f);
	}
	free(s);
	return 0;
}
