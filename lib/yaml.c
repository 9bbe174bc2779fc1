/* TEMPORARY stand-in until the real YAML module lands: accepts JSON only
 * (one or several concatenated values) and dumps JSON. */
#include <string.h>

#include "err.h"
#include "json.h"
#include "yaml.h"

jv kx_yaml_parse(const char *text, size_t n, const char *name, kx_err *e)
{
	jv_parser *p = jv_parser_new(0);
	jv out = jv_array(), v;

	jv_parser_set_buf(p, text, (int)n, 0);
	while (jv_is_valid(v = jv_parser_next(p)))
		out = jv_array_append(out, v);
	if (jv_invalid_has_msg(jv_copy(v))) {
		jv msg = jv_invalid_get_msg(v);
		kx_err_set(e, KX_EFAIL, "%s: %s", name, jv_string_value(msg));
		jv_free(msg);
		jv_free(out);
		jv_parser_free(p);
		return jv_invalid();
	}
	jv_free(v);
	jv_parser_free(p);
	return out;
}

int kx_yaml_dump_buf(kx_buf *b, jv v)
{
	return kx_json_dump_buf(b, v, 1);
}
