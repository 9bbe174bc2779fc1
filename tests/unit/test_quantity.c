/* Unit tests of quantities, durations and IntOrString (lib/quantity.c). */
#include <stdint.h>
#include <stdlib.h>

#include "err.h"
#include "quantity.h"
#include "tap.h"

static void qty(const char *s, int64_t want)
{
	kx_err e = KX_ERR_INIT;
	int64_t m = -12345;

	if (kx_quantity_parse(s, &m, &e) < 0) {
		ok(0, "quantity \"%s\" parses", s);
		printf("#   error: %s\n", e.msg);
		return;
	}
	is_int(m, want, "quantity \"%s\" is %lld milli", s, (long long)want);
}

static void qty_bad(const char *s, const char *errpart)
{
	kx_err e = KX_ERR_INIT;
	int64_t m;

	ok(kx_quantity_parse(s, &m, &e) < 0 && strstr(e.msg, errpart) && strstr(e.msg, s),
	   "quantity \"%s\" refused: %s", s, e.msg);
}

static void test_quantity(void)
{
	qty("0", 0);
	qty("1", 1000);
	qty("2", 2000);
	qty("500m", 500);
	qty("0.5", 500);
	qty(".5", 500);
	qty("5.", 5000);
	qty("1.5", 1500);
	qty("0.1", 100);
	qty("+3", 3000);
	qty("-3", -3000);
	qty("-500m", -500);
	qty("1k", 1000000);
	qty("1M", 1000000000);
	qty("129M", 129000000000LL);
	qty("129e6", 129000000000LL);
	qty("1e3", 1000000);
	qty("1E3", 1000000);
	qty("1e+3", 1000000);
	qty("1e-3", 1);
	qty("1.5e-3", 2);
	qty("128974848", 128974848000LL);
	qty("1G", 1000000000000LL);
	qty("1T", 1000000000000000LL);
	qty("1P", 1000000000000000000LL);
	qty("1Ki", 1024000);
	qty("1Mi", 1048576000LL);
	qty("123Mi", 123LL * 1048576 * 1000);
	qty("1.5Gi", 1610612736000LL);
	qty("1Ti", 1099511627776000LL);
	qty("1Pi", 1125899906842624000LL);
	qty("1n", 1);
	qty("1u", 1);
	qty("1000u", 1);
	qty("1001u", 2);
	qty("-1001u", -2);
	qty("999999n", 1);
	qty("0.0001", 1);
	qty("0n", 0);
	qty("000123", 123000);
	qty("0.000", 0);
	qty("0e99999999999999", 0);
	qty("1e-99999999", 1);
	qty("9223372036854775.807", INT64_MAX);
	qty("9223372036854775807m", INT64_MAX);

	qty_bad("", "invalid quantity");
	qty_bad("abc", "must be a number");
	qty_bad("1x", "must be a number");
	qty_bad("1K", "unknown suffix \"K\"");
	qty_bad("1Kb", "must be a number");
	qty_bad("1e", "unknown suffix \"e\"");
	qty_bad("1ee3", "unknown suffix");
	qty_bad("1mi", "unknown suffix");
	qty_bad("1 Gi", "must be a number");
	qty_bad(" 1", "must be a number");
	qty_bad("-", "must be a number");
	qty_bad(".", "must be a number");
	qty_bad("1..2", "must be a number");
	qty_bad("1e3M", "unknown suffix");
	qty_bad("8Ei", "out of range");
	qty_bad("9223372036854776", "out of range");
	qty_bad("1e17", "out of range");
	qty_bad("1e99999999", "out of range");

	kx_err e = KX_ERR_INIT;
	int64_t m;
	jv v = jv_number(0.1);
	ok(kx_quantity_parse_jv(v, &m, &e) == 0 && m == 100, "number 0.1 is 100 milli");
	v = jv_number(2);
	ok(kx_quantity_parse_jv(v, &m, &e) == 0 && m == 2000, "number 2");
	v = jv_number(1e9);
	ok(kx_quantity_parse_jv(v, &m, &e) == 0 && m == 1000000000000LL, "number 1e9");
	v = jv_string("250m");
	ok(kx_quantity_parse_jv(v, &m, &e) == 0 && m == 250, "string 250m");
	jv_free(v);
	v = jv_true();
	ok(kx_quantity_parse_jv(v, &m, &e) < 0 && strstr(e.msg, "string or a number"), "boolean refused: %s",
	   e.msg);
}

