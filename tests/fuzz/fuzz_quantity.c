/* libFuzzer harness: quantity, duration and IntOrString parsing. Checks
 * that whatever parses formats to text that parses back to the same value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "quantity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	kx_err e = KX_ERR_INIT;
	char *s = malloc(size + 1), buf[64];
	int64_t v, back;

	memcpy(s, data, size);
	s[size] = 0;
	if (kx_quantity_parse(s, &v, &e) == 0) {
		for (int b = 0; b < 2; b++) {
			kx_quantity_format(v, b, buf, sizeof buf);
			if (kx_quantity_parse(buf, &back, &e) < 0 || back != v)
				abort();
		}
	}
	if (kx_duration_parse(s, &v, &e) == 0) {
		kx_duration_format(v, buf, sizeof buf);
		if (kx_duration_parse(buf, &back, &e) < 0 || back != v)
			abort();
	}
	jv j = jv_string(s);
	kx_intstr_value(j, 1000, 1, &v, &e);
	kx_intstr_value(j, -7, 0, &v, &e);
	jv_free(j);
	free(s);
	return 0;
}
