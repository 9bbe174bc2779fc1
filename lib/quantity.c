/* quantity.c: Kubernetes quantities, Go durations and IntOrString values.
 *
 * A quantity is a signed decimal number ("1", "1.5", ".5", "5.") followed by
 * an optional suffix: a binary one (Ki Mi Gi Ti Pi Ei), a decimal SI one
 * (n u m "" k M G T P E) or an exponent (e3, E-2, e+6). We keep the value
 * in thousandths, rounded away from zero as resource.Quantity's MilliValue
 * does. The arithmetic runs over the decimal digits, so "0.1" is exactly
 * 100 and long inputs cannot overflow on the way. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "quantity.h"

#define QTY_MAX_DIGITS 4096 /* longer numbers are refused, not computed */

static const char quantity_form[] =
	"must be a number with an optional suffix (e.g. 500m, 2, 1.5Gi, 128974848, 1e3)";

/* Suffix to (base 10 exponent, base 2 exponent). */
static int suffix_exponents(const char *s, long *e10, int *e2)
{
	static const struct {
		const char *s;
		int e10, e2;
	} tab[] = {
		{"", 0, 0},   {"n", -9, 0}, {"u", -6, 0}, {"m", -3, 0},  {"k", 3, 0},
		{"M", 6, 0},  {"G", 9, 0},  {"T", 12, 0}, {"P", 15, 0},  {"E", 18, 0},
		{"Ki", 0, 10}, {"Mi", 0, 20}, {"Gi", 0, 30}, {"Ti", 0, 40}, {"Pi", 0, 50},
		{"Ei", 0, 60},
	};

	for (size_t i = 0; i < sizeof tab / sizeof *tab; i++)
		if (!strcmp(s, tab[i].s)) {
			*e10 = tab[i].e10;
			*e2 = tab[i].e2;
			return 0;
		}
	if ((s[0] == 'e' || s[0] == 'E') && s[1]) {
		const char *p = s + 1;
		int neg = 0;
		long v = 0;
		if (*p == '+' || *p == '-')
			neg = *p++ == '-';
		if (!*p)
			return -1;
		for (; *p; p++) {
			if (*p < '0' || *p > '9')
				return -1;
			if (v < 1000000)
				v = v * 10 + (*p - '0'); /* beyond this only 0 fits anyway */
		}
		*e10 = neg ? -v : v;
		*e2 = 0;
		return 0;
	}
	return -1;
}

