/* Unit tests of lib/input: Lists flattened, kinds filled, bad input named. */
#include "err.h"
#include "input.h"
#include "json.h"
#include "tap.h"

int main(void)
{
	kx_err e = KX_ERR_INIT;
	char buf[64];
	const char *list = "{\"kind\":\"List\",\"apiVersion\":\"v1\",\"items\":["
			   "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"items\":[{\"metadata\":{\"name\":\"a\"}}]},"
			   "{\"kind\":\"Node\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"n1\"}}]}"
			   "{\"kind\":\"Service\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"s\"}}";
	jv objs = kx_input_parse(list, strlen(list), "x.json", &e);

	ok(jv_is_valid(objs), "a List and a second document parse");
	is_int(jv_array_length(jv_copy(objs)), 3, "nested lists flatten into three objects");
	jv first = jv_array_get(jv_copy(objs), 0);
	is_str(kx_jv_str(first, "kind", buf, sizeof buf, NULL), "Pod", "PodList items get kind Pod");
	is_str(kx_jv_str(first, "apiVersion", buf, sizeof buf, NULL), "v1", "and the list's apiVersion");
	jv_free(first);
	jv_free(objs);

	objs = kx_input_parse("[1,2]", 5, "y.json", &e);
	ok(!jv_is_valid(objs), "a document that is not an object is refused");
	ok(strstr(e.msg, "y.json") != NULL, "the error names the file: %s", e.msg);

	objs = kx_input_load("/nonexistent/x.yaml", &e);
	ok(!jv_is_valid(objs) && strstr(e.msg, "/nonexistent/x.yaml"), "a missing file is named: %s", e.msg);
	return done_testing();
}
