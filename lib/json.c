#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "json.h"

/* ---- parser ----------------------------------------------------------------
 * A strict JSON reader for the common case, about four times faster than
 * jq 1.6's byte-at-a-time parser. It gives up (returns 0) on anything it is
 * not sure to read as jq does: control bytes or \u surrogates in strings,
 * jq's extensions (nan, a byte order mark), deep nesting, any error. Then
 * jq parses the text itself, so values and error messages stay jq's. */

struct rd {
	const char *p, *end;
	int depth;
};

static void rd_ws(struct rd *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\t' || *r->p == '\r'))
		r->p++;
}

static int hex4(const char *p, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return 0;
	}
	*out = v;
	return 1;
}

/* r->p is just past the opening quote. */
static int rd_str(struct rd *r, jv *out)
{
	const char *s = r->p;
	kx_buf b = KX_BUF_INIT;

	while (r->p < r->end && *r->p != '"' && *r->p != '\\') {
		if ((unsigned char)*r->p < 0x20)
			return 0;
		r->p++;
	}
	if (r->p >= r->end)
		return 0;
	if (*r->p == '"') {
		*out = jv_string_sized(s, (int)(r->p - s));
		r->p++;
		return 1;
	}
	kx_buf_add(&b, s, (size_t)(r->p - s));
	while (r->p < r->end && *r->p != '"') {
		unsigned char c = (unsigned char)*r->p;
		if (c < 0x20)
			goto fail;
		if (c != '\\') {
			const char *q = r->p;
			while (r->p < r->end && *r->p != '"' && *r->p != '\\' && (unsigned char)*r->p >= 0x20)
				r->p++;
			kx_buf_add(&b, q, (size_t)(r->p - q));
			continue;
		}
		if (r->end - r->p < 2)
			goto fail;
		char x = r->p[1], ch;
		r->p += 2;
		switch (x) {
		case '"': ch = '"'; break;
		case '\\': ch = '\\'; break;
		case '/': ch = '/'; break;
		case 'b': ch = '\b'; break;
		case 'f': ch = '\f'; break;
		case 'n': ch = '\n'; break;
		case 'r': ch = '\r'; break;
		case 't': ch = '\t'; break;
		case 'u': {
			unsigned cp;
			char u[3];
			if (r->end - r->p < 4 || !hex4(r->p, &cp) || (cp >= 0xD800 && cp <= 0xDFFF))
				goto fail;
			r->p += 4;
			if (cp < 0x80) {
				kx_buf_addc(&b, (char)cp);
			} else if (cp < 0x800) {
				u[0] = (char)(0xC0 | (cp >> 6));
				u[1] = (char)(0x80 | (cp & 0x3F));
				kx_buf_add(&b, u, 2);
			} else {
				u[0] = (char)(0xE0 | (cp >> 12));
				u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
				u[2] = (char)(0x80 | (cp & 0x3F));
				kx_buf_add(&b, u, 3);
			}
			continue;
		}
		default:
			goto fail;
		}
		kx_buf_addc(&b, ch);
	}
	if (r->p >= r->end)
		goto fail;
	r->p++;
	*out = jv_string_sized(b.p ? b.p : "", (int)b.len);
	kx_buf_free(&b);
	return 1;
fail:
	kx_buf_free(&b);
	return 0;
}

static int rd_num(struct rd *r, jv *out)
{
	const char *s = r->p;
	char tmp[64], *end;

	if (r->p < r->end && *r->p == '-')
		r->p++;
	if (r->p >= r->end || *r->p < '0' || *r->p > '9')
		return 0;
	if (*r->p == '0')
		r->p++;
	else
		while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
			r->p++;
	if (r->p < r->end && *r->p == '.') {
		r->p++;
		if (r->p >= r->end || *r->p < '0' || *r->p > '9')
			return 0;
		while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
			r->p++;
	}
	if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
		r->p++;
		if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
			r->p++;
		if (r->p >= r->end || *r->p < '0' || *r->p > '9')
			return 0;
		while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
			r->p++;
	}
	if ((size_t)(r->p - s) >= sizeof tmp)
		return 0;
	memcpy(tmp, s, (size_t)(r->p - s));
	tmp[r->p - s] = 0;
	*out = jv_number(strtod(tmp, &end));
	return *end == 0;
}

static int rd_value(struct rd *r, jv *out);