static void fmt(int64_t milli, int binary, const char *want)
{
	char buf[64];
	is_str(kx_quantity_format(milli, binary, buf, sizeof buf), want, "format %lld milli%s",
	       (long long)milli, binary ? " (binary)" : "");
}

static void test_format(void)
{
	fmt(0, 0, "0");
	fmt(500, 0, "500m");
	fmt(1500, 0, "1500m");
	fmt(2000, 0, "2");
	fmt(1000000, 0, "1k");
	fmt(1500000, 0, "1500");
	fmt(129000000000LL, 0, "129M");
	fmt(128974848000LL, 0, "128974848");
	fmt(-2000, 0, "-2");
	fmt(-500, 0, "-500m");
	fmt(1024000, 1, "1Ki");
	fmt(1024000, 0, "1024");
	fmt(123LL * 1048576 * 1000, 1, "123Mi");
	fmt(1536000, 1, "1536");
	fmt(1572864000LL, 1, "1536Ki");
	fmt(1000000, 1, "1k");
	fmt(3000000, 1, "3000");
	fmt(512000, 1, "512");
	fmt(500, 1, "500m");
	fmt(INT64_MIN, 0, "-9223372036854775808m");
	fmt(1000000000000000000LL, 0, "1P");

	/* every format parses back to the same value */
	const int64_t vals[] = {0, 1, 999, 1000, 1024000, 1536000, 1000000000, 5368709120000LL,
				-7000, INT64_MAX, -INT64_MAX};
	for (size_t i = 0; i < sizeof vals / sizeof *vals; i++)
		for (int b = 0; b < 2; b++) {
			char buf[64];
			kx_err e = KX_ERR_INIT;
			int64_t back = 0;
			kx_quantity_format(vals[i], b, buf, sizeof buf);
			ok(kx_quantity_parse(buf, &back, &e) == 0 && back == vals[i], "round trip %s", buf);
		}
}

static void dur(const char *s, int64_t want)
{
	kx_err e = KX_ERR_INIT;
	int64_t ms = -12345;

	if (kx_duration_parse(s, &ms, &e) < 0) {
		ok(0, "duration \"%s\" parses", s);
		printf("#   error: %s\n", e.msg);
		return;
	}
	is_int(ms, want, "duration \"%s\" is %lld ms", s, (long long)want);
}

static void dur_bad(const char *s, const char *errpart)
{
	kx_err e = KX_ERR_INIT;
	int64_t ms;

	ok(kx_duration_parse(s, &ms, &e) < 0 && strstr(e.msg, errpart), "duration \"%s\" refused: %s", s,
	   e.msg);
}

