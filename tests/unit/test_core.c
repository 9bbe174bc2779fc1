/* Unit tests of libkx's core: errors, buffers, JSON helpers, time. */
#include <stdlib.h>

#include "buf.h"
#include "clock.h"
#include "err.h"
#include "json.h"
#include "tap.h"

static void test_err(void)
{
	kx_err e = KX_ERR_INIT;

	is_int(kx_err_set(&e, KX_EREFUSED, "pods \"%s\" not found", "web"), -1, "kx_err_set returns -1");
	is_int(e.status, KX_EREFUSED, "status kept");
	kx_err_wrap(&e, "get %s", "pod");
	is_str(e.msg, "get pod: pods \"web\" not found", "wrap prefixes context");
}

static void test_buf(void)
{
	kx_buf b = KX_BUF_INIT;

	kx_buf_adds(&b, "abc");
	kx_buf_addf(&b, "-%d", 42);
	is_str(b.p, "abc-42", "append and printf");
	b.max = 8;
	is_int(kx_buf_add(&b, "123", 3), -1, "limit refuses growth past max");
	is_str(b.p, "abc-42", "nothing appended when refused");
	char *s = kx_buf_steal(&b);
	is_str(s, "abc-42", "steal hands over the bytes");
	ok(b.p == NULL && b.len == 0, "steal resets");
	free(s);
}

static void test_json(void)
{
	kx_err e = KX_ERR_INIT;
	const char *txt = "{\"metadata\":{\"name\":\"web\",\"labels\":{\"app\":\"x\"}},"
			  "\"spec\":{\"replicas\":3,\"ports\":[{\"port\":80}]}}";
	jv v = kx_json_parse(txt, strlen(txt), &e);
	char buf[64];

	ok(jv_is_valid(v), "parse valid JSON");
	is_str(kx_jv_str(v, "metadata.name", buf, sizeof buf, NULL), "web", "get a nested string");
	is_int(kx_jv_int(v, "spec.replicas", -1), 3, "get a nested number");
	is_int(kx_jv_int(v, "spec.ports.0.port", -1), 80, "get through an array index");
	ok(kx_jv_str(v, "metadata.nosuch", buf, sizeof buf, NULL) == NULL, "absent path gives default");
	ok(jv_get_kind(kx_jv_get(jv_copy(v), "spec.replicas.deeper")) == JV_KIND_NULL,
	   "path through a number is null");
	v = kx_jv_set(v, "metadata.annotations.a", jv_string("b"));
	is_str(kx_jv_str(v, "metadata.annotations.a", buf, sizeof buf, NULL), "b", "set creates objects");
	v = kx_jv_del(v, "metadata.labels.app");
	ok(kx_jv_str(v, "metadata.labels.app", buf, sizeof buf, NULL) == NULL, "del removes");
	char *s = kx_json_dump(jv_copy(v), 0);
	ok(strstr(s, "\"replicas\":3") != NULL, "dump is compact JSON");
	free(s);
	jv_free(v);

	v = kx_json_parse("{\"a\":", 5, &e);
	ok(!jv_is_valid(v), "truncated JSON is refused");
	ok(strstr(e.msg, "malformed JSON") != NULL, "error says malformed JSON: %s", e.msg);
	jv_free(v);

	ok(kx_jv_equal(jv_parse("{\"a\":1,\"b\":[1,2]}"), jv_parse("{\"b\":[1,2],\"a\":1}")),
	   "equality ignores key order");
}

static void test_time(void)
{
	char buf[64];
	time_t t;
	struct timespec ts = {1700000000, 123456789};

	is_str(kx_time_format(0, buf, sizeof buf), "1970-01-01T00:00:00Z", "format epoch");
	is_str(kx_time_format_micro(&ts, buf, sizeof buf), "2023-11-14T22:13:20.123456Z",
	       "format with microseconds");
	ok(kx_time_parse("2023-11-14T22:13:20Z", &t) == 0 && t == 1700000000, "parse Z");
	ok(kx_time_parse("2023-11-14T22:13:20.5+01:00", &t) == 0 && t == 1700000000 - 3600,
	   "parse fraction and offset");
	ok(kx_time_parse("2023-11-14 22:13:20", &t) < 0, "refuse a space for T");
	ok(kx_time_parse("2023-11-14T22:13:20Zjunk", &t) < 0, "refuse trailing junk");
	is_str(kx_time_age(5, buf, sizeof buf), "5s", "age seconds");
	is_str(kx_time_age(150, buf, sizeof buf), "2m30s", "age minutes and seconds");
	is_str(kx_time_age(3600 * 5, buf, sizeof buf), "5h", "age hours");
	is_str(kx_time_age(86400 * 3, buf, sizeof buf), "3d", "age days");
}

int main(void)
{
	test_err();
	test_buf();
	test_json();
	test_time();
	return done_testing();
}