/* Step past an opening bracket; 1 when that nests too deep (give up). */
static int rd_open(struct rd *r)
{
	r->p++;
	return ++r->depth > 200;
}

/* After blanks, the closing bracket c? Then step past it, out of the
 * container. */
static int rd_close(struct rd *r, char c)
{
	rd_ws(r);
	if (r->p >= r->end || *r->p != c)
		return 0;
	r->p++;
	r->depth--;
	return 1;
}

/* A comma between members? (blanks already skipped by rd_close) */
static int rd_comma(struct rd *r)
{
	if (r->p >= r->end || *r->p != ',')
		return 0;
	r->p++;
	return 1;
}

static int rd_object(struct rd *r, jv *out)
{
	jv o = jv_object();

	if (rd_open(r))
		goto fail;
	if (rd_close(r, '}'))
		goto done;
	for (;;) {
		jv k, v;
		rd_ws(r);
		if (r->p >= r->end || *r->p != '"')
			goto fail;
		r->p++;
		if (!rd_str(r, &k))
			goto fail;
		rd_ws(r);
		if (r->p >= r->end || *r->p != ':' || (r->p++, !rd_value(r, &v))) {
			jv_free(k);
			goto fail;
		}
		o = jv_object_set(o, k, v);
		if (rd_close(r, '}'))
			goto done;
		if (!rd_comma(r))
			goto fail;
	}
done:
	*out = o;
	return 1;
fail:
	jv_free(o);
	return 0;
}

static int rd_array(struct rd *r, jv *out)
{
	jv a = jv_array();

	if (rd_open(r))
		goto fail;
	if (rd_close(r, ']'))
		goto done;
	for (;;) {
		jv v;
		if (!rd_value(r, &v))
			goto fail;
		a = jv_array_append(a, v);
		if (rd_close(r, ']'))
			goto done;
		if (!rd_comma(r))
			goto fail;
	}
done:
	*out = a;
	return 1;
fail:
	jv_free(a);
	return 0;
}

/* The literal word w, which is the value v (consumed either way). */
static int rd_word(struct rd *r, const char *w, jv v, jv *out)
{
	size_t n = strlen(w);

	if ((size_t)(r->end - r->p) < n || memcmp(r->p, w, n)) {
		jv_free(v);
		return 0;
	}
	r->p += n;
	*out = v;
	return 1;
}

static int rd_value(struct rd *r, jv *out)
{
	rd_ws(r);
	if (r->p >= r->end)
		return 0;
	switch (*r->p) {
	case '"':
		r->p++;
		return rd_str(r, out);
	case '{':
		return rd_object(r, out);
	case '[':
		return rd_array(r, out);
	case 't':
		return rd_word(r, "true", jv_true(), out);
	case 'f':
		return rd_word(r, "false", jv_false(), out);
	case 'n':
		return rd_word(r, "null", jv_null(), out);
	default:
		return rd_num(r, out);
	}
}

jv kx_json_parse(const char *s, size_t n, kx_err *e)
{
	struct rd r = {s, s + n, 0};
	jv v;

	if (n < (1u << 30) && rd_value(&r, &v)) {
		rd_ws(&r);
		/* a literal or number must end where a token ends, as in jq */
		if (r.p == r.end)
			return v;
		jv_free(v);
	}
	v = jv_parse_sized(s, (int)n);
	if (!jv_is_valid(v)) {
		jv msg = jv_invalid_get_msg(v);
		kx_err_set(e, KX_EFAIL, "malformed JSON: %s",
			   jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) : "no value");
		jv_free(msg);
		return jv_invalid();
	}
	return v;
}

/* ---- compact serialiser ----------------------------------------------------
 * jq 1.6's jv_dump_string appends a string one character at a time; this
 * writes the same bytes straight into a kx_buf, a run of plain bytes at a
 * time. Output is byte for byte jq's (flags 0): keys in the object's own
 * order, jq's escapes (\b \t \n \f \r, \u00XX for the other controls and
 * DEL, UTF-8 kept as is: a jv string is always valid UTF-8). Numbers other
 * than plain integers below 1e15 are left to jq's own formatter. */