static void test_duration(void)
{
	dur("0", 0);
	dur("-0", 0);
	dur("+0", 0);
	dur("0s", 0);
	dur("5s", 5000);
	dur("300ms", 300);
	dur("1m30s", 90000);
	dur("1.5h", 5400000);
	dur("2h45m", 9900000);
	dur("1h0m0s", 3600000);
	dur("-1.5s", -1500);
	dur("+5s", 5000);
	dur(".5s", 500);
	dur("1.s", 1000);
	dur("1000000us", 1000);
	dur("1000000\xc2\xb5s", 1000);
	dur("1000000\xce\xbcs", 1000);
	dur("1500000ns", 1);
	dur("-1500000ns", -1);
	dur("1s500ms", 1500);
	dur("3m3m", 360000);
	dur("0.333333333333333333333s", 333);
	dur("9223372036854775807ns", 9223372036854LL);
	dur("-9223372036854775808ns", -9223372036854LL);
	dur("2562047h", 2562047LL * 3600000);

	dur_bad("", "invalid duration \"\"");
	dur_bad("-", "invalid duration");
	dur_bad("5", "missing unit");
	dur_bad("1m5", "missing unit");
	dur_bad("5x", "unknown unit \"x\"");
	dur_bad("5S", "unknown unit \"S\"");
	dur_bad("5 s", "unknown unit \" s\"");
	dur_bad("s", "invalid duration");
	dur_bad(".s", "invalid duration");
	dur_bad("1.2.3s", "invalid duration");
	dur_bad("9223372036854775808ns", "out of range");
	dur_bad("2562048h", "out of range");
	dur_bad("99999999999999999999s", "invalid duration");

	char buf[64];
	struct {
		int64_t ms;
		const char *s;
	} f[] = {
		{0, "0s"},          {1, "1ms"},          {300, "300ms"},      {999, "999ms"},
		{1000, "1s"},       {1500, "1.5s"},      {1250, "1.25s"},     {1001, "1.001s"},
		{60000, "1m0s"},    {90000, "1m30s"},    {90500, "1m30.5s"},  {3600000, "1h0m0s"},
		{9900000, "2h45m0s"}, {-1500, "-1.5s"},  {-300, "-300ms"},
		{INT64_MIN, "-2562047788015h12m55.808s"},
	};
	for (size_t i = 0; i < sizeof f / sizeof *f; i++)
		is_str(kx_duration_format(f[i].ms, buf, sizeof buf), f[i].s, "format %lld ms",
		       (long long)f[i].ms);
	for (size_t i = 0; i + 1 < sizeof f / sizeof *f; i++) {
		kx_err e = KX_ERR_INIT;
		int64_t back;
		kx_duration_format(f[i].ms, buf, sizeof buf);
		ok(kx_duration_parse(buf, &back, &e) == 0 && back == f[i].ms, "round trip %s", buf);
	}
}

static void istr(jv v, int64_t total, int up, int64_t want)
{
	kx_err e = KX_ERR_INIT;
	int64_t out = -12345;
	char *d = jv_dump_string_trunc(jv_copy(v), (char[64]){0}, 64);

	if (kx_intstr_value(v, total, up, &out, &e) < 0) {
		ok(0, "IntOrString %s parses", d);
		printf("#   error: %s\n", e.msg);
	} else {
		is_int(out, want, "IntOrString %s of %lld (%s) is %lld", d, (long long)total,
		       up ? "up" : "down", (long long)want);
	}
	jv_free(v);
}

static void istr_bad(jv v, const char *errpart)
{
	kx_err e = KX_ERR_INIT;
	int64_t out;
	char *d = jv_dump_string_trunc(jv_copy(v), (char[64]){0}, 64);

	ok(kx_intstr_value(v, 10, 1, &out, &e) < 0 && strstr(e.msg, errpart), "IntOrString %s refused: %s",
	   d, e.msg);
	jv_free(v);
}

static void test_intstr(void)
{
	istr(jv_number(3), 10, 1, 3);
	istr(jv_number(0), 10, 0, 0);
	istr(jv_string("25%"), 10, 1, 3);
	istr(jv_string("25%"), 10, 0, 2);
	istr(jv_string("25%"), 4, 1, 1);
	istr(jv_string("25%"), 4, 0, 1);
	istr(jv_string("0%"), 10, 1, 0);
	istr(jv_string("100%"), 7, 0, 7);
	istr(jv_string("150%"), 10, 1, 15);
	istr(jv_string("1%"), 1, 1, 1);
	istr(jv_string("1%"), 1, 0, 0);
	istr(jv_string("-25%"), 10, 1, -2);
	istr(jv_string("-25%"), 10, 0, -3);
	istr(jv_string("+50%"), 3, 1, 2);

	istr_bad(jv_string("5"), "not a percentage");
	istr_bad(jv_string("%"), "not a percentage");
	istr_bad(jv_string("a%"), "not a percentage");
	istr_bad(jv_string(" 5%"), "not a percentage");
	istr_bad(jv_string("5.5%"), "not a percentage");
	istr_bad(jv_string(""), "not a percentage");
	istr_bad(jv_number(1.5), "not an integer");
	istr_bad(jv_null(), "integer or a percentage");
}

int main(void)
{
	test_quantity();
	test_format();
	test_duration();
	test_intstr();
	return done_testing();
}
