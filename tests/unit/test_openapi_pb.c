/* Unit tests of kx-store's /openapi/v2 protobuf encoder
 * (cmd/store/openapi_pb.c): small Swagger documents against encodings
 * worked out by hand from gnostic's OpenAPIv2.proto field numbers. The whole
 * document is checked by kubectl itself in tests/cli/3006. */
#include <stdlib.h>
#include <string.h>

#include "../../cmd/store/openapi_pb.c"
#include "err.h"
#include "tap.h"

static const char *enc(const char *json)
{
	static char out[1024];
	kx_err e = KX_ERR_INIT;
	kx_buf b = KX_BUF_INIT;
	size_t i;

	out[0] = 0;
	if (openapi_v2_proto(&b, kx_json_parse(json, strlen(json), &e)) < 0)
		snprintf(out, sizeof out, "error");
	else
		for (i = 0; i < b.len && 2 * i + 2 < sizeof out; i++)
			snprintf(out + 2 * i, 3, "%02x", (unsigned char)b.p[i]);
	kx_buf_free(&b);
	return out;
}

int main(void)
{
	is_str(enc("{\"swagger\":\"2.0\"}"), "0a03322e30", "Document.swagger is field 1");
	is_str(enc("{\"definitions\":{\"A\":{\"type\":\"string\"}}}"),
	       "4a12" "0a10" "0a0141" "120b" "b201" "08" "0a06737472696e67",
	       "definitions (9) hold NamedSchema (1) {name 1, Schema 2 {TypeItem 22 {value 1}}}");
	is_str(enc("{\"definitions\":{\"A\":{\"x-k\":true}}}"),
	       "4a17" "0a15" "0a0141" "1210" "fa01" "0d" "0a03782d6b" "1206" "120474727565",
	       "a vendor extension is Schema.vendor_extension (31): NamedAny {name, Any {yaml 2}}");
	is_str(enc("{\"definitions\":{\"A\":{\"$ref\":\"#/definitions/B\"}}}"),
	       "4a18" "0a16" "0a0141" "1211" "0a0f232f646566696e6974696f6e732f42",
	       "$ref is Schema._ref (1)");
	is_str(enc("{\"definitions\":{\"A\":{\"items\":{\"type\":\"integer\"}}}}"),
	       "4a18" "0a16" "0a0141" "1211" "ba01" "0e" "0a0c" "b201" "09" "0a07696e7465676572",
	       "items (23) is ItemsItem {repeated Schema 1}");
	is_str(enc("{\"definitions\":{\"A\":{\"properties\":{\"p\":{\"type\":\"string\"}}}}}"),
	       "4a1c" "0a1a" "0a0141" "1215" "ca01" "12" "0a10" "0a0170" "120b" "b201" "08" "0a06737472696e67",
	       "properties (25) hold NamedSchema (1) as definitions do");
	is_str(enc("{\"paths\":{\"/p\":{\"get\":{\"parameters\":[{\"name\":\"n\",\"in\":\"query\",\"type\":\"string\"}]}}}}"),
	       "4224" "1222" "0a022f70" "121c" "121a" "4218" "0a16" "1214" "1a12"
	       "12057175657279" "22016e" "3206737472696e67",
	       "a query parameter: Paths.path (2) > PathItem.get (2) > Operation.parameters (8) > "
	       "ParametersItem.parameter (1) > Parameter.non_body_parameter (2) > query_parameter_sub_schema (3)");
	return done_testing();
}