static int dump_str(kx_buf *b, const char *s, size_t n)
{
	size_t i = 0, run;
	char esc[8];

	if (kx_buf_addc(b, '"') < 0)
		return -1;
	while (i < n) {
		for (run = i; run < n; run++) {
			unsigned char c = (unsigned char)s[run];
			if (c < 0x20 || c == '"' || c == '\\' || c == 0x7f)
				break;
		}
		if (run > i && kx_buf_add(b, s + i, run - i) < 0)
			return -1;
		if (run == n)
			break;
		unsigned char c = (unsigned char)s[run];
		switch (c) {
		case '"': memcpy(esc, "\\\"", 3); break;
		case '\\': memcpy(esc, "\\\\", 3); break;
		case '\b': memcpy(esc, "\\b", 3); break;
		case '\t': memcpy(esc, "\\t", 3); break;
		case '\r': memcpy(esc, "\\r", 3); break;
		case '\n': memcpy(esc, "\\n", 3); break;
		case '\f': memcpy(esc, "\\f", 3); break;
		default: snprintf(esc, sizeof esc, "\\u%04x", c); break;
		}
		if (kx_buf_adds(b, esc) < 0)
			return -1;
		i = run + 1;
	}
	return kx_buf_addc(b, '"');
}

/* Borrows v. */
static int dump_compact(kx_buf *b, jv v)
{
	switch (jv_get_kind(v)) {
	case JV_KIND_NULL:
		return kx_buf_add(b, "null", 4);
	case JV_KIND_TRUE:
		return kx_buf_add(b, "true", 4);
	case JV_KIND_FALSE:
		return kx_buf_add(b, "false", 5);
	case JV_KIND_STRING:
		return dump_str(b, jv_string_value(v), (size_t)jv_string_length_bytes(jv_copy(v)));
	case JV_KIND_NUMBER: {
		double d = jv_number_value(v);
		if (d == d && d > -1e15 && d < 1e15 && d == (double)(long long)d && !(d == 0 && signbit(d)))
			return kx_buf_addf(b, "%lld", (long long)d);
		break;
	}
	case JV_KIND_ARRAY: {
		int n = jv_array_length(jv_copy(v));
		if (kx_buf_addc(b, '[') < 0)
			return -1;
		for (int i = 0; i < n; i++) {
			jv x = jv_array_get(jv_copy(v), i);
			int rc = (i && kx_buf_addc(b, ',') < 0) ? -1 : dump_compact(b, x);
			jv_free(x);
			if (rc < 0)
				return -1;
		}
		return kx_buf_addc(b, ']');
	}
	case JV_KIND_OBJECT: {
		int first = 1;
		if (kx_buf_addc(b, '{') < 0)
			return -1;
		for (int i = jv_object_iter(v); jv_object_iter_valid(v, i); i = jv_object_iter_next(v, i)) {
			jv k = jv_object_iter_key(v, i), x = jv_object_iter_value(v, i);
			int rc = (!first && kx_buf_addc(b, ',') < 0) ? -1 : 0;
			if (!rc)
				rc = dump_str(b, jv_string_value(k), (size_t)jv_string_length_bytes(jv_copy(k)));
			if (!rc)
				rc = kx_buf_addc(b, ':');
			if (!rc)
				rc = dump_compact(b, x);
			jv_free(k);
			jv_free(x);
			if (rc < 0)
				return -1;
			first = 0;
		}
		return kx_buf_addc(b, '}');
	}
	default:
		break;
	}
	jv s = jv_dump_string(jv_copy(v), 0);
	int rc = kx_buf_add(b, jv_string_value(s), (size_t)jv_string_length_bytes(jv_copy(s)));
	jv_free(s);
	return rc;
}

char *kx_json_dump(jv v, int pretty)
{
	if (!pretty) {
		kx_buf b = KX_BUF_INIT;
		dump_compact(&b, v);
		jv_free(v);
		return kx_buf_steal(&b);
	}
	jv s = jv_dump_string(v, JV_PRINT_INDENT_FLAGS(2));
	char *out = strdup(jv_string_value(s));

	jv_free(s);
	return out;
}

int kx_json_dump_buf(kx_buf *b, jv v, int pretty)
{
	if (!pretty) {
		size_t len0 = b->len;
		int rc = dump_compact(b, v);
		jv_free(v);
		if (rc < 0 && b->p) {
			b->len = len0;
			b->p[len0] = 0;
		}
		return rc < 0 ? -1 : 0;
	}
	jv s = jv_dump_string(v, JV_PRINT_INDENT_FLAGS(2));
	int rc = kx_buf_add(b, jv_string_value(s), jv_string_length_bytes(jv_copy(s)));

	jv_free(s);
	return rc;
}