int kx_quantity_parse(const char *s, int64_t *milli, kx_err *e)
{
	const char *p = s, *ip, *fp = "";
	size_t ni = 0, nf = 0;
	int neg = 0;
	long e10;
	int e2;

	if (!*s)
		return kx_err_set(e, KX_EFAIL, "invalid quantity \"\": %s", quantity_form);
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	ip = p;
	while (*p >= '0' && *p <= '9')
		p++, ni++;
	if (*p == '.') {
		fp = ++p;
		while (*p >= '0' && *p <= '9')
			p++, nf++;
	}
	if (ni + nf == 0)
		return kx_err_set(e, KX_EFAIL, "invalid quantity \"%s\": %s", s, quantity_form);
	if (suffix_exponents(p, &e10, &e2) < 0) {
		if (strspn(p, "eEinumkKMGTP+-0123456789") == strlen(p))
			return kx_err_set(e, KX_EFAIL, "invalid quantity \"%s\": unknown suffix \"%s\" "
					  "(use n u m k M G T P E, Ki Mi Gi Ti Pi Ei, or an exponent "
					  "like e3)", s, p);
		return kx_err_set(e, KX_EFAIL, "invalid quantity \"%s\": %s", s, quantity_form);
	}
	if (ni + nf > QTY_MAX_DIGITS)
		return kx_err_set(e, KX_EFAIL, "invalid quantity \"%.40s...\": too many digits", s);

	/* digits: the integer and fraction digits without leading zeros,
	 * little room to grow for the binary multiplication (2^60 adds 19). */
	unsigned char dig[QTY_MAX_DIGITS + 32];
	size_t nd = 0;
	for (size_t i = 0; i < ni; i++)
		if (nd || ip[i] != '0')
			dig[nd++] = (unsigned char)(ip[i] - '0');
	for (size_t i = 0; i < nf; i++)
		if (nd || fp[i] != '0')
			dig[nd++] = (unsigned char)(fp[i] - '0');
	if (nd == 0) {
		*milli = 0;
		return 0;
	}
	/* value = dig * 10^(e10 - nf + 3) * 2^e2, in thousandths */
	for (int k = 0; k < e2; k++) {
		int carry = 0;
		for (size_t i = nd; i-- > 0;) {
			int v = dig[i] * 2 + carry;
			dig[i] = (unsigned char)(v % 10);
			carry = v / 10;
		}
		if (carry) {
			memmove(dig + 1, dig, nd);
			dig[0] = (unsigned char)carry;
			nd++;
		}
	}
	long exp10 = e10 - (long)nf + 3;
	long intlen = (long)nd + exp10; /* digits before the decimal point */
	if (intlen > 19)
		return kx_err_set(e, KX_EFAIL, "invalid quantity \"%s\": out of range", s);
	uint64_t v = 0;
	int frac = 0;
	for (long i = 0; i < (long)nd; i++) {
		if (i < intlen)
			v = v * 10 + dig[i];
		else if (dig[i])
			frac = 1;
	}
	for (long i = (long)nd; i < intlen; i++)
		v *= 10;
	if (v > (uint64_t)INT64_MAX - (uint64_t)frac)
		return kx_err_set(e, KX_EFAIL, "invalid quantity \"%s\": out of range", s);
	v += (uint64_t)frac; /* round away from zero, as MilliValue does */
	*milli = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

int kx_quantity_parse_jv(jv v, int64_t *milli, kx_err *e)
{
	if (jv_get_kind(v) == JV_KIND_STRING)
		return kx_quantity_parse(jv_string_value(v), milli, e);
	if (jv_get_kind(v) == JV_KIND_NUMBER) {
		/* jq keeps numbers as doubles: print the shortest form that reads
		 * back to the same double, so 0.1 is "0.1", not 0.1000...01. */
		double d = jv_number_value(v);
		char buf[64];
		for (int prec = 15; prec <= 17; prec++) {
			snprintf(buf, sizeof buf, "%.*g", prec, d);
			if (strtod(buf, NULL) == d)
				break;
		}
		if (strchr(buf, 'n') || strchr(buf, 'i')) /* nan, inf */
			return kx_err_set(e, KX_EFAIL, "invalid quantity %s: not a finite number", buf);
		return kx_quantity_parse(buf, milli, e);
	}
	return kx_err_set(e, KX_EFAIL, "invalid quantity: must be a string or a number, not %s",
			  jv_kind_name(jv_get_kind(v)));
}

char *kx_quantity_format(int64_t milli, int binary, char *buf, size_t n)
{
	static const char *const dec[] = {"", "k", "M", "G", "T", "P", "E"};
	static const char *const bin[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
	uint64_t a = milli < 0 ? -(uint64_t)milli : (uint64_t)milli;
	const char *sign = milli < 0 ? "-" : "";
	int k = 0;

	if (a % 1000) {
		snprintf(buf, n, "%s%" PRIu64 "m", sign, a);
		return buf;
	}
	a /= 1000;
	if (binary && a >= 1024) {
		while (a % 1024 == 0 && k < 6)
			a /= 1024, k++;
		snprintf(buf, n, "%s%" PRIu64 "%s", sign, a, bin[k]);
		return buf;
	}
	while (a && a % 1000 == 0 && k < 6)
		a /= 1000, k++;
	snprintf(buf, n, "%s%" PRIu64 "%s", sign, a, dec[k]);
	return buf;
}

/* ---- durations, as Go's time.ParseDuration ------------------------------- */

static int dur_unit(const char *u, size_t n, uint64_t *ns)
{
	static const struct {
		const char *s;
		uint64_t ns;
	} tab[] = {
		{"ns", 1ULL},
		{"us", 1000ULL},
		{"\xc2\xb5s", 1000ULL}, /* U+00B5 micro sign */
		{"\xce\xbcs", 1000ULL}, /* U+03BC Greek mu */
		{"ms", 1000000ULL},
		{"s", 1000000000ULL},
		{"m", 60000000000ULL},
		{"h", 3600000000000ULL},
	};

	for (size_t i = 0; i < sizeof tab / sizeof *tab; i++)
		if (strlen(tab[i].s) == n && !memcmp(tab[i].s, u, n)) {
			*ns = tab[i].ns;
			return 0;
		}
	return -1;
}

int kx_duration_parse(const char *s, int64_t *ms, kx_err *e)
{
	const char *p = s;
	const uint64_t lim = 1ULL << 63;
	uint64_t total = 0;
	int neg = 0;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (!strcmp(p, "0")) {
		*ms = 0;
		return 0;
	}
	if (!*p)
		goto invalid;
	while (*p) {
		uint64_t v = 0, f = 0, unit;
		double scale = 1;
		int pre = 0, post = 0;

		if (!(*p == '.' || (*p >= '0' && *p <= '9')))
			goto invalid;
		for (; *p >= '0' && *p <= '9'; p++, pre = 1) {
			if (v > lim / 10)
				goto invalid;
			v = v * 10 + (uint64_t)(*p - '0');
			if (v > lim)
				goto invalid;
		}
		if (*p == '.') {
			int overflow = 0;
			for (p++; *p >= '0' && *p <= '9'; p++, post = 1) {
				if (overflow)
					continue;
				if (f > lim / 10) {
					overflow = 1; /* further digits do not matter */
					continue;
				}
				uint64_t y = f * 10 + (uint64_t)(*p - '0');
				if (y > lim) {
					overflow = 1;
					continue;
				}
				f = y;
				scale *= 10;
			}
		}
		if (!pre && !post)
			goto invalid;
		const char *u = p;
		while (*p && *p != '.' && !(*p >= '0' && *p <= '9'))
			p++;
		if (p == u)
			return kx_err_set(e, KX_EFAIL, "invalid duration \"%s\": missing unit (use ns, us, "
					  "ms, s, m or h, e.g. 30s)", s);
		if (dur_unit(u, (size_t)(p - u), &unit) < 0)
			return kx_err_set(e, KX_EFAIL, "invalid duration \"%s\": unknown unit \"%.*s\" "
					  "(use ns, us, ms, s, m or h)", s, (int)(p - u), u);
		if (v > lim / unit)
			goto range;
		v *= unit;
		if (f > 0) {
			v += (uint64_t)((double)f * ((double)unit / scale));
			if (v > lim)
				goto range;
		}
		total += v;
		if (total > lim)
			goto range;
	}
	if (!neg && total > lim - 1)
		goto range;
	/* whole milliseconds, truncated toward zero like Duration.Milliseconds */
	*ms = neg ? -(int64_t)(total / 1000000) : (int64_t)(total / 1000000);
	return 0;
invalid:
	return kx_err_set(e, KX_EFAIL, "invalid duration \"%s\": must be a number and a unit, "
			  "e.g. 300ms, 5s, 1m30s, 1.5h", s);
range:
	return kx_err_set(e, KX_EFAIL, "invalid duration \"%s\": out of range", s);
}

char *kx_duration_format(int64_t ms, char *buf, size_t n)
{
	uint64_t a = ms < 0 ? -(uint64_t)ms : (uint64_t)ms;
	const char *sign = ms < 0 ? "-" : "";
	char frac[8] = "";

	if (a == 0) {
		snprintf(buf, n, "0s");
		return buf;
	}
	if (a < 1000) {
		snprintf(buf, n, "%s%" PRIu64 "ms", sign, a);
		return buf;
	}
	if (a % 1000) {
		snprintf(frac, sizeof frac, ".%03u", (unsigned)(a % 1000));
		for (size_t i = strlen(frac); frac[i - 1] == '0'; i--)
			frac[i - 1] = 0;
	}
	uint64_t sec = a / 1000, h = sec / 3600, m = sec / 60 % 60;
	sec %= 60;
	if (h)
		snprintf(buf, n, "%s%" PRIu64 "h%" PRIu64 "m%" PRIu64 "%ss", sign, h, m, sec, frac);
	else if (m)
		snprintf(buf, n, "%s%" PRIu64 "m%" PRIu64 "%ss", sign, m, sec, frac);
	else
		snprintf(buf, n, "%s%" PRIu64 "%ss", sign, sec, frac);
	return buf;
}

/* ---- IntOrString ---------------------------------------------------------- */

/* floor or ceil of a / b for b > 0 */
static int64_t div_round(__int128 a, int64_t b, int up)
{
	__int128 q = a / b, r = a % b;
	if (r && up && a > 0)
		q++;
	if (r && !up && a < 0)
		q--;
	return (int64_t)q;
}

int kx_intstr_value(jv v, int64_t total, int round_up, int64_t *out, kx_err *e)
{
	if (jv_get_kind(v) == JV_KIND_NUMBER) {
		double d = jv_number_value(v);
		if (d != (double)(int64_t)d || d > 2147483647.0 || d < -2147483648.0)
			return kx_err_set(e, KX_EFAIL, "invalid value for IntOrString: %g is not an "
					  "integer", d);
		*out = (int64_t)d;
		return 0;
	}
	if (jv_get_kind(v) != JV_KIND_STRING)
		return kx_err_set(e, KX_EFAIL, "invalid value for IntOrString: must be an integer or "
				  "a percentage like \"25%%\", not %s", jv_kind_name(jv_get_kind(v)));
	const char *s = jv_string_value(v);
	size_t n = strlen(s);
	if (n == 0 || s[n - 1] != '%')
		return kx_err_set(e, KX_EFAIL, "invalid value for IntOrString: \"%s\" is not a "
				  "percentage (like \"25%%\")", s);
	char num[32], *end;
	if (n - 1 == 0 || n - 1 >= sizeof num)
		goto bad;
	memcpy(num, s, n - 1);
	num[n - 1] = 0;
	if (num[0] != '+' && num[0] != '-' && (num[0] < '0' || num[0] > '9'))
		goto bad;
	errno = 0;
	long long pct = strtoll(num, &end, 10);
	if (*end || errno || pct > INT32_MAX || pct < INT32_MIN)
		goto bad;
	*out = div_round((__int128)pct * total, 100, round_up);
	return 0;
bad:
	return kx_err_set(e, KX_EFAIL, "invalid value for IntOrString: \"%s\" is not a percentage "
			  "(like \"25%%\")", s);
}