/* One step of a dotted path: an object key, or an array index. */
static jv step(jv v, const char *key, size_t n)
{
	char tmp[256];

	if (n >= sizeof tmp) {
		jv_free(v);
		return jv_null();
	}
	memcpy(tmp, key, n);
	tmp[n] = 0;
	if (jv_get_kind(v) == JV_KIND_OBJECT)
		return jv_object_get(v, jv_string(tmp)); /* invalid when absent */
	if (jv_get_kind(v) == JV_KIND_ARRAY) {
		char *end;
		long i = strtol(tmp, &end, 10);
		if (*end || end == tmp || i < 0 || i >= jv_array_length(jv_copy(v))) {
			jv_free(v);
			return jv_null();
		}
		return jv_array_get(v, (int)i);
	}
	jv_free(v);
	return jv_null();
}

jv kx_jv_get(jv v, const char *path)
{
	const char *p = path, *dot;

	while (*p) {
		dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		v = step(v, p, n);
		if (!jv_is_valid(v)) {
			jv_free(v);
			return jv_null();
		}
		if (jv_get_kind(v) == JV_KIND_NULL)
			return v;
		p += n + (dot ? 1 : 0);
	}
	return v;
}

jv kx_jv_set(jv v, const char *path, jv val)
{
	const char *dot = strchr(path, '.');
	jv key;

	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		jv_free(v);
		v = jv_object();
	}
	if (!dot)
		return jv_object_set(v, jv_string(path), val);
	key = jv_string_sized(path, (int)(dot - path));
	jv child = jv_object_get(jv_copy(v), jv_copy(key));
	if (!jv_is_valid(child)) {
		jv_free(child);
		child = jv_object();
	}
	return jv_object_set(v, key, kx_jv_set(child, dot + 1, val));
}

jv kx_jv_del(jv v, const char *path)
{
	const char *dot = strchr(path, '.');
	jv key, child;

	if (jv_get_kind(v) != JV_KIND_OBJECT)
		return v;
	if (!dot)
		return jv_object_delete(v, jv_string(path));
	key = jv_string_sized(path, (int)(dot - path));
	child = jv_object_get(jv_copy(v), jv_copy(key));
	if (jv_get_kind(child) != JV_KIND_OBJECT) {
		jv_free(child);
		jv_free(key);
		return v;
	}
	return jv_object_set(v, key, kx_jv_del(child, dot + 1));
}

const char *kx_jv_str(jv v, const char *path, char *buf, size_t n, const char *def)
{
	jv s = kx_jv_get(jv_copy(v), path);

	if (jv_get_kind(s) != JV_KIND_STRING) {
		jv_free(s);
		if (!def)
			return NULL;
		snprintf(buf, n, "%s", def); /* callers may read buf rather than the result */
		return buf;
	}
	snprintf(buf, n, "%s", jv_string_value(s));
	jv_free(s);
	return buf;
}

int64_t kx_jv_int(jv v, const char *path, int64_t def)
{
	jv x = kx_jv_get(jv_copy(v), path);
	int64_t r = def;

	if (jv_get_kind(x) == JV_KIND_NUMBER) {
		r = (int64_t)jv_number_value(x);
	} else if (jv_get_kind(x) == JV_KIND_STRING) {
		char *end;
		long long l = strtoll(jv_string_value(x), &end, 10);
		if (!*end && end != jv_string_value(x))
			r = l;
	}
	jv_free(x);
	return r;
}

int kx_jv_bool(jv v, const char *path, int def)
{
	jv x = kx_jv_get(jv_copy(v), path);
	int r = def;

	if (jv_get_kind(x) == JV_KIND_TRUE)
		r = 1;
	else if (jv_get_kind(x) == JV_KIND_FALSE)
		r = 0;
	jv_free(x);
	return r;
}

int kx_jv_equal(jv a, jv b)
{
	return jv_equal(a, b);
}

int kx_json_print(jv v, int pretty)
{
	char *s = kx_json_dump(v, pretty);
	int rc = fputs(s, stdout) < 0 || fputc('\n', stdout) < 0 ? -1 : 0;

	free(s);
	return rc;
}
